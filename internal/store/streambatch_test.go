package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestEachPerCaseReportsOnlyWhatFailedAndKeepsEachCaseInOrder(t *testing.T) {
	rec := func(seq, caseID string) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: seq,
			Keys: map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute(CasePK(caseID)), "SK": events.NewStringAttribute("EVENT#" + seq)}}}
	}
	batch := []events.DynamoDBEventRecord{rec("1", "c_a"), rec("2", "c_b"), rec("3", "c_a"), rec("4", "c_c"), rec("5", "c_b"), rec("6", "c_a")}
	for _, tc := range []struct {
		name       string
		poison     map[string]bool // sequence numbers that fail
		wantRun    string
		wantFailed string
	}{
		{"nothing fails", nil, "[1 2 3 4 5 6]", "[]"},
		{"a poison record: its case's later records wait, the others run", map[string]bool{"2": true}, "[1 2 3 4 6]", "[2 5]"},
		{"two cases fail", map[string]bool{"3": true, "4": true}, "[1 2 3 4 5]", "[3 4 6]"},
		{"the last record fails alone", map[string]bool{"6": true}, "[1 2 3 4 5 6]", "[6]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			resp := EachPerCase(context.Background(), batch, func(_ context.Context, r events.DynamoDBEventRecord) error {
				ran = append(ran, r.Change.SequenceNumber)
				if tc.poison[r.Change.SequenceNumber] {
					return errors.New("poison")
				}
				return nil
			})
			failed := []string{}
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if got := fmt.Sprint(ran); got != tc.wantRun {
				t.Errorf("ran %s, want %s", got, tc.wantRun)
			}
			if got := fmt.Sprint(failed); got != tc.wantFailed {
				t.Errorf("reported %s, want %s", got, tc.wantFailed)
			}
		})
	}
}
