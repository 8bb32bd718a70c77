package risk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tangkal/tangkal/data"
)

// Kinds of indicator rules.
const (
	KindRisk  = "risk"   // counts towards takedown (positive weight)
	KindLegit = "legit"  // counts towards legitimate (negative weight)
	KindNotAd = "not_ad" // evidence the post is news, a warning, a sale... not a job ad
	KindJob   = "job"    // evidence the post offers a job (not reported)
	KindFact  = "fact"   // a context fact other rules can require (not reported)
	KindInfo  = "info"   // reported, weightless
)

// Rules are the compiled indicator rules, lexicons and thresholds. Build them
// with DefaultRules (the bundled files) or LoadRules (an analyst's edited copy).
type Rules struct {
	indicators []*rule
	byID       map[string]*rule
	scoring    Scoring
}

// Scoring holds the thresholds from scoring.yaml.
type Scoring struct {
	// TakedownMinScore: an ad whose score (sum of risk and legitimacy
	// weights) reaches this is a takedown candidate.
	TakedownMinScore float64 `yaml:"takedown_min_score"`
	// JobAdMin: below this much job-ad evidence a post is not a job ad.
	JobAdMin float64 `yaml:"job_ad_min"`
	// NotAdMin and NotAdMargin: a post with at least NotAdMin not-ad
	// evidence, and at least as much as its job-ad evidence plus NotAdMargin,
	// is not a job ad.
	NotAdMin    float64 `yaml:"not_ad_min"`
	NotAdMargin float64 `yaml:"not_ad_margin"`
	// UrgentWhen: a takedown candidate is urgent when every indicator of any
	// one of these sets is present.
	UrgentWhen [][]string `yaml:"urgent_when"`
}

// ruleFile is one entry of indicators.yaml.
type ruleFile struct {
	ID          string  `yaml:"id"`
	Kind        string  `yaml:"kind"`
	Weight      float64 `yaml:"weight"`
	Explanation string  `yaml:"explanation"`
	// ExplanationID is the explanation in Bahasa Indonesia (approvers
	// read it first; Explanation is the English one).
	ExplanationID string   `yaml:"explanation_id"`
	NameID        string   `yaml:"name_id"`
	NameEN        string   `yaml:"name_en"`
	Derived       bool     `yaml:"derived"`
	Patterns      []string `yaml:"patterns"`
	UnlessBefore  []string `yaml:"unless_before"`
	UnlessAfter   []string `yaml:"unless_after"`
	UnlessMatch   []string `yaml:"unless_match"`
	Requires      []string `yaml:"requires"`
	RequiresAny   []string `yaml:"requires_any"`
	Excludes      []string `yaml:"excludes"`
}

type rule struct {
	ruleFile
	patterns, unlessBefore, unlessAfter, unlessMatch []*regexp.Regexp
}

// derivedIDs are the indicators the assessor decides in code (from the
// registry and the extracted contacts); indicators.yaml must define each,
// with its weight and explanation.
var derivedIDs = []string{
	"domestic_job", "no_licence_named", "unlicensed_company", "licensed_company",
	"registry_company_mentioned", "impersonated_company", "suspended_licence", "revoked_licence",
	"expired_licence", "licence_number_mismatch", "whatsapp_only_contact", "telegram_contact",
	"foreign_phone_contact", "official_contact", "company_email", "scam_keywords_present",
	"lookalike_company_name", "renamed_company",
}

// DefaultRules loads the rules bundled with tangkal.
func DefaultRules() (Rules, error) {
	sub, err := fs.Sub(data.Rules, "rules")
	if err != nil {
		return Rules{}, err
	}
	return parseRules(sub)
}

// LoadRules loads indicators.yaml, lexicons.yaml and scoring.yaml from dir.
func LoadRules(dir string) (Rules, error) {
	return parseRules(os.DirFS(dir))
}

func parseRules(fsys fs.FS) (Rules, error) {
	var files []ruleFile
	var lex map[string][]string
	var sc Scoring
	for _, f := range []struct {
		name string
		into any
	}{{"indicators.yaml", &files}, {"lexicons.yaml", &lex}, {"scoring.yaml", &sc}} {
		b, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			return Rules{}, fmt.Errorf("rules: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(f.into); err != nil {
			return Rules{}, fmt.Errorf("rules %s: %w", f.name, err)
		}
	}
	expand, err := lexiconExpander(lex)
	if err != nil {
		return Rules{}, err
	}
	r := Rules{byID: map[string]*rule{}, scoring: sc}
	for i, f := range files {
		where := fmt.Sprintf("rules indicators.yaml entry %d (%s)", i+1, f.ID)
		if f.ID == "" {
			return Rules{}, fmt.Errorf("%s: field id is empty", where)
		}
		switch f.Kind {
		case KindRisk, KindLegit, KindNotAd, KindJob, KindFact, KindInfo:
		default:
			return Rules{}, fmt.Errorf("%s: field kind %q, want risk, legit, not_ad, job, fact or info", where, f.Kind)
		}
		if f.Kind == KindRisk && f.Weight < 0 || f.Kind == KindLegit && f.Weight > 0 {
			return Rules{}, fmt.Errorf("%s: field weight %v has the wrong sign for kind %s", where, f.Weight, f.Kind)
		}
		if f.Explanation == "" && f.Kind != KindJob && f.Kind != KindFact {
			return Rules{}, fmt.Errorf("%s: field explanation is empty", where)
		}
		if f.Explanation != "" && strings.TrimSpace(f.ExplanationID) == "" {
			return Rules{}, fmt.Errorf("%s: field explanation_id is empty (the explanation in Bahasa Indonesia, which approvers read first)", where)
		}
		if _, repeat := r.byID[f.ID]; !repeat && reported(f.Kind) {
			switch {
			case strings.TrimSpace(f.NameID) == "":
				return Rules{}, fmt.Errorf("%s: field name_id is empty (its name in Bahasa Indonesia, written in notices)", where)
			case strings.TrimSpace(f.NameEN) == "":
				return Rules{}, fmt.Errorf("%s: field name_en is empty (its name in English, written in notices)", where)
			}
		}
		if f.Derived != (len(f.Patterns) == 0) {
			return Rules{}, fmt.Errorf("%s: field patterns: a derived indicator has none, any other needs some", where)
		}
		if f.Derived && !slices.Contains(derivedIDs, f.ID) {
			return Rules{}, fmt.Errorf("%s: field derived: tangkal does not compute %q (known: %s)", where, f.ID, strings.Join(derivedIDs, ", "))
		}
		ru := &rule{ruleFile: f}
		for _, set := range []struct {
			field string
			src   []string
			dst   *[]*regexp.Regexp
		}{{"patterns", f.Patterns, &ru.patterns}, {"unless_before", f.UnlessBefore, &ru.unlessBefore}, {"unless_after", f.UnlessAfter, &ru.unlessAfter}, {"unless_match", f.UnlessMatch, &ru.unlessMatch}} {
			for j, p := range set.src {
				src, err := expand(p)
				if err != nil {
					return Rules{}, fmt.Errorf("%s: field %s[%d]: %w", where, set.field, j, err)
				}
				re, err := regexp.Compile("(?i)" + src)
				if err != nil {
					return Rules{}, fmt.Errorf("%s: field %s[%d]: %w", where, set.field, j, err)
				}
				*set.dst = append(*set.dst, re)
			}
		}
		if prev, ok := r.byID[f.ID]; ok {
			// A second entry with the same id adds another way to find it.
			if prev.Kind != f.Kind || f.Derived {
				return Rules{}, fmt.Errorf("%s: repeats id %q with a different kind", where, f.ID)
			}
		} else {
			r.byID[f.ID] = ru
		}
		r.indicators = append(r.indicators, ru)
	}
	for _, id := range derivedIDs {
		if ru, ok := r.byID[id]; !ok || !ru.Derived {
			return Rules{}, fmt.Errorf("rules indicators.yaml: missing derived indicator %q (set derived: true, weight and explanation)", id)
		}
	}
	for i, set := range sc.UrgentWhen {
		for _, id := range set {
			if _, ok := r.byID[id]; !ok {
				return Rules{}, fmt.Errorf("rules scoring.yaml: urgent_when[%d]: unknown indicator %q", i, id)
			}
		}
	}
	if sc.TakedownMinScore <= 0 {
		return Rules{}, errors.New("rules scoring.yaml: field takedown_min_score must be above 0")
	}
	return r, nil
}

// reported reports whether indicators of kind appear in assessments.
func reported(kind string) bool { return kind != KindJob && kind != KindFact }

// Name is an indicator's name in both languages, for people outside the
// agency (notices to platforms).
type Name struct {
	ID         string // the indicator's id
	Kind       string // KindRisk, KindLegit, KindNotAd or KindInfo
	Indonesian string
	English    string
}

// Explanation returns what indicator id means, in Bahasa Indonesia and in
// English ("" when the rules do not define it; the Indonesian one may be
// missing for rules not yet translated).
func (r Rules) Explanation(id string) (indonesian, english string) {
	ru, ok := r.byID[id]
	if !ok {
		return "", ""
	}
	return ru.ExplanationID, ru.Explanation
}

// Name returns the names of indicator id; ok is false for an id the rules
// do not define or do not report (job and fact entries).
func (r Rules) Name(id string) (Name, bool) {
	ru, ok := r.byID[id]
	if !ok || !reported(ru.Kind) {
		return Name{}, false
	}
	return Name{ID: id, Kind: ru.Kind, Indonesian: ru.NameID, English: ru.NameEN}, true
}

var lexRef = regexp.MustCompile(`\{([a-z_][a-z0-9_]*)\}`)

// lexiconExpander replaces {name} in a pattern with the alternation of the
// lexicon's terms (terms may themselves refer to other lexicons).
func lexiconExpander(lex map[string][]string) (func(string) (string, error), error) {
	var expand func(p string, depth int) (string, error)
	expand = func(p string, depth int) (string, error) {
		if depth > 5 {
			return "", errors.New("lexicons refer to each other too deeply")
		}
		var firstErr error
		out := lexRef.ReplaceAllStringFunc(p, func(m string) string {
			name := m[1 : len(m)-1]
			terms, ok := lex[name]
			if !ok {
				if firstErr == nil {
					firstErr = fmt.Errorf("unknown lexicon {%s}", name)
				}
				return m
			}
			alts := make([]string, 0, len(terms))
			for _, t := range terms {
				e, err := expand(t, depth+1)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				alts = append(alts, e)
			}
			return "(?:" + strings.Join(alts, "|") + ")"
		})
		return out, firstErr
	}
	for name, terms := range lex {
		for _, t := range terms {
			e, err := expand(t, 0)
			if err != nil {
				return nil, fmt.Errorf("rules lexicons.yaml %s: %w", name, err)
			}
			if _, err := regexp.Compile(e); err != nil {
				return nil, fmt.Errorf("rules lexicons.yaml %s term %q: %w", name, t, err)
			}
		}
	}
	return func(p string) (string, error) { return expand(p, 0) }, nil
}
