package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// Recorder is RecordReportsFunction: it adds each further report of an ad to its
// case's history and report count, reading the reports from the table's
// stream. Intake writes a duplicate report as an item of its own, so
// thousands of concurrent reports of one ad never contend for the case;
// here, one reader per stream shard appends them in order, in batches. A
// report is marked recorded in the same transaction as its event, so a
// replayed stream record adds nothing.
type Recorder struct {
	Table store.Table
	Now   func() time.Time
}

// reportsPerBatch keeps a batch within one transaction (2 items a report,
// plus the case).
const reportsPerBatch = 45

type duplicateReport struct {
	seq      string
	caseID   string
	reportID string
	actor    string
	url      string
	trusted  bool
}

// Record handles a batch of stream records.
func (r Recorder) Record(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var fails store.Failures
	var reps []duplicateReport
	for _, rec := range ev.Records {
		if d, ok := duplicateOf(rec); ok {
			reps = append(reps, d)
		}
	}
	for i := 0; i < len(reps); {
		// The longest run of reports of one case, up to a batch.
		j := i + 1
		for j < len(reps) && j-i < reportsPerBatch && reps[j].caseID == reps[i].caseID {
			j++
		}
		if fails.Blocked(reps[i].caseID) {
			// A report of this case failed earlier in the batch: later
			// ones wait for it, in order.
			for _, d := range reps[i:j] {
				fails.Fail(d.caseID, d.seq)
			}
		} else if err := r.record(ctx, reps[i:j]); err != nil {
			slog.Error("record reports", "case_id", reps[i].caseID, "err", err)
			for _, d := range reps[i:j] {
				fails.Fail(d.caseID, d.seq)
			}
		}
		i = j
	}
	return fails.Response(), nil
}

func (r Recorder) record(ctx context.Context, reps []duplicateReport) error {
	log := history.Log{Table: r.Table, Now: r.Now}
	entries := make([]history.Entry, len(reps))
	for i, d := range reps {
		entries[i] = r.entry(d)
	}
	change := history.Change{Add: map[string]int{"report_count": len(reps)}}
	for _, d := range reps {
		if d.trusted { // a trusted flagger reported it too: its review comes first
			change.Set = map[string]any{"trusted_flagger": true}
		}
	}
	_, err := log.AppendBatch(ctx, reps[0].caseID, entries, change)
	if !errors.Is(err, history.ErrConditionFailed) {
		return err
	}
	// Some of them were recorded before (a replay): one at a time, skipping those.
	for i, d := range reps {
		one := history.Change{Add: map[string]int{"report_count": 1}}
		if d.trusted {
			one.Set = map[string]any{"trusted_flagger": true}
		}
		_, err := log.AppendBatch(ctx, d.caseID, entries[i:i+1], one)
		if err != nil && !errors.Is(err, history.ErrConditionFailed) {
			return err
		}
	}
	return nil
}

func (r Recorder) entry(d duplicateReport) history.Entry {
	mark := types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(r.Table.Name),
		Key:                      store.Key(store.CasePK(d.caseID), store.ReportSK(d.reportID)),
		UpdateExpression:         aws.String("SET #r = :t"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND attribute_not_exists(#r)"),
		ExpressionAttributeNames: map[string]string{"#r": "recorded"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true},
		},
	}}
	return history.Entry{Type: history.ReportReceived, Actor: d.actor, Data: history.ReportReceivedData{ReportID: d.reportID, URL: d.url}, Items: []types.TransactWriteItem{mark}}
}

// duplicateOf recognises the INSERT of a duplicate report (the template's
// FilterCriteria already narrows the stream to these in AWS).
func duplicateOf(rec events.DynamoDBEventRecord) (duplicateReport, bool) {
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
		return duplicateReport{}, false
	}
	img := rec.Change.NewImage
	str := func(k string) string { return store.ImageString(img, k) }
	sk := rec.Change.Keys["SK"]
	if sk.DataType() != events.DataTypeString || !store.IsReportSK(sk.String()) {
		return duplicateReport{}, false
	}
	if dup, ok := img["duplicate"]; !ok || dup.DataType() != events.DataTypeBoolean || !dup.Boolean() {
		return duplicateReport{}, false
	}
	d := duplicateReport{seq: rec.Change.SequenceNumber, caseID: str("case_id"), reportID: str("report_id"), url: str("url")}
	if d.caseID == "" || d.reportID == "" {
		return duplicateReport{}, false
	}
	d.actor = fmt.Sprintf("reporter:%s", str("reporter_pseudonym"))
	if v, ok := img["trusted_flagger"]; ok && v.DataType() == events.DataTypeBoolean {
		d.trusted = v.Boolean()
	}
	return d, true
}
