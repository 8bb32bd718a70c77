package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/risk"
)

func TestVerifyBatch(t *testing.T) {
	rules, err := risk.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"id":"a","url":"https://fb.test/1","text":"Loker admin online Kamboja gaji 1000 USD, tiket gratis. WA 0812-5550-0371"}`,
		`{"id":"b","url":"https://x.test/2","text":"Lowongan operator game Laos, DP 2jt ke BRI 0571-01-555021-50-3 a.n. Dewi. wa.me/6281255500371"}`,
		`not json`,
		`{"id":"c","url":"https://ig.test/3","text":"Kerja Taiwan, transfer ke rek 057101555021503 (BRI). Hub 0813 5550 1111"}`,
		`{"id":"w","text":"WASPADA! Nomor 0812-5550-0371 merekrut ke Kamboja, modus TPPO, jangan mau berangkat."}`,
		`{"url":"https://fb.test/9","text":"tanpa id"}`,
		``,
	}, "\n")
	var out, errs bytes.Buffer
	bad, err := verify(context.Background(), risk.NewAssessor(rules, registry.Default()), strings.NewReader(in), &out, &errs)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 2 || !strings.Contains(errs.String(), "line 3:") || !strings.Contains(errs.String(), "line 6: field id") {
		t.Fatalf("bad=%d stderr=%q", bad, errs.String())
	}
	got := map[string]verifyOutput{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var o verifyOutput
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		got[o.ID] = o
		order = append(order, o.ID)
	}
	if strings.Join(order, ",") != "a,b,c,w" {
		t.Fatalf("output order %v", order)
	}
	if a := got["a"]; a.Label != risk.LabelTakedown || a.Urgency == nil || *a.Urgency != "urgent" || len(a.Indicators) == 0 {
		t.Fatalf("a: %+v", a)
	}
	// a and b share a phone; b and c a bank account: one network.
	if r := strings.Join(got["a"].Related, ","); r != "b,c" {
		t.Fatalf("a related %q, want b,c", r)
	}
	if r := strings.Join(got["c"].Related, ","); r != "a,b" {
		t.Fatalf("c related %q, want a,b", r)
	}
	// The warning quotes the number but is not part of the network.
	if w := got["w"]; w.Label != risk.LabelNotJobAd || w.Urgency != nil || len(w.Related) != 0 {
		t.Fatalf("w: %+v", w)
	}
	if m := strings.Join(got["a"].MentionedIn, ","); m != "w" {
		t.Fatalf("a mentioned_in %q, want w", m)
	}
	if !strings.Contains(out.String(), `"phones":["+6281255500371"]`) {
		t.Fatalf("entities not normalised: %s", out.String())
	}
}
