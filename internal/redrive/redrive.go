// Package redrive replays the stream work a case missed. The table's stream
// functions (StartWorkflow, RecordReports, Anchor, Tally) send what keeps
// failing to a dead-letter queue, but that queue holds only pointers into
// the stream, which expire with it after 24 hours. Redrive re-reads each
// case from the table instead, shapes its items as the stream's INSERTs,
// keeps those each function's FilterCriteria (template.yaml) passes, and
// hands them to the same handlers: every one of them is idempotent, so
// work done before is not done twice.
package redrive

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/store"
)

// FromTemplate are the template's stream functions (a DynamoDB event),
// each with its FilterCriteria and its handler from handlers
// (wiring.Handlers).
func FromTemplate(tpl *samtemplate.Template, handlers map[string]any) ([]Function, error) {
	var out []Function
	for _, f := range tpl.Functions() {
		for _, ev := range f.Events {
			if ev.Type != "DynamoDB" {
				continue
			}
			h, ok := handlers[f.LogicalID].(Handler)
			if !ok {
				return nil, fmt.Errorf("redrive: %s has no stream handler", f.LogicalID)
			}
			filters, err := ev.Filters()
			if err != nil {
				return nil, fmt.Errorf("redrive: %s: %w", f.LogicalID, err)
			}
			out = append(out, Function{ID: f.LogicalID, Filters: filters, Handle: h})
		}
	}
	return out, nil
}

// Handler is a stream function's handler.
type Handler = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Function is one stream function: its logical id, its FilterCriteria
// patterns (samtemplate.Event.Filters) and its handler.
type Function struct {
	ID      string
	Filters []any
	Handle  Handler
	// Since, when set, leaves out events written before it (Tally: a
	// counted event's marker expires, so an older event could be counted
	// twice); they are listed as skipped.
	Since time.Time
}

// Replayer replays cases' stream work.
type Replayer struct {
	Table     store.Table
	Functions []Function
}

// Result is what one function did for one case.
type Result struct {
	CaseID   string `json:"case_id"`
	Function string `json:"function"`
	Records  int    `json:"records"`
	Failed   int    `json:"failed"`
	Skipped  int    `json:"skipped,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Case replays the stream work of one case for each function (only is
// the function ids to replay; empty: all).
func (r Replayer) Case(ctx context.Context, caseID string, only ...string) ([]Result, error) {
	items, err := r.items(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("redrive: case %s is not in table %s", caseID, r.Table.Name)
	}
	recs := make([]map[string]any, len(items))
	for i, it := range items {
		recs[i] = record(it, i)
	}
	var out []Result
	for _, f := range r.Functions {
		if len(only) > 0 && !contains(only, f.ID) {
			continue
		}
		res := Result{CaseID: caseID, Function: f.ID}
		var batch []map[string]any
		for i, rec := range recs {
			if !samtemplate.Matches(f.Filters, rec) {
				continue
			}
			if !f.Since.IsZero() && writtenBefore(items[i], f.Since) {
				res.Skipped++
				continue
			}
			batch = append(batch, rec)
		}
		res.Records = len(batch)
		if len(batch) > 0 {
			failed, err := r.deliver(ctx, f, batch)
			res.Failed = failed
			if err != nil {
				res.Error = err.Error()
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// deliver hands a batch to f as Lambda would, in batches of up to 100.
func (r Replayer) deliver(ctx context.Context, f Function, recs []map[string]any) (int, error) {
	failed := 0
	for len(recs) > 0 {
		n := min(len(recs), 100)
		b, err := json.Marshal(map[string]any{"Records": recs[:n]})
		if err != nil {
			return failed, err
		}
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return failed, fmt.Errorf("redrive %s: %w", f.ID, err)
		}
		resp, err := f.Handle(ctx, ev)
		if err != nil {
			return failed + n, err
		}
		failed += len(resp.BatchItemFailures)
		recs = recs[n:]
	}
	if failed > 0 {
		return failed, fmt.Errorf("%d records failed (see the logs); run redrive again", failed)
	}
	return 0, nil
}

func (r Replayer) items(ctx context.Context, caseID string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(r.Table.DB, &dynamodb.QueryInput{
		TableName: aws.String(r.Table.Name), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: store.CasePK(caseID)}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("redrive: read case %s: %w", caseID, err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// record is an item as the stream's INSERT of it, in Lambda's event form.
func record(item map[string]types.AttributeValue, i int) map[string]any {
	return map[string]any{
		"eventID": "redrive-" + strconv.Itoa(i), "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
		"dynamodb": map[string]any{
			"Keys":     attrMap(map[string]types.AttributeValue{"PK": item["PK"], "SK": item["SK"]}),
			"NewImage": attrMap(item), "SequenceNumber": fmt.Sprintf("%021d", i+1), "StreamViewType": "NEW_IMAGE",
		},
	}
}

// writtenBefore reports an item whose "at" (history events) is before t.
func writtenBefore(item map[string]types.AttributeValue, t time.Time) bool {
	at, ok := item["at"].(*types.AttributeValueMemberS)
	if !ok {
		return false
	}
	when, err := time.Parse(time.RFC3339Nano, at.Value)
	return err == nil && when.Before(t)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func attrMap(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = attr(v)
		}
	}
	return out
}

func attr(v types.AttributeValue) map[string]any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": x.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": x.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": x.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": x.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = attr(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": attrMap(x.Value)}
	}
	return map[string]any{"NULL": true}
}
