package sfnlocal

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/tangkal/tangkal/internal/testenv"
)

// TestHelperEngine is not a test: TestKill9 runs the test binary with
// SFNLOCAL_HELPER set, and this serves an engine (offset clock) until killed.
// Each invocation of the function "count" appends its name to a file.
func TestHelperEngine(t *testing.T) {
	if os.Getenv("SFNLOCAL_HELPER") == "" {
		t.Skip("helper process for TestKill9")
	}
	countFile := os.Getenv("SFNLOCAL_COUNT_FILE")
	reg := NewRegistry()
	reg.Register("count", handler(func(ctx context.Context, in struct{ Step string }) (string, error) {
		f, err := os.OpenFile(countFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := fmt.Fprintln(f, in.Step); err != nil {
			return "", err
		}
		return in.Step, f.Sync()
	}))
	eng, err := New(Config{DynamoDB: testenv.DynamoDB(t), TablePrefix: os.Getenv("SFNLOCAL_PREFIX"), Invoker: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LISTENING http://%s\n", l.Addr())
	_ = http.Serve(l, eng.Handler())
}

func startHelper(t *testing.T, prefix, countFile string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperEngine$", "-test.v")
	cmd.Env = append(os.Environ(), "SFNLOCAL_HELPER=1", "SFNLOCAL_PREFIX="+prefix, "SFNLOCAL_COUNT_FILE="+countFile,
		testenv.EndpointEnv+"="+testenv.Endpoint(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
			go func() { // keep draining
				for sc.Scan() {
				}
			}()
			return cmd, u
		}
	}
	t.Fatalf("helper exited before listening: %v", sc.Err())
	return nil, ""
}

// until polls a condition of the running helper (no fixed sleeps: it
// returns as soon as the condition holds, and fails after a deadline).
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKill9 kills a real engine process with SIGKILL in the middle of an
// execution, starts another, and checks the execution finishes with every
// completed step run exactly once.
func TestKill9(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := testenv.UniqueName(t, "sfnkill") + "-"
	countFile := filepath.Join(t.TempDir(), "count")
	p1, url := startHelper(t, prefix, countFile)
	client := sfn.NewFromConfig(testenv.AWSConfig(url))
	def := `{"StartAt":"A","States":{
	  "A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:count","Parameters":{"Step":"A"},"ResultPath":"$.a","Next":"W"},
	  "W":{"Type":"Wait","Seconds":86400,"Next":"P"},
	  "P":{"Type":"Parallel","ResultPath":"$.p","Branches":[
	    {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:count","Parameters":{"Step":"B"},"End":true}}},
	    {"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:count","Parameters":{"Step":"C"},"Next":"W2"},"W2":{"Type":"Wait","Seconds":3600,"End":true}}}],
	   "Next":"D"},
	  "D":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:count","Parameters":{"Step":"D"},"ResultPath":"$.d","End":true}}}`
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("kill"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	hasEvent := func(c *sfn.Client, typ sfntypes.HistoryEventType, n int) func() bool {
		return func() bool {
			h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ex.ExecutionArn, MaxResults: 1000})
			if err != nil {
				return false
			}
			count := 0
			for _, e := range h.Events {
				if e.Type == typ {
					count++
				}
			}
			return count >= n
		}
	}
	until(t, "the first wait", hasEvent(client, sfntypes.HistoryEventTypeWaitStateEntered, 1))
	kill := func(cmd *exec.Cmd) {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
	kill(p1)

	advance := func(url, d string) {
		resp, err := http.Post(url+"/_local/clock", "application/json", strings.NewReader(`{"advance":"`+d+`"}`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("advance clock: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	p2, url2 := startHelper(t, prefix, countFile)
	client2 := sfn.NewFromConfig(testenv.AWSConfig(url2))
	advance(url2, "24h")
	until(t, "the branch wait", hasEvent(client2, sfntypes.HistoryEventTypeWaitStateEntered, 2))
	kill(p2)

	_, url3 := startHelper(t, prefix, countFile)
	client3 := sfn.NewFromConfig(testenv.AWSConfig(url3))
	// The 24h offset survived the kill; one more hour ends the branch wait.
	advance(url3, "1h")
	until(t, "the execution's end", func() bool {
		d, err := client3.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		return err == nil && d.Status != sfntypes.ExecutionStatusRunning
	})
	d, _ := client3.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	jsonEq(t, aws.ToString(d.Output), `{"a":"A","p":["B","C"],"d":"D"}`)
	b, err := os.ReadFile(countFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	counts := map[string]int{}
	for _, l := range lines {
		counts[l]++
	}
	for _, step := range []string{"A", "B", "C", "D"} {
		if counts[step] != 1 {
			t.Errorf("step %s ran %d times (%s)", step, counts[step], bytes.TrimSpace(b))
		}
	}
}
