package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/bundle"
	"github.com/tangkal/tangkal/internal/history"
)

var fixedTime = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

func TestVerifyBundleChecksSignatureAndChain(t *testing.T) {
	key, err := bundle.KeyFromSecret([]byte("a bundle secret of at least 32 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []history.Event
	prev := history.Genesis
	for i := 1; i <= 3; i++ {
		e, err := history.New("c_x", i, prev, history.ComplianceChecked, "workflow", fixedTime, history.ComplianceCheckedData{Level: i})
		if err != nil {
			t.Fatal(err)
		}
		evs, prev = append(evs, e), e.Hash
	}
	write := func(b bundle.Bundle) string {
		doc, err := key.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(doc)
		p := filepath.Join(t.TempDir(), "bundle.json")
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write(bundle.Bundle{Format: bundle.Format, CaseID: "c_x", Events: evs, Head: prev})
	var out bytes.Buffer
	if err := verifyBundle([]string{"--public-key", key.Public().PublicKey, good}, &out); err != nil {
		t.Fatalf("good bundle: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "OK") {
		t.Fatal(out.String())
	}
	// Signed, but its history was altered before signing: the chain fails.
	bad := append([]history.Event(nil), evs...)
	bad[1].Data = []byte(`{"level":9}`)
	out.Reset()
	if err := verifyBundle([]string{"--json", write(bundle.Bundle{Format: bundle.Format, CaseID: "c_x", Events: bad, Head: prev})}, &out); err == nil {
		t.Fatalf("altered history verifies:\n%s", out.String())
	}
	// Changed after signing: the signature fails.
	raw, _ := os.ReadFile(good)
	p := filepath.Join(t.TempDir(), "changed.json")
	os.WriteFile(p, bytes.Replace(raw, []byte(`"level":2`), []byte(`"level":3`), 1), 0o600)
	out.Reset()
	if err := verifyBundle([]string{p}, &out); err == nil || !strings.Contains(out.String(), "GAGAL") {
		t.Fatalf("changed bundle: %v\n%s", err, out.String())
	}
}
