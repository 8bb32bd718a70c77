package stats

import (
	"strings"
	"testing"
	"time"
)

func TestRedactRemovesEveryContact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Minat WA 0812-5550-9911 sekarang", "Minat WA […] sekarang"},
		{"hubungi admin@rekrut.example atau @lokerkamboja", "hubungi […] atau […]"},
		{"transfer BRI 057101555021503 dulu", "transfer BRI […] dulu"},
		{"daftar di https://wa.me/6281255509911?text=halo", "daftar di […]"},
		{"gaji 15-25jt/bln, visa turis", "gaji 15-25jt/bln, visa turis"},
		{"+62 811 7770 4321", "[…]"},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Redact(strings.Repeat("kerja ", 100)); len([]rune(got)) > MaxQuote {
		t.Errorf("a long quote stays %d runes", len([]rune(got)))
	}
}

func TestHistogramQuantilesWithinNinePercent(t *testing.T) {
	h := Histogram{}
	var secs []int64
	for i := int64(1); i <= 1000; i++ {
		s := i * 97
		secs = append(secs, s)
		h[Bucket(s)]++
	}
	for _, q := range []float64{0.5, 0.9} {
		exact := float64(secs[int(q*1000)-1])
		got := float64(*h.Quantile(q))
		if got < exact*0.85 || got > exact*1.15 {
			t.Errorf("q%.1f = %.0f, exact %.0f", q, got, exact)
		}
	}
	if (Histogram{}).Quantile(0.5) != nil {
		t.Error("an empty histogram has a median")
	}
	if len(h) > 100 {
		t.Errorf("%d buckets", len(h))
	}
}

func TestMonthIsWIB(t *testing.T) {
	// 30 November 2026, 20.00 UTC is already 1 December in Jakarta.
	if got := Month(time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)); got != "2026-12" {
		t.Fatal(got)
	}
	if d := Destinations("LOWONGAN ADMIN ONLINE KAMBOJA 🇰🇭, transit Bangkok"); strings.Join(d, ",") != "KH,TH" {
		t.Fatal(d)
	}
}
