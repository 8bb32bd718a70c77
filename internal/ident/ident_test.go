package ident

import (
	"testing"
	"time"
)

func TestNewIsUniqueSortedAndValid(t *testing.T) {
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 2000; i++ {
		id := New("c_", base.Add(time.Duration(i)*time.Millisecond))
		if !Valid("c_", id) {
			t.Fatalf("New made an invalid id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		if id[:12] < prev[:min(12, len(prev))] {
			t.Fatalf("ids not time-ordered: %q after %q", id, prev)
		}
		prev = id
	}
}

func TestValidRejects(t *testing.T) {
	for _, s := range []string{"", "c_", "x_01jd0000000000000000000000", "c_01jd00000000000000000000u0", "c_../../etc/passwd"} {
		if Valid("c_", s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}
