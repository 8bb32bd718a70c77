package store

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// StreamCase is the case a stream record belongs to: the case id of its
// partition key (CASE#<id>), else the whole key.
func StreamCase(rec events.DynamoDBEventRecord) string {
	pk := rec.Change.Keys["PK"]
	if pk.DataType() != events.DataTypeString {
		return ""
	}
	if id, ok := CaseIDOf(pk.String()); ok {
		return id
	}
	return pk.String()
}

// Failures collects a stream batch's item failures: only the records that
// really failed, and every later record of a case that had a failure, so
// each case's records still take effect in order when Lambda retries them.
// Records of other cases are processed and not reported: a poison record
// sends no neighbour to the dead-letter queue with it.
type Failures struct {
	resp   events.DynamoDBEventResponse
	failed map[string]bool
}

// Blocked reports whether caseID already had a failure in this batch (its
// later records must not run before the failed one).
func (f *Failures) Blocked(caseID string) bool { return f.failed[caseID] }

// Fail records the failure of the record with sequence number seq of caseID.
func (f *Failures) Fail(caseID, seq string) {
	if f.failed == nil {
		f.failed = map[string]bool{}
	}
	f.failed[caseID] = true
	f.resp.BatchItemFailures = append(f.resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
}

// Response is the batch's answer to Lambda.
func (f *Failures) Response() events.DynamoDBEventResponse { return f.resp }

// EachPerCase runs fn on each record in order, by Failures' rule.
func EachPerCase(ctx context.Context, recs []events.DynamoDBEventRecord, fn func(context.Context, events.DynamoDBEventRecord) error) events.DynamoDBEventResponse {
	var f Failures
	for _, rec := range recs {
		c := StreamCase(rec)
		if f.Blocked(c) {
			f.Fail(c, rec.Change.SequenceNumber)
			continue
		}
		if err := fn(ctx, rec); err != nil {
			f.Fail(c, rec.Change.SequenceNumber)
		}
	}
	return f.Response()
}

// ImageString is the string attribute k of a stream image ("" when it is
// absent or not a string).
func ImageString(img map[string]events.DynamoDBAttributeValue, k string) string {
	if v, ok := img[k]; ok && v.DataType() == events.DataTypeString {
		return v.String()
	}
	return ""
}
