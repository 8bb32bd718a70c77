package samtemplate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableInput turns the AWS::DynamoDB::Table resource logicalID into a
// CreateTable request for a table called name. Billing, streams, keys and
// indexes come from the template; TTL is returned separately because it is
// a second API call.
func (t *Template) TableInput(logicalID, name string) (*dynamodb.CreateTableInput, string, error) {
	r, ok := t.Resources[logicalID]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		return nil, "", fmt.Errorf("template has no AWS::DynamoDB::Table %q", logicalID)
	}
	p := r.Properties
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	if s, _ := p["BillingMode"].(string); s != "" {
		in.BillingMode = types.BillingMode(s)
	}
	for _, a := range list(p["AttributeDefinitions"]) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(str(a["AttributeName"])),
			AttributeType: types.ScalarAttributeType(str(a["AttributeType"])),
		})
	}
	in.KeySchema = keySchema(p["KeySchema"])
	for _, g := range list(p["GlobalSecondaryIndexes"]) {
		proj, _ := g["Projection"].(map[string]any)
		p := &types.Projection{ProjectionType: types.ProjectionType(str(proj["ProjectionType"]))}
		if attrs, ok := proj["NonKeyAttributes"].([]any); ok {
			for _, a := range attrs {
				p.NonKeyAttributes = append(p.NonKeyAttributes, str(a))
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(str(g["IndexName"])),
			KeySchema:  keySchema(g["KeySchema"]),
			Projection: p,
		})
	}
	if s, ok := p["StreamSpecification"].(map[string]any); ok {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(str(s["StreamViewType"])),
		}
	}
	ttl := ""
	if s, ok := p["TimeToLiveSpecification"].(map[string]any); ok && s["Enabled"] == true {
		ttl = str(s["AttributeName"])
	}
	return in, ttl, nil
}

// CreateTable creates (if missing) the table described by logicalID under
// name, waits until it is active and enables its TTL attribute.
func (t *Template) CreateTable(ctx context.Context, db *dynamodb.Client, logicalID, name string) error {
	in, ttl, err := t.TableInput(logicalID, name)
	if err != nil {
		return err
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !asErr(err, &inUse) {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if ttl != "" {
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(ttl), Enabled: aws.Bool(true)},
		})
		if err != nil && !isTTLAlreadyEnabled(err) {
			return fmt.Errorf("enable TTL on %s: %w", name, err)
		}
	}
	return nil
}

func keySchema(v any) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range list(v) {
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(str(k["AttributeName"])),
			KeyType:       types.KeyType(str(k["KeyType"])),
		})
	}
	return out
}

func list(v any) []map[string]any {
	s, _ := v.([]any)
	out := make([]map[string]any, 0, len(s))
	for _, e := range s {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
