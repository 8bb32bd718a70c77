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
)

// Index items: PK=ENTITY#<kind>#<value>, SK=CASE#<caseID>, with case_id,
// platform, url, first_seen (RFC 3339).
const casePrefix = "CASE#"

// PK returns the partition key of an entity.
func (k Key) PK() string { return "ENTITY#" + k.Kind + "#" + k.Value }

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
func Index(ctx context.Context, db *dynamodb.Client, table, caseID, platform, url string, s Set) error {
	if caseID == "" {
		return fmt.Errorf("index entities: field caseID is empty")
	}
	keys := s.Keys()
	if len(keys) == 0 {
		return nil
	}
	existing, err := existingKeys(ctx, db, table, caseID, keys)
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
			"SK":         &types.AttributeValueMemberS{Value: casePrefix + caseID},
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
	if err := batchWrite(ctx, db, table, writes); err != nil {
		return fmt.Errorf("index entities of case %s: %w", caseID, err)
	}
	return nil
}

// existingKeys reads which of the case's index items already exist.
func existingKeys(ctx context.Context, db *dynamodb.Client, table, caseID string, keys []Key) (map[string]bool, error) {
	found := map[string]bool{}
	for start := 0; start < len(keys); start += 100 {
		var want []map[string]types.AttributeValue
		for _, k := range keys[start:min(start+100, len(keys))] {
			want = append(want, map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: k.PK()},
				"SK": &types.AttributeValueMemberS{Value: casePrefix + caseID},
			})
		}
		for attempt := 0; len(want) > 0; attempt++ {
			if attempt > 8 {
				return nil, fmt.Errorf("batch get %s: keys still unprocessed", table)
			}
			if attempt > 0 {
				if err := pause(ctx, attempt); err != nil {
					return nil, err
				}
			}
			out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: want, ProjectionExpression: aws.String("PK")},
			}})
			if err != nil {
				return nil, fmt.Errorf("batch get %s: %w", table, err)
			}
			for _, item := range out.Responses[table] {
				if v, ok := item["PK"].(*types.AttributeValueMemberS); ok {
					found[v.Value] = true
				}
			}
			want = out.UnprocessedKeys[table].Keys
		}
	}
	return found, nil
}

func pause(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
		return nil
	}
}

func batchWrite(ctx context.Context, db *dynamodb.Client, table string, writes []types.WriteRequest) error {
	for start := 0; start < len(writes); start += 25 {
		pending := writes[start:min(start+25, len(writes))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("batch write %s: %d items still unprocessed", table, len(pending))
			}
			if attempt > 0 {
				if err := pause(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: pending}})
			if err != nil {
				return fmt.Errorf("batch write %s: %w", table, err)
			}
			pending = out.UnprocessedItems[table]
		}
	}
	return nil
}

// Cases lists the cases an entity appears in (a Query on its partition),
// oldest case id first, at most limit (all when limit <= 0). value is
// normalised first, so "0812-5550-0371" finds "+6281255500371".
func Cases(ctx context.Context, db *dynamodb.Client, table, kind, value string, limit int) ([]Ref, error) {
	v, err := Normalize(kind, value)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: Key{Kind: kind, Value: v}.PK()},
			":sk": &types.AttributeValueMemberS{Value: casePrefix},
		},
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	var refs []Ref
	p := dynamodb.NewQueryPaginator(db, in)
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
		r.CaseID = strings.TrimPrefix(get("SK"), casePrefix)
	}
	r.FirstSeen, _ = time.Parse(time.RFC3339, get("first_seen"))
	return r
}

// maxPerEntity bounds how many cases one entity contributes to Related, so
// a number quoted in thousands of posts cannot make the call unbounded.
const maxPerEntity = 200

// Related lists the other cases that share any of the set's entities, with
// the entities that link them, most shared entities first.
func Related(ctx context.Context, db *dynamodb.Client, table, caseID string, s Set) ([]RelatedCase, error) {
	byCase := map[string]*RelatedCase{}
	for _, k := range s.Keys() {
		refs, err := Cases(ctx, db, table, k.Kind, k.Value, maxPerEntity)
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
