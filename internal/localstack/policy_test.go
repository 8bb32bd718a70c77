package localstack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// An ad a takedown is asked for at normal urgency (8 h per tier; a
// trusted flagger's 4 h).
const normalAd = "LOWONGAN KERJA LUAR NEGERI gaji 20-30jt/bln tanpa pengalaman, TANPA BIAYA, tiket ditanggung, " +
	"langsung berangkat minggu ini. Minat WA 0812-5550-1234"

// trustedReporter grants trusted-flagger status to a reporter and
// returns its client.
func (f *flow) trustedReporter(sub string) client {
	f.t.Helper()
	if code, out := f.st.as(f.t, auth.Admin).do("PUT", "/reporters/"+sub, map[string]any{"trusted_flagger": true}, nil); code != 200 {
		f.t.Fatalf("grant trusted flagger: %d %v", code, out)
	}
	tok, err := f.st.Token(sub, auth.Reporter)
	if err != nil {
		f.t.Fatal(err)
	}
	return client{t: f.t, base: f.st.APIURL, token: tok}
}

func (f *flow) submitWith(c client, adURL, text string) string {
	f.t.Helper()
	code, out := c.do("POST", "/reports", map[string]any{"url": adURL, "text": text}, nil)
	if code != 202 {
		f.t.Fatalf("submit: %d %v", code, out)
	}
	return out["case_id"].(string)
}

// requested is the data of the case's approval requests (and reminders,
// escalations), in order.
func (f *flow) requested(id string) []history.ApprovalRequestedData {
	f.t.Helper()
	var out []history.ApprovalRequestedData
	for _, e := range f.events(id) {
		if e.Type == history.ApprovalRequested || e.Type == history.ApprovalEscalated || e.Type == history.ApprovalReminded {
			var d history.ApprovalRequestedData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				f.t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func (f *flow) deadline(id string) time.Duration {
	f.t.Helper()
	ap := f.caseView(id)["approval"].(map[string]any)
	d, err := time.Parse(time.RFC3339, ap["deadline"].(string))
	if err != nil {
		f.t.Fatal(err)
	}
	return d.Sub(f.clock.Now())
}

// A trusted flagger's urgent case gets the policy's 30 min window (reminder
// at 15 min, then the supervisors with 30 min again); another reporter's
// urgent case keeps 1 h (reminder at 30 min). The requests say why.
func TestTrustedFlaggersCaseHasTheShorterWindow(t *testing.T) {
	f := startFlow(t, Config{})
	trusted := f.trustedReporter("ngo-trusted")
	fast := f.submitWith(trusted, "https://www.facebook.com/groups/lokerluarnegeri/posts/8880001/", scamAd)
	slow := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/8880002/", scamAd)
	f.waitStatus(fast, store.StatusAwaitingApprove)
	f.waitStatus(slow, store.StatusAwaitingApprove)
	if got := f.deadline(fast); got != 30*time.Minute {
		t.Fatalf("trusted flagger's deadline in %s, want 30m", got)
	}
	if got := f.deadline(slow); got != time.Hour {
		t.Fatalf("other deadline in %s, want 1h", got)
	}
	if ap := f.caseView(fast)["approval"].(map[string]any); ap["trusted_flagger"] != true {
		t.Fatalf("the approval does not say it is a trusted flagger's: %v", ap)
	}
	if !strings.Contains(f.agencyMail(fast, "approver@kp2mi.local"), "Batas waktu / Deadline: Kamis, 26 November 2026 pukul 16.30 WIB") {
		t.Errorf("the mail does not name the 30 min deadline:\n%s", f.agencyMail(fast, "approver@kp2mi.local"))
	}
	if r := f.requested(fast); len(r) != 1 || !strings.Contains(r[0].Why, "pelapor tepercaya: batas waktu 30 menit (pengingat 15 menit)") ||
		!strings.Contains(r[0].Why, "trusted flagger: a 30 min window (reminder 15 min)") {
		t.Fatalf("request %+v does not say why the window is short", r)
	}
	if r := f.requested(slow); len(r) != 1 || r[0].Why != "" {
		t.Fatalf("other request %+v", r)
	}
	f.advance(16 * time.Minute)
	waitFor(t, func() bool { return strings.Contains(f.history(fast), "approval_reminded") })
	if strings.Contains(f.history(slow), "approval_reminded") {
		t.Fatal("the other case was reminded at 16 min")
	}
	f.advance(15 * time.Minute) // the trusted flagger's tier 1 ends
	waitFor(t, func() bool { return strings.Contains(f.history(fast), "approval_escalated") })
	if got := f.deadline(fast); got != 30*time.Minute {
		t.Fatalf("tier 2 of the trusted flagger's case ends in %s, want 30m", got)
	}
	if strings.Contains(f.history(slow), "approval_escalated") {
		t.Fatal("the other case escalated at 31 min")
	}
	f.decideAs(fast, "supervisor@kp2mi.local", "approve")
	f.decideAs(fast, "supervisor@komdigi.local", "approve")
	f.waitStatus(fast, store.StatusTakedownSent)
}

// An approver's inbox lists urgent cases first, then trusted flaggers',
// then by deadline; each entry says whether a trusted flagger reported it.
func TestInboxOrdersUrgentThenTrustedThenDeadline(t *testing.T) {
	f := startFlow(t, Config{})
	trusted := f.trustedReporter("desk-trusted")
	n := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/8880101/", normalAd) // deadline +8 h
	f.waitStatus(n, store.StatusAwaitingApprove)
	f.advance(5 * time.Hour)
	nt := f.submitWith(trusted, "https://www.facebook.com/groups/lokerluarnegeri/posts/8880102/", normalAd) // +5 h + 4 h
	f.waitStatus(nt, store.StatusAwaitingApprove)
	f.advance(2*time.Hour + 5*time.Minute)
	u := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/8880103/", scamAd) // +7 h 05 + 1 h
	f.waitStatus(u, store.StatusAwaitingApprove)
	f.advance(35 * time.Minute)
	ut := f.submitWith(trusted, "https://www.facebook.com/groups/lokerluarnegeri/posts/8880104/", scamAd) // +7 h 40 + 30 min
	f.waitStatus(ut, store.StatusAwaitingApprove)
	// By deadline alone: n (8 h 00), u (8 h 05), ut (8 h 10), nt (9 h 00).
	code, out := f.member("approver@kp2mi.local").do("GET", "/approvals?status=pending", nil, nil)
	list, _ := out["approvals"].([]any)
	if code != 200 || len(list) != 4 {
		t.Fatalf("inbox: %d %v", code, out)
	}
	var got []string
	names := map[string]string{n: "normal", nt: "normal trusted", u: "urgent", ut: "urgent trusted"}
	for _, it := range list {
		m := it.(map[string]any)
		name := names[m["case_id"].(string)]
		if (m["trusted_flagger"] == true) != strings.HasSuffix(name, "trusted") {
			t.Errorf("%s: trusted_flagger %v", name, m["trusted_flagger"])
		}
		got = append(got, name)
	}
	if want := "urgent trusted,urgent,normal trusted,normal"; strings.Join(got, ",") != want {
		t.Fatalf("inbox order %v, want %s", got, want)
	}
}

// publicReport reports an ad on the public channel and returns its case.
func (f *flow) publicReport(adURL, text string) string {
	f.t.Helper()
	t := f.t.(*testing.T)
	before := casesWithSource(t, f.st, "public")
	c, nonce := solvedChallenge(t, f.st.APIURL)
	b, _ := json.Marshal(map[string]any{"url": adURL, "text": text, "challenge": c, "nonce": nonce})
	if code, _, raw := postRaw(t, f.st.APIURL+"/public/reports", "", "application/json", b); code != 202 {
		t.Fatalf("public report: %d %s", code, raw)
	}
	var id string
	waitFor(t, func() bool {
		for _, c := range casesWithSource(t, f.st, "public") {
			if !strings.Contains(strings.Join(before, ","), c) {
				id = c
				return true
			}
		}
		return false
	})
	return id
}

func (f *flow) decided(id string) []history.ApprovalDecidedData {
	f.t.Helper()
	var out []history.ApprovalDecidedData
	for _, e := range f.events(id) {
		if e.Type == history.ApprovalDecided {
			var d history.ApprovalDecidedData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				f.t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func (f *flow) hasLink(id, who string) bool {
	for _, l := range f.approvalLinks(id) {
		if u, err := url.Parse(l); err == nil && u.Query().Get("a") == who {
			return true
		}
	}
	return false
}

// A public report's case is reviewed first by KP2MI's supervisor, alone:
// nobody else is asked and nobody else may decide; the confirmation asks
// the agencies (in parallel, as usual), who then decide it. Every step is
// in the history with who, agency, channel and why.
func TestPublicReportIsReviewedBeforeTheAgenciesAreAsked(t *testing.T) {
	f := startFlow(t, Config{Parameters: map[string]string{"PublicChallengeBits": "8"}})
	id := f.publicReport("https://www.facebook.com/groups/lokerluarnegeri/posts/8880201/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	if !c.ExtraReview {
		t.Fatal("a public report's case does not ask for the extra review")
	}
	ap := f.caseView(id)["approval"].(map[string]any)
	if ap["stage"] != "review" || !strings.Contains(ap["needs"].(map[string]any)["why"].(string), "tinjauan tambahan oleh KP2MI (supervisor)") {
		t.Fatalf("approval during the review: %v", ap)
	}
	r := f.requested(id)
	if len(r) != 1 || r[0].Stage != "review" || strings.Join(r[0].Approvers, ",") != "supervisor@kp2mi.local" ||
		strings.Join(r[0].Agencies, ",") != "kp2mi" || strings.Join(r[0].Channels, ",") != "email" || !strings.Contains(r[0].Why, "public report: extra review by KP2MI (supervisor)") {
		t.Fatalf("review request %+v", r)
	}
	if subj := strings.Join(f.mails(id), "\n"); !strings.Contains(subj, "Tinjauan tambahan diperlukan / Extra review needed") ||
		strings.Contains(subj, "approver@") || strings.Contains(subj, "polri") || strings.Contains(subj, "komdigi") {
		t.Fatalf("mails during the review:\n%s", subj)
	}
	// Only the reviewer's inbox lists it; the agencies may not decide yet.
	if _, out := f.member("approver@kp2mi.local").do("GET", "/approvals?status=pending", nil, nil); len(out["approvals"].([]any)) != 0 {
		t.Fatalf("KP2MI's approver's inbox during the review: %v", out)
	}
	_, out := f.member("supervisor@kp2mi.local").do("GET", "/approvals?status=pending", nil, nil)
	if l := out["approvals"].([]any); len(l) != 1 || l[0].(map[string]any)["stage"] != "review" {
		t.Fatalf("the reviewer's inbox: %v", out)
	}
	for _, who := range []string{"approver@komdigi.local", "investigator@polri.local"} {
		if code, out := f.member(who).do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "approve"}, nil); code != http.StatusForbidden {
			t.Fatalf("%s deciding during the review: %d %v", who, code, out)
		}
	}
	f.decideAs(id, "supervisor@kp2mi.local", "approve")
	waitFor(t, func() bool { return len(f.requested(id)) == 2 })
	d := f.decided(id)
	if len(d) != 1 || d[0].Stage != "review" || d[0].DecidedBy != "supervisor@kp2mi.local" || d[0].Agency != "kp2mi" ||
		d[0].Channel != "email" || d[0].Decision != "approve" || d[0].Reason != "indicators confirmed" || d[0].Outcome != "reviewed" {
		t.Fatalf("review decision %+v", d)
	}
	r = f.requested(id)
	if r[1].Stage != "decide" || r[1].Tier != 1 || strings.Join(r[1].Agencies, ",") != "kp2mi,komdigi,polri" ||
		!strings.Contains(r[1].Why, "extra review confirmed by supervisor@kp2mi.local (KP2MI)") {
		t.Fatalf("the agencies' request after the review %+v", r[1])
	}
	ap = f.caseView(id)["approval"].(map[string]any)
	if ap["stage"] != "decide" || ap["review"].(map[string]any)["by"] != "supervisor@kp2mi.local" || f.deadline(id) != time.Hour {
		t.Fatalf("approval after the review: %v", ap)
	}
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	if d := f.decided(id); len(d) != 3 || d[1].Stage != "" || d[2].Outcome != "approved" {
		t.Fatalf("decisions %+v", d)
	}
}

// A review rejection (with its reason) rejects the case; the agencies are
// never asked.
func TestPublicReportRejectedInReview(t *testing.T) {
	f := startFlow(t, Config{Parameters: map[string]string{"PublicChallengeBits": "8"}})
	id := f.publicReport("https://www.facebook.com/groups/lokerluarnegeri/posts/8880301/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	reviewer := f.member("supervisor@kp2mi.local")
	if code, out := reviewer.do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "reject"}, nil); code != 400 {
		t.Fatalf("a review rejection without a reason: %d %v", code, out)
	}
	if code, out := reviewer.do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "reject",
		"reason": "iklan agen berizin / a licensed agency's ad"}, nil); code != 200 || out["status"] != "rejected" {
		t.Fatalf("review rejection: %d %v", code, out)
	}
	f.waitStatus(id, store.StatusRejected)
	d := f.decided(id)
	if len(d) != 1 || d[0].Stage != "review" || d[0].Channel != "api" || d[0].Agency != "kp2mi" || d[0].Reason != "iklan agen berizin / a licensed agency's ad" || d[0].Outcome != "rejected" {
		t.Fatalf("review decision %+v", d)
	}
	if r := f.requested(id); len(r) != 1 || r[0].Stage != "review" {
		t.Fatalf("requests %+v: the agencies were asked", r)
	}
	if f.hasLink(id, "approver@kp2mi.local") || f.hasLink(id, "approver@komdigi.local") || len(f.st.Sim.Requests()) != 0 {
		t.Fatal("a case rejected in review reached the agencies or the platform")
	}
	if ap := f.caseView(id)["approval"].(map[string]any); ap["review"].(map[string]any)["reason"] != "iklan agen berizin / a licensed agency's ad" {
		t.Fatalf("approval %v", ap)
	}
}

// A review not made in its window is reminded, then asked again in the
// next tier; confirmed there, the agencies start at tier 1 with a fresh
// window.
func TestExtraReviewRemindedEscalatedThenAgenciesFromTierOne(t *testing.T) {
	f := startFlow(t, Config{Parameters: map[string]string{"PublicChallengeBits": "8"}})
	id := f.publicReport("https://www.facebook.com/groups/lokerluarnegeri/posts/8880401/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	f.advance(31 * time.Minute)
	waitFor(t, func() bool { return len(f.requested(id)) == 2 })
	f.advance(30 * time.Minute)
	waitFor(t, func() bool { return len(f.requested(id)) == 3 })
	r := f.requested(id)
	if r[1].Stage != "review" || strings.Join(r[1].Approvers, ",") != "supervisor@kp2mi.local" || r[2].Stage != "review" || r[2].Tier != 2 {
		t.Fatalf("reminder and escalation of the review: %+v", r)
	}
	if got := f.history(id); !strings.Contains(got, "approval_reminded") || !strings.Contains(got, "approval_escalated") {
		t.Fatalf("history %s", got)
	}
	if subj := strings.Join(f.mails(id), "\n"); !strings.Contains(subj, "Pengingat: tinjauan tambahan diperlukan") ||
		!strings.Contains(subj, "Eskalasi: tinjauan tambahan diperlukan") || strings.Contains(subj, "approver@") {
		t.Fatalf("mails:\n%s", subj)
	}
	if code, out := f.member("supervisor@kp2mi.local").do("POST", "/approvals/"+c.ApprovalID+"/decision", map[string]any{"decision": "approve"}, nil); code != 200 {
		t.Fatalf("review at tier 2: %d %v", code, out)
	}
	waitFor(t, func() bool { return len(f.requested(id)) == 4 })
	if r := f.requested(id)[3]; r.Stage != "decide" || r.Tier != 1 || !strings.Contains(strings.Join(r.Approvers, ","), "approver@kp2mi.local") {
		t.Fatalf("the agencies' request %+v", r)
	}
	if got := f.deadline(id); got != time.Hour {
		t.Fatalf("the agencies' window ends in %s, want 1h", got)
	}
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
}
