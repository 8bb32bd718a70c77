package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/sfnlocal"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
	"github.com/tangkal/tangkal/internal/wiring"
	"github.com/tangkal/tangkal/internal/workflow"
)

// An ad with strong trafficking signs (urgent: 4 h deadline).
const scamAd = "LOWONGAN ADMIN ONLINE KAMBOJA 🇰🇭 gaji 15-25jt/bln, tanpa pengalaman, TANPA BIAYA tiket ditanggung, " +
	"berangkat minggu ini pakai visa turis, paspor dipegang perusahaan. Minat WA 0812-5550-9911"

type flow struct {
	t     testing.TB
	st    *Stack
	clock *sfnlocal.ManualClock
}

func startFlow(t testing.TB, cfg Config) *flow {
	t.Helper()
	clock := sfnlocal.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	cfg.Clock = clock
	cfg.DynamoDBEndpoint = testenv.Endpoint(t)
	cfg.Table = testenv.UniqueName(t, "flow")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(st.Close)
	return &flow{t: t, st: st, clock: clock}
}

func (f *flow) submit(adURL, text string) string {
	f.t.Helper()
	code, out := f.st.as(f.t, auth.Reporter).do("POST", "/reports", map[string]any{"url": adURL, "text": text}, nil)
	if code != 202 {
		f.t.Fatalf("submit: %d %v", code, out)
	}
	return out["case_id"].(string)
}

// waitStatus waits (bounded) until the case reaches status.
func (f *flow) waitStatus(id, status string) *store.Case {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		c, err := f.st.Table.GetCase(context.Background(), id)
		if err == nil {
			if c.Status == status {
				return c
			}
			last = c.Status
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_ = f.st.Engine.WaitIdle(ctx)
		cancel()
	}
	f.t.Fatalf("case %s: status %q, want %q; history: %s", id, last, status, f.history(id))
	return nil
}

// advance moves the shared clock and lets due work run, once the tasks
// running now have ended (Engine.AdvanceBetweenTasks): a test that saw a
// task's first write (a status) and advanced at once would otherwise time
// the task out and wait for ever on its retry.
func (f *flow) advance(d time.Duration) {
	f.t.Helper()
	_, idle, err := f.st.Engine.AdvanceBetweenTasks(context.Background(), d, time.Minute)
	if err != nil {
		f.t.Fatal(err)
	}
	if !idle {
		f.t.Fatalf("advance %s: the engine's tasks still ran after a minute", d)
	}
}

func (f *flow) events(id string) []history.Event {
	f.t.Helper()
	evs, err := history.Log{Table: f.st.Table}.List(context.Background(), id, 0, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

func (f *flow) history(id string) string {
	var types []string
	for _, e := range f.events(id) {
		types = append(types, e.Type)
	}
	return strings.Join(types, " → ")
}

var linkRe = regexp.MustCompile(`https?://[^\s"<>]+/approvals/ap_[0-9a-z]+\?[^\s"<>]+`)

// approvalLinks reads the approval links mailed for a case from the outbox.
func (f *flow) approvalLinks(id string) []string {
	f.t.Helper()
	var links []string
	approvals := &approval.Store{Table: f.st.Table}
	files, _ := filepath.Glob(filepath.Join(f.st.Outbox.Dir, "*.eml"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.t.Fatal(err)
		}
		text := mailText(f.t, raw)
		if !strings.Contains(text, id) {
			continue
		}
		for _, l := range linkRe.FindAllString(text, -1) {
			l = html.UnescapeString(l)
			// Only links of this case's own approvals: another case's mail
			// may name this one among its related cases.
			u, err := url.Parse(l)
			if err != nil {
				continue
			}
			a, err := approvals.Get(context.Background(), strings.TrimPrefix(u.Path, "/approvals/"))
			if err == nil && a.CaseID == id {
				links = append(links, l)
			}
		}
	}
	return links
}

func mailText(t testing.TB, raw []byte) string {
	t.Helper()
	text, html, err := outbox.Bodies(raw)
	if err != nil {
		t.Fatalf("outbox message does not parse: %v", err)
	}
	return text + "\n" + html
}

// decide posts the confirm form of a mailed link, as a browser would.
func decide(t testing.TB, link, decision string) (int, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	form := url.Values{"a": {q.Get("a")}, "exp": {q.Get("exp")}, "sig": {q.Get("sig")}, "decision": {decision}, "reason": {"indicators confirmed"}}
	target := u.Scheme + "://" + u.Host + u.Path
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// approveFirstLink decides as the policy's agencies would by their mailed
// links: "approve" approves as KP2MI and as Komdigi (both are needed),
// "reject" rejects as KP2MI (one rejection ends it).
func (f *flow) approveFirstLink(id, decision string) {
	f.t.Helper()
	who := []string{"approver@kp2mi.local", "approver@komdigi.local"}
	if decision != "approve" {
		who = who[:1]
	}
	for _, w := range who {
		f.decideAs(id, w, decision)
	}
}

// linkFor is the first link mailed to who for case id.
func (f *flow) linkFor(id, who string) string {
	f.t.Helper()
	for _, l := range f.approvalLinks(id) {
		u, _ := url.Parse(l)
		if u.Query().Get("a") == who {
			return l
		}
	}
	f.t.Fatalf("no approval link mailed to %s for case %s", who, id)
	return ""
}

// decideAs opens who's link (a GET decides nothing) and posts decision.
func (f *flow) decideAs(id, who, decision string) {
	f.t.Helper()
	link := f.linkFor(id, who)
	resp, err := http.Get(link)
	if err != nil {
		f.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<form") {
		f.t.Fatalf("GET approval link: %d %s", resp.StatusCode, page)
	}
	if code, body := decide(f.t, link, decision); code != 200 {
		f.t.Fatalf("POST decision as %s: %d %s", who, code, body)
	}
}

func eventTypes(evs []history.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return strings.Join(out, ",")
}

func TestApprovedAndRemovedInTime(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5550201/?mibextid=abc", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	if c.Label != "takedown" || c.Urgency != "urgent" {
		t.Fatalf("verification: label %q urgency %q", c.Label, c.Urgency)
	}
	f.approveFirstLink(id, "approve")
	c = f.waitStatus(id, store.StatusTakedownSent)
	deadline, _ := time.Parse(time.RFC3339, c.Deadline)
	if got := deadline.Sub(f.clock.Now()); got > 4*time.Hour || got < 3*time.Hour {
		t.Fatalf("urgent deadline %s away, want 4h", got)
	}
	reqs := f.st.Sim.Requests()
	if len(reqs) != 1 || reqs[0].CaseID != id || reqs[0].StatusCode/100 != 2 {
		t.Fatalf("platform received %+v", reqs)
	}
	f.advance(4*time.Hour + time.Minute)
	c = f.waitStatus(id, store.StatusRemovedInTime)
	evs := f.events(id)
	want := "case_opened,verified,approval_requested,approval_decided,approval_decided,takedown_requested,compliance_checked,case_closed"
	if got := eventTypes(evs); got != want {
		t.Fatalf("history = %s\nwant      %s", got, want)
	}
	if err := history.Verify(evs, c.LastHash); err != nil {
		t.Fatal(err)
	}
}

func TestApprovedRemovedLate(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.Late, Delay: 10 * time.Hour}}})
	id := f.submit("https://m.facebook.com/story.php?story_fbid=5550302&id=1000", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	f.advance(4*time.Hour + time.Minute) // deadline passes, still live
	f.waitStatus(id, store.StatusEscalated)
	f.advance(24 * time.Hour)
	c := f.waitStatus(id, store.StatusRemovedLate)
	if c.RemovedAt == "" {
		t.Fatal("removed_at not recorded")
	}
	if got := eventTypes(f.events(id)); !strings.Contains(got, "warning_sent") {
		t.Fatalf("history %s has no warning", got)
	}
}

func TestNeverRemovedClimbsTheWholeLadder(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"x": {Mode: platformsim.Never}}})
	id := f.submit("https://twitter.com/lokerkamboja/status/5550403?s=20", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	for level := 1; level <= 3; level++ {
		f.advance(25 * time.Hour)
		waitFor(t, func() bool { return strings.Count(f.history(id), "warning_sent") == level })
	}
	// Past warning 3: the fine recommendation, then the access-blocking
	// referral to Komdigi, each a letter with its own deadline.
	f.advance(25 * time.Hour)
	waitFor(t, func() bool { return strings.Contains(f.history(id), history.FineRecommended) })
	f.advance(25 * time.Hour)
	waitFor(t, func() bool { return strings.Contains(f.history(id), history.BlockingReferred) })
	f.advance(25 * time.Hour)
	f.waitStatus(id, store.StatusNonCompliant)
	got := eventTypes(f.events(id))
	if n := strings.Count(got, "warning_sent"); n != 3 {
		t.Fatalf("%d warnings in %s, want 3", n, got)
	}
	if n := strings.Count(got, "compliance_checked"); n != 6 {
		t.Fatalf("%d checks in %s, want 6", n, got)
	}
	fine := f.mailTo("country-legal@x.example", "Rekomendasi Sanksi Denda Administratif")
	for _, want := range []string{"TKL/" + id + "/DA/", "Rp 500.000.000", "IDR 500,000,000", "Administrative fine recommendation"} {
		if !strings.Contains(fine, want) {
			t.Errorf("the fine recommendation lacks %q:\n%s", want, fine)
		}
	}
	referral := f.mailTo(LocalAgencyEmail, "Rujukan Pemutusan Akses")
	for _, want := range []string{"TKL/" + id + "/PA/", "Kepada / To: Kementerian Komunikasi dan Digital (Komdigi)", "Access-blocking referral", "pemutusan akses"} {
		if !strings.Contains(referral, want) {
			t.Errorf("the blocking referral lacks %q:\n%s", want, referral)
		}
	}
	if strings.Index(referral, "BAHASA INDONESIA") > strings.Index(referral, "ENGLISH") {
		t.Error("the referral is not Indonesian first")
	}
	// The non-compliance figures count the sanctions.
	code, stats := f.st.as(t, auth.Auditor).do("GET", "/stats/compliance?platform=x", nil, nil)
	if b, _ := json.Marshal(stats); code != 200 || !strings.Contains(string(b), `"fines_recommended":1`) || !strings.Contains(string(b), `"blocking_referrals":1`) || !strings.Contains(string(b), `"fine_amount_idr":500000000`) {
		t.Fatalf("stats %d %s", code, b)
	}
}

// mailTo returns the text of the outbox's mail to addr whose subject
// holds subject.
// The mail may follow the history event that announced it: mailTo waits
// for it as a person watching the outbox would.
func (f *flow) mailTo(addr, subject string) string {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if text, ok := f.findMail(addr, subject); ok {
			return text
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no mail to %s with subject %q", addr, subject)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *flow) findMail(addr, subject string) (string, bool) {
	f.t.Helper()
	files, _ := filepath.Glob(filepath.Join(f.st.Outbox.Dir, "*.eml"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil || !strings.Contains(m.Header.Get("To"), addr) {
			continue
		}
		dec := new(mime.WordDecoder)
		subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
		if strings.Contains(subj, subject) {
			return mailText(f.t, raw), true
		}
	}
	return "", false
}

func TestRejected(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.instagram.com/p/C5550504abc/?igsh=xyz", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "reject")
	f.waitStatus(id, store.StatusRejected)
	if n := len(f.st.Sim.Requests()); n != 0 {
		t.Fatalf("a rejected case sent %d takedown requests", n)
	}
}

func TestApprovalTimeoutEscalatesThroughEveryTier(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.tiktok.com/@lokerkamboja/video/5550605", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	first := []string{f.linkFor(id, "approver@kp2mi.local")}
	f.advance(31 * time.Minute) // the urgent policy's reminder time
	waitFor(t, func() bool { return strings.Contains(f.history(id), "approval_reminded") })
	f.advance(30 * time.Minute) // tier 1's window (1 h) ends
	waitFor(t, func() bool { return strings.Contains(f.history(id), "approval_escalated") })
	f.linkFor(id, "supervisor@kp2mi.local") // the supervisors are asked
	// The expired tier's link no longer decides anything.
	if code, _ := decide(t, first[0], "approve"); code < 400 || code >= 500 {
		t.Fatalf("expired tier-1 link answered %d", code)
	}
	f.advance(31 * time.Minute) // tier 2's reminder
	waitFor(t, func() bool { return strings.Count(f.history(id), "approval_reminded") == 2 })
	f.advance(30 * time.Minute) // tier 2's window ends
	f.waitStatus(id, store.StatusApprovalExpired)
}

func TestPlatformDownThenRecovers(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"youtube": {Mode: platformsim.Flaky, Failures: 2}}})
	id := f.submit("https://youtu.be/5550706abc?si=share", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	waitFor(t, func() bool { return strings.Count(f.history(id), "notice_failed") == 1 })
	f.advance(2 * time.Minute) // first retry
	waitFor(t, func() bool { return strings.Count(f.history(id), "notice_failed") == 2 })
	f.advance(5 * time.Minute) // second retry succeeds
	f.waitStatus(id, store.StatusTakedownSent)
	f.advance(5 * time.Hour)
	f.waitStatus(id, store.StatusRemovedInTime)
}

func TestPlatformDownForGoodGoesToManualQueue(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"facebook": {Mode: platformsim.Down}}})
	id := f.submit("https://www.facebook.com/permalink.php?story_fbid=5550807&id=42", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	for i := 0; i < 6; i++ {
		waitFor(t, func() bool { return strings.Count(f.history(id), "notice_failed") >= i+1 })
		f.advance(time.Hour)
	}
	c := f.waitStatus(id, store.StatusManualQueue)
	if n := strings.Count(f.history(id), "notice_failed"); n != 6 {
		t.Fatalf("%d failed attempts, want 6 (1 + 5 retries): %s", n, f.history(id))
	}
	_ = c
}

func TestAdAlreadyGoneAtVerification(t *testing.T) {
	f := startFlow(t, Config{})
	adURL := "https://t.me/lokerkamboja/5550908"
	if err := f.st.Sim.Seed(adURL, scamAd); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Sim.Remove(adURL); err != nil {
		t.Fatal(err)
	}
	id := f.submit(adURL, scamAd)
	f.waitStatus(id, store.StatusNotActionable)
	if strings.Contains(f.history(id), "approval_requested") {
		t.Fatal("a gone ad went to approval")
	}
}

func TestLegitimateAdClosesWithoutApproval(t *testing.T) {
	f := startFlow(t, Config{})
	text := "Lowongan kerja Admin Online (WFH) untuk toko kami di Bandung. Gaji UMR, kerja dari rumah, wilayah Jawa Barat. Kirim CV ke hrd@tokobandung.example"
	id := f.submit("https://www.facebook.com/tokobandung/posts/5551009", text)
	c := f.waitStatus(id, store.StatusLegitimate)
	if c.Label != "legitimate" {
		t.Fatalf("label %q", c.Label)
	}
	code, _ := f.st.as(t, auth.Auditor).do("GET", "/cases/"+id+"/events", nil, nil)
	if code != 200 {
		t.Fatalf("closed case not queryable: %d", code)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = json.Marshal
var _ = fmt.Sprint

// A decision recorded but never delivered (the process died in between)
// is not lost: when the tier's wait ends, the workflow takes it.
func TestRecordedButUndeliveredDecisionIsRecoveredAtTimeout(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5551111/", scamAd)
	c := f.waitStatus(id, store.StatusAwaitingApprove)
	st := approval.Store{Table: f.st.Table, Log: &history.Log{Table: f.st.Table, Now: f.clock.Now}, Now: f.clock.Now}
	for _, who := range []string{"approver@kp2mi.local", "approver@komdigi.local"} {
		if _, err := st.Decide(context.Background(), c.ApprovalID, approval.Approve, who, "seen"); err != nil {
			t.Fatal(err)
		}
	}
	f.advance(31 * time.Minute) // the reminder time comes without a callback
	f.waitStatus(id, store.StatusTakedownSent)
	got := f.history(id)
	if !strings.Contains(got, "approval_decision_recovered") || strings.Contains(got, "approval_escalated") {
		t.Fatalf("history %s", got)
	}
	for _, l := range f.approvalLinks(id) {
		if strings.Contains(l, "supervisor") {
			t.Fatalf("tier 2 was asked: %s", l)
		}
	}
}

// A platform that takes notices by e-mail gets one formal notice; it takes
// the ad down by hand, and the re-fetch after the deadline sees it gone.
func TestEmailPlatformNoticeAndRefetch(t *testing.T) {
	f := startFlow(t, Config{})
	adURL := "https://t.me/lokerkamboja/5551212"
	id := f.submit(adURL, scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	notices := 0
	files, _ := filepath.Glob(filepath.Join(f.st.Outbox.Dir, "*.eml"))
	for _, name := range files {
		raw, _ := os.ReadFile(name)
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		to := msg.Header.Get("To")
		if strings.Contains(mailText(t, raw), id) && !strings.Contains(to, "kp2mi.local") && !strings.Contains(to, "komdigi.local") && !strings.Contains(to, "polri.local") {
			notices++
		}
	}
	if notices != 1 || len(f.st.Sim.Requests()) != 0 {
		t.Fatalf("%d e-mail notices and %d webhooks, want 1 and 0", notices, len(f.st.Sim.Requests()))
	}
	if err := f.st.Sim.Remove(adURL); err != nil { // the platform acts on the notice
		t.Fatal(err)
	}
	f.advance(5 * time.Hour)
	f.waitStatus(id, store.StatusRemovedInTime)
	evs := f.events(id)
	var check map[string]any
	for _, e := range evs {
		if e.Type == "compliance_checked" {
			_ = json.Unmarshal(e.Data, &check)
		}
	}
	if check["method"] != "refetch" {
		t.Fatalf("compliance check %v, want a re-fetch", check)
	}
}

// A platform slower than SendTakedown's timeout: the webhook call gives up
// well inside the function's time (a classified, retried failure), and
// the next attempt goes through; nothing lands in manual_queue.
func TestSlowPlatformIsRetriedNotSentToManualQueue(t *testing.T) {
	f := startFlow(t, Config{
		Timeouts:  map[string]time.Duration{"SendTakedownFunction": 3 * time.Second},
		Platforms: map[string]platformsim.Behavior{"tiktok": {Mode: platformsim.Slow, Failures: 1, Stall: 20 * time.Second}},
	})
	id := f.submit("https://www.tiktok.com/@lokerkamboja/video/5550909", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	waitFor(t, func() bool { return strings.Count(f.history(id), "notice_failed") == 1 })
	f.advance(5 * time.Minute) // the retry
	f.waitStatus(id, store.StatusTakedownSent)
}

// A function still running at its template Timeout fails as Lambda fails
// it, with Sandbox.Timedout, and the workflow retries it instead of
// sending the case to manual_queue.
func TestFunctionPastItsTimeoutIsRetried(t *testing.T) {
	f := startFlow(t, Config{Timeouts: map[string]time.Duration{"SendTakedownFunction": time.Second}})
	real := wiring.SendTakedown(f.st.Deps)
	var mu sync.Mutex
	calls := 0
	f.st.Functions.RegisterFunc("SendTakedownFunction", func(ctx context.Context, in workflow.NoticeInput) (workflow.NoticeOutput, error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			time.Sleep(2 * time.Second) // stuck in something that ignores the context
		}
		return real(ctx, in)
	})
	id := f.submit("https://www.facebook.com/permalink.php?story_fbid=5550910&id=42", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	exec := fmt.Sprintf("arn:aws:states:%s:%s:execution:%s-takedown:%s", Region, Account, StackName, id)
	client := sfn.NewFromConfig(AWSConfig(f.st.SFNURL))
	waitFor(t, func() bool {
		out, err := client.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), MaxResults: 1000})
		if err != nil {
			return false
		}
		b, _ := json.Marshal(out.Events)
		return strings.Contains(string(b), SandboxTimedOut)
	})
	// The retry waits out its interval on the local clock: move the clock
	// a minute at a time until it ran (the retry's timer may be set only
	// after the timeout is recorded, so one early jump could pass it by).
	waitFor(t, func() bool {
		if c, err := f.st.Table.GetCase(context.Background(), id); err == nil && c.Status == store.StatusTakedownSent {
			return true
		}
		f.advance(time.Minute)
		time.Sleep(100 * time.Millisecond)
		return false
	})
	mu.Lock()
	defer mu.Unlock()
	if calls < 2 {
		t.Fatalf("SendTakedown ran %d times, want a retry after the timeout", calls)
	}
}

// The clock moved (POST /_local/clock, what `tangkal clock advance` calls)
// while a task is still running, its first write already made: the jump
// waits for the task to end, so the task is not timed out by hours that
// stand for time between tasks, and the case goes on to its outcome.
func TestClockAdvancedWhileATaskRunsWaitsForIt(t *testing.T) {
	f := startFlow(t, Config{})
	real := wiring.SendTakedown(f.st.Deps)
	f.st.Functions.RegisterFunc("SendTakedownFunction", func(ctx context.Context, in workflow.NoticeInput) (workflow.NoticeOutput, error) {
		out, err := real(ctx, in)
		time.Sleep(time.Second) // the status is written; the function has not returned yet
		return out, err
	})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5550933/", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	resp, err := http.Post(f.st.SFNURL+"/_local/clock", "application/json", strings.NewReader(`{"advance":"5h"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("advance: %d", resp.StatusCode)
	}
	f.waitStatus(id, store.StatusRemovedInTime)
	if h := f.history(id); strings.Contains(h, "notice_failed") {
		t.Fatalf("history %s", h)
	}
}
