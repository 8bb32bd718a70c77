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
		// Disguised: spelled-out number and a DANA wallet with the same
		// phone as a; its text reposted by another account as r2.
		`{"id":"r1","text":"L0K3R CS online Kamboja, gaji 12 jt, tiket ditanggung, berangkat visa kunjungan dulu. DP via DANA 0812 5550 0371, hubungi nol delapan satu dua lima lima lima nol nol tiga tujuh satu"}`,
		`{"id":"r2","text":"🔥 loker cs online kamboja gaji 12 jt tiket ditanggung berangkat visa kunjungan dulu. DP via DANA 0857 5550 9999, hubungi WA 0857 5550 9999"}`,
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
	if r1, r2 := got["r1"], got["r2"]; r1.RepostOf != "" || r2.RepostOf != "r1" ||
		strings.Join(r1.Entities.Wallets, ",") != "DANA +6281255500371" || strings.Join(r1.Entities.Phones, ",") != "+6281255500371" ||
		!strings.Contains(strings.Join(r1.Related, ","), "a") {
		t.Fatalf("r1 %+v\nr2 %+v: want r2 a repost of r1, r1's wallet and spelled number linked to a", r1, r2)
	}
	delete(got, "r1")
	delete(got, "r2")
	order = order[:len(order)-2]
	if strings.Join(order, ",") != "a,b,c,w" {
		t.Fatalf("output order %v", order)
	}
	if a := got["a"]; a.Label != risk.LabelTakedown || a.Urgency == nil || *a.Urgency != "urgent" || len(a.Indicators) == 0 {
		t.Fatalf("a: %+v", a)
	}
	// a and b share a phone; b and c a bank account: one network.
	if r := strings.Join(got["a"].Related, ","); r != "b,c,r1" {
		t.Fatalf("a related %q, want b,c,r1", r)
	}
	if r := strings.Join(got["c"].Related, ","); r != "a,b,r1" {
		t.Fatalf("c related %q, want a,b,r1", r)
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
