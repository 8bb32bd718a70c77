// Package risk judges a social-media post: is it a job ad, and is it an
// illegal or non-procedural recruitment ad that should be taken down? Every
// judgement comes with the indicators behind it, each explained in plain
// words with the text that matched. The rules, lexicons, weights and
// thresholds live in data files analysts edit (see package data).
package risk

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/registry"
)

// Labels.
const (
	LabelTakedown   = "takedown"
	LabelLegitimate = "legitimate"
	LabelNotJobAd   = "not_job_ad"
)

// Urgencies (empty for labels other than takedown).
const (
	UrgencyUrgent = "urgent"
	UrgencyNormal = "normal"
)

// Indicator is one reason behind an assessment.
type Indicator struct {
	ID          string  `json:"id"`
	Kind        string  `json:"kind"` // risk, legit, not_ad or info
	Explanation string  `json:"explanation"`
	Match       string  `json:"match"`
	Weight      float64 `json:"weight"`
}

// Assessment is the verdict on one post.
type Assessment struct {
	Label      string           `json:"label"`   // takedown | legitimate | not_job_ad
	Urgency    string           `json:"urgency"` // urgent | normal | "" (not a takedown)
	Score      float64          `json:"score"`   // sum of risk and legitimacy weights
	Indicators []Indicator      `json:"indicators"`
	Entities   entity.Set       `json:"entities"`
	Registry   []registry.Match `json:"registry,omitempty"`
}

// Assessor applies rules and the registry to posts. Safe for concurrent use.
type Assessor struct {
	rules Rules
	reg   *registry.Registry
	now   func() time.Time
}

// NewAssessor returns an assessor; reg may be nil (no licence checks).
func NewAssessor(rules Rules, reg *registry.Registry) *Assessor {
	return &Assessor{rules: rules, reg: reg, now: time.Now}
}

// hit is one indicator found, before filtering.
type hit struct {
	r     *rule
	match string
}

// Assess judges one post's text (url is used only as extra context: a
// government site is evidence of an official announcement).
func (a *Assessor) Assess(text, url string) Assessment {
	folded, offsets := entity.Fold(text, true)
	// See through "k4mb0ja", "K.a.m.b.o.j.a", spelled-out numbers...; the
	// offsets still quote the words as written.
	folded, offsets = entity.Reveal(folded, offsets)
	if url != "" {
		// The address is context ("...go.id/...") but never quoted as a match.
		lu := strings.ToLower(url)
		folded += "\n" + lu
		offsets = offsets[:len(offsets)-1]
		for range len(lu) + 2 {
			offsets = append(offsets, len(text))
		}
	}
	ents := entity.Extract(text)
	var matches []registry.Match
	if a.reg != nil {
		matches = a.reg.MatchPhones(text, ents.Phones)
	}

	facts := contactFacts(ents)
	plainText, _ := entity.Fold(text, false)
	licences := registry.LicenceNumbers(plainText)
	if len(licences) > 0 {
		facts["has_licence_number"] = true
	}
	if len(matches) > 0 {
		facts["registry_match"] = true
	}
	// Pass 1: context facts, then every pattern rule.
	raw := map[string]hit{}
	var order []string
	find := func(kinds ...string) {
		for _, r := range a.rules.indicators {
			if r.Derived || !slices.Contains(kinds, r.Kind) {
				continue
			}
			if _, done := raw[r.ID]; done {
				continue
			}
			if m, ok := r.find(folded, text, offsets); ok {
				raw[r.ID] = hit{r, m}
				order = append(order, r.ID)
				if r.Kind == KindFact {
					facts[r.ID] = true
				}
			}
		}
	}
	find(KindFact)
	find(KindRisk, KindLegit, KindNotAd, KindJob, KindInfo)
	if _, ok := raw["scam_hub_destination"]; ok {
		// A scam-compound hub is abroad, however the text leads up to it
		// ("kerja di Poipet"): found once here rather than by a second
		// scan of the whole hub lexicon among the overseas facts.
		facts["overseas"] = true
	}
	has := func(id string) bool { _, ok := raw[id]; return ok || facts[id] }
	// Pass 2: keep the hits whose conditions hold.
	kept := map[string]hit{}
	var keptOrder []string
	keep := func(h hit) {
		if _, dup := kept[h.r.ID]; dup || !h.r.conditionsHold(has) {
			return
		}
		kept[h.r.ID] = h
		keptOrder = append(keptOrder, h.r.ID)
	}
	for _, id := range order {
		keep(raw[id])
	}
	var jobScore, notAdScore float64
	for _, id := range keptOrder {
		switch h := kept[id]; h.r.Kind {
		case KindJob:
			jobScore += h.r.Weight
		case KindNotAd:
			notAdScore += h.r.Weight
		}
	}
	sc := a.rules.scoring
	isAd := jobScore >= sc.JobAdMin && !(notAdScore >= sc.NotAdMin && notAdScore >= jobScore+sc.NotAdMargin)

	// Derived indicators: registry, companies, contacts, destination.
	hasKept := func(id string) bool { _, ok := kept[id]; return ok || facts[id] }
	for _, d := range a.derive(ents, matches, licences, facts, hasKept, isAd) {
		r := a.rules.byID[d.id]
		if _, dup := kept[d.id]; dup || !r.conditionsHold(hasKept) {
			continue
		}
		kept[d.id] = hit{r, d.match}
		keptOrder = append(keptOrder, d.id)
	}

	as := Assessment{Entities: ents, Registry: matches, Indicators: []Indicator{}}
	if !isAd {
		as.Label = LabelNotJobAd
		var scam []string
		for _, id := range keptOrder {
			h := kept[id]
			switch h.r.Kind {
			case KindNotAd:
				as.Indicators = append(as.Indicators, h.indicator())
			case KindRisk:
				scam = append(scam, h.match)
			}
		}
		if len(scam) > 0 {
			r := a.rules.byID["scam_keywords_present"]
			as.Indicators = append(as.Indicators, hit{r, strings.Join(firstN(scam, 4), "; ")}.indicator())
		}
		return as
	}
	for _, id := range keptOrder {
		h := kept[id]
		switch h.r.Kind {
		case KindRisk, KindLegit, KindInfo:
			as.Indicators = append(as.Indicators, h.indicator())
			as.Score += h.r.Weight
		}
	}
	if as.Score >= sc.TakedownMinScore {
		as.Label = LabelTakedown
		as.Urgency = UrgencyNormal
		for _, set := range sc.UrgentWhen {
			if len(set) > 0 && allIn(set, kept) {
				as.Urgency = UrgencyUrgent
				break
			}
		}
	} else {
		as.Label = LabelLegitimate
	}
	// Strongest reasons first.
	slices.SortStableFunc(as.Indicators, func(x, y Indicator) int {
		ax, ay := abs(x.Weight), abs(y.Weight)
		switch {
		case ax > ay:
			return -1
		case ax < ay:
			return 1
		}
		return 0
	})
	return as
}

func allIn(ids []string, kept map[string]hit) bool {
	for _, id := range ids {
		if _, ok := kept[id]; !ok {
			return false
		}
	}
	return true
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func (h hit) indicator() Indicator {
	return Indicator{ID: h.r.ID, Kind: h.r.Kind, Explanation: h.r.Explanation, Match: h.match, Weight: h.r.Weight}
}

func (r *rule) conditionsHold(has func(string) bool) bool {
	for _, id := range r.Requires {
		if !has(id) {
			return false
		}
	}
	if len(r.RequiresAny) > 0 && !slices.ContainsFunc(r.RequiresAny, has) {
		return false
	}
	return !slices.ContainsFunc(r.Excludes, has)
}

// find returns the first match of any pattern that no unless_* rule vetoes,
// quoted from the original text.
func (r *rule) find(folded, original string, offsets []int) (string, bool) {
	for _, re := range r.patterns {
		for _, loc := range re.FindAllStringIndex(folded, -1) {
			s, e := loc[0], loc[1]
			if s == e {
				continue
			}
			if anyMatch(r.unlessBefore, folded[max(0, s-48):s]) ||
				anyMatch(r.unlessAfter, folded[e:min(len(folded), e+48)]) ||
				anyMatch(r.unlessMatch, folded[s:e]) {
				continue
			}
			return quote(original, offsets, s, e), true
		}
	}
	return "", false
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// quote returns the original words behind folded[s:e].
func quote(original string, offsets []int, s, e int) string {
	os, oe := offsets[s], offsets[e]
	if oe <= os {
		return ""
	}
	q := strings.Join(strings.Fields(original[os:oe]), " ")
	if r := []rune(q); len(r) > 120 {
		q = string(r[:117]) + "..."
	}
	return q
}
