package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/store"
)

// Registry items live in the single table under PK=REGISTRY,
// SK=LICENCE#<normalised licence number> (keys from package store).

func itemOf(e Entry) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		"PK":             &types.AttributeValueMemberS{Value: store.PKRegistry},
		"SK":             &types.AttributeValueMemberS{Value: store.LicenceSK(e.Licence)},
		"company_name":   &types.AttributeValueMemberS{Value: e.Company},
		"licence_number": &types.AttributeValueMemberS{Value: e.Licence},
		"status":         &types.AttributeValueMemberS{Value: e.Status},
	}
	if e.City != "" {
		item["city"] = &types.AttributeValueMemberS{Value: e.City}
	}
	if e.Phone != "" {
		item["phone"] = &types.AttributeValueMemberS{Value: e.Phone}
	}
	if !e.ValidUntil.IsZero() {
		item["valid_until"] = &types.AttributeValueMemberS{Value: e.ValidUntil.Format(time.DateOnly)}
	}
	return item
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Load writes the registry into the table and removes the licences that are
// no longer in it, so loading the same CSV twice changes nothing. It returns
// the number of entries written.
func Load(ctx context.Context, t store.Table, r *Registry) (int, error) {
	existing, err := query(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("load registry: %w", err)
	}
	var writes []types.WriteRequest
	keep := map[string]bool{}
	for _, e := range r.Entries() {
		keep[store.LicenceSK(e.Licence)] = true
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: itemOf(e)}})
	}
	for _, item := range existing {
		if sk := str(item, "SK"); !keep[sk] {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: store.Key(store.PKRegistry, sk)}})
		}
	}
	if err := t.BatchWrite(ctx, writes); err != nil {
		return 0, fmt.Errorf("load registry: %w", err)
	}
	return r.Len(), nil
}

// FromDynamoDB reads the registry back from the table (one Query).
func FromDynamoDB(ctx context.Context, t store.Table) (*Registry, error) {
	items, err := query(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	entries := make([]Entry, 0, len(items))
	for _, item := range items {
		e := Entry{
			Company: str(item, "company_name"), Licence: str(item, "licence_number"), Status: str(item, "status"),
			City: str(item, "city"), Phone: str(item, "phone"),
		}
		if v := str(item, "valid_until"); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, fmt.Errorf("read registry %s: field valid_until %q: %w", e.Licence, v, err)
			}
			e.ValidUntil = t
		}
		entries = append(entries, e)
	}
	return New(entries), nil
}

func query(ctx context.Context, t store.Table) ([]map[string]types.AttributeValue, error) {
	p := dynamodb.NewQueryPaginator(t.DB, &dynamodb.QueryInput{
		TableName:              aws.String(t.Name),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.PKRegistry},
			":sk": &types.AttributeValueMemberS{Value: store.PrefixLicence},
		},
	})
	var out []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
	}
	return out, nil
}
