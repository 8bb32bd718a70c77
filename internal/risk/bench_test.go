package risk

import (
	"testing"

	"github.com/tangkal/tangkal/internal/registry"
)

// BenchmarkAssess measures verification throughput (ads/s) over the
// development set and the adversarial sets: what VerifyAd and
// `tangkal verify` spend per ad on rules, entities and the registry.
func BenchmarkAssess(b *testing.B) {
	rules, err := DefaultRules()
	if err != nil {
		b.Fatal(err)
	}
	a := NewAssessor(rules, registry.Default())
	var ads []labelledAd
	for _, f := range benchSets {
		ads = append(ads, loadSet(b, f)...)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		ad := ads[n%len(ads)]
		a.Assess(ad.Text, ad.URL)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ads/s")
}
