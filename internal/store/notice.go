package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// OpenNotice is OPENNOTICE#<platform> / CASE#<id>: the notice of a case
// its platform still has to act on, as the platform API lists it. It
// holds only what the platform was sent (never the reporters), and is
// rewritten with each notice of the ladder.
type OpenNotice struct {
	PK string `dynamodbav:"PK" json:"-"`
	SK string `dynamodbav:"SK" json:"-"`

	// Ref is what the platform answers on (POST /platform/notices/{ref}):
	// the case id.
	Ref          string `dynamodbav:"case_id" json:"ref"`
	Platform     string `dynamodbav:"platform" json:"platform"`
	URL          string `dynamodbav:"url" json:"url"`
	Kind         string `dynamodbav:"kind" json:"kind"`
	Level        int    `dynamodbav:"level" json:"level"`
	LetterNumber string `dynamodbav:"letter_number" json:"letter_number"`
	Urgency      string `dynamodbav:"urgency,omitempty" json:"urgency,omitempty"`
	SentAt       string `dynamodbav:"sent_at" json:"sent_at"`
	Deadline     string `dynamodbav:"deadline" json:"deadline"`
	// TakedownAt is when the first notice (the takedown request) was sent.
	TakedownAt string `dynamodbav:"takedown_at" json:"takedown_requested_at"`
	// LastAnswer is the platform's latest answer to this notice.
	LastAnswer string `dynamodbav:"last_answer,omitempty" json:"last_answer,omitempty"`
	// Objection is the state of the platform's objection, if it made one.
	Objection string `dynamodbav:"objection,omitempty" json:"objection,omitempty"`
	// ObjectionReasons are the agency's reasons for its decision.
	ObjectionReasons string `dynamodbav:"objection_reasons,omitempty" json:"objection_reasons,omitempty"`
}

// PutOpenNotice is the write that stores n (in a history transaction).
func (t Table) PutOpenNotice(n OpenNotice) (types.TransactWriteItem, error) {
	n.PK, n.SK = OpenNoticePK(n.Platform), OpenNoticeSK(n.Ref)
	av, err := attributevalue.MarshalMap(n)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode open notice of %s: %w", n.Ref, err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(t.Name), Item: av}}, nil
}

// DeleteOpenNotice is the write that removes a case's open notice.
func (t Table) DeleteOpenNotice(platform, caseID string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(t.Name), Key: Key(OpenNoticePK(platform), OpenNoticeSK(caseID))}}
}

// Sanctions are a platform's counters at STATS#<platform> / SANCTIONS.
type Sanctions struct {
	FinesRecommended  int64 `dynamodbav:"fines_recommended" json:"fines_recommended"`
	FineAmountIDR     int64 `dynamodbav:"fine_amount_idr" json:"fine_amount_idr"`
	BlockingReferrals int64 `dynamodbav:"blocking_referrals" json:"blocking_referrals"`
}

// AddSanctions is the write that adds to a platform's sanction counters
// (in the transaction that records the sanction, so they count it once).
func (t Table) AddSanctions(platform string, add map[string]int64) types.TransactWriteItem {
	names, values, expr := map[string]string{}, map[string]types.AttributeValue{}, ""
	i := 0
	for k, v := range add {
		i++
		n, p := fmt.Sprintf("#c%d", i), fmt.Sprintf(":c%d", i)
		names[n], values[p] = k, &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
		if expr != "" {
			expr += ", "
		}
		expr += n + " " + p
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(t.Name), Key: Key(StatsPK(StatsPlatform(platform)), SKSanctions),
		UpdateExpression: aws.String("ADD " + expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

// Objection is OBJECTION#<case id> / META: the workflow waiting for the
// agency's decision on a platform's objection. The task token never
// leaves the table (not in the case, its history, pages or logs).
type Objection struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	CaseID    string `dynamodbav:"case_id"`
	TaskToken string `dynamodbav:"task_token"`
	ExpiresAt string `dynamodbav:"expires_at_time"`
	// TTL removes the item a while after the decision was due.
	TTL int64 `dynamodbav:"expires_at"`
}

// PutObjection stores the objection's task token (a task run twice
// overwrites it with the same or a fresher token).
func (t Table) PutObjection(ctx context.Context, o Objection) error {
	o.PK, o.SK = ObjectionPK(o.CaseID), SKMeta
	av, err := attributevalue.MarshalMap(o)
	if err != nil {
		return fmt.Errorf("encode objection of %s: %w", o.CaseID, err)
	}
	if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: av}); err != nil {
		return fmt.Errorf("store objection of %s: %w", o.CaseID, err)
	}
	return nil
}

// GetObjection reads a case's objection item; ErrNotFound when the
// workflow has not asked for the decision yet.
func (t Table) GetObjection(ctx context.Context, caseID string) (*Objection, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: Key(ObjectionPK(caseID), SKMeta), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read objection of %s: %w", caseID, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("objection of %s: %w", caseID, ErrNotFound)
	}
	var o Objection
	if err := attributevalue.UnmarshalMap(out.Item, &o); err != nil {
		return nil, fmt.Errorf("decode objection of %s: %w", caseID, err)
	}
	return &o, nil
}

// GetOpenNotice reads the open notice of a case on a platform;
// ErrNotFound when the platform has none for it (another platform's case,
// a closed case, an unknown ref).
func (t Table) GetOpenNotice(ctx context.Context, platform, caseID string) (*OpenNotice, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: Key(OpenNoticePK(platform), OpenNoticeSK(caseID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read open notice %s: %w", caseID, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("open notice %s: %w", caseID, ErrNotFound)
	}
	var n OpenNotice
	if err := attributevalue.UnmarshalMap(out.Item, &n); err != nil {
		return nil, fmt.Errorf("decode open notice %s: %w", caseID, err)
	}
	return &n, nil
}

// OpenNotices lists a platform's open notices, oldest case first.
func (t Table) OpenNotices(ctx context.Context, platform string, limit int) ([]OpenNotice, error) {
	p := dynamodb.NewQueryPaginator(t.DB, &dynamodb.QueryInput{
		TableName: aws.String(t.Name), KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: OpenNoticePK(platform)}},
	})
	var out []OpenNotice
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list open notices of %s: %w", platform, err)
		}
		var ns []OpenNotice
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &ns); err != nil {
			return nil, fmt.Errorf("decode open notices of %s: %w", platform, err)
		}
		out = append(out, ns...)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// GetSanctions reads a platform's sanction counters (zero when none).
func (t Table) GetSanctions(ctx context.Context, platform string) (Sanctions, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: Key(StatsPK(StatsPlatform(platform)), SKSanctions)})
	if err != nil {
		return Sanctions{}, fmt.Errorf("read sanctions of %s: %w", platform, err)
	}
	var s Sanctions
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &s); err != nil {
			return Sanctions{}, fmt.Errorf("decode sanctions of %s: %w", platform, err)
		}
	}
	return s, nil
}
