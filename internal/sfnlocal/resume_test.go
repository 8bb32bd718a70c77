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

const fn = "arn:aws:lambda:us-east-1:123456789012:function:"

// TestCrashResume abandons the engine at a point inside each state kind,
// starts a new one on the same table, and checks that the execution ends
// as it would have and that no completed step ran twice.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	type step func(s *stack, tk *tokens, arn string)
	crash := func(s *stack, _ *tokens, _ string) { s.crashAndRestart(); s.idle() }
	adv := func(d time.Duration) step { return func(s *stack, _ *tokens, _ string) { s.advance(d) } }
	cases := []struct {
		name   string
		def    string
		input  string
		steps  []step
		calls  map[string]int
		output string
	}{
		{
			name:  "wait",
			def:   `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + fn + `a","ResultPath":"$.a","Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"W"}],"Default":"W"},"W":{"Type":"Wait","Seconds":60,"Next":"B"},"B":{"Type":"Task","Resource":"` + fn + `b","ResultPath":"$.b","End":true}}}`,
			input: `{"go":true}`,
			steps: []step{crash, adv(30 * time.Second), crash, adv(30 * time.Second)},
			calls: map[string]int{"a": 1, "b": 1}, output: `{"go":true,"a":"a","b":"b"}`,
		},
		{
			name:  "callback",
			def:   `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + fn + `a","ResultPath":"$.a","Next":"Ask"},"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"approve","Payload":{"token.$":"$$.Task.Token"}},"ResultPath":"$.d","End":true}}}`,
			input: `{}`,
			steps: []step{crash, func(s *stack, tk *tokens, _ string) {
				if _, err := s.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tk.last(s.t.(*testing.T))), Output: aws.String(`"yes"`)}); err != nil {
					s.t.Fatal(err)
				}
				s.idle()
			}},
			calls: map[string]int{"a": 1, "approve": 1}, output: `{"a":"a","d":"yes"}`,
		},
		{
			name:  "pending retry",
			def:   `{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"` + fn + `flaky","Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10}],"End":true}}}`,
			input: `{}`,
			steps: []step{crash, adv(10 * time.Second)},
			calls: map[string]int{"flaky": 2}, output: `"flaky"`,
		},
		{
			name:  "parallel",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + fn + `a","Next":"W1"},"W1":{"Type":"Wait","Seconds":60,"End":true}}},{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"` + fn + `b","Next":"W2"},"W2":{"Type":"Wait","Seconds":120,"Next":"C"},"C":{"Type":"Task","Resource":"` + fn + `c","End":true}}}],"End":true}}}`,
			input: `{}`,
			steps: []step{crash, adv(60 * time.Second), crash, adv(60 * time.Second), crash},
			calls: map[string]int{"a": 1, "b": 1, "c": 1}, output: `["a","c"]`,
		},
		{
			name:  "map",
			def:   `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"` + fn + `item","Next":"W"},"W":{"Type":"Wait","Seconds":60,"End":true}}},"End":true}}}`,
			input: `[1,2,3]`,
			steps: []step{crash, adv(60 * time.Second), crash, adv(60 * time.Second), crash},
			calls: map[string]int{"item": 3}, output: `[1,2,3]`,
		},
		{
			name:  "task in flight",
			def:   `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"` + fn + `a","ResultPath":"$.a","Next":"H"},"H":{"Type":"Task","Resource":"` + fn + `hang","ResultPath":"$.h","End":true}}}`,
			input: `{}`,
			steps: []step{crash},
			// hang blocks until the engine stops, then succeeds when run again
			calls: map[string]int{"a": 1, "hang": 2}, output: `{"a":"a","h":"done"}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			var c counter
			tk := &tokens{}
			for _, name := range []string{"a", "b", "c"} {
				s.reg.Register(name, handler(func(ctx context.Context) (string, error) { c.inc(name); return name, nil }))
			}
			s.reg.Register("item", handler(func(ctx context.Context, n int) (int, error) { c.inc("item"); return n, nil }))
			s.reg.Register("flaky", handler(func(ctx context.Context) (string, error) {
				c.inc("flaky")
				if c.get("flaky") == 1 {
					return "", fmt.Errorf("transient")
				}
				return "flaky", nil
			}))
			s.reg.Register("approve", handler(func(ctx context.Context, in struct{ Token string }) (string, error) {
				c.inc("approve")
				tk.add(in.Token)
				return "", nil
			}))
			entered := make(chan struct{}, 4)
			s.reg.Register("hang", handler(func(ctx context.Context) (string, error) {
				c.inc("hang")
				if c.get("hang") == 1 {
					entered <- struct{}{}
					<-ctx.Done()
					return "", ctx.Err()
				}
				return "done", nil
			}))
			arn := s.startExec(s.create("m", tc.def), "x", tc.input)
			if tc.name == "task in flight" {
				<-entered
			} else {
				s.idle()
			}
			for _, st := range tc.steps {
				st(s, tk, arn)
			}
			s.idle()
			out := s.describe(arn)
			if out.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("status %s (%s %s)\n%s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause), strings.Join(s.eventTypes(arn), ","))
			}
			jsonEq(t, aws.ToString(out.Output), tc.output)
			for name, want := range tc.calls {
				if got := c.get(name); got != want {
					t.Errorf("%s ran %d times, want %d", name, got, want)
				}
			}
			h := s.history(arn)
			for i, ev := range h {
				if ev.Id != int64(i+1) {
					t.Fatalf("event ids not contiguous after restarts: %d at %d", ev.Id, i)
				}
			}
			if n := strings.Count(strings.Join(s.eventTypes(arn), ","), "ExecutionSucceeded"); n != 1 {
				t.Fatalf("%d ExecutionSucceeded events", n)
			}
		})
	}
}
