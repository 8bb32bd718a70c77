package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/slack"
	"github.com/tangkal/tangkal/internal/store"
)

// approvalItem reads APPROVAL#<id> as stored, task token included.
func (f *flow) approvalItem(id string) map[string]any {
	f.t.Helper()
	out, err := f.st.Table.DB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.st.Table.Name), Key: store.Key(store.ApprovalPK(id), store.SKMeta), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		f.t.Fatalf("approval %s: %v (item %v)", id, err, out)
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// snapshot is what a refused request must leave untouched.
type snapshot struct {
	caseStatus, approvalStatus string
	events, platformRequests   int
}

func (f *flow) snapshot(caseID string) snapshot {
	f.t.Helper()
	c, err := f.st.Table.GetCase(context.Background(), caseID)
	if err != nil {
		f.t.Fatal(err)
	}
	return snapshot{caseStatus: c.Status, approvalStatus: fmt.Sprint(f.approvalItem(c.ApprovalID)["status"]),
		events: len(f.events(caseID)), platformRequests: len(f.st.Sim.Requests())}
}

// decisions counts the approval decisions the case's execution received.
func (f *flow) decisions(caseID string) int {
	f.t.Helper()
	client := sfn.NewFromConfig(AWSConfig(f.st.SFNURL))
	arn := strings.Replace(f.st.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + caseID
	p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			f.t.Fatalf("execution history of %s: %v", caseID, err)
		}
		for _, e := range page.Events {
			if d := e.TaskSucceededEventDetails; d != nil && d.Output != nil && strings.Contains(*d.Output, `"decision"`) {
				n++
			}
		}
	}
	return n
}

// send makes a raw request and returns the status and body.
func send(t *testing.T, method, target, contentType, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// linkParts splits a mailed link into its target and its parameters.
func linkParts(t *testing.T, link string) (string, url.Values) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host + u.Path, u.Query()
}

func TestApprovalLinksRefuseEveryForgeryAndDecideOnce(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5555101/", scamAd)
	other := f.submit("https://www.instagram.com/p/C5555102xyz/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	oc := f.waitStatus(other, store.StatusAwaitingApprove)
	link := f.linkFor(id, "approver@kp2mi.local")
	target, q := linkParts(t, link)
	apiBase := f.st.APIURL
	now := f.clock.Now()
	var seen []string // every page and answer the outside world got

	form := func(mod func(v url.Values)) string {
		v := url.Values{"a": {q.Get("a")}, "exp": {q.Get("exp")}, "sig": {q.Get("sig")}, "decision": {"approve"}}
		if mod != nil {
			mod(v)
		}
		return v.Encode()
	}
	validFor := func(approvalID, approver string, exp time.Time) func(url.Values) {
		return func(v url.Values) {
			v.Set("a", approver)
			v.Set("exp", strconv.FormatInt(exp.Unix(), 10))
			v.Set("sig", f.st.Links.Sign(approvalID, approver, exp.Unix()))
		}
	}
	reporterToken, err := f.st.Token("reporter-1", auth.Reporter)
	if err != nil {
		t.Fatal(err)
	}
	const formType = "application/x-www-form-urlencoded"
	attacks := []struct {
		name   string
		target string
		body   string
		hdr    map[string]string
		want   int
	}{
		{"forged signature", target, form(func(v url.Values) { v.Set("sig", strings.Repeat("A", 43)) }), nil, 403},
		{"no signature", target, form(func(v url.Values) { v.Del("sig") }), nil, 403},
		{"approver swapped for the next tier", target, form(func(v url.Values) { v.Set("a", "director@kp2mi.local") }), nil, 403},
		{"approver swapped for an outsider", target, form(func(v url.Values) { v.Set("a", "mallory@evil.example") }), nil, 403},
		{"expiry pushed back", target, form(func(v url.Values) {
			exp, _ := strconv.ParseInt(q.Get("exp"), 10, 64)
			v.Set("exp", strconv.FormatInt(exp+7*24*3600, 10))
		}), nil, 403},
		{"link used on another approval", apiBase + "/approvals/" + oc.ApprovalID, form(nil), nil, 403},
		{"link used on an unknown approval", apiBase + "/approvals/ap_00000000000000000000000000", form(nil), nil, 403},
		{"signed, but expired", target, form(validFor(c.ApprovalID, "approver@kp2mi.local", now.Add(-time.Second))), nil, 410},
		{"signed, but for someone who is not an approver", target, form(validFor(c.ApprovalID, "mallory@evil.example", now.Add(time.Hour))), nil, 403},
		{"a reporter's token with a forged link", target, form(func(v url.Values) { v.Set("sig", "x") }), map[string]string{"Authorization": "Bearer " + reporterToken}, 403},
		{"no decision", target, form(func(v url.Values) { v.Del("decision") }), nil, 400},
		{"a decision that is not one", target, form(func(v url.Values) { v.Set("decision", "maybe") }), nil, 400},
	}
	before, otherBefore := f.snapshot(id), f.snapshot(other)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			code, body := send(t, "POST", a.target, formType, a.body, a.hdr)
			seen = append(seen, body)
			if code != a.want {
				t.Fatalf("POST = %d %s, want %d", code, body, a.want)
			}
			if got := f.snapshot(id); got != before {
				t.Fatalf("refused request changed the case: %+v, was %+v", got, before)
			}
			if got := f.snapshot(other); got != otherBefore {
				t.Fatalf("refused request changed the other case: %+v, was %+v", got, otherBefore)
			}
		})
	}

	// A reporter's role is refused even with a valid link, when the request
	// reaches the function with the authorizer's claims.
	t.Run("reporter claims with a valid link", func(t *testing.T) {
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "POST /approvals/{id}", RawPath: "/approvals/" + c.ApprovalID,
			Headers: map[string]string{"content-type": formType}, PathParameters: map[string]string{"id": c.ApprovalID}, Body: form(nil),
		}
		ev.RequestContext.HTTP.Method = "POST"
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": "reporter-1", auth.GroupsClaim: "[reporter]"}}}
		payload, _ := json.Marshal(ev)
		out, err := f.st.Functions.Invoke(context.Background(), "ApprovalsFunction", payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 403 {
			t.Fatalf("reporter with a valid link: %d %s (%v)", resp.StatusCode, resp.Body, err)
		}
		if got := f.snapshot(id); got != before {
			t.Fatalf("reporter changed the case: %+v", got)
		}
	})

	// Mail scanners and previews follow links: GET and HEAD never decide.
	for i := 0; i < 5; i++ {
		code, body := send(t, "GET", link, "", "", nil)
		seen = append(seen, body)
		if code != 200 || !strings.Contains(body, "<form") {
			t.Fatalf("GET link: %d", code)
		}
		// The template routes only GET; whatever the gateway answers a
		// HEAD with, it must not be a decision or a server error.
		if code, _ := send(t, "HEAD", link, "", "", nil); code >= 500 {
			t.Fatalf("HEAD link: %d", code)
		}
		code, body = send(t, "GET", link, "", "", map[string]string{"Accept": "application/json"})
		seen = append(seen, body)
		if code != 200 || !strings.Contains(body, `"status":"pending"`) {
			t.Fatalf("GET link as JSON: %d %s", code, body)
		}
	}
	if got := f.snapshot(id); got != before {
		t.Fatalf("GET/HEAD changed the case: %+v, was %+v", got, before)
	}

	// The real approver decides; the same POST again changes nothing.
	code, body := send(t, "POST", target, formType, form(nil), nil)
	seen = append(seen, body)
	if code != 200 {
		t.Fatalf("genuine decision: %d %s", code, body)
	}
	f.decideAs(id, "approver@komdigi.local", "approve") // the policy needs Komdigi too
	f.waitStatus(id, store.StatusTakedownSent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = f.st.Engine.WaitIdle(ctx)
	cancel()
	decided := f.snapshot(id)
	for _, replay := range []struct{ name, body string }{
		{"same form again", form(nil)},
		{"reject after approve", form(func(v url.Values) { v.Set("decision", "reject"); v.Set("reason", "second thoughts") })},
	} {
		code, body := send(t, "POST", target, formType, replay.body, nil)
		seen = append(seen, body)
		if code != 409 {
			t.Fatalf("%s: %d %s, want 409", replay.name, code, body)
		}
	}
	code, body = send(t, "POST", target, "application/json", `{"a":"`+q.Get("a")+`","exp":"`+q.Get("exp")+`","sig":"`+q.Get("sig")+`","decision":"approve"}`, nil)
	seen = append(seen, body)
	if code != 409 || !strings.Contains(body, "already_decided") {
		t.Fatalf("JSON replay: %d %s", code, body)
	}
	if got := f.snapshot(id); got != decided {
		t.Fatalf("replay changed the case: %+v, was %+v", got, decided)
	}
	if n := f.decisions(id); n != 1 {
		t.Fatalf("the workflow received %d decisions, want 1", n)
	}
	if n := strings.Count(f.history(id), "approval_decided"); n != 2 { // KP2MI and Komdigi
		t.Fatalf("%d approval_decided events: %s", n, f.history(id))
	}
	if reqs := f.st.Sim.Requests(); len(reqs) != 1 {
		t.Fatalf("platform got %d takedown requests, want 1", len(reqs))
	}

	// The task token never leaves the server.
	for _, caseID := range []string{id, other} {
		cs, _ := f.st.Table.GetCase(context.Background(), caseID)
		token := fmt.Sprint(f.approvalItem(cs.ApprovalID)["task_token"])
		if len(token) < 16 {
			t.Fatalf("approval %s has no task token stored (%q)", cs.ApprovalID, token)
		}
		where := map[string]string{}
		for i, s := range seen {
			where[fmt.Sprintf("answer %d", i)] = s
		}
		for _, l := range f.approvalLinks(caseID) {
			where["link "+l] = l
		}
		files, _ := filepath.Glob(filepath.Join(f.st.Outbox.Dir, "*"))
		for _, name := range files {
			b, _ := os.ReadFile(name)
			where["outbox "+filepath.Base(name)] = string(b) + mailTextIfMail(t, name, b)
		}
		evs, _ := json.Marshal(f.events(caseID))
		where["history"] = string(evs)
		for _, role := range []string{auth.Auditor, auth.Approver} {
			for _, path := range []string{"/cases/" + caseID, "/cases/" + caseID + "/events", "/cases/" + caseID + "/related", "/cases?status=" + cs.Status} {
				tok, _ := f.st.Token("t-"+role, role)
				_, body := send(t, "GET", apiBase+path, "", "", map[string]string{"Authorization": "Bearer " + tok})
				where[role+" GET "+path] = body
			}
		}
		for name, text := range where {
			if strings.Contains(text, token) || strings.Contains(text, url.QueryEscape(token)) {
				t.Errorf("the task token of case %s appears in %s", caseID, name)
			}
		}
		if len(files) == 0 || len(where) < 10 {
			t.Fatalf("searched too little: %d places, %d outbox files", len(where), len(files))
		}
	}
}

func mailTextIfMail(t *testing.T, name string, raw []byte) string {
	if strings.HasSuffix(name, ".eml") {
		return mailText(t, raw)
	}
	return ""
}

func TestExpiredLinkNoLongerDecides(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.tiktok.com/@lokerkamboja/video/5555201", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	link := f.linkFor(id, "approver@kp2mi.local")
	f.advance(31 * time.Minute) // the reminder
	waitFor(t, func() bool { return strings.Contains(f.history(id), "approval_reminded") })
	f.advance(30 * time.Minute) // past the link's expiry (the urgent policy's 1 h window)
	waitFor(t, func() bool { return strings.Contains(f.history(id), "approval_escalated") })
	before := f.events(id)
	for _, m := range []string{"GET", "POST"} {
		var code int
		var body string
		if m == "GET" {
			code, body = send(t, "GET", link, "", "", nil)
		} else {
			code, body = decide(t, link, "approve")
		}
		if code != 410 {
			t.Fatalf("%s expired link: %d %s, want 410", m, code, body)
		}
	}
	if got := f.approvalItem(c.ApprovalID)["status"]; got != approval.StatusPending {
		t.Fatalf("the approval is %v, want still pending (tier 2 asked)", got)
	}
	if after := f.events(id); len(after) != len(before) || strings.Contains(f.history(id), "approval_decided") {
		t.Fatalf("an expired link changed the history: %s", f.history(id))
	}
	// The next tier's link still works.
	var next string
	for _, l := range f.approvalLinks(id) {
		if strings.Contains(l, "supervisor%40kp2mi") || strings.Contains(l, "supervisor@kp2mi") {
			next = l
		}
	}
	if next == "" {
		t.Fatalf("no tier-2 link mailed: %v", f.approvalLinks(id))
	}
	if code, body := decide(t, next, "reject"); code != 200 {
		t.Fatalf("tier-2 decision: %d %s", code, body)
	}
	f.waitStatus(id, store.StatusRejected)
	if n := f.decisions(id); n != 1 {
		t.Fatalf("workflow got %d decisions, want 1", n)
	}
}

// slackRequest signs a block_actions click the way Slack does.
func slackRequest(t *testing.T, apiURL string, secret []byte, ts time.Time, user, actionID, approvalID string) (int, map[string]any) {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions",
		"user": map[string]any{"id": user, "username": strings.ToLower(user), "team_id": "T0LOCAL"},
		"team": map[string]any{"id": "T0LOCAL", "domain": "kp2mi"}, "channel": map[string]any{"id": "C0LOCAL", "name": "takedown-approvals"},
		"actions":    []map[string]any{{"action_id": actionID, "block_id": "decide", "type": "button", "value": approvalID, "action_ts": "1"}},
		"trigger_id": "1.2.3", "response_url": "https://hooks.slack.example/actions/T0LOCAL/1/x",
	})
	body := url.Values{"payload": {string(payload)}}.Encode()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	code, raw := send(t, "POST", apiURL+"/slack/interactions", "application/x-www-form-urlencoded", body, map[string]string{
		slack.HeaderTimestamp: stamp, slack.HeaderSignature: slack.Sign(secret, stamp, []byte(body)),
	})
	var out map[string]any
	_ = json.Unmarshal([]byte(raw), &out)
	return code, out
}

// Slack interactions (forged, stale, replayed; buttons and modals) are
// tested end to end through the Slack stand-in in agencies_test.go.
