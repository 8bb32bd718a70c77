package risk

import (
	"fmt"
	"testing"

	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/registry"
)

// The adversarial sets are ads written the way syndicates write to slip past
// moderation: contacts spaced, spelled out in words, in keycap or full-width
// digits, with letters for digits; handles without "@"; e-wallets; leetspeak
// and dotted keywords; hub, job, visa and debt euphemisms; Javanese,
// Sundanese, Malay and Tagalog; lookalike, borrowed and renamed registry
// names. adversarial_dev.jsonl, adversarial_dev2.jsonl and
// adversarial_dev3.jsonl are the sets the rules were tuned on (dev2 and dev3
// were each written as the held-out set, evaluated once, then used for
// tuning); adversarial_holdout.jsonl was written before the tuning that
// followed and is never looked at while tuning: it is the quality gate.
const (
	advDev     = "testdata/adversarial_dev.jsonl"
	advDev2    = "testdata/adversarial_dev2.jsonl"
	advDev3    = "testdata/adversarial_dev3.jsonl"
	advHoldout = "testdata/adversarial_holdout.jsonl"
)

// advScores adds per-kind entity figures and recruiter links to scores.
type advScores struct {
	scores
	kind         map[string]*[3]int // tp, fp, fn
	linkTP       int
	linkFP       int
	linkFN       int
	entityMisses []string
	linkMisses   []string
}

var entityKinds = []string{"phones", "telegram", "banks", "wallets"}

func kindValues(s entity.Set, kind string) []string {
	switch kind {
	case "phones":
		return s.Phones
	case "telegram":
		return s.Telegram
	case "banks":
		return s.Banks
	case "wallets":
		return s.Wallets
	}
	return nil
}

func evalAdversarial(t *testing.T, path string) *advScores {
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	a := NewAssessor(rules, registry.Default())
	ads := loadSet(t, path)
	s := &advScores{kind: map[string]*[3]int{}}
	for _, k := range entityKinds {
		s.kind[k] = &[3]int{}
	}
	got := make([]Assessment, len(ads))
	for i, ad := range ads {
		got[i] = a.Assess(ad.Text, ad.URL)
		s.add(ad, got[i])
		for _, k := range entityKinds {
			tp, fp, fn := overlap(kindValues(got[i].Entities, k), kindValues(ad.Entities, k))
			c := s.kind[k]
			c[0], c[1], c[2] = c[0]+tp, c[1]+fp, c[2]+fn
			if fp+fn > 0 {
				s.entityMisses = append(s.entityMisses, fmt.Sprintf("%s %s: got %v want %v", ad.ID, k, kindValues(got[i].Entities, k), kindValues(ad.Entities, k)))
			}
		}
	}
	// Recruiter links: job ads (as judged) sharing a contact, directly or
	// through other ads, as `tangkal verify` links them; truth is the
	// recruiter_cluster the ads were written for.
	parent := make([]int, len(ads))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	owner := map[entity.Key]int{}
	for i := range ads {
		if got[i].Label == LabelNotJobAd {
			continue
		}
		for _, k := range got[i].Entities.Keys() {
			if k.Kind == entity.KindCompany {
				continue
			}
			if j, ok := owner[k]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[k] = i
			}
		}
	}
	for i := range ads {
		for j := i + 1; j < len(ads); j++ {
			truth := ads[i].Cluster != "" && ads[i].Cluster == ads[j].Cluster
			linked := got[i].Label != LabelNotJobAd && got[j].Label != LabelNotJobAd && find(i) == find(j)
			switch {
			case truth && linked:
				s.linkTP++
			case linked:
				s.linkFP++
				s.linkMisses = append(s.linkMisses, fmt.Sprintf("wrong link %s-%s", ads[i].ID, ads[j].ID))
			case truth:
				s.linkFN++
				s.linkMisses = append(s.linkMisses, fmt.Sprintf("missed link %s-%s", ads[i].ID, ads[j].ID))
			}
		}
	}
	return s
}

func (s *advScores) report(t *testing.T, name string) {
	for _, m := range append(append(s.misses, s.entityMisses...), s.linkMisses...) {
		t.Log(m)
	}
	line := s.summary(name)
	for _, k := range entityKinds {
		c := s.kind[k]
		line += fmt.Sprintf(" %s P=%.3f R=%.3f", k, ratio(c[0], c[0]+c[1]), ratio(c[0], c[0]+c[2]))
	}
	line += fmt.Sprintf(" links P=%.3f R=%.3f (%d true pairs)", ratio(s.linkTP, s.linkTP+s.linkFP), ratio(s.linkTP, s.linkTP+s.linkFN), s.linkTP+s.linkFN)
	t.Log(line)
	fmt.Println("adversarial:", line)
}

// TestAdversarialDev reports the figures on the tuning set.
func TestAdversarialDev(t *testing.T) {
	evalAdversarial(t, advDev).report(t, "adv-dev")
	evalAdversarial(t, advDev2).report(t, "adv-dev2")
	evalAdversarial(t, advDev3).report(t, "adv-dev3")
}

// TestAdversarialHeldOut is the quality gate on unseen adversarial ads.
func TestAdversarialHeldOut(t *testing.T) {
	s := evalAdversarial(t, advHoldout)
	s.report(t, "adv-held")
	if s.precision() < 0.9 || s.recall() < 0.9 {
		t.Errorf("takedown precision %.3f recall %.3f, want both at least 0.9", s.precision(), s.recall())
	}
	for _, k := range entityKinds {
		c := s.kind[k]
		if p, r := ratio(c[0], c[0]+c[1]), ratio(c[0], c[0]+c[2]); p < 0.95 || r < 0.95 {
			t.Errorf("%s: precision %.3f recall %.3f, want recall at least 0.95 at precision at least 0.95", k, p, r)
		}
	}
	if p, r := ratio(s.linkTP, s.linkTP+s.linkFP), ratio(s.linkTP, s.linkTP+s.linkFN); p < 0.95 || r < 0.9 {
		t.Errorf("recruiter links: precision %.3f recall %.3f, want recall at least 0.9 at precision at least 0.95", p, r)
	}
}
