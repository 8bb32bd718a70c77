package sfnlocal

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/tangkal/tangkal/internal/testenv"
)

// stack is an engine on a fresh table, served over HTTP, with an SDK client.
type stack struct {
	t      testing.TB
	engine *Engine
	clock  *ManualClock
	reg    *Registry
	srv    *httptest.Server
	sfn    *sfn.Client
	prefix string
}

var epoch0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func newStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{t: t, clock: NewManualClock(epoch0), reg: NewRegistry(), prefix: testenv.UniqueName(t, "sfn") + "-"}
	s.start()
	return s
}

func (s *stack) start() {
	t := s.t
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := New(Config{DynamoDB: testenv.DynamoDB(t), TablePrefix: s.prefix, Clock: s.clock, Invoker: s.reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.engine = eng
	s.srv = httptest.NewServer(eng.Handler())
	s.sfn = sfn.NewFromConfig(testenv.AWSConfig(s.srv.URL))
	t.Cleanup(func() {
		s.srv.Close()
		eng.Close()
	})
}

// restart abandons the engine without cleanup ("crash") and starts a new
// one on the same table.
func (s *stack) crashAndRestart() {
	s.srv.Close()
	s.engine.Close()
	s.start()
}

func (s *stack) idle() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.engine.WaitIdle(ctx); err != nil {
		s.t.Fatalf("engine never became idle: %v", err)
	}
}

func (s *stack) advance(d time.Duration) {
	s.t.Helper()
	if _, err := s.engine.Advance(context.Background(), d); err != nil {
		s.t.Fatal(err)
	}
	s.idle()
}

func (s *stack) create(name, def string) string {
	s.t.Helper()
	out, err := s.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn"),
	})
	if err != nil {
		s.t.Fatalf("create state machine: %v", err)
	}
	return *out.StateMachineArn
}

func (s *stack) startExec(smArn, name, input string) string {
	s.t.Helper()
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := s.sfn.StartExecution(context.Background(), in)
	if err != nil {
		s.t.Fatalf("start execution: %v", err)
	}
	return *out.ExecutionArn
}

// run creates a machine, starts it, waits for idle and describes it.
func (s *stack) run(def, input string) (*sfn.DescribeExecutionOutput, string) {
	s.t.Helper()
	arn := s.startExec(s.create("m"+newID()[:8], def), "", input)
	s.idle()
	return s.describe(arn), arn
}

func (s *stack) describe(arn string) *sfn.DescribeExecutionOutput {
	s.t.Helper()
	out, err := s.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		s.t.Fatalf("describe execution: %v", err)
	}
	return out
}

func (s *stack) history(arn string) []sfntypes.HistoryEvent {
	s.t.Helper()
	var all []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(s.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			s.t.Fatalf("history: %v", err)
		}
		all = append(all, out.Events...)
	}
	return all
}

func (s *stack) eventTypes(arn string) []string {
	var types []string
	for _, ev := range s.history(arn) {
		types = append(types, string(ev.Type))
	}
	return types
}

// counter counts calls per function.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) inc(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

func (c *counter) get(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

func jsonEq(t testing.TB, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %q", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %q", want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got %s\nwant %s", gb, wb)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func handler(f any) lambda.Handler { return lambda.NewHandler(f) }
