package localstack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/slack"
	"github.com/tangkal/tangkal/internal/store"
)

// member is a client with an agency member's token (e-mail claim).
func (f *flow) member(email string) client {
	f.t.Helper()
	tok, err := f.st.Signer.IssueFor("test-"+email, email, []string{auth.Approver}, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return client{t: f.t, base: f.st.APIURL, token: tok}
}

// slackState reads the Slack stand-in through its JSON API.
func (f *flow) slackState() struct {
	Messages []outbox.StandInMessage `json:"messages"`
	Views    []outbox.StandInView    `json:"views"`
} {
	f.t.Helper()
	resp, err := http.Get(f.st.OutboxURL + "/slack/api/state")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Messages []outbox.StandInMessage `json:"messages"`
		Views    []outbox.StandInView    `json:"views"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		f.t.Fatal(err)
	}
	return st
}

// slackMessage is the Slack message posted for case id.
func (f *flow) slackMessage(id string) outbox.StandInMessage {
	f.t.Helper()
	for _, m := range f.slackState().Messages {
		if strings.Contains(string(m.Blocks), id) && m.ThreadTS == "" {
			return m
		}
	}
	f.t.Fatalf("no Slack message for case %s", id)
	return outbox.StandInMessage{}
}

// slackClick clicks a button of the case's message in the stand-in, as a
// person does: the stand-in sends tangkal the signed interaction.
func (f *flow) slackClick(id, actionID, user string) int {
	f.t.Helper()
	m := f.slackMessage(id)
	return f.standIn("/slack/click", url.Values{"channel": {m.Channel}, "ts": {m.TS}, "action_id": {actionID}, "user": {user}})
}

func (f *flow) standIn(path string, form url.Values) int {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.st.OutboxURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status int `json:"status"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		f.t.Fatalf("stand-in %s: %d %s", path, resp.StatusCode, b)
	}
	return out.Status
}

func (f *flow) caseView(id string) map[string]any {
	f.t.Helper()
	code, c := f.st.as(f.t, auth.Auditor).do("GET", "/cases/"+id, nil, nil)
	if code != 200 {
		f.t.Fatalf("GET /cases/%s: %d %v", id, code, c)
	}
	return c
}

// Two agencies approve, one by its mailed link, one by a Slack click:
// the takedown goes out; the case shows both decisions; the Slack
// message is updated in place.
func TestTwoAgenciesApproveByEmailAndSlack(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7770001/", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)

	// Every approval e-mail names the case, Indonesian first.
	for _, who := range []string{"approver@kp2mi.local", "approver@komdigi.local", "investigator@polri.local"} {
		f.linkFor(id, who)
	}
	// KP2MI's e-mail, read through the outbox's Mailpit API: Indonesian
	// first, the indicators explained in both languages, the deadline in WIB.
	text := f.agencyMail(id, "approver@kp2mi.local")
	for _, want := range []string{"Pemberi kerja atau perekrut akan menahan paspor", "The employer or recruiter will keep the worker's passport",
		"Batas waktu / Deadline: Kamis, 26 November 2026 pukul 17.00 WIB", "Kementerian Pelindungan Pekerja Migran Indonesia (KP2MI)"} {
		if !strings.Contains(text, want) {
			t.Errorf("KP2MI's e-mail lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "Sebuah iklan") > strings.Index(text, "A reported ad") {
		t.Error("the e-mail is not Indonesian first")
	}
	f.decideAs(id, "approver@kp2mi.local", "approve")
	ap := f.caseView(id)["approval"].(map[string]any)
	if ds := ap["decisions"].([]any); len(ds) != 1 || ds[0].(map[string]any)["agency"] != "kp2mi" || ds[0].(map[string]any)["channel"] != "email" {
		t.Fatalf("after KP2MI: decisions %v", ap["decisions"])
	}
	if missing := ap["needs"].(map[string]any)["missing"].([]any); len(missing) != 1 || missing[0] != "komdigi" {
		t.Fatalf("still needed %v, want komdigi", ap["needs"])
	}
	if got := f.waitStatus(id, store.StatusAwaitingApprove); got == nil {
		t.Fatal("one agency's approval must not be enough")
	}

	if code := f.slackClick(id, approval.ActionApprove, "U0KOMDIGI1"); code != 200 {
		t.Fatalf("Slack click answered %d", code)
	}
	f.waitStatus(id, store.StatusTakedownSent)
	ds := f.caseView(id)["approval"].(map[string]any)["decisions"].([]any)
	if len(ds) != 2 || ds[1].(map[string]any)["agency"] != "komdigi" || ds[1].(map[string]any)["channel"] != "slack" ||
		ds[1].(map[string]any)["by"] != "slack:u0komdigi1" {
		t.Fatalf("decisions %v", ds)
	}
	waitFor(t, func() bool { return f.slackMessage(id).Updated > 0 })
	m := f.slackMessage(id)
	if !strings.Contains(string(m.Blocks), "Disetujui oleh Petugas Komdigi (Komdigi)") || strings.Contains(string(m.Blocks), approval.ActionApprove) {
		t.Fatalf("Slack message not updated in place: %s", m.Blocks)
	}
	if got := f.history(id); strings.Count(got, "approval_decided") != 2 {
		t.Fatalf("history %s", got)
	}
}

// One rejection with a reason (Slack: Reject opens a modal asking why)
// rejects; a reject without a reason is refused by the modal.
func TestOneRejectionInSlackWithAReasonRejects(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7770002/", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	if code := f.slackClick(id, approval.ActionReject, "U0KOMDIGI1"); code != 200 {
		t.Fatalf("Reject click answered %d", code)
	}
	views := f.slackState().Views
	if len(views) != 1 || !views[0].Open || views[0].User != "U0KOMDIGI1" {
		t.Fatalf("views %+v, want the reason modal open", views)
	}
	if code := f.standIn("/slack/submit", url.Values{"view": {views[0].ID}, "value": {""}}); code != 200 {
		t.Fatalf("empty submit answered %d", code)
	}
	if v := f.slackState().Views[0]; !v.Open || len(v.Errors) == 0 {
		t.Fatalf("an empty reason was taken: %+v", v)
	}
	if code := f.standIn("/slack/submit", url.Values{"view": {views[0].ID}, "value": {"akun resmi agen berizin / a licensed agency's account"}}); code != 200 {
		t.Fatalf("submit answered %d", code)
	}
	f.waitStatus(id, store.StatusRejected)
	ds := f.caseView(id)["approval"].(map[string]any)["decisions"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["reason"] != "akun resmi agen berizin / a licensed agency's account" {
		t.Fatalf("decisions %v", ds)
	}
}

// Polri holds (an open investigation): the agencies' approvals wait; the
// release lets the takedown go. Someone outside the policy is refused.
func TestHoldWaitsReleaseContinuesOutsiderRefused(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7770003/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	polri := f.member("investigator@polri.local")

	code, inbox := polri.do("GET", "/approvals?status=pending", nil, nil)
	list, _ := inbox["approvals"].([]any)
	if code != 200 || len(list) != 1 || list[0].(map[string]any)["case_id"] != id || list[0].(map[string]any)["agency"] != "polri" {
		t.Fatalf("Polri's inbox: %d %v", code, inbox)
	}
	// Polri may hold, not approve; a hold needs a reason.
	if code, out := polri.do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "approve"}, nil); code != 403 {
		t.Fatalf("Polri approving: %d %v", code, out)
	}
	if code, out := polri.do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "hold"}, nil); code != 400 || out["error"].(map[string]any)["field"] != "reason" {
		t.Fatalf("hold without reason: %d %v", code, out)
	}
	// Someone outside the policy.
	before := f.history(id)
	if code, out := f.member("approver@bssn.local").do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "approve"}, nil); code != 403 {
		t.Fatalf("outsider: %d %v", code, out)
	}
	if f.history(id) != before {
		t.Fatal("a refused decision changed the history")
	}
	if code, out := polri.do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "hold", "reason": "penyelidikan sindikat berjalan / syndicate investigation open"}, nil); code != 200 {
		t.Fatalf("hold: %d %v", code, out)
	}
	f.approveFirstLink(id, "approve") // KP2MI and Komdigi approve
	if err := f.st.Engine.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	aps := approval.Store{Table: f.st.Table}
	waitFor(t, func() bool {
		a, _ := aps.Get(context.Background(), c.ApprovalID)
		return a.Status == approval.StatusHeld
	})
	f.st.Engine.WaitIdle(context.Background())
	if got, _ := f.st.Table.GetCase(context.Background(), id); got.Status != store.StatusAwaitingApprove || len(f.st.Sim.Requests()) != 0 {
		t.Fatalf("a held case went on: %s, %d requests", got.Status, len(f.st.Sim.Requests()))
	}
	if code, out := polri.do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "release", "reason": "penangkapan selesai / arrests made"}, nil); code != 200 {
		t.Fatalf("release: %d %v", code, out)
	}
	f.waitStatus(id, store.StatusTakedownSent)
	got := f.history(id)
	for _, ev := range []string{"approval_held", "approval_released"} {
		if !strings.Contains(got, ev) {
			t.Fatalf("history %s has no %s", got, ev)
		}
	}
}

// The reminder and then the supervisor tier fire as the clock moves; a
// supervisor decides; the window's end closes it approval_expired.
func TestReminderThenSupervisorTier(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7770004/", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.decideAs(id, "approver@kp2mi.local", "approve")
	f.advance(31 * time.Minute)
	waitFor(t, func() bool { return strings.Contains(f.history(id), "approval_reminded") })
	reminded := 0
	for _, m := range f.mails(id) {
		if strings.HasPrefix(m, "MENDESAK / URGENT: Pengingat") {
			reminded++
		}
		if strings.Contains(m, "Pengingat") && strings.Contains(m, "kp2mi") {
			t.Fatalf("KP2MI decided and was reminded: %s", m)
		}
	}
	if reminded == 0 {
		t.Fatalf("no reminder mailed; mails %v", f.mails(id))
	}
	f.advance(30 * time.Minute)
	waitFor(t, func() bool { return strings.Contains(f.history(id), "approval_escalated") })
	f.linkFor(id, "supervisor@komdigi.local")
	f.decideAs(id, "supervisor@komdigi.local", "approve")
	f.waitStatus(id, store.StatusTakedownSent)
}

// mails are the subjects of the e-mails about case id, read through the
// outbox's Mailpit API.
func (f *flow) mails(id string) []string {
	f.t.Helper()
	resp, err := http.Get(f.st.OutboxURL + "/api/v1/messages?limit=500")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Messages []outbox.MailpitSummary `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range list.Messages {
		if strings.Contains(m.Subject, id) {
			out = append(out, m.Subject+" → "+m.To[0].Address)
		}
	}
	return out
}

// mailTo is the text of the first e-mail to who about case id (Mailpit's
// GET /api/v1/message/{ID}).
func (f *flow) agencyMail(id, who string) string {
	f.t.Helper()
	resp, err := http.Get(f.st.OutboxURL + "/api/v1/messages?limit=500")
	if err != nil {
		f.t.Fatal(err)
	}
	var list struct {
		Messages []outbox.MailpitSummary `json:"messages"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, m := range list.Messages {
		if strings.Contains(m.Subject, id) && m.To[0].Address == who {
			resp, err := http.Get(f.st.OutboxURL + "/api/v1/message/" + m.ID)
			if err != nil {
				f.t.Fatal(err)
			}
			var msg outbox.MailpitMessage
			err = json.NewDecoder(resp.Body).Decode(&msg)
			resp.Body.Close()
			if err != nil {
				f.t.Fatal(err)
			}
			return msg.Text
		}
	}
	f.t.Fatalf("no e-mail to %s about case %s", who, id)
	return ""
}

// Every forged, stale or replayed Slack request, button or modal, is 401
// and changes nothing.
func TestForgedStaleReplayedSlackRequestsAreRefused(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7770005/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	secret := f.st.Outbox.Slack.Secret
	click, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U0KOMDIGI1"}, "trigger_id": "1.2.3",
		"actions": []map[string]any{{"action_id": approval.ActionApprove, "block_id": "decide", "type": "button", "value": c.ApprovalID}}})
	modal, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]any{"id": "U0KOMDIGI1"},
		"view": map[string]any{"callback_id": approval.CallbackReason, "private_metadata": c.ApprovalID + "|reject",
			"state": map[string]any{"values": map[string]any{approval.BlockReason: map[string]any{approval.InputReason: map[string]any{"type": "plain_text_input", "value": "x"}}}}}})
	before := f.history(id)
	for _, payload := range [][]byte{click, modal} {
		body := url.Values{"payload": {string(payload)}}.Encode()
		now := strconv.FormatInt(time.Now().Unix(), 10)
		stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
		for name, hdr := range map[string]map[string]string{
			"forged":       {slack.HeaderTimestamp: now, slack.HeaderSignature: slack.Sign([]byte("not-the-secret"), now, []byte(body))},
			"stale":        {slack.HeaderTimestamp: stale, slack.HeaderSignature: slack.Sign(secret, stale, []byte(body))},
			"no signature": {slack.HeaderTimestamp: now},
			"other body":   {slack.HeaderTimestamp: now, slack.HeaderSignature: slack.Sign(secret, now, []byte(body+"x"))},
		} {
			if code, out := send(t, "POST", f.st.APIURL+"/slack/interactions", "application/x-www-form-urlencoded", body, hdr); code != 401 {
				t.Fatalf("%s %s: %d %s", name, payload[:30], code, out)
			}
		}
	}
	// A genuine modal submission, then its replay.
	body := url.Values{"payload": {string(modal)}}.Encode()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	hdr := map[string]string{slack.HeaderTimestamp: now, slack.HeaderSignature: slack.Sign(secret, now, []byte(body))}
	if code, out := send(t, "POST", f.st.APIURL+"/slack/interactions", "application/x-www-form-urlencoded", body, hdr); code != 200 {
		t.Fatalf("genuine: %d %s", code, out)
	}
	f.waitStatus(id, store.StatusRejected)
	after := f.history(id)
	if code, out := send(t, "POST", f.st.APIURL+"/slack/interactions", "application/x-www-form-urlencoded", body, hdr); code != 401 {
		t.Fatalf("replay: %d %s", code, out)
	}
	if strings.Count(after, "approval_decided") != 1 || !strings.HasPrefix(after, before) {
		t.Fatalf("history %s (before %s)", after, before)
	}
	f.st.Engine.WaitIdle(context.Background())
	if got := f.history(id); got != after {
		t.Fatalf("the replay changed the history: %s", got)
	}
}
