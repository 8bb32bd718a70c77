package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// tokens records task tokens handed to the "approve" function.
type tokens struct {
	mu   sync.Mutex
	list []string
}

func (tk *tokens) add(s string) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.list = append(tk.list, s)
}

func (tk *tokens) last(t *testing.T) string {
	t.Helper()
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if len(tk.list) == 0 {
		t.Fatal("no task token was issued")
	}
	return tk.list[len(tk.list)-1]
}

const callbackDef = `{"StartAt":"Ask","States":{
 "Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
  "Parameters":{"FunctionName":"approve","Payload":{"token.$":"$$.Task.Token","case.$":"$.case"}},
  "TimeoutSeconds":3600,"HeartbeatSeconds":600,"ResultPath":"$.decision",
  "Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.timeout","Next":"Escalate"},{"ErrorEquals":["States.HeartbeatTimeout"],"ResultPath":"$.timeout","Next":"Escalate"}],
  "End":true},
 "Escalate":{"Type":"Pass","Result":"escalated","ResultPath":"$.decision","End":true}}}`

func callbackStack(t *testing.T) (*stack, *tokens, string) {
	s := newStack(t)
	tk := &tokens{}
	s.reg.Register("approve", handler(func(ctx context.Context, in struct{ Token string }) (string, error) {
		tk.add(in.Token)
		return "sent", nil
	}))
	return s, tk, s.create("cb", callbackDef)
}

func apiCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestCallbacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		act    func(s *stack, token string)
		status sfntypes.ExecutionStatus
		output string
		errStr string
		last   string // last event type before the execution's end
	}{
		{
			name: "success",
			act: func(s *stack, token string) {
				if _, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved":true}`)}); err != nil {
					t.Fatal(err)
				}
			},
			status: sfntypes.ExecutionStatusSucceeded, output: `{"case":"c1","decision":{"approved":true}}`,
		},
		{
			name: "failure",
			act: func(s *stack, token string) {
				if _, err := s.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Rejected"), Cause: aws.String("no")}); err != nil {
					t.Fatal(err)
				}
			},
			status: sfntypes.ExecutionStatusFailed, errStr: "Rejected",
		},
		{
			name:   "heartbeat timeout",
			act:    func(s *stack, token string) { s.advance(10 * time.Minute) },
			status: sfntypes.ExecutionStatusSucceeded, output: `{"case":"c1","decision":"escalated","timeout":{"Error":"States.HeartbeatTimeout","Cause":""}}`,
		},
		{
			name: "heartbeats keep it alive until the task timeout",
			act: func(s *stack, token string) {
				for i := 0; i < 6; i++ {
					s.advance(9 * time.Minute)
					if _, err := s.sfn.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
						t.Fatalf("heartbeat %d: %v", i, err)
					}
				}
				s.advance(7 * time.Minute)
			},
			status: sfntypes.ExecutionStatusSucceeded, output: `{"case":"c1","decision":"escalated","timeout":{"Error":"States.Timeout","Cause":""}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, tk, smArn := callbackStack(t)
			arn := s.startExec(smArn, "", `{"case":"c1"}`)
			s.idle()
			if st := s.describe(arn).Status; st != sfntypes.ExecutionStatusRunning {
				t.Fatalf("status %s while waiting for the callback", st)
			}
			token := tk.last(t)
			tc.act(s, token)
			s.idle()
			out := s.describe(arn)
			if out.Status != tc.status {
				t.Fatalf("status %s, want %s (%s)", out.Status, tc.status, strings.Join(s.eventTypes(arn), ","))
			}
			if tc.output != "" {
				jsonEq(t, aws.ToString(out.Output), tc.output)
			}
			if tc.errStr != "" && aws.ToString(out.Error) != tc.errStr {
				t.Fatalf("error %q, want %q", aws.ToString(out.Error), tc.errStr)
			}
			// The token is spent now.
			_, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
			if apiCode(err) != "TaskTimedOut" {
				t.Fatalf("reusing a token: %v, want TaskTimedOut", err)
			}
			types := s.eventTypes(arn)
			if !strings.Contains(strings.Join(types, ","), "TaskScheduled,TaskStarted,TaskSubmitted") {
				t.Fatalf("history %v lacks TaskScheduled,TaskStarted,TaskSubmitted", types)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	cases := []struct{ token, code string }{
		{"garbage", "InvalidToken"},
		{(&execution{arn: "arn:aws:states:us-east-1:123456789012:execution:none:none"}).newToken(&thread{ID: "r"}), "TaskDoesNotExist"},
	}
	for _, tc := range cases {
		_, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tc.token), Output: aws.String(`{}`)})
		if apiCode(err) != tc.code {
			t.Fatalf("token %.20s: %v, want %s", tc.token, err, tc.code)
		}
	}
	_, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("garbage"), Output: aws.String(`{not json`)})
	if apiCode(err) != "InvalidOutput" {
		t.Fatalf("bad output: %v, want InvalidOutput", err)
	}
}

func TestTaskTimeout(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	started, canceled := make(chan struct{}, 1), make(chan struct{}, 1)
	s.reg.Register("slow", handler(func(ctx context.Context) (string, error) {
		started <- struct{}{}
		<-ctx.Done() // only the task timeout ends it
		canceled <- struct{}{}
		return "", ctx.Err()
	}))
	arn := s.startExec(s.create("slow", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow"},"TimeoutSecondsPath":"$.t","End":true}}}`), "", `{"t":30}`)
	<-started
	if _, err := s.engine.Advance(context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	<-canceled
	s.idle()
	out := s.describe(arn)
	if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "States.Timeout" {
		t.Fatalf("status %s error %s, want FAILED States.Timeout", out.Status, aws.ToString(out.Error))
	}
	h := s.history(arn)
	var timedOut *sfntypes.HistoryEvent
	for i := range h {
		if h[i].Type == sfntypes.HistoryEventTypeTaskTimedOut {
			timedOut = &h[i]
		}
	}
	if timedOut == nil || aws.ToString(timedOut.TaskTimedOutEventDetails.Error) != "States.Timeout" || aws.ToString(timedOut.TaskTimedOutEventDetails.ResourceType) != "lambda" {
		t.Fatalf("no TaskTimedOut event with States.Timeout in %v", s.eventTypes(arn))
	}
}

func TestExecutionTimeoutAndStop(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	smArn := s.create("waits", `{"TimeoutSeconds":100,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1000,"End":true}}}`)
	timed := s.startExec(smArn, "timed", `{}`)
	stopped := s.startExec(smArn, "stopped", `{}`)
	s.idle()
	stop, err := s.sfn.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(stopped), Error: aws.String("Operator"), Cause: aws.String("test")})
	if err != nil || stop.StopDate == nil {
		t.Fatalf("stop: %v", err)
	}
	s.advance(100 * time.Second)
	cases := []struct {
		arn    string
		status sfntypes.ExecutionStatus
		last   sfntypes.HistoryEventType
	}{
		{timed, sfntypes.ExecutionStatusTimedOut, sfntypes.HistoryEventTypeExecutionTimedOut},
		{stopped, sfntypes.ExecutionStatusAborted, sfntypes.HistoryEventTypeExecutionAborted},
	}
	for _, tc := range cases {
		if st := s.describe(tc.arn).Status; st != tc.status {
			t.Fatalf("%s: status %s, want %s", tc.arn, st, tc.status)
		}
		h := s.history(tc.arn)
		if h[len(h)-1].Type != tc.last {
			t.Fatalf("%s: last event %s, want %s", tc.arn, h[len(h)-1].Type, tc.last)
		}
	}
	list, err := s.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smArn), StatusFilter: sfntypes.ExecutionStatusAborted})
	if err != nil || len(list.Executions) != 1 || aws.ToString(list.Executions[0].ExecutionArn) != stopped {
		t.Fatalf("list aborted: %v %+v", err, list)
	}
}

func TestStartExecutionIdempotent(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	smArn := s.create("idem", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}`)
	start := func(input string) (*sfn.StartExecutionOutput, error) {
		return s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn), Name: aws.String("case-1"), Input: aws.String(input)})
	}
	a, err := start(`{"a":1}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := start(`{"a":1}`)
	if err != nil {
		t.Fatal(err)
	}
	if *a.ExecutionArn != *b.ExecutionArn || !a.StartDate.Equal(*b.StartDate) {
		t.Fatalf("repeat start: %v/%v vs %v/%v", *a.ExecutionArn, a.StartDate, *b.ExecutionArn, b.StartDate)
	}
	if _, err := start(`{"a":2}`); apiCode(err) != "ExecutionAlreadyExists" {
		t.Fatalf("other input: %v, want ExecutionAlreadyExists", err)
	}
	s.advance(10 * time.Second)
	if _, err := start(`{"a":1}`); apiCode(err) != "ExecutionAlreadyExists" {
		t.Fatalf("closed execution: %v, want ExecutionAlreadyExists", err)
	}
	if n := strings.Count(strings.Join(s.eventTypes(*a.ExecutionArn), ","), "ExecutionStarted"); n != 1 {
		t.Fatalf("%d ExecutionStarted events", n)
	}
}

func TestStateMachineAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	arn := s.create("sm", def)
	if again := s.create("sm", def); again != arn {
		t.Fatalf("idempotent create returned %s", again)
	}
	cases := []struct {
		name, def, code, msgPart string
	}{
		{"other definition", `{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}`, "StateMachineAlreadyExists", ""},
		{"bad-next", `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Nowhere"}}}`, "InvalidDefinition", "Next"},
		{"bad-resource", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}`, "InvalidDefinition", "sqs:sendMessage"},
	}
	for _, tc := range cases {
		name := tc.name
		if name == "other definition" {
			name = "sm"
		}
		_, err := s.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(tc.def), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn")})
		if apiCode(err) != tc.code || !strings.Contains(err.Error(), tc.msgPart) {
			t.Fatalf("%s: %v, want %s mentioning %q", tc.name, err, tc.code, tc.msgPart)
		}
	}
	d, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || aws.ToString(d.Definition) != def || d.Type != sfntypes.StateMachineTypeStandard {
		t.Fatalf("describe: %v %+v", err, d)
	}
	newDef := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":2,"End":true}}}`
	if _, err := s.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(newDef)}); err != nil {
		t.Fatal(err)
	}
	exec := s.startExec(arn, "", `{}`)
	s.idle()
	jsonEq(t, aws.ToString(s.describe(exec).Output), `2`)
	l, err := s.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(l.StateMachines) != 1 {
		t.Fatalf("list: %v %+v", err, l)
	}
	if _, err := s.sfn.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)}); apiCode(err) != "StateMachineDoesNotExist" {
		t.Fatalf("after delete: %v", err)
	}
}

func TestHistoryEvents(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	s.reg.Register("echo", handler(func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }))
	_, arn := s.run(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","Next":"P"},"P":{"Type":"Pass","End":true}}}`, `{"k":"v"}`)
	h := s.history(arn)
	for i, ev := range h {
		if ev.Id != int64(i+1) || ev.Timestamp == nil {
			t.Fatalf("event %d: id %d timestamp %v", i, ev.Id, ev.Timestamp)
		}
		if i > 0 && ev.PreviousEventId != int64(i) {
			t.Fatalf("event %d (%s): previousEventId %d", ev.Id, ev.Type, ev.PreviousEventId)
		}
	}
	if d := h[0].ExecutionStartedEventDetails; d == nil || aws.ToString(d.Input) != `{"k":"v"}` || aws.ToString(d.RoleArn) == "" {
		t.Fatalf("ExecutionStarted details %+v", d)
	}
	sched := h[2].TaskScheduledEventDetails
	if sched == nil || aws.ToString(sched.ResourceType) != "lambda" || aws.ToString(sched.Resource) != "invoke" {
		t.Fatalf("TaskScheduled details %+v", sched)
	}
	jsonEq(t, aws.ToString(sched.Parameters), `{"FunctionName":"echo","Payload":{"k":"v"}}`)
	if d := h[1].StateEnteredEventDetails; d == nil || aws.ToString(d.Name) != "T" {
		t.Fatalf("TaskStateEntered details %+v", d)
	}
	if d := h[len(h)-1].ExecutionSucceededEventDetails; d == nil {
		t.Fatalf("no ExecutionSucceeded details")
	} else {
		jsonEq(t, aws.ToString(d.Output), `{"k":"v"}`)
	}
	// reverseOrder and paging
	out, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: 2})
	if err != nil || len(out.Events) != 2 || out.Events[0].Type != sfntypes.HistoryEventTypeExecutionSucceeded || out.NextToken == nil {
		t.Fatalf("reverse page: %v %+v", err, out)
	}
	next, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: 2, NextToken: out.NextToken})
	if err != nil || len(next.Events) != 2 || next.Events[0].Id != h[len(h)-3].Id {
		t.Fatalf("second page: %v %+v", err, next)
	}
}

// A function may complete its own task token before it returns (AWS allows
// it); the engine applies that result once the invocation ends, and a
// failure sent the same way fails the task.
func TestCallbackFromInsideTheInvocation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		send   func(s *stack, token string) error
		status sfntypes.ExecutionStatus
		want   string
	}{
		{"success", func(s *stack, token string) error {
			_, err := s.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved":true}`)})
			return err
		}, sfntypes.ExecutionStatusSucceeded, `{"approved":true}`},
		{"failure", func(s *stack, token string) error {
			_, err := s.sfn.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("Rejected")})
			return err
		}, sfntypes.ExecutionStatusFailed, "Rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			var sendErr error
			s.reg.RegisterFunc("approve", func(ctx context.Context, in struct{ Token string }) (string, error) {
				sendErr = tc.send(s, in.Token)
				return "sent", nil
			})
			out, _ := s.run(`{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
			 "Parameters":{"FunctionName":"approve","Payload":{"token.$":"$$.Task.Token"}},"TimeoutSeconds":60,"End":true}}}`, `{}`)
			if sendErr != nil {
				t.Fatalf("the function's own callback was refused: %v", sendErr)
			}
			got := aws.ToString(out.Output) + aws.ToString(out.Error)
			if out.Status != tc.status || !strings.Contains(got, tc.want) {
				t.Fatalf("status %s output/error %q, want %s %q", out.Status, got, tc.status, tc.want)
			}
		})
	}
}

// A Choice rule may read the context object ($$), as in AWS.
func TestChoiceReadsTheContextObject(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	def := `{"StartAt":"Pick","States":{
	 "Pick":{"Type":"Choice","Choices":[{"Variable":"$$.State.Name","StringEquals":"Pick","Next":"Yes"}],"Default":"No"},
	 "Yes":{"Type":"Pass","Result":"context read","End":true},
	 "No":{"Type":"Fail","Error":"NoContext"}}}`
	out, _ := s.run(def, `{}`)
	if out.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(out.Output) != `"context read"` {
		t.Fatalf("status %s output %s error %s", out.Status, aws.ToString(out.Output), aws.ToString(out.Error))
	}
}
