package risk

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/registry"
)

type labelledAd struct {
	ID         string     `json:"id"`
	URL        string     `json:"url"`
	Text       string     `json:"text"`
	Label      string     `json:"label"`
	Urgency    *string    `json:"urgency"`
	Indicators []string   `json:"indicators"`
	Entities   entity.Set `json:"entities"`
	Cluster    string     `json:"recruiter_cluster"`
}

func loadDev(t *testing.T) []labelledAd { return loadSet(t, "testdata/dev.jsonl") }

// loadSet reads a labelled set (JSON lines).
func loadSet(t testing.TB, path string) []labelledAd {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ads []labelledAd
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var ad labelledAd
		if err := json.Unmarshal(sc.Bytes(), &ad); err != nil {
			t.Fatalf("%s line %d: %v", path, line, err)
		}
		ads = append(ads, ad)
	}
	return ads
}

// scores accumulates the evaluation figures for a set of ads.
type scores struct {
	n, correct               int
	tp, fp, fn               int // takedown candidates
	urgentRight, urgentTotal int // urgency among true takedowns found
	entTP, entFP, entFN      int
	indTP, indFP, indFN      int // indicator tags, for information
	misses                   []string
}

func (s *scores) add(ad labelledAd, got Assessment) {
	s.n++
	if got.Label == ad.Label {
		s.correct++
	}
	switch {
	case got.Label == LabelTakedown && ad.Label == LabelTakedown:
		s.tp++
		s.urgentTotal++
		if ad.Urgency != nil && got.Urgency == *ad.Urgency {
			s.urgentRight++
		} else {
			s.misses = append(s.misses, fmt.Sprintf("%s urgency: got %s want %v", ad.ID, got.Urgency, deref(ad.Urgency)))
		}
	case got.Label == LabelTakedown:
		s.fp++
	case ad.Label == LabelTakedown:
		s.fn++
	}
	if got.Label != ad.Label {
		var ids []string
		for _, in := range got.Indicators {
			ids = append(ids, fmt.Sprintf("%s(%g)", in.ID, in.Weight))
		}
		s.misses = append(s.misses, fmt.Sprintf("%s label: got %s (score %g: %s) want %s", ad.ID, got.Label, got.Score, strings.Join(ids, " "), ad.Label))
	}
	pairs := [][2][]string{
		{got.Entities.Phones, ad.Entities.Phones}, {got.Entities.Telegram, ad.Entities.Telegram},
		{got.Entities.Banks, ad.Entities.Banks}, {got.Entities.Companies, ad.Entities.Companies},
	}
	for _, p := range pairs {
		tp, fp, fn := overlap(p[0], p[1])
		s.entTP, s.entFP, s.entFN = s.entTP+tp, s.entFP+fp, s.entFN+fn
	}
	var gotIDs []string
	for _, in := range got.Indicators {
		gotIDs = append(gotIDs, in.ID)
	}
	tp, fp, fn := overlap(gotIDs, ad.Indicators)
	s.indTP, s.indFP, s.indFN = s.indTP+tp, s.indFP+fp, s.indFN+fn
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func overlap(got, want []string) (tp, fp, fn int) {
	for _, g := range got {
		if slices.Contains(want, g) {
			tp++
		} else {
			fp++
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			fn++
		}
	}
	return
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (s *scores) precision() float64 { return ratio(s.tp, s.tp+s.fp) }
func (s *scores) recall() float64    { return ratio(s.tp, s.tp+s.fn) }

func (s *scores) summary(name string) string {
	return fmt.Sprintf("%-9s n=%2d label-accuracy=%.3f takedown precision=%.3f recall=%.3f urgency-accuracy=%.3f entities precision=%.3f recall=%.3f indicator-tags precision=%.3f recall=%.3f",
		name, s.n, ratio(s.correct, s.n), s.precision(), s.recall(), ratio(s.urgentRight, s.urgentTotal),
		ratio(s.entTP, s.entTP+s.entFP), ratio(s.entTP, s.entTP+s.entFN),
		ratio(s.indTP, s.indTP+s.indFP), ratio(s.indTP, s.indTP+s.indFN))
}

// TestDevSet evaluates the bundled rules and registry on the labelled
// development set. The set is split in two halves (odd and even lines):
// rules were tuned looking at one half and checked on the other.
func TestDevSet(t *testing.T) {
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	a := NewAssessor(rules, registry.Default())
	var all, odd, even scores
	for i, ad := range loadDev(t) {
		got := a.Assess(ad.Text, ad.URL)
		all.add(ad, got)
		if i%2 == 0 {
			odd.add(ad, got)
		} else {
			even.add(ad, got)
		}
	}
	for _, m := range all.misses {
		t.Log(m)
	}
	for _, line := range []string{odd.summary("half A"), even.summary("half B"), all.summary("all")} {
		t.Log(line)
		fmt.Println("dev:", line)
	}
	if all.precision() < 0.9 || all.recall() < 0.9 {
		t.Errorf("takedown precision %.3f recall %.3f, want both at least 0.9", all.precision(), all.recall())
	}
}
