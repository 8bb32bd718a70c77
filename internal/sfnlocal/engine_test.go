package sfnlocal

import (
	"context"

	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

type FetchError struct{ URL string }

func (e *FetchError) Error() string { return "fetch " + e.URL + ": timeout" }

func TestStateKinds(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.reg.Register("double", handler(func(ctx context.Context, in struct{ N int }) (map[string]int, error) {
		return map[string]int{"n": in.N * 2}, nil
	}))
	s.reg.Register("fetch", handler(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return nil, &FetchError{URL: "https://x"}
	}))
	s.reg.Register("big", handler(func(ctx context.Context) (string, error) {
		return strings.Repeat("x", 300*1024), nil
	}))
	cases := []struct {
		name, def, input string
		status           sfntypes.ExecutionStatus
		output           string
		errName          string
		events           []string
	}{
		{
			name:   "pass and succeed",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.r","Next":"S"},"S":{"Type":"Succeed"}}}`,
			input:  `{"x":true}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `{"x":true,"r":{"a":1}}`,
			events: []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "lambda invoke wrapper",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:double:$LATEST","Payload":{"N.$":"$.n"}},"ResultSelector":{"v.$":"$.Payload.n","code.$":"$.StatusCode","ver.$":"$.ExecutedVersion"},"End":true}}}`,
			input:  `{"n":21}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `{"v":42,"code":200,"ver":"$LATEST"}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "legacy function arn",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:double","End":true}}}`,
			input:  `{"N":4}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `{"n":8}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "choice",
			def:    `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericGreaterThan":10,"Next":"Big"}],"Default":"Small"},"Big":{"Type":"Pass","Result":"big","End":true},"Small":{"Type":"Pass","Result":"small","End":true}}}`,
			input:  `{"v":11}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `"big"`,
			events: []string{"ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "fail",
			def:    `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"because"}}}`,
			input:  `{}`,
			status: sfntypes.ExecutionStatusFailed, errName: "Nope",
			events: []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"},
		},
		{
			name:   "go error type is the error name and catch",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"fetch","Payload":{}},"Catch":[{"ErrorEquals":["FetchError"],"ResultPath":"$.err","Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","OutputPath":"$.err","End":true}}}`,
			input:  `{}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `{"Error":"FetchError","Cause":"{\"errorMessage\":\"fetch https://x: timeout\",\"errorType\":\"FetchError\"}"}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"},
		},
		{
			name:   "unknown function",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"missing"},"End":true}}}`,
			input:  `{}`,
			status: sfntypes.ExecutionStatusFailed, errName: "Lambda.ResourceNotFoundException",
		},
		{
			name:   "parallel",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:double","End":true}}}],"End":true}}}`,
			input:  `{"N":5}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `[1,{"n":10}]`,
		},
		{
			name:   "parallel branch failure fails the state",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},{"StartAt":"B","States":{"B":{"Type":"Fail","Error":"BranchBroke"}}}],"End":true}}}`,
			input:  `{}`,
			status: sfntypes.ExecutionStatusFailed, errName: "BranchBroke",
		},
		{
			name:   "map with concurrency",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":2,"ItemSelector":{"N.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},"ItemProcessor":{"StartAt":"D","States":{"D":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:double","End":true}}},"End":true}}}`,
			input:  `{"xs":[1,2,3,4,5]}`,
			status: sfntypes.ExecutionStatusSucceeded, output: `[{"n":2},{"n":4},{"n":6},{"n":8},{"n":10}]`,
		},
		{
			name:   "map tolerated failures",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"F"}],"Default":"OK"},"F":{"Type":"Fail","Error":"Two"},"OK":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `[1,2,3]`,
			status: sfntypes.ExecutionStatusSucceeded, output: `[1,{"Error":"Two","Cause":""},3]`,
		},
		{
			name:   "map over tolerance",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":0,"ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"X"}}},"End":true}}}`,
			input:  `[1]`,
			status: sfntypes.ExecutionStatusFailed, errName: "States.ExceedToleratedFailureThreshold",
		},
		{
			name:   "context object",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"name.$":"$$.State.Name","sm.$":"$$.StateMachine.Name","in.$":"$$.Execution.Input.a","start.$":"$$.Execution.StartTime"},"End":true}}}`,
			input:  `{"a":"x"}`,
			status: sfntypes.ExecutionStatusSucceeded,
		},
		{
			name:   "payload limit",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:big","End":true}}}`,
			input:  `{}`,
			status: sfntypes.ExecutionStatusFailed, errName: "States.DataLimitExceeded",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, arn := s.run(tc.def, tc.input)
			if out.Status != tc.status {
				t.Fatalf("status %s (error %s: %s), want %s; history %v", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), tc.status, s.eventTypes(arn))
			}
			if tc.output != "" {
				jsonEq(t, aws.ToString(out.Output), tc.output)
			}
			if tc.errName != "" && aws.ToString(out.Error) != tc.errName {
				t.Fatalf("error %q (%s), want %q", aws.ToString(out.Error), aws.ToString(out.Cause), tc.errName)
			}
			if tc.events != nil {
				got := s.eventTypes(arn)
				if strings.Join(got, ",") != strings.Join(tc.events, ",") {
					t.Fatalf("events\n got %v\nwant %v", got, tc.events)
				}
			}
		})
	}
}

func TestContextObject(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	smArn := s.create("ctx", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","state.$":"$$.State.Name","sm.$":"$$.StateMachine.Id","entered.$":"$$.State.EnteredTime","role.$":"$$.Execution.RoleArn"},"End":true}}}`)
	arn := s.startExec(smArn, "e1", `{}`)
	s.idle()
	out := s.describe(arn)
	jsonEq(t, aws.ToString(out.Output), fmt.Sprintf(`{"id":%q,"name":"e1","state":"P","sm":%q,"entered":"2025-03-01T08:00:00.000Z","role":"arn:aws:iam::123456789012:role/sfn"}`, arn, smArn))
}

func TestRetryBackoffWithManualClock(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	var calls counter
	s.reg.Register("flaky", handler(func(ctx context.Context, in map[string]any) (string, error) {
		calls.inc("flaky")
		if calls.get("flaky") < 3 {
			return "", &FetchError{URL: "u"}
		}
		return "ok", nil
	}))
	_, arn := s.run(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky","Retry":[{"ErrorEquals":["FetchError"],"IntervalSeconds":10,"BackoffRate":3,"MaxAttempts":5}],"End":true}}}`, `{}`)
	steps := []struct {
		advance time.Duration
		calls   int
	}{{0, 1}, {9 * time.Second, 1}, {time.Second, 2}, {29 * time.Second, 2}, {time.Second, 3}}
	for _, st := range steps {
		s.advance(st.advance)
		if got := calls.get("flaky"); got != st.calls {
			t.Fatalf("after advancing %v: %d calls, want %d", st.advance, got, st.calls)
		}
	}
	if out := s.describe(arn); out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("status %s", out.Status)
	}
}

func TestWaitState(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	cases := []struct{ name, state, input string }{
		{"seconds", `"Seconds":3600`, `{}`},
		{"seconds path", `"SecondsPath":"$.s"`, `{"s":3600}`},
		{"timestamp path", `"TimestampPath":"$.at"`, `{"at":"2025-03-01T09:00:00Z"}`},
		{"timestamp", `"Timestamp":"2025-03-01T09:00:00Z"`, `{}`},
	}
	arns := map[string]string{}
	for _, tc := range cases {
		_, arn := s.run(`{"StartAt":"W","States":{"W":{"Type":"Wait",`+tc.state+`,"End":true}}}`, tc.input)
		arns[tc.name] = arn
	}
	s.advance(59 * time.Minute)
	for name, arn := range arns {
		if st := s.describe(arn).Status; st != sfntypes.ExecutionStatusRunning {
			t.Fatalf("%s: status %s before the wait ended", name, st)
		}
	}
	s.advance(time.Minute)
	for name, arn := range arns {
		out := s.describe(arn)
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("%s: status %s after the wait ended", name, out.Status)
		}
		want := []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"}
		if got := s.eventTypes(arn); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: events %v", name, got)
		}
	}
}

var _ = sfn.NewFromConfig
