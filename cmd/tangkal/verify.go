package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/risk"
)

func init() {
	register("verify", "assess ads: JSON lines {id,url,text} on stdin, one verdict per line on stdout", verifyCmd)
}

type verifyInput struct {
	ID   string `json:"id"`
	URL  string `json:"url"`
	Text string `json:"text"`
}

type verifyOutput struct {
	ID         string           `json:"id"`
	Label      string           `json:"label"`
	Urgency    *string          `json:"urgency"`
	Score      float64          `json:"score"`
	Indicators []risk.Indicator `json:"indicators"`
	Entities   entity.Set       `json:"entities"`
	// Related: other input ads sharing a phone, Telegram handle, bank account
	// or email with this one (company names are not recruiter identifiers:
	// impersonators copy them). Posts judged not to be job ads are left out
	// of the network and listed under mentioned_in instead.
	Related     []string `json:"related"`
	MentionedIn []string `json:"mentioned_in,omitempty"`
	// RepostOf: the earlier input ad whose text this one repeats (nearly
	// the same words once disguises are undone and numbers masked), as
	// VerifyAd links a repost to the earlier case.
	RepostOf string `json:"repost_of,omitempty"`
}

func verifyCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	regPath := fs.String("registry", "", "registry CSV (default: the bundled copy)")
	rulesDir := fs.String("rules", "", "directory with indicators.yaml, lexicons.yaml, scoring.yaml (default: the bundled rules)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reg := registry.Default()
	if *regPath != "" {
		f, err := os.Open(*regPath)
		if err != nil {
			return err
		}
		reg, err = registry.ParseCSV(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("registry %s: %w", *regPath, err)
		}
	}
	rules, err := risk.DefaultRules()
	if *rulesDir != "" {
		rules, err = risk.LoadRules(*rulesDir)
	}
	if err != nil {
		return err
	}
	bad, err := verify(ctx, risk.NewAssessor(rules, reg), os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d bad input line(s), see above", bad)
	}
	return nil
}

// verify assesses every input line and writes the verdicts in input order.
// Bad lines are reported to errs by line number and skipped.
func verify(ctx context.Context, a *risk.Assessor, in io.Reader, out, errs io.Writer) (bad int, err error) {
	var outs []verifyOutput
	var keys [][]entity.Key
	var prints []entity.Fingerprint
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	seen := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		if ctx.Err() != nil {
			return bad, ctx.Err()
		}
		raw := sc.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var ad verifyInput
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&ad); err != nil {
			fmt.Fprintf(errs, "line %d: not a JSON object {\"id\", \"url\", \"text\"}: %v\n", line, err)
			bad++
			continue
		}
		switch {
		case ad.ID == "":
			fmt.Fprintf(errs, "line %d: field id is missing or empty\n", line)
			bad++
			continue
		case ad.Text == "":
			fmt.Fprintf(errs, "line %d (id %s): field text is missing or empty\n", line, ad.ID)
			bad++
			continue
		}
		if prev, dup := seen[ad.ID]; dup {
			fmt.Fprintf(errs, "line %d: field id %q repeats line %d\n", line, ad.ID, prev)
			bad++
			continue
		}
		seen[ad.ID] = line
		as := a.Assess(ad.Text, ad.URL)
		o := verifyOutput{ID: ad.ID, Label: as.Label, Score: as.Score, Indicators: as.Indicators, Entities: as.Entities, Related: []string{}}
		if as.Urgency != "" {
			u := as.Urgency
			o.Urgency = &u
		}
		o.Entities = nonNil(o.Entities)
		f := entity.TextFingerprint(ad.Text)
		best := 0.0
		for j, g := range prints {
			if sim := f.Similarity(g); sim >= entity.RepostSimilarity && sim > best {
				best, o.RepostOf = sim, outs[j].ID
			}
		}
		prints = append(prints, f)
		outs = append(outs, o)
		var ks []entity.Key
		for _, k := range as.Entities.Keys() {
			if k.Kind != entity.KindCompany {
				ks = append(ks, k)
			}
		}
		keys = append(keys, ks)
	}
	if err := sc.Err(); err != nil {
		return bad, fmt.Errorf("reading input: %w", err)
	}
	link(outs, keys)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, o := range outs {
		if err := enc.Encode(o); err != nil {
			return bad, fmt.Errorf("writing %s: %w", o.ID, err)
		}
	}
	return bad, nil
}

// link fills Related with the other job ads in the same recruiter network
// (sharing an identifier directly or through other ads, e.g. a phone number
// in one and a bank account in the next) and MentionedIn with the posts that
// are not job ads but quote the ad's identifiers.
func link(outs []verifyOutput, keys [][]entity.Key) {
	parent := make([]int, len(outs))
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
	byKey := map[entity.Key][]int{}
	for i, ks := range keys {
		for _, k := range ks {
			byKey[k] = append(byKey[k], i)
		}
	}
	for _, idx := range byKey {
		var ads []int
		for _, i := range idx {
			if outs[i].Label != risk.LabelNotJobAd {
				ads = append(ads, i)
			}
		}
		for _, i := range ads {
			parent[find(i)] = find(ads[0])
			for _, j := range idx {
				if outs[j].Label == risk.LabelNotJobAd && !slices.Contains(outs[i].MentionedIn, outs[j].ID) {
					outs[i].MentionedIn = append(outs[i].MentionedIn, outs[j].ID)
				}
			}
		}
	}
	for i := range outs {
		if outs[i].Label == risk.LabelNotJobAd {
			continue
		}
		for j := range outs {
			if j != i && outs[j].Label != risk.LabelNotJobAd && find(i) == find(j) {
				outs[i].Related = append(outs[i].Related, outs[j].ID)
			}
		}
	}
}

func nonNil(s entity.Set) entity.Set {
	for _, p := range []*[]string{&s.Phones, &s.Telegram, &s.Banks, &s.Companies, &s.Emails, &s.Wallets} {
		if *p == nil {
			*p = []string{}
		}
	}
	return s
}
