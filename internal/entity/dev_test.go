package entity

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestDevEntities measures extraction against the labelled development set.
func TestDevEntities(t *testing.T) {
	f, err := os.Open("../risk/testdata/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tp, fp, fn int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ad struct {
			ID       string `json:"id"`
			Text     string `json:"text"`
			Entities Set    `json:"entities"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ad); err != nil {
			t.Fatal(err)
		}
		got := Extract(ad.Text)
		for _, p := range [][2][]string{{got.Phones, ad.Entities.Phones}, {got.Telegram, ad.Entities.Telegram}, {got.Banks, ad.Entities.Banks}, {got.Companies, ad.Entities.Companies}} {
			for _, g := range p[0] {
				if slices.Contains(p[1], g) {
					tp++
				} else {
					fp++
					t.Logf("%s: extra %q", ad.ID, g)
				}
			}
			for _, w := range p[1] {
				if !slices.Contains(p[0], w) {
					fn++
					t.Logf("%s: missed %q", ad.ID, w)
				}
			}
		}
	}
	p := float64(tp) / float64(tp+fp)
	r := float64(tp) / float64(tp+fn)
	t.Logf("entities: precision %.3f recall %.3f (tp %d fp %d fn %d)", p, r, tp, fp, fn)
}
