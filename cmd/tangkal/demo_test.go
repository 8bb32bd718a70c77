package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// startDemoStack runs a local stack on free ports, with a data folder of
// its own (the demo finds the token signing key there), as `make run` does.
func startDemoStack(t *testing.T) (*localstack.Stack, string) {
	t.Helper()
	if os.Getenv("TANGKAL_TEST_LOGS") == "" {
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
		t.Cleanup(func() { slog.SetDefault(prev) })
	}
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localstack.Start(ctx, localstack.Config{
		DataDir: data, DynamoDBEndpoint: testenv.Endpoint(t), Table: testenv.UniqueName(t, "demo"),
	})
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st, data
}

func demoArgs(st *localstack.Stack, data string, extra ...string) []string {
	return append([]string{"--api", st.APIURL, "--outbox", st.OutboxURL, "--platforms", st.PlatformURL,
		"--sfn", st.SFNURL, "--data", data}, extra...)
}

func TestDemoWalksTheWholeStory(t *testing.T) {
	st, data := startDemoStack(t)
	var out bytes.Buffer
	res, err := runDemo(context.Background(), demoArgs(st, data), &out)
	if err != nil {
		t.Fatalf("demo failed: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("demo output:\n%s", out.String())
	// The cases as the table has them, not as the demo says.
	for _, want := range []struct{ id, status string }{
		{res.RemovedInTime, store.StatusRemovedInTime},
		{res.NonCompliant, store.StatusNonCompliant},
	} {
		c, err := st.Table.GetCase(context.Background(), want.id)
		if err != nil {
			t.Fatalf("case %q: %v\noutput:\n%s", want.id, err, out.String())
		}
		if c.Status != want.status {
			t.Errorf("case %s is %s, want %s", want.id, c.Status, want.status)
		}
	}
	if c, _ := st.Table.GetCase(context.Background(), res.RemovedInTime); c != nil && c.ReportCount != 2 {
		t.Errorf("first case has %d reports, want 2 (the duplicate joins it)", c.ReportCount)
	}
	if c, _ := st.Table.GetCase(context.Background(), res.NonCompliant); c != nil && c.Escalation != 5 {
		t.Errorf("second case ended at escalation %d, want 5 (the access-blocking referral)", c.Escalation)
	}
	// What a person reads: each step titled in Bahasa Indonesia then
	// English, with commands filled in with the real ids.
	text := out.String()
	for _, want := range []string{
		"/ Report an ad\n",
		"[1] Token lokal / Local tokens\n",
		`-H "Authorization: Bearer $REPORTER"`,
		"curl -s -X POST " + st.APIURL + "/approvals/ap_",
		"&decision=approve&",
		"go run ./cmd/tangkal clock advance ",
		"--endpoint " + st.SFNURL,
		"--data " + data,
		"/cases/" + res.RemovedInTime + "/events",
		"/cases/" + res.NonCompliant + "/events",
		"warning 3",
		"administrative fine recommendation",
		"access-blocking referral to Komdigi",
		"chain valid",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, text)
		}
	}
	// Tokens are shown as variables, never in clear.
	tok, err := st.Token("x", "auditor")
	if err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(tok, "."); strings.Contains(text, header+".") {
		t.Errorf("the output contains a token")
	}
}

func TestDemoFailsClearly(t *testing.T) {
	st, data := startDemoStack(t)
	tests := []struct {
		name  string
		setup func()
		args  []string
		want  string
	}{
		{"no signing key in the data folder", nil, demoArgs(st, t.TempDir()), "no token signing key at "},
		{"another stack's key", nil, demoArgs(st, data, "--data", otherKeyFolder(t)), "does not accept tokens signed with"},
		{"nothing listening", nil, []string{"--api", closedAddress(t), "--data", data}, "is the local stack running?"},
		{"bad wait", nil, demoArgs(st, data, "--wait", "0s"), "--wait must be positive"},
		// Last: it changes the stack. The first ad is never removed, so its
		// case escalates instead of closing, and the wait runs out.
		{"a step that does not reach its state", func() {
			if err := st.Sim.SetBehavior("facebook", platformsim.Behavior{Mode: platformsim.Never}); err != nil {
				t.Fatal(err)
			}
		}, demoArgs(st, data, "--wait", "15s"), "(Case closed: removed_in_time): case c_"}, // earlier steps must not time out on a busy machine
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			var out bytes.Buffer
			_, err := runDemo(context.Background(), tc.args, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q\noutput:\n%s", err, tc.want, out.String())
			}
			t.Logf("%v", err)
		})
	}
}

// otherKeyFolder is a data folder holding a signing key the stack does not
// know.
func otherKeyFolder(t *testing.T) string {
	dir := t.TempDir()
	if _, err := issueToken(dir, "x", []string{"auditor"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	return dir
}

// closedAddress is the URL of a free local port nothing listens on.
func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}
