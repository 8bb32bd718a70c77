package entity

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/store"
)

// Index items: PK=ENTITY#<kind>#<value>, SK=CASE#<caseID>, with case_id,
// platform, url, first_seen (RFC 3339); the keys come from package store.

// PK returns the partition key of an entity.
func (k Key) PK() string { return store.EntityPK(k.Kind, k.Value) }

// Ref is one case an entity appears in.
type Ref struct {
	CaseID    string    `json:"case_id"`
	Platform  string    `json:"platform,omitempty"`
	URL       string    `json:"url,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
}

// RelatedCase is another case sharing entities with a case.
type RelatedCase struct {
	CaseID   string `json:"case_id"`
	Platform string `json:"platform,omitempty"`
	URL      string `json:"url,omitempty"`
	Via      []Key  `json:"via"` // the shared entities
}

// Index records that the case contains the set's entities. Indexing the same
// case again adds only entities not yet recorded, so first_seen keeps the
// time the entity was first linked to the case.
func Index(ctx context.Context, t store.Table, caseID, platform, url string, s Set) error {
	if caseID == "" {
		return fmt.Errorf("index entities: field caseID is empty")
	}
	keys := s.Keys()
	if len(keys) == 0 {
		return nil
	}
	existing, err := existingKeys(ctx, t, caseID, keys)
	if err != nil {
		return fmt.Errorf("index entities of case %s: %w", caseID, err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	var writes []types.WriteRequest
	for _, k := range keys {
		if existing[k.PK()] {
			continue
		}
		item := map[string]types.AttributeValue{
			"PK":         &types.AttributeValueMemberS{Value: k.PK()},
			"SK":         &types.AttributeValueMemberS{Value: store.EntityCaseSK(caseID)},
			"case_id":    &types.AttributeValueMemberS{Value: caseID},
			"kind":       &types.AttributeValueMemberS{Value: k.Kind},
			"value":      &types.AttributeValueMemberS{Value: k.Value},
			"first_seen": &types.AttributeValueMemberS{Value: now},
		}
		if platform != "" {
			item["platform"] = &types.AttributeValueMemberS{Value: platform}
		}
		if url != "" {
			item["url"] = &types.AttributeValueMemberS{Value: url}
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := t.BatchWrite(ctx, writes); err != nil {
		return fmt.Errorf("index entities of case %s: %w", caseID, err)
	}
	return nil
}

// existingKeys reads which of the case's index items already exist.
func existingKeys(ctx context.Context, t store.Table, caseID string, keys []Key) (map[string]bool, error) {
	want := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		want = append(want, store.Key(k.PK(), store.EntityCaseSK(caseID)))
	}
	items, err := t.BatchGet(ctx, want, "PK")
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, item := range items {
		if v, ok := item["PK"].(*types.AttributeValueMemberS); ok {
			found[v.Value] = true
		}
	}
	return found, nil
}

// Cases lists the cases an entity appears in (a Query on its partition),
// oldest case id first, at most limit (all when limit <= 0). value is
// normalised first, so "0812-5550-0371" finds "+6281255500371".
func Cases(ctx context.Context, t store.Table, kind, value string, limit int) ([]Ref, error) {
	v, err := Normalize(kind, value)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(t.Name),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: Key{Kind: kind, Value: v}.PK()},
			":sk": &types.AttributeValueMemberS{Value: store.PrefixCase},
		},
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	var refs []Ref
	p := dynamodb.NewQueryPaginator(t.DB, in)
	for p.HasMorePages() && (limit <= 0 || len(refs) < limit) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cases of %s %s: %w", kind, v, err)
		}
		for _, item := range page.Items {
			refs = append(refs, refOf(item))
		}
	}
	if limit > 0 && len(refs) > limit {
		refs = refs[:limit]
	}
	return refs, nil
}

func refOf(item map[string]types.AttributeValue) Ref {
	get := func(n string) string {
		if v, ok := item[n].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	r := Ref{CaseID: get("case_id"), Platform: get("platform"), URL: get("url")}
	if r.CaseID == "" {
		r.CaseID = strings.TrimPrefix(get("SK"), store.PrefixCase)
	}
	r.FirstSeen, _ = time.Parse(time.RFC3339, get("first_seen"))
	return r
}

// maxPerEntity bounds how many cases one entity contributes to Related, so
// a number quoted in thousands of posts cannot make the call unbounded.
const maxPerEntity = 200

// Related lists the other cases that share any of the set's entities, with
// the entities that link them, most shared entities first.
func Related(ctx context.Context, t store.Table, caseID string, s Set) ([]RelatedCase, error) {
	byCase := map[string]*RelatedCase{}
	for _, k := range s.Keys() {
		refs, err := Cases(ctx, t, k.Kind, k.Value, maxPerEntity)
		if err != nil {
			return nil, fmt.Errorf("related cases of %s: %w", caseID, err)
		}
		for _, r := range refs {
			if r.CaseID == caseID {
				continue
			}
			rel, ok := byCase[r.CaseID]
			if !ok {
				rel = &RelatedCase{CaseID: r.CaseID, Platform: r.Platform, URL: r.URL}
				byCase[r.CaseID] = rel
			}
			rel.Via = append(rel.Via, k)
		}
	}
	out := make([]RelatedCase, 0, len(byCase))
	for _, r := range byCase {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Via) != len(out[j].Via) {
			return len(out[i].Via) > len(out[j].Via)
		}
		return out[i].CaseID < out[j].CaseID
	})
	return out, nil
}
