// Package restarttest runs the local stack as a real process (the tangkal
// binary's run command), kills it with SIGKILL in the middle of each
// takedown path, starts it again on the same data folder and ports, and
// checks that every case ends as it would have without the crash.
package restarttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/samtemplate"
)

// bound is the longest any wait may take.
const bound = 60 * time.Second

// buildTangkal compiles the tangkal command into dir and returns the
// binary's path and the repository root (where the binary runs, so it
// finds template.yaml and DynamoDB Local).
func buildTangkal(t *testing.T, dir string) (bin, root string) {
	t.Helper()
	tmpl, err := samtemplate.Find(".")
	if err != nil {
		t.Fatalf("find the repository root: %v", err)
	}
	root = filepath.Dir(tmpl)
	bin = filepath.Join(dir, "tangkal")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tangkal")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tangkal: %v\n%s", err, out)
	}
	return bin, root
}

// proc is one local stack process, restartable on the same data folder and
// ports.
type proc struct {
	t    *testing.T
	bin  string
	root string
	data string
	args []string // extra run flags (platform behaviour, parameters)

	ports                               map[string]int // flag name → port
	api, sfnURL, outboxURL, platformURL string

	cmd    *exec.Cmd
	exited chan struct{}
	out    *lineLog
	starts int
}

func newProc(t *testing.T, bin, root string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, bin: bin, root: root, data: t.TempDir(), args: args, ports: map[string]int{}}
	for _, name := range []string{"api-port", "dynamodb-port", "sfn-port", "outbox-port", "platform-port"} {
		port, err := dynamolocal.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		p.ports[name] = port
	}
	t.Cleanup(func() {
		if p.cmd != nil && !p.dead() {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() && p.out != nil {
			t.Logf("local stack output (last start):\n%s", p.out.String())
		}
	})
	p.start()
	return p
}

func (p *proc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// start runs `tangkal run` and waits for its ready lines.
func (p *proc) start() {
	p.t.Helper()
	args := []string{"run", "--data", p.data}
	for _, name := range []string{"api-port", "dynamodb-port", "sfn-port", "outbox-port", "platform-port"} {
		args = append(args, "--"+name, strconv.Itoa(p.ports[name]))
	}
	cmd := exec.Command(p.bin, append(args, p.args...)...)
	cmd.Dir = p.root
	for _, kv := range os.Environ() { // the flags alone configure the stack
		if !strings.HasPrefix(kv, "TANGKAL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// Its own process group, so one kill reaches the whole stack.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.out = newLineLog()
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start tangkal run: %v", err)
	}
	p.cmd, p.exited, p.starts = cmd, make(chan struct{}), p.starts+1
	exited := p.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-p.out.ready:
	case <-exited:
		p.t.Fatalf("tangkal run exited before it was ready:\n%s", p.out.String())
	case <-time.After(bound):
		p.t.Fatalf("tangkal run not ready after %s:\n%s", bound, p.out.String())
	}
	urls := p.out.urls()
	p.api, p.sfnURL, p.outboxURL, p.platformURL = urls["API"], urls["Step Functions"], urls["Outbox"], urls["Platforms"]
	want := fmt.Sprintf("http://127.0.0.1:%d", p.ports["api-port"])
	if p.api != want {
		p.t.Fatalf("API at %q, want %q (the ports must stay the same across restarts)", p.api, want)
	}
}

// crash kills the stack's process group with SIGKILL, checks that nothing
// of it is left listening (DynamoDB Local's JVM included), and starts it
// again on the same data folder and ports.
func (p *proc) crash() {
	p.t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill -9: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(bound):
		p.t.Fatal("the killed stack did not exit")
	}
	until(p.t, "every port of the killed stack to close", func() bool {
		for _, port := range p.ports {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
			if err == nil {
				c.Close()
				return false
			}
		}
		return true
	})
	p.start()
}

// until polls cond every 25 ms and fails the test after bound.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", bound, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// lineLog keeps a process's output and reads its ready lines.
type lineLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	seen  map[string]string
	ready chan struct{}
	done  bool
}

func newLineLog() *lineLog { return &lineLog{seen: map[string]string{}, ready: make(chan struct{})} }

var readyLine = regexp.MustCompile(`^(API|DynamoDB|Step Functions|Outbox|Platforms): (http://\S+)$`)

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.buf.Len()
	l.buf.Write(b)
	// Complete lines only: find the last newline before this write.
	all := l.buf.Bytes()
	if i := bytes.LastIndexByte(all[:start], '\n'); i >= 0 {
		start = i + 1
	} else {
		start = 0
	}
	sc := bufio.NewScanner(bytes.NewReader(all[start:]))
	for sc.Scan() {
		if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
			l.seen[m[1]] = m[2]
		}
	}
	if !l.done && l.seen["Platforms"] != "" {
		l.done = true
		close(l.ready)
	}
	return len(b), nil
}

func (l *lineLog) urls() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for k, v := range l.seen {
		out[k] = v
	}
	return out
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if len(s) > 8000 {
		s = "…" + s[len(s)-8000:]
	}
	return s
}

// token signs a local token with the key under the data folder, as
// `tangkal token --data <dir>` does.
func (p *proc) token(role string) string {
	p.t.Helper()
	key, err := auth.LoadOrCreateKey(localstack.KeyPath(p.data))
	if err != nil {
		p.t.Fatal(err)
	}
	tok, err := auth.Signer{Key: key}.Issue("restart-"+role, []string{role}, time.Hour)
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}

// call sends a JSON request and decodes a JSON answer.
func (p *proc) call(method, rawURL, role string, body, out any) int {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+p.token(role))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("%s %s: %d, not JSON: %s", method, rawURL, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

func (p *proc) submit(adURL, text string) string {
	p.t.Helper()
	var out struct {
		CaseID string `json:"case_id"`
	}
	if code := p.call("POST", p.api+"/reports", auth.Reporter, map[string]any{"url": adURL, "text": text}, &out); code != 202 || out.CaseID == "" {
		p.t.Fatalf("submit %s: %d %+v", adURL, code, out)
	}
	return out.CaseID
}

func (p *proc) status(id string) string {
	p.t.Helper()
	var c struct {
		Status string `json:"status"`
	}
	if code := p.call("GET", p.api+"/cases/"+id, auth.Auditor, nil, &c); code != 200 {
		return fmt.Sprintf("(GET /cases answered %d)", code)
	}
	return c.Status
}

type eventsView struct {
	Events []struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	} `json:"events"`
	Chain struct {
		Valid  bool   `json:"valid"`
		Length int    `json:"length"`
		Error  string `json:"error"`
	} `json:"chain"`
}

// events reads the case's history through the audit API.
func (p *proc) events(id string) eventsView {
	p.t.Helper()
	var v eventsView
	if code := p.call("GET", p.api+"/cases/"+id+"/events", auth.Auditor, nil, &v); code != 200 {
		p.t.Fatalf("GET /cases/%s/events: %d", id, code)
	}
	return v
}

func (v eventsView) types() string {
	var out []string
	for _, e := range v.Events {
		out = append(out, e.Type)
	}
	return strings.Join(out, ",")
}

func (p *proc) count(id, typ string) int {
	n := 0
	for _, e := range p.events(id).Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func (p *proc) waitStatus(id, want string) {
	p.t.Helper()
	var last string
	deadline := time.Now().Add(bound)
	for {
		if last = p.status(id); last == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("case %s: status %q after %s, want %q; history %s\nworkflow: %s", id, last, bound, want, p.events(id).types(), p.workflowHistory(id))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (p *proc) waitEvents(id, typ string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(bound)
	for p.count(id, typ) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("case %s: fewer than %d %s events after %s; history %s\nworkflow: %s", id, n, typ, bound, p.events(id).types(), p.workflowHistory(id))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// advance moves the stack's clock with the command-line tool.
func (p *proc) advance(d time.Duration) {
	p.t.Helper()
	out, err := exec.Command(p.bin, "clock", "advance", d.String(), "--endpoint", p.sfnURL).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tangkal clock advance %s: %v\n%s", d, err, out)
	}
}

// mails returns the outbox's messages (parsed headers and decoded text).
type mailMsg struct {
	Header mail.Header
	Text   string
}

func (p *proc) mails() []mailMsg {
	p.t.Helper()
	files, err := filepath.Glob(filepath.Join(p.data, "outbox", "*.eml"))
	if err != nil {
		p.t.Fatal(err)
	}
	sort.Strings(files)
	var out []mailMsg
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			p.t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			p.t.Fatalf("outbox message %s does not parse: %v", filepath.Base(name), err)
		}
		text, html, err := outbox.Bodies(raw)
		if err != nil {
			p.t.Fatalf("outbox message %s: %v", filepath.Base(name), err)
		}
		out = append(out, mailMsg{Header: msg.Header, Text: text + "\n" + html})
	}
	return out
}

var linkRe = regexp.MustCompile(`https?://[^\s"<>]+/approvals/ap_[0-9a-z]+\?[^\s"<>]+`)

// approvalLinks are the distinct approval links mailed for a case, in the
// order the messages were written.
func (p *proc) approvalLinks(id string) []string {
	p.t.Helper()
	var links []string
	seen := map[string]bool{}
	for _, m := range p.mails() {
		if !strings.Contains(m.Text, id) {
			continue
		}
		for _, l := range linkRe.FindAllString(m.Text, -1) {
			if l = html.UnescapeString(l); !seen[l] {
				seen[l] = true
				links = append(links, l)
			}
		}
	}
	return links
}

// notices counts the e-mail notices (takedown or warnings) written for a
// case, by kind.
func (p *proc) emailNotices(id string) map[string]int {
	out := map[string]int{}
	for _, m := range p.mails() {
		if m.Header.Get("X-Tangkal-Case") == id {
			out[m.Header.Get("X-Tangkal-Notice")]++
		}
	}
	return out
}

// decide posts an approval link's confirm form, as a browser would.
func (p *proc) decide(link, decision string) int {
	p.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		p.t.Fatal(err)
	}
	q := u.Query()
	form := url.Values{"a": {q.Get("a")}, "exp": {q.Get("exp")}, "sig": {q.Get("sig")}, "decision": {decision}, "reason": {"indicators confirmed"}}
	resp, err := http.Post(u.Scheme+"://"+u.Host+u.Path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// decideAsync posts a link's decision without waiting for the answer (the
// stack may die while it is being handled).
func (p *proc) decideAsync(link, decision string) {
	p.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		p.t.Fatal(err)
	}
	q := u.Query()
	form := url.Values{"a": {q.Get("a")}, "exp": {q.Get("exp")}, "sig": {q.Get("sig")}, "decision": {decision}, "reason": {"indicators confirmed"}}
	go func() {
		if resp, err := http.Post(u.Scheme+"://"+u.Host+u.Path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); err == nil {
			resp.Body.Close()
		}
	}()
}

// linkFor is the first link mailed to who for the case.
func (p *proc) linkFor(id, who string) string {
	p.t.Helper()
	for _, l := range p.approvalLinks(id) {
		if u, err := url.Parse(l); err == nil && u.Query().Get("a") == who {
			return l
		}
	}
	p.t.Fatalf("no approval link mailed to %s for case %s", who, id)
	return ""
}

// recorded reports whether the case's history holds an event of type typ.
func (p *proc) recorded(id, typ string) func() bool {
	return func() bool { return p.count(id, typ) > 0 }
}

// decideFirst decides as the bundled policy's agencies do by their
// links: approve as KP2MI and Komdigi (both needed), reject as KP2MI (one
// rejection ends it).
func (p *proc) decideFirst(id, decision string) {
	p.t.Helper()
	who := []string{"approver@kp2mi.local", "approver@komdigi.local"}
	if decision != "approve" {
		who = who[:1]
	}
	for _, w := range who {
		if code := p.decide(p.linkFor(id, w), decision); code != 200 {
			p.t.Fatalf("POST %s decision as %s: %d", decision, w, code)
		}
	}
}

// notices are the takedown webhooks the simulated platforms received for
// a case.
func (p *proc) notices(id string) []platformsim.Received {
	p.t.Helper()
	var v struct {
		Requests []platformsim.Received `json:"requests"`
	}
	if code := p.call("GET", p.platformURL+"/_sim/requests?format=json", "", nil, &v); code != 200 {
		p.t.Fatalf("GET /_sim/requests: %d", code)
	}
	var out []platformsim.Received
	for _, r := range v.Requests {
		if r.CaseID == id {
			out = append(out, r)
		}
	}
	return out
}

// executions lists the takedown workflow's executions for a case.
func (p *proc) executions(id string) []sfntypes.ExecutionListItem {
	p.t.Helper()
	ctx := context.Background()
	client := sfn.NewFromConfig(localstack.AWSConfig(p.sfnURL))
	sms, err := client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil {
		p.t.Fatal(err)
	}
	var out []sfntypes.ExecutionListItem
	for _, sm := range sms.StateMachines {
		ex, err := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn, MaxResults: 1000})
		if err != nil {
			p.t.Fatal(err)
		}
		for _, e := range ex.Executions {
			if aws.ToString(e.Name) == id {
				out = append(out, e)
			}
		}
	}
	return out
}

// workflowHistory summarises the case's execution history (for failures).
func (p *proc) workflowHistory(id string) string {
	ctx := context.Background()
	client := sfn.NewFromConfig(localstack.AWSConfig(p.sfnURL))
	var out []string
	for _, e := range p.executions(id) {
		h, err := client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: e.ExecutionArn, MaxResults: 1000})
		if err != nil {
			return err.Error()
		}
		for _, ev := range h.Events {
			s := string(ev.Type)
			if d := ev.StateEnteredEventDetails; d != nil {
				s += "(" + aws.ToString(d.Name) + ")"
			}
			if d := ev.LambdaFunctionFailedEventDetails; d != nil {
				s += "(" + aws.ToString(d.Error) + ")"
			}
			out = append(out, ev.Timestamp.UTC().Format("15:04:05")+" "+s)
		}
	}
	return strings.Join(out, " → ")
}

// waitTaskFailures waits until the engine has recorded n failed task runs
// of the case's execution: from then on the retry is pending (backoff),
// not in flight.
func (p *proc) waitTaskFailures(id string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(bound)
	for p.taskFailures(id) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("case %s: fewer than %d failed task runs after %s; workflow: %s", id, n, bound, p.workflowHistory(id))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// taskFailures counts the case's task runs that failed.
func (p *proc) taskFailures(id string) int {
	p.t.Helper()
	ctx := context.Background()
	client := sfn.NewFromConfig(localstack.AWSConfig(p.sfnURL))
	count := 0
	for _, e := range p.executions(id) {
		h, err := client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: e.ExecutionArn, MaxResults: 1000})
		if err != nil {
			p.t.Fatal(err)
		}
		for _, ev := range h.Events {
			if ev.Type == sfntypes.HistoryEventTypeTaskFailed || ev.Type == sfntypes.HistoryEventTypeLambdaFunctionFailed {
				count++
			}
		}
	}
	return count
}

// crashWhen polls cond as fast as it can and kills the stack the moment
// it holds: the step that made it true may still be in flight (its side
// effect done, its record not yet written).
func (p *proc) crashWhen(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out after %s waiting for %s", bound, what)
		}
		time.Sleep(time.Millisecond)
	}
	p.crash()
}

// mailed reports whether the outbox holds a message for the case whose
// text contains marker.
func (p *proc) mailed(id, marker string) func() bool {
	return func() bool {
		files, _ := filepath.Glob(filepath.Join(p.data, "outbox", "*.eml"))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err == nil && bytes.Contains(b, []byte(id)) && bytes.Contains(b, []byte(marker)) {
				return true
			}
		}
		return false
	}
}

// noticed reports whether the platform answered a notice for the case
// with code.
func (p *proc) noticed(id string, code int) func() bool {
	return func() bool {
		for _, r := range p.notices(id) {
			if r.StatusCode == code {
				return true
			}
		}
		return false
	}
}
