package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is where template.yaml and the Makefile are.
const repoRoot = "../.."

// output collects a process's stdout and stderr as it runs.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// cleanEnv is the test's environment without tangkal settings, so that
// only the flags the test gives count.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TANGKAL_") {
			env = append(env, kv)
		}
	}
	return env
}

// runArgs runs the stack on free ports (0) with a data folder of its own.
func runArgs(t *testing.T) []string {
	return []string{"--data", t.TempDir(), "--api-port", "0", "--dynamodb-port", "0", "--sfn-port", "0", "--outbox-port", "0", "--platform-port", "0"}
}

var readyRe = regexp.MustCompile(`(?m)^API: (http://\S+)\n(?:.*\n)*?Platforms: (http://\S+)$`)

// start starts cmd and waits until the stack printed its ready lines; it
// returns the API and simulator URLs.
func start(t *testing.T, cmd *exec.Cmd, out *output) (apiURL, simURL string, done chan error) {
	t.Helper()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second // a child holding the output open must not hang Wait
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default: // still running after a failure: end it and what it started
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				t.Errorf("%s does not end", cmd.Path)
			}
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if m := readyRe.FindStringSubmatch(out.String()); m != nil {
			return m[1], m[2], done
		}
		select {
		case err := <-done:
			t.Fatalf("%s ended before it was ready (%v):\n%s", cmd.Path, err, out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 3 minutes:\n%s", out)
		}
	}
}

// checkServing checks that the stack answers: the simulator's index page,
// with x's behaviour from TANGKAL_SIM_BEHAVIOR (see runEnv).
func checkServing(t *testing.T, simURL string) {
	t.Helper()
	resp, err := http.Get(simURL + "/?format=json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var index struct {
		Platforms []struct {
			ID       string `json:"id"`
			Behavior struct {
				Mode string `json:"mode"`
			} `json:"behavior"`
		} `json:"platforms"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&index); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET %s/ = %d %v", simURL, resp.StatusCode, err)
	}
	for _, p := range index.Platforms {
		if want := map[bool]string{true: "never", false: "prompt"}[p.ID == "x"]; p.Behavior.Mode != want {
			t.Errorf("platform %s behaves %s, want %s", p.ID, p.Behavior.Mode, want)
		}
	}
}

// runEnv is the environment of run in these tests: the simulator's
// behaviour in TANGKAL_SIM_BEHAVIOR, and TANGKAL_PLATFORMS holding the
// functions' platform JSON (as in a shell set up for both), which run must
// not take for behaviours.
func runEnv() []string {
	return append(cleanEnv(), "TANGKAL_SIM_BEHAVIOR=x=never", `TANGKAL_PLATFORMS={"platforms":{}}`)
}

// waitStopped waits for the process and checks the stack is gone.
func waitStopped(t *testing.T, done chan error, out *output, apiURL string) error {
	t.Helper()
	var err error
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		t.Fatalf("still running 90 s after the signal:\n%s", out)
	}
	if resp, gerr := http.Get(apiURL + "/cases/x"); gerr == nil {
		resp.Body.Close()
		t.Fatalf("the API still answers after the stop:\n%s", out)
	}
	return err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestRunStopsCleanlyOnSignal: Ctrl-C (SIGINT) or SIGTERM closes every
// service, prints a last "stopped" line and exits 0.
func TestRunStopsCleanlyOnSignal(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tangkal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := &output{}
			cmd := exec.Command(bin, append([]string{"run"}, runArgs(t)...)...)
			cmd.Dir, cmd.Env = repoRoot, runEnv()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			apiURL, simURL, done := start(t, cmd, out)
			checkServing(t, simURL)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := waitStopped(t, done, out, apiURL); err != nil {
				t.Fatalf("exit: %v, want 0:\n%s", err, out)
			}
			if got := lastLine(out.String()); got != "stopped" {
				t.Fatalf("last line %q, want \"stopped\":\n%s", got, out)
			}
		})
	}
}

// TestMakeRunStopsCleanly: `make run` ended by Ctrl-C (SIGINT to the whole
// foreground process group, as a terminal sends it) or by SIGTERM to make
// alone ends with the "stopped" line, no error from make, and nothing left
// running.
func TestMakeRunStopsCleanly(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not installed")
	}
	tests := []struct {
		name  string
		group bool
		sig   syscall.Signal
	}{
		{"Ctrl-C", true, syscall.SIGINT},
		{"SIGTERM to make", false, syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &output{}
			cmd := exec.Command(mk, "--no-print-directory", "run", "BUILD_DIR="+t.TempDir(), "ARGS="+strings.Join(runArgs(t), " "))
			cmd.Dir, cmd.Env = repoRoot, runEnv()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			apiURL, simURL, done := start(t, cmd, out)
			checkServing(t, simURL)
			pid := cmd.Process.Pid
			if tt.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, tt.sig); err != nil {
				t.Fatal(err)
			}
			err := waitStopped(t, done, out, apiURL)
			text := out.String()
			if strings.Contains(text, "make: ***") || lastLine(text) != "stopped" {
				t.Fatalf("output does not end with \"stopped\" alone:\n%s", text)
			}
			// make passes on the signal it got once its recipe is done (it
			// dies of it, as the shell expects); it reports no error.
			var ee *exec.ExitError
			if err != nil && !(errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == tt.sig) {
				t.Fatalf("make: %v, want exit 0 or the signal %s:\n%s", err, tt.sig, text)
			}
		})
	}
}

// TestLintSaysHowToInstallCfnLint: without cfn-lint, `make lint` stops
// with one line saying how to install it, not "command not found".
func TestLintSaysHowToInstallCfnLint(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not installed")
	}
	cmd := exec.Command(mk, "--no-print-directory", "lint")
	cmd.Dir = repoRoot
	cmd.Env = append(cleanEnv(), "PATH="+t.TempDir()) // no cfn-lint (nor anything else) on PATH
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make lint passed without cfn-lint:\n%s", out)
	}
	if !strings.Contains(string(out), "cfn-lint not found: install it with pip install cfn-lint") || strings.Contains(string(out), "command not found") {
		t.Fatalf("make lint without cfn-lint said:\n%s", out)
	}
}
