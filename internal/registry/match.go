package registry

import (
	"slices"
	"strings"
	"unicode"

	"github.com/tangkal/tangkal/internal/entity"
)

// Match is one registry company an ad refers to, and how.
type Match struct {
	Entry   Entry  `json:"entry"`
	Name    string `json:"name,omitempty"`    // the company name as written, when matched by name
	Licence string `json:"licence,omitempty"` // the licence number as written, when matched by licence
	Phone   string `json:"phone,omitempty"`   // the office phone, when the ad gives it
	ByName  bool   `json:"by_name"`
	// Lookalike: the name is written differently from the registry's
	// spelling (letters changed, added or dropped), as impersonators do.
	Lookalike bool `json:"lookalike,omitempty"`
	ByLicence bool `json:"by_licence"`
	ByPhone   bool `json:"by_phone"`
}

// Match finds the registry companies a text names (tolerating "PT."
// variants, case and a small number of misspellings), cites the licence
// number of, or gives the office phone of. One Match per company.
func (r *Registry) Match(text string) []Match {
	if r == nil || len(r.entries) == 0 {
		return nil
	}
	return r.MatchPhones(text, entity.Extract(text).Phones)
}

// MatchPhones is Match for a caller that has already extracted the text's
// phone numbers (E.164).
func (r *Registry) MatchPhones(text string, phones []string) []Match {
	if r == nil || len(r.entries) == 0 {
		return nil
	}
	folded, offsets := entity.Fold(text, true)
	folded, offsets = entity.Reveal(folded, offsets)
	words := tokenize(folded)
	byIdx := map[int]*Match{}
	var order []int
	get := func(i int) *Match {
		if m, ok := byIdx[i]; ok {
			return m
		}
		m := &Match{Entry: r.entries[i]}
		byIdx[i] = m
		order = append(order, i)
		return m
	}
	for i, e := range r.entries {
		if s, end, ok := findName(words, nameWords(e.Company)); ok {
			m := get(i)
			m.ByName = true
			m.Name = strings.TrimSpace(text[offsets[s]:offsets[end]])
			written, _ := entity.Fold(m.Name, true)
			m.Lookalike = strings.Join(nameWords(written), "") != strings.Join(nameWords(e.Company), "")
		}
	}
	for _, f := range LicenceNumbers(folded) {
		if i, ok := r.byLic[f.Value]; ok {
			m := get(i)
			m.ByLicence = true
			m.Licence = f.Value
		}
	}
	for i, e := range r.entries {
		if e.Phone != "" && slices.Contains(phones, e.Phone) {
			m := get(i)
			m.ByPhone = true
			m.Phone = e.Phone
		}
	}
	out := make([]Match, 0, len(order))
	for _, i := range order {
		out = append(out, *byIdx[i])
	}
	return out
}

type word struct {
	text       string
	start, end int // byte offsets in the folded text
}

func tokenize(s string) []word {
	var out []word
	start := -1
	for i, r := range s {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case alnum && start < 0:
			start = i
		case !alnum && start >= 0:
			out = append(out, word{s[start:i], start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, word{s[start:], start, len(s)})
	}
	return out
}

// legalForms are dropped from names before comparing.
var legalForms = map[string]bool{"pt": true, "cv": true, "tbk": true, "persero": true}

func nameWords(company string) []string {
	var out []string
	for _, w := range tokenize(strings.ToLower(company)) {
		if !legalForms[w.text] {
			out = append(out, w.text)
		}
	}
	return out
}

// findName looks for the company's words as a run of words in the text,
// allowing about one typo per eight letters; also where the text glues or
// splits words ("Candramawa SentosaAbadi").
func findName(words []word, name []string) (start, end int, ok bool) {
	if len(name) == 0 {
		return 0, 0, false
	}
	want := strings.Join(name, "")
	budget := len(want) / 8
	if budget > 3 {
		budget = 3
	}
	for n := max(1, len(name)-1); n <= len(name)+1; n++ {
		for i := 0; i+n <= len(words); i++ {
			var b strings.Builder
			for _, w := range words[i : i+n] {
				b.WriteString(w.text)
			}
			got := b.String()
			if abs(len(got)-len(want)) > budget {
				continue
			}
			// The first letters must agree: a different company that merely
			// shares words is not a misspelling.
			if got[0] != want[0] {
				continue
			}
			if levenshtein(got, want) <= budget {
				return words[i].start, words[i+n-1].end, true
			}
		}
	}
	return 0, 0, false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Renamed finds a suspended or revoked company that a company name named in
// an ad looks like a new name for: the same first words, another ending
// ("PT Sentanu Karya Mandiri" for the suspended "PT Sentanu Karya
// Manunggal"). Names the registry itself holds (active companies) are not
// renamings.
func (r *Registry) Renamed(company string) (Entry, bool) {
	if r == nil {
		return Entry{}, false
	}
	got := nameWords(company)
	if len(got) < 2 {
		return Entry{}, false
	}
	for _, e := range r.entries {
		want := nameWords(e.Company)
		if slices.Equal(got, want) {
			return Entry{}, false
		}
	}
	for _, e := range r.entries {
		if e.Status != StatusSuspended && e.Status != StatusRevoked {
			continue
		}
		want := nameWords(e.Company)
		shared := 0
		for shared < len(got) && shared < len(want) && got[shared] == want[shared] {
			shared++
		}
		if shared >= 2 && shared >= len(want)-2 && shared < len(want) {
			return e, true
		}
	}
	return Entry{}, false
}
