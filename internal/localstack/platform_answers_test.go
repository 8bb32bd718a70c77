package localstack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/store"
)

// asPlatform is a client holding a platform-role token of platform id.
func (st *Stack) asPlatform(t testing.TB, id string) client {
	t.Helper()
	tok, err := st.Signer.IssuePlatform(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return client{t: t, base: st.APIURL, token: tok}
}

// takedownSent reports an ad, approves it and waits for the takedown.
func (f *flow) takedownSent(adURL string) string {
	f.t.Helper()
	id := f.submit(adURL, scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	// The history, not the status: a platform that answers at once (an
	// objection) moves the status on before a poll could see it.
	waitFor(f.t, func() bool { return strings.Contains(f.history(id), history.TakedownRequested) })
	return id
}

// answered waits until the simulated platform's answer is in the history.
func (f *flow) answered(id, answer string) history.PlatformAnsweredData {
	f.t.Helper()
	var got history.PlatformAnsweredData
	waitFor(f.t, func() bool {
		for _, e := range f.events(id) {
			var d history.PlatformAnsweredData
			if e.Type == history.PlatformAnswered && e.Decode(&d) == nil && d.Answer == answer {
				got = d
				return true
			}
		}
		return false
	})
	return got
}

func TestPlatformAPISeesOnlyItsOwnNoticesAndChecksAnswers(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.Never}, "x": {Mode: platformsim.Never}},
		Parameters: map[string]string{"ApprovalTimeoutSeconds": "3600", "ApprovalTiers": "2", "ObjectionWindowSeconds": "7200"}})
	fb := f.takedownSent("https://www.facebook.com/groups/lokerluarnegeri/posts/5551101/")
	xid := f.takedownSent("https://twitter.com/lokerkamboja/status/5551102")
	facebook, x := f.st.asPlatform(t, "facebook"), f.st.asPlatform(t, "x")

	code, list := facebook.do("GET", "/platform/notices?status=open", nil, nil)
	raw, _ := json.Marshal(list)
	if code != 200 || !strings.Contains(string(raw), `"ref":"`+fb+`"`) || strings.Contains(string(raw), xid) {
		t.Fatalf("facebook's notices: %d %s", code, raw)
	}
	for _, leak := range []string{"reporter", "score", "indicators", "text", "ngo"} {
		if strings.Contains(strings.ToLower(string(raw)), `"`+leak) {
			t.Errorf("the listing shows %q: %s", leak, raw)
		}
	}
	if !strings.Contains(string(raw), `"letter_number":"TKL/`+fb+`/PK/`) || !strings.Contains(string(raw), `"kind":"takedown"`) {
		t.Errorf("the listing does not say which letter: %s", raw)
	}

	for _, c := range []struct {
		name    string
		who     client
		method  string
		path    string
		body    any
		code    int
		field   string
		errCode string
	}{
		{"another platform's notice is not found", x, "POST", "/platform/notices/" + fb, map[string]any{"answer": "acknowledged"}, 404, "", "not_found"},
		{"an unknown ref is not found", facebook, "POST", "/platform/notices/c_nothing", map[string]any{"answer": "acknowledged"}, 404, "", "not_found"},
		{"a reporter cannot list notices", f.st.as(t, auth.Reporter), "GET", "/platform/notices", nil, 403, "", "forbidden"},
		{"an approver cannot answer for a platform", f.st.as(t, auth.Approver), "POST", "/platform/notices/" + fb, map[string]any{"answer": "removed"}, 403, "", "forbidden"},
		{"a platform token without its platform", f.st.as(t, auth.Platform), "GET", "/platform/notices", nil, 403, "", "forbidden"},
		{"a platform cannot read cases", facebook, "GET", "/cases/" + fb, nil, 403, "", "forbidden"},
		{"a platform cannot decide objections", facebook, "POST", "/objections/" + fb, map[string]any{"decision": "upheld", "reasons": "x"}, 403, "", "forbidden"},
		{"no token", client{t: t, base: f.st.APIURL}, "GET", "/platform/notices", nil, 401, "", ""},
		{"only open notices are listed", facebook, "GET", "/platform/notices?status=closed", nil, 400, "status", "invalid_request"},
		{"answer is required", facebook, "POST", "/platform/notices/" + fb, map[string]any{}, 400, "answer", "invalid_request"},
		{"unknown answer", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "done"}, 400, "answer", "invalid_request"},
		{"removed needs its time", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "removed"}, 400, "removed_at", "invalid_request"},
		{"removed in the future", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "removed", "removed_at": "2030-01-01T00:00:00Z"}, 400, "removed_at", "invalid_request"},
		{"a question goes with needs_information only", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "acknowledged", "question": "?"}, 400, "question", "invalid_request"},
		{"an objection needs grounds", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "objected", "text": "lawful"}, 400, "grounds", "invalid_request"},
		{"unknown field", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "acknowledged", "reporter": "x"}, 400, "reporter", "invalid_request"},
		{"acknowledged", facebook, "POST", "/platform/notices/" + fb, map[string]any{"answer": "acknowledged"}, 200, "", ""},
		{"needs information", x, "POST", "/platform/notices/" + xid, map[string]any{"answer": "needs_information", "question": "Bukti tambahan? / More evidence?"}, 200, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := c.who.do(c.method, c.path, c.body, nil)
			e, _ := out["error"].(map[string]any)
			if code != c.code || (c.errCode != "" && (e["code"] != c.errCode || (c.field != "" && e["field"] != c.field))) {
				t.Fatalf("%s %s = %d %v, want %d %s (field %q)", c.method, c.path, code, out, c.code, c.errCode, c.field)
			}
		})
	}
	if got := f.answered(xid, "needs_information"); got.Question == "" || got.Platform != "x" {
		t.Fatalf("needs_information recorded as %+v", got)
	}
	// The same answer again (a retry) records nothing new.
	if code, out := facebook.do("POST", "/platform/notices/"+fb, map[string]any{"answer": "acknowledged"}, nil); code != 200 || out["duplicate"] != true {
		t.Fatalf("repeated answer: %d %v", code, out)
	}
	if n := strings.Count(f.history(fb), history.PlatformAnswered); n != 1 {
		t.Fatalf("%d answers recorded, want 1: %s", n, f.history(fb))
	}
	c, _ := f.st.Table.GetCase(t.Context(), fb)
	if c.PlatformAnswer != "acknowledged" {
		t.Fatalf("case's platform answer %q", c.PlatformAnswer)
	}
	for _, e := range f.events(fb) {
		if e.Type == history.PlatformAnswered && e.Actor != "platform:facebook" {
			t.Fatalf("answer recorded by %q", e.Actor)
		}
	}
	// Past the objection window an objection is refused.
	f.advance(4*time.Hour + time.Minute)
	f.waitStatus(fb, store.StatusEscalated)
	code, out := facebook.do("POST", "/platform/notices/"+fb, map[string]any{"answer": "objected", "grounds": "lawful_content", "text": "Iklan sah. / A lawful ad."}, nil)
	if e, _ := out["error"].(map[string]any); code != 409 || e["code"] != "objection_window_closed" {
		t.Fatalf("late objection: %d %v", code, out)
	}
	// A closed case's notice is gone from the list.
	f.st.Sim.Remove("https://www.facebook.com/groups/lokerluarnegeri/posts/5551101/")
	f.advance(25 * time.Hour)
	waitFor(t, func() bool {
		c, err := f.st.Table.GetCase(t.Context(), fb)
		return err == nil && store.IsClosed(c.Status)
	})
	if _, list := facebook.do("GET", "/platform/notices", nil, nil); strings.Contains(toJSON(list), fb) {
		t.Fatalf("closed case still listed: %v", list)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestPlatformConfirmsRemovalAndTheCheckAgrees(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.Confirm}}})
	id := f.takedownSent("https://www.facebook.com/groups/lokerluarnegeri/posts/5551201/")
	if got := f.answered(id, "removed"); got.RemovedAt == "" {
		t.Fatalf("removed answer without its time: %+v", got)
	}
	// The claim alone closes nothing: the check after the deadline does.
	if c, _ := f.st.Table.GetCase(t.Context(), id); c.Status != store.StatusTakedownSent || c.ClaimedRemovedAt == "" {
		t.Fatalf("after the answer: status %q claimed %q", c.Status, c.ClaimedRemovedAt)
	}
	f.advance(4*time.Hour + time.Minute)
	f.waitStatus(id, store.StatusRemovedInTime)
	want := "takedown_requested,platform_answered,compliance_checked,case_closed"
	if got := eventTypes(f.events(id)); !strings.HasSuffix(got, want) {
		t.Fatalf("history %s, want it to end %s", got, want)
	}
}

func TestFalseConfirmationIsContradictedAndTheLadderGoesOn(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.FalseConfirm}}})
	id := f.takedownSent("https://www.facebook.com/groups/lokerluarnegeri/posts/5551301/")
	f.answered(id, "removed")
	f.advance(4*time.Hour + time.Minute)
	c := f.waitStatus(id, store.StatusEscalated)
	if c.PlatformAnswer != "removed_contradicted" || c.Escalation != 1 {
		t.Fatalf("after the check: answer %q, escalation %d", c.PlatformAnswer, c.Escalation)
	}
	want := "platform_answered,compliance_checked,platform_answer_contradicted,warning_sent"
	if got := eventTypes(f.events(id)); !strings.HasSuffix(got, want) {
		t.Fatalf("history %s, want it to end %s", got, want)
	}
	var d history.AnswerContradictedData
	for _, e := range f.events(id) {
		if e.Type == history.PlatformAnswerContradicted {
			_ = e.Decode(&d)
		}
	}
	if d.ClaimedRemovedAt == "" || d.Method != "status_api" {
		t.Fatalf("contradiction recorded as %+v", d)
	}
}

func TestAcknowledgedThenRemovedLate(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.Acknowledge, Delay: 10 * time.Hour}}})
	// A second ad whose team asks for more information instead.
	asked := "https://www.facebook.com/groups/lokerluarnegeri/posts/5551402/"
	if err := f.st.Sim.SetURLBehavior(asked, platformsim.Behavior{Mode: platformsim.Ask}); err != nil {
		t.Fatal(err)
	}
	askID := f.takedownSent(asked)
	if got := f.answered(askID, "needs_information"); got.Question == "" {
		t.Fatalf("needs_information without a question: %+v", got)
	}
	if fwd := f.mailTo(LocalAgencyEmail, "Permintaan informasi dari facebook"); !strings.Contains(fwd, "TKL/"+askID+"/PK/") {
		t.Fatalf("the question forwarded to the agency:\n%s", fwd)
	}
	id := f.takedownSent("https://www.facebook.com/groups/lokerluarnegeri/posts/5551401/")
	f.answered(id, "acknowledged")
	f.advance(4*time.Hour + time.Minute)
	f.waitStatus(id, store.StatusEscalated)
	f.advance(25 * time.Hour)
	f.waitStatus(id, store.StatusRemovedLate)
	if answers := f.st.Sim.Answers(); len(answers) != 2 || answers[1].StatusCode != 200 || answers[1].CaseID != id {
		t.Fatalf("the simulator's answers: %+v", answers)
	}
}

// objected has the simulated platform object to a takedown request.
func objected(t *testing.T, params map[string]string) (*flow, string) {
	t.Helper()
	base := map[string]string{"ApprovalTimeoutSeconds": "3600", "ApprovalTiers": "2", "ObjectionDecisionTimeoutSeconds": "7200"}
	for k, v := range params {
		base[k] = v
	}
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.Object}}, Parameters: base})
	id := f.takedownSent("https://www.facebook.com/groups/lokerluarnegeri/posts/5551501/")
	if got := f.answered(id, "objected"); got.Grounds != "lawful_content" || got.Text == "" {
		t.Fatalf("objection recorded as %+v", got)
	}
	f.waitStatus(id, store.StatusObjected)
	return f, id
}

func TestObjectionDismissedResumesTheLadder(t *testing.T) {
	f, id := objected(t, nil)
	f.advance(4*time.Hour + time.Minute) // the deadline passes: the ladder pauses
	waitFor(t, func() bool { return strings.Contains(f.history(id), history.ObjectionDecisionRequested) })
	if c, _ := f.st.Table.GetCase(t.Context(), id); c.Escalation != 0 || c.Status != store.StatusObjected {
		t.Fatalf("paused at escalation %d, status %q", c.Escalation, c.Status)
	}
	ask := f.mailTo(LocalAgencyEmail, "Sanggah perlu diputuskan")
	if !strings.Contains(ask, "/objections/"+id) || strings.Contains(ask, "task_token") {
		t.Fatalf("the agency's request:\n%s", ask)
	}
	approver := f.st.as(t, auth.Approver)
	if code, out := approver.do("POST", "/objections/"+id, map[string]any{"decision": "dismissed"}, nil); code != 400 {
		t.Fatalf("a dismissal without reasons: %d %v", code, out)
	}
	code, out := approver.do("POST", "/objections/"+id, map[string]any{"decision": "dismissed", "reasons": "Perekrut tidak berizin. / The recruiter is unlicensed."}, nil)
	if code != 200 || out["agency"] != "komdigi" {
		t.Fatalf("dismissal: %d %v", code, out)
	}
	c := f.waitStatus(id, store.StatusEscalated)
	if c.Escalation != 1 || c.Objection != store.ObjectionDismissed {
		t.Fatalf("after the dismissal: escalation %d objection %q", c.Escalation, c.Objection)
	}
	if code, _ := approver.do("POST", "/objections/"+id, map[string]any{"decision": "upheld", "reasons": "again"}, nil); code != 409 {
		t.Fatalf("a second decision: %d", code)
	}
	told := f.mailTo("legal-notices@facebook.example", "Keputusan atas Sanggah")
	if !strings.Contains(told, "sanggahan ditolak") || !strings.Contains(told, "the objection is dismissed") {
		t.Fatalf("the platform was told:\n%s", told)
	}
	if _, list := f.st.asPlatform(t, "facebook").do("GET", "/platform/notices", nil, nil); !strings.Contains(toJSON(list), `"objection":"dismissed"`) {
		t.Fatalf("the platform's list does not show the decision: %v", list)
	}
	want := "platform_answered,compliance_checked,objection_decision_requested,objection_decided,warning_sent"
	if got := eventTypes(f.events(id)); !strings.HasSuffix(got, want) {
		t.Fatalf("history %s, want it to end %s", got, want)
	}
}

func TestObjectionUpheldBeforeTheDeadlineClosesTheCase(t *testing.T) {
	f, id := objected(t, nil)
	code, out := f.st.as(t, auth.Approver).do("POST", "/objections/"+id, map[string]any{"decision": "upheld", "reasons": "Pengiklan berizin. / A licensed agency."}, nil)
	if code != 200 {
		t.Fatalf("upholding: %d %v", code, out)
	}
	f.advance(4*time.Hour + time.Minute)
	f.waitStatus(id, store.StatusObjectionUpheld)
	if got := eventTypes(f.events(id)); strings.Contains(got, "warning_sent") || !strings.HasSuffix(got, "objection_decided,compliance_checked,case_closed") {
		t.Fatalf("history %s", got)
	}
	if told := f.mailTo("legal-notices@facebook.example", "Keputusan atas Sanggah"); !strings.Contains(told, "sanggahan diterima") {
		t.Fatalf("the platform was told:\n%s", told)
	}
}

func TestObjectionLapsesAndTheLadderResumes(t *testing.T) {
	f, id := objected(t, nil)
	f.advance(4*time.Hour + time.Minute)
	waitFor(t, func() bool { return strings.Contains(f.history(id), history.ObjectionDecisionRequested) })
	f.advance(2*time.Hour + time.Minute) // ObjectionDecisionTimeoutSeconds passes
	c := f.waitStatus(id, store.StatusEscalated)
	if c.Objection != store.ObjectionLapsed || c.Escalation != 1 {
		t.Fatalf("after the lapse: objection %q escalation %d", c.Objection, c.Escalation)
	}
	if got := eventTypes(f.events(id)); !strings.HasSuffix(got, "objection_decision_requested,objection_lapsed,warning_sent") {
		t.Fatalf("history %s", got)
	}
}
