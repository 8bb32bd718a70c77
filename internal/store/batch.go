package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's limits per batch call.
const (
	maxBatchWrite = 25
	maxBatchGet   = 100
	// maxBatchAttempts bounds the resending of unprocessed items.
	maxBatchAttempts = 9
)

// BatchWrite sends write requests 25 at a time, resending unprocessed ones
// with a growing pause (DynamoDB throttling), until all are written.
func (t Table) BatchWrite(ctx context.Context, writes []types.WriteRequest) error {
	for start := 0; start < len(writes); start += maxBatchWrite {
		pending := writes[start:min(start+maxBatchWrite, len(writes))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == maxBatchAttempts {
				return fmt.Errorf("batch write %s: %d items still unprocessed", t.Name, len(pending))
			}
			if err := pause(ctx, attempt); err != nil {
				return err
			}
			out, err := t.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{t.Name: pending},
			})
			if err != nil {
				return fmt.Errorf("batch write %s: %w", t.Name, err)
			}
			pending = out.UnprocessedItems[t.Name]
		}
	}
	return nil
}

// BatchGet reads the items with the given keys, 100 at a time, resending
// unprocessed keys with a growing pause. projection may be empty (all
// attributes). Items come back in no particular order; missing ones are left
// out.
func (t Table) BatchGet(ctx context.Context, keys []map[string]types.AttributeValue, projection string) ([]map[string]types.AttributeValue, error) {
	return t.BatchGetNamed(ctx, keys, projection, nil)
}

// BatchGetNamed is BatchGet with attribute names (#n) in the projection.
func (t Table) BatchGetNamed(ctx context.Context, keys []map[string]types.AttributeValue, projection string, names map[string]string) ([]map[string]types.AttributeValue, error) {
	var found []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += maxBatchGet {
		want := keys[start:min(start+maxBatchGet, len(keys))]
		for attempt := 0; len(want) > 0; attempt++ {
			if attempt == maxBatchAttempts {
				return nil, fmt.Errorf("batch get %s: %d keys still unprocessed", t.Name, len(want))
			}
			if err := pause(ctx, attempt); err != nil {
				return nil, err
			}
			ka := types.KeysAndAttributes{Keys: want}
			if projection != "" {
				ka.ProjectionExpression = aws.String(projection)
			}
			if len(names) > 0 {
				ka.ExpressionAttributeNames = names
			}
			out, err := t.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{t.Name: ka}})
			if err != nil {
				return nil, fmt.Errorf("batch get %s: %w", t.Name, err)
			}
			found = append(found, out.Responses[t.Name]...)
			want = out.UnprocessedKeys[t.Name].Keys
		}
	}
	return found, nil
}

// pause waits before the attempt-th try of a batch call (none before the
// first): 50 ms, 100 ms, 200 ms, … .
func pause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
		return nil
	}
}

// Cancellation is a cancelled TransactWriteItems, its reasons by item: the
// i-th reason belongs to the i-th item of the request.
type Cancellation struct {
	Reasons []types.CancellationReason
}

// Cancelled reports whether err is a cancelled transaction, and its reasons.
func Cancelled(err error) (Cancellation, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return Cancellation{}, false
	}
	return Cancellation{Reasons: tce.CancellationReasons}, true
}

// Code is the cancellation code of the i-th item ("None",
// "ConditionalCheckFailed", "TransactionConflict", …), "" if unknown.
func (c Cancellation) Code(i int) string {
	if i < 0 || i >= len(c.Reasons) {
		return ""
	}
	return aws.ToString(c.Reasons[i].Code)
}

// ConditionFailed reports whether the i-th item's condition failed.
func (c Cancellation) ConditionFailed(i int) bool { return c.Code(i) == "ConditionalCheckFailed" }

// ConditionFailedAfter reports whether any item from the i-th on failed its
// condition.
func (c Cancellation) ConditionFailedAfter(i int) bool {
	for j := i; j < len(c.Reasons); j++ {
		if c.ConditionFailed(j) {
			return true
		}
	}
	return false
}

// Conflict reports whether another transaction on the same items was in
// progress (worth retrying).
func (c Cancellation) Conflict() bool {
	for i := range c.Reasons {
		if c.Code(i) == "TransactionConflict" {
			return true
		}
	}
	return false
}
