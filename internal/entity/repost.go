package entity

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/store"
)

// Reposts: the same ad re-posted by other accounts, with a changed word,
// emoji, spacing or contact, is found by a MinHash fingerprint of the text's
// word pairs after the disguises are undone (Fold, Reveal) and numbers are
// masked; locality-sensitive bands index it in the table (TEXT#<band>#<v>),
// so finding earlier posts is a few Queries, never a Scan.

// Fingerprint sizes: fpHashes minimum hashes in fpBands bands of fpRows.
const (
	fpHashes = 16
	fpRows   = 2
	fpBands  = fpHashes / fpRows
	// RepostSimilarity is the estimated share of word pairs two texts must
	// have in common to be the same ad.
	RepostSimilarity = 0.6
	// minShingles: shorter texts ("lowongan kerja") say too little to be
	// recognised as one ad.
	minShingles = 8
)

// Fingerprint is an ad text's MinHash signature; the zero value means the
// text is too short to compare.
type Fingerprint [fpHashes]uint32

// Valid reports whether the fingerprint can be compared.
func (f Fingerprint) Valid() bool { return f != Fingerprint{} }

// String is the signature in hex (stored with each band item).
func (f Fingerprint) String() string {
	b := make([]byte, 4*fpHashes)
	for i, h := range f {
		binary.BigEndian.PutUint32(b[4*i:], h)
	}
	return hex.EncodeToString(b)
}

// ParseFingerprint reads String's form.
func ParseFingerprint(s string) (Fingerprint, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4*fpHashes {
		return Fingerprint{}, false
	}
	var f Fingerprint
	for i := range f {
		f[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return f, true
}

// Similarity estimates the share of word pairs two texts have in common.
func (f Fingerprint) Similarity(g Fingerprint) float64 {
	if !f.Valid() || !g.Valid() {
		return 0
	}
	same := 0
	for i := range f {
		if f[i] == g[i] {
			same++
		}
	}
	return float64(same) / fpHashes
}

func (f Fingerprint) band(i int) string {
	b := make([]byte, 4*fpRows)
	for r := range fpRows {
		binary.BigEndian.PutUint32(b[4*r:], f[i*fpRows+r])
	}
	return hex.EncodeToString(b)
}

// TextFingerprint fingerprints an ad's text.
func TextFingerprint(text string) Fingerprint {
	folded, _ := Fold(text, true)
	folded, _ = Reveal(folded, nil)
	var words []string
	for _, w := range tokenRE.FindAllString(folded, -1) {
		if strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
			w = "#" // numbers (phones, amounts) change between reposts
		}
		words = append(words, w)
	}
	if len(words) < minShingles+1 {
		return Fingerprint{}
	}
	var f Fingerprint
	for i := range f {
		f[i] = ^uint32(0)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(words); i++ {
		sh := words[i] + " " + words[i+1]
		if seen[sh] {
			continue
		}
		seen[sh] = true
		h := fnv.New64a()
		h.Write([]byte(sh))
		x := h.Sum64()
		a, b := uint32(x), uint32(x>>32)
		for k := range f { // Kirsch-Mitzenmacher: h_k = a + k*b
			if v := a + uint32(k)*b + uint32(k*k); v < f[k] {
				f[k] = v
			}
		}
	}
	if len(seen) < minShingles {
		return Fingerprint{}
	}
	return f
}

// Repost is an earlier case whose ad text is (nearly) the same.
type Repost struct {
	CaseID     string  `json:"case_id"`
	Similarity float64 `json:"similarity"`
}

// IndexText records a case's fingerprint so later reposts find it.
func IndexText(ctx context.Context, t store.Table, caseID string, f Fingerprint) error {
	if !f.Valid() {
		return nil
	}
	now := time.Now().UTC().Format(time.RFC3339)
	writes := make([]types.WriteRequest, 0, fpBands)
	for b := range fpBands {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"PK":          &types.AttributeValueMemberS{Value: store.TextPK(b, f.band(b))},
			"SK":          &types.AttributeValueMemberS{Value: store.TextCaseSK(caseID)},
			"case_id":     &types.AttributeValueMemberS{Value: caseID},
			"fingerprint": &types.AttributeValueMemberS{Value: f.String()},
			"first_seen":  &types.AttributeValueMemberS{Value: now},
		}}})
	}
	if err := t.BatchWrite(ctx, writes); err != nil {
		return fmt.Errorf("index the text of case %s: %w", caseID, err)
	}
	return nil
}

// maxPerBand bounds how many cases one band contributes.
const maxPerBand = 100

// FindReposts lists the other cases whose text is the same ad as f, most
// similar first, then oldest case id first.
func FindReposts(ctx context.Context, t store.Table, caseID string, f Fingerprint) ([]Repost, error) {
	if !f.Valid() {
		return nil, nil
	}
	best := map[string]float64{}
	for b := range fpBands {
		out, err := t.DB.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(t.Name),
			KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: store.TextPK(b, f.band(b))},
			},
			ProjectionExpression: aws.String("case_id, fingerprint"),
			Limit:                aws.Int32(maxPerBand),
		})
		if err != nil {
			return nil, fmt.Errorf("reposts of case %s: %w", caseID, err)
		}
		for _, item := range out.Items {
			id, _ := item["case_id"].(*types.AttributeValueMemberS)
			fp, _ := item["fingerprint"].(*types.AttributeValueMemberS)
			if id == nil || fp == nil || id.Value == caseID {
				continue
			}
			g, ok := ParseFingerprint(fp.Value)
			if sim := f.Similarity(g); ok && sim >= RepostSimilarity {
				best[id.Value] = sim
			}
		}
	}
	out := make([]Repost, 0, len(best))
	for id, sim := range best {
		out = append(out, Repost{CaseID: id, Similarity: sim})
	}
	slices.SortFunc(out, func(a, b Repost) int {
		switch {
		case a.Similarity > b.Similarity:
			return -1
		case a.Similarity < b.Similarity:
			return 1
		}
		return strings.Compare(a.CaseID, b.CaseID)
	})
	return out, nil
}
