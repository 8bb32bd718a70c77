package sfnlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestAWSCLI drives the engine with the AWS CLI, unchanged.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AWS CLI is required in CI")
		}
		t.Skip("aws CLI not installed")
	}
	s := newStack(t)
	tk := &tokens{}
	s.reg.Register("approve", handler(func(ctx context.Context, in struct{ Token string }) (string, error) {
		tk.add(in.Token)
		return "", nil
	}))
	cli := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"stepfunctions", "--endpoint-url", s.srv.URL, "--region", "ap-southeast-3", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
		}
		out := map[string]any{}
		if stdout.Len() > 0 {
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("aws %v: output is not JSON: %s", args, stdout.String())
			}
		}
		return out
	}
	sm := cli("create-state-machine", "--name", "cli", "--role-arn", "arn:aws:iam::123456789012:role/sfn",
		"--definition", `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"approve","Payload":{"token.$":"$$.Task.Token"}},"Next":"Done"},"Done":{"Type":"Pass","End":true}}}`)
	smArn, _ := sm["stateMachineArn"].(string)
	if smArn != "arn:aws:states:ap-southeast-3:123456789012:stateMachine:cli" {
		t.Fatalf("stateMachineArn %q", smArn)
	}
	ex := cli("start-execution", "--state-machine-arn", smArn, "--name", "run1", "--input", `{"a":1}`)
	arn, _ := ex["executionArn"].(string)
	s.idle()
	if st := cli("describe-execution", "--execution-arn", arn)["status"]; st != "RUNNING" {
		t.Fatalf("status %v", st)
	}
	cli("send-task-success", "--task-token", tk.last(t), "--task-output", `{"ok":true}`)
	s.idle()
	d := cli("describe-execution", "--execution-arn", arn)
	if d["status"] != "SUCCEEDED" || d["output"] != `{"ok":true}` {
		t.Fatalf("describe: %v", d)
	}
	h := cli("get-execution-history", "--execution-arn", arn)
	events, _ := h["events"].([]any)
	if len(events) != 10 {
		t.Fatalf("%d events: %v", len(events), h)
	}
	l := cli("list-executions", "--state-machine-arn", smArn, "--status-filter", "SUCCEEDED")
	if xs, _ := l["executions"].([]any); len(xs) != 1 {
		t.Fatalf("list: %v", l)
	}
	cli("list-state-machines")
	cli("describe-state-machine", "--state-machine-arn", smArn)
}
