package sfnlocal

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// The history limit behaves as AWS documents it: the execution waits for
// event 25,000; an ExecutionSucceeded there succeeds, anything else is
// replaced by ExecutionFailed (States.Runtime) and the execution fails.
func TestHistoryLimitFailsTheExecution(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		name       string
		def        string
		status     sfntypes.ExecutionStatus
		lastType   sfntypes.HistoryEventType
		beforeLast sfntypes.HistoryEventType // event 24,999, the machine's own
	}{
		{"succeeds with event 25,000", countingLoop(6249), sfntypes.ExecutionStatusSucceeded,
			sfntypes.HistoryEventTypeExecutionSucceeded, sfntypes.HistoryEventTypePassStateExited},
		{"one event more fails", countingLoop(6250), sfntypes.ExecutionStatusFailed,
			sfntypes.HistoryEventTypeExecutionFailed, sfntypes.HistoryEventTypePassStateExited},
		{"a loop without end fails", `{"StartAt":"Spin","States":{"Spin":{"Type":"Choice",
			"Choices":[{"Variable":"$.spin","BooleanEquals":true,"Next":"Spin"}],"Default":"Out"},"Out":{"Type":"Succeed"}}}`,
			sfntypes.ExecutionStatusFailed, sfntypes.HistoryEventTypeExecutionFailed, sfntypes.HistoryEventTypeChoiceStateExited},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, arn := s.run(c.def, `{"n":0,"spin":true}`)
			if d.Status != c.status {
				t.Fatalf("status %s (%s: %s), want %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), c.status)
			}
			if c.status == sfntypes.ExecutionStatusFailed {
				if aws.ToString(d.Error) != "States.Runtime" || aws.ToString(d.Cause) != "The execution reached the maximum number of history events (25000)." {
					t.Errorf("error %q cause %q", aws.ToString(d.Error), aws.ToString(d.Cause))
				}
			}
			h := s.history(arn)
			if len(h) != 25000 {
				t.Fatalf("%d events, want 25000", len(h))
			}
			for i, ev := range h {
				if ev.Id != int64(i+1) {
					t.Fatalf("event %d has id %d", i+1, ev.Id)
				}
			}
			last, prev := h[24999], h[24998]
			if last.Type != c.lastType || prev.Type != c.beforeLast {
				t.Fatalf("events 24999, 25000: %s, %s; want %s, %s", prev.Type, last.Type, c.beforeLast, c.lastType)
			}
			if c.status == sfntypes.ExecutionStatusFailed {
				det := last.ExecutionFailedEventDetails
				if last.PreviousEventId != 24999 || det == nil || aws.ToString(det.Error) != "States.Runtime" {
					t.Fatalf("last event: previous %d, details %+v", last.PreviousEventId, det)
				}
			}
			// Nothing runs on after the limit.
			s.idle()
			if n := len(s.history(arn)); n != 25000 {
				t.Fatalf("history grew to %d events after the execution ended", n)
			}
		})
	}
}

// Pages of any size, forwards and in reverse, return the whole history
// once, in order, across the journal records it spans.
func TestHistoryPages(t *testing.T) {
	s := newStack(t)
	s.reg.Register("inc", handler(func(ctx context.Context, in struct{ N int }) (map[string]int, error) {
		return map[string]int{"N": in.N + 1}, nil
	}))
	// Tasks (a record each), then a loop long enough for several records.
	def := `{"StartAt":"T0","States":{
		"T0":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"inc","Payload":{"N":0}},"ResultPath":null,"Next":"T1"},
		"T1":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"inc","Payload":{"N":1}},"ResultPath":null,"Next":"Inc"},
		"Inc":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":300,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Pass","End":true}}}`
	d, arn := s.run(def, `{"n":0}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s", d.Status, aws.ToString(d.Cause))
	}
	const total = 1 + 2*5 + 300*4 + 2 + 1 // started, 2 tasks, 300 loops, Done, succeeded
	ctx := context.Background()
	read := func(reverse bool, size int32) []int64 {
		var ids []int64
		in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: reverse, MaxResults: size}
		for pages := 0; ; pages++ {
			out, err := s.sfn.GetExecutionHistory(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if size > 0 && len(out.Events) > int(size) {
				t.Fatalf("page of %d events, asked for %d", len(out.Events), size)
			}
			for _, ev := range out.Events {
				ids = append(ids, ev.Id)
			}
			if out.NextToken == nil {
				return ids
			}
			if len(out.Events) == 0 || pages > total {
				t.Fatalf("page %d: %d events and a next token", pages, len(out.Events))
			}
			in.NextToken = out.NextToken
		}
	}
	for _, size := range []int32{0, 7, 250, 1000} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("size=%d/reverse=%v", size, reverse), func(t *testing.T) {
				ids := read(reverse, size)
				if len(ids) != total {
					t.Fatalf("%d events, want %d", len(ids), total)
				}
				for i, id := range ids {
					want := int64(i + 1)
					if reverse {
						want = int64(total - i)
					}
					if id != want {
						t.Fatalf("event %d of the read has id %d, want %d", i, id, want)
					}
				}
			})
		}
	}
	// A page that ends exactly at the end of the history has no next token.
	out, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil || out.NextToken == nil {
		t.Fatalf("first page of 1000: next token %v, err %v", out.NextToken != nil, err)
	}
	out, err = s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: total - 1000, NextToken: out.NextToken})
	if err != nil || len(out.Events) != total-1000 || out.NextToken != nil {
		t.Fatalf("the rest in one page: %d events, next token %v, err %v", len(out.Events), out.NextToken != nil, err)
	}
	// Tokens are checked: garbage, and a forward token used in reverse.
	fwd, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 5})
	if err != nil || fwd.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	for _, bad := range []struct {
		token   string
		reverse bool
	}{{"garbage", false}, {aws.ToString(fwd.NextToken), true}} {
		_, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), NextToken: aws.String(bad.token), ReverseOrder: bad.reverse})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidToken" {
			t.Errorf("token %q reverse=%v: %v, want InvalidToken", bad.token, bad.reverse, err)
		}
	}
}
