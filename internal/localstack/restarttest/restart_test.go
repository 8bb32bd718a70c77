package restarttest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/tangkal/tangkal/internal/store"
)

// An ad with strong trafficking signs (urgent: 4 h deadline).
const scamAd = "LOWONGAN ADMIN ONLINE KAMBOJA 🇰🇭 gaji 15-25jt/bln, tanpa pengalaman, TANPA BIAYA tiket ditanggung, " +
	"berangkat minggu ini pakai visa turis, paspor dipegang perusahaan. Minat WA 0812-5550-9911"

// scenario is one takedown path with kill -9 points along the way. run
// drives it and returns the case id; the rest is the outcome an
// uninterrupted run has (the in-process tests in package localstack walk
// the same paths without crashes).
type scenario struct {
	name string
	args []string // run flags
	run  func(p *proc) string
	// status is the final status; history the case's event types.
	status  string
	history []string
	// webhooks lists, per idempotency key in order, "kind:attempt code"
	// of the notices the platform got (replays of an answered key aside).
	webhooks []string
	// emails counts e-mail notices by kind.
	emails map[string]int
	// links is the number of distinct approval links mailed.
	links int
}

var (
	opened = []string{"case_opened", "verified"}
	// The bundled policy: KP2MI and Komdigi both approve; one rejection
	// rejects.
	approved = append(append([]string(nil), opened...), "approval_requested", "approval_decided", "approval_decided")
	rejected = append(append([]string(nil), opened...), "approval_requested", "approval_decided")
)

func join(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

func repeat(n int, s ...string) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, s...)
	}
	return out
}

var scenarios = []scenario{
	{
		name: "approved, removed in time",
		run: func(p *proc) string {
			id := p.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7770201/?mibextid=abc", scamAd)
			p.crashWhen("the verification", p.recorded(id, "verified")) // verification done, approval request on its way
			p.waitStatus(id, store.StatusAwaitingApprove)
			p.crash() // awaiting approval
			p.decideFirst(id, "approve")
			p.crash() // right after the decision was answered
			p.waitStatus(id, store.StatusTakedownSent)
			p.crash() // waiting for the deadline
			p.advance(4*time.Hour + time.Minute)
			return id
		},
		status:   store.StatusRemovedInTime,
		history:  join(approved, "takedown_requested", "compliance_checked", "case_closed"),
		webhooks: []string{"takedown:1 202"},
		links:    3,
	},
	{
		name: "approved, removed late",
		args: []string{"--platform", "facebook=late:10h"},
		run: func(p *proc) string {
			id := p.submit("https://m.facebook.com/story.php?story_fbid=7770302&id=1000", scamAd)
			p.waitStatus(id, store.StatusAwaitingApprove)
			p.decideFirst(id, "approve")
			p.waitStatus(id, store.StatusTakedownSent)
			p.crash() // the platform's scheduled removal must survive
			p.advance(4*time.Hour + time.Minute)
			p.waitStatus(id, store.StatusEscalated)
			p.crash() // after warning 1, waiting for its deadline
			p.advance(24 * time.Hour)
			return id
		},
		status:   store.StatusRemovedLate,
		history:  join(approved, "takedown_requested", "compliance_checked", "warning_sent", "compliance_checked", "case_closed"),
		webhooks: []string{"takedown:1 202"},
		emails:   map[string]int{"warning_1": 1},
		links:    3,
	},
	{
		name: "approved, never removed: the whole escalation ladder",
		args: []string{"--platform", "x=never"},
		run: func(p *proc) string {
			id := p.submit("https://twitter.com/lokerkamboja/status/7770403?s=20", scamAd)
			p.waitStatus(id, store.StatusAwaitingApprove)
			p.decideFirst(id, "approve")
			p.waitStatus(id, store.StatusTakedownSent)
			for level := 1; level <= 3; level++ {
				p.advance(25 * time.Hour)
				p.waitEvents(id, "warning_sent", level)
				if level < 3 {
					p.crash() // between warnings
				}
			}
			p.advance(25 * time.Hour)
			p.waitEvents(id, "fine_recommended", 1)
			p.crash() // between the sanctions
			p.advance(25 * time.Hour)
			p.waitEvents(id, "blocking_referred", 1)
			p.advance(25 * time.Hour)
			return id
		},
		status: store.StatusNonCompliant,
		history: join(approved, "takedown_requested", repeat(3, "compliance_checked", "warning_sent"),
			"compliance_checked", "fine_recommended", "compliance_checked", "blocking_referred", "compliance_checked", "case_closed"),
		webhooks: []string{"takedown:1 202"},
		emails:   map[string]int{"warning_1": 1, "warning_2": 1, "warning_3": 1, "fine_recommendation": 1, "blocking_referral": 1},
		links:    3,
	},
	{
		name: "rejected",
		run: func(p *proc) string {
			id := p.submit("https://www.instagram.com/p/C7770504abc/?igsh=xyz", scamAd)
			p.crashWhen("the approval request mail", p.mailed(id, "/approvals/")) // approval request in flight
			p.waitStatus(id, store.StatusAwaitingApprove)
			p.crash() // awaiting approval
			p.decideFirst(id, "reject")
			p.crash() // right after the decision
			return id
		},
		status:  store.StatusRejected,
		history: join(rejected, "case_closed"),
		links:   3,
	},
	{
		name: "approval timeout through every tier",
		run: func(p *proc) string {
			id := p.submit("https://www.tiktok.com/@lokerkamboja/video/7770605", scamAd)
			p.waitStatus(id, store.StatusAwaitingApprove)
			first := p.linkFor(id, "approver@kp2mi.local")
			p.crash()                   // awaiting tier 1
			p.advance(31 * time.Minute) // the urgent policy's reminder
			p.waitEvents(id, "approval_reminded", 1)
			p.crash() // reminded, awaiting tier 1's window end
			p.advance(30 * time.Minute)
			p.waitEvents(id, "approval_escalated", 1)
			p.crash() // awaiting tier 2
			// The expired tier's link decides nothing, before or after a crash.
			if code := p.decide(first, "approve"); code < 400 || code >= 500 {
				p.t.Fatalf("expired tier-1 link answered %d", code)
			}
			p.advance(31 * time.Minute)
			p.waitEvents(id, "approval_reminded", 2)
			p.advance(30 * time.Minute)
			return id
		},
		status:  store.StatusApprovalExpired,
		history: join(opened, "approval_requested", "approval_reminded", "approval_escalated", "approval_reminded", "case_closed"),
		// Tier 1: KP2MI's and Komdigi's approvers, Polri's investigator;
		// tier 2: the same with a new expiry, and both supervisors.
		links: 8,
	},
	{
		name: "platform down, then recovers",
		args: []string{"--platform", "youtube=flaky:2"},
		run: func(p *proc) string {
			id := p.submit("https://youtu.be/7770706abc?si=share", scamAd)
			p.waitStatus(id, store.StatusAwaitingApprove)
			p.decideFirst(id, "approve")
			p.waitTaskFailures(id, 1)
			p.crash() // between retries: the platform's failure count must survive
			p.advance(2 * time.Minute)
			p.waitTaskFailures(id, 2)
			p.crash()
			p.advance(5 * time.Minute)
			p.waitStatus(id, store.StatusTakedownSent)
			p.advance(5 * time.Hour)
			return id
		},
		status:   store.StatusRemovedInTime,
		history:  join(approved, "notice_failed", "notice_failed", "takedown_requested", "compliance_checked", "case_closed"),
		webhooks: []string{"takedown:1 503", "takedown:2 503", "takedown:3 202"},
		links:    3,
	},
	{
		name: "platform down for good: manual queue",
		args: []string{"--platform", "facebook=down"},
		run: func(p *proc) string {
			id := p.submit("https://www.facebook.com/permalink.php?story_fbid=7770807&id=42", scamAd)
			p.waitStatus(id, store.StatusAwaitingApprove)
			p.decideFirst(id, "approve")
			for i := 1; i <= 6; i++ {
				if i == 2 || i == 4 {
					// In the middle of the retries (one pending): killed the
					// moment the failure is recorded, before the retry's
					// wait can end and start the next attempt.
					p.crashWhen(fmt.Sprintf("failed run %d", i), func() bool { return p.taskFailures(id) >= i })
				} else {
					p.waitTaskFailures(id, i)
				}
				if i < 6 {
					p.advance(time.Hour)
				}
			}
			return id
		},
		status:  store.StatusManualQueue,
		history: join(approved, repeat(6, "notice_failed"), "moved_to_manual_queue"),
		webhooks: []string{"takedown:1 503", "takedown:2 503", "takedown:3 503",
			"takedown:4 503", "takedown:5 503", "takedown:6 503"},
		links: 3,
	},
	{
		name: "ad already gone at verification",
		run: func(p *proc) string {
			adURL := "https://t.me/lokerkamboja/7770908"
			for _, op := range []struct {
				path string
				body map[string]string
			}{
				{"/_sim/seed", map[string]string{"url": adURL, "text": scamAd}},
				{"/_sim/remove", map[string]string{"url": adURL}},
			} {
				if code := p.call("POST", p.platformURL+op.path, "", op.body, nil); code != 200 {
					p.t.Fatalf("POST %s: %d", op.path, code)
				}
			}
			p.crash() // the platform must remember the ad is gone
			id := p.submit(adURL, scamAd)
			p.crashWhen("the verification", p.recorded(id, "verified")) // the close on its way
			return id
		},
		status:  store.StatusNotActionable,
		history: join(opened, "case_closed"),
	},
}

// TestKill9InTheMiddleOfEveryPath runs each takedown path on a real local
// stack process, kills it with SIGKILL at the points marked in the
// scenario, restarts it on the same data folder and ports, and checks the
// case ends exactly as an uninterrupted run does: same status, same
// history, one workflow execution, one platform notice per attempt, a
// valid hash chain.
func TestKill9InTheMiddleOfEveryPath(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real local stack processes")
	}
	bin, root := buildTangkal(t, t.TempDir())
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := newProc(t, bin, root, sc.args...)
			id := sc.run(p)
			p.waitStatus(id, sc.status)
			p.check(id, sc)
			if p.starts < 2 {
				t.Fatal("the scenario never crashed the stack")
			}
			t.Logf("case %s: %s after %d kill -9s", id, sc.status, p.starts-1)
		})
	}
}

// check compares everything an auditor, the platform and the approvers
// saw with the uninterrupted outcome.
func (p *proc) check(id string, sc scenario) {
	t := p.t
	t.Helper()
	ev := p.events(id)
	if got, want := ev.types(), strings.Join(sc.history, ","); got != want {
		t.Errorf("history\n got %s\nwant %s", got, want)
	}
	if !ev.Chain.Valid || ev.Chain.Length != len(ev.Events) {
		t.Errorf("hash chain: valid=%v length=%d events=%d %s", ev.Chain.Valid, ev.Chain.Length, len(ev.Events), ev.Chain.Error)
	}

	// One execution per case, finished.
	until(t, "the execution to finish", func() bool {
		ex := p.executions(id)
		return len(ex) > 0 && ex[0].Status != sfntypes.ExecutionStatusRunning
	})
	if ex := p.executions(id); len(ex) != 1 || ex[0].Status != sfntypes.ExecutionStatusSucceeded {
		var got []string
		for _, e := range ex {
			got = append(got, aws.ToString(e.Name)+" "+string(e.Status))
		}
		t.Errorf("executions %v, want one SUCCEEDED", got)
	}

	// The platform: per idempotency key, the answers it gave to notices it
	// had not answered before (a replayed key gets the stored answer).
	var keys []string
	codes := map[string][]string{}
	for _, r := range p.notices(id) {
		if r.Duplicate {
			continue
		}
		k := strings.TrimPrefix(r.IdempotencyKey, id+":")
		if _, ok := codes[k]; !ok {
			keys = append(keys, k)
		}
		codes[k] = append(codes[k], fmt.Sprint(r.StatusCode))
	}
	var got []string
	for _, k := range keys {
		got = append(got, k+" "+strings.Join(codes[k], ","))
	}
	if strings.Join(got, "; ") != strings.Join(sc.webhooks, "; ") {
		t.Errorf("platform notices\n got %q\nwant %q", got, sc.webhooks)
	}
	if got := p.emailNotices(id); fmt.Sprint(got) != fmt.Sprint(nonNil(sc.emails)) {
		t.Errorf("e-mail notices %v, want %v", got, sc.emails)
	}
	if got := len(p.approvalLinks(id)); got != sc.links {
		t.Errorf("%d approval links mailed, want %d", got, sc.links)
	}
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// TestKill9BetweenDecisionAndWorkflow kills the stack the moment the
// decision that meets the policy (the second agency's) is recorded, before
// it reaches the waiting workflow. The approver got no answer and posts
// again: the recorded outcome is delivered then.
func TestKill9BetweenDecisionAndWorkflow(t *testing.T) {
	bin, root := buildTangkal(t, t.TempDir())
	p := newProc(t, bin, root)
	id := p.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7771001/", scamAd)
	p.waitStatus(id, store.StatusAwaitingApprove)
	if code := p.decide(p.linkFor(id, "approver@kp2mi.local"), "approve"); code != 200 {
		t.Fatalf("KP2MI's decision answered %d", code)
	}
	p.decideAsync(p.linkFor(id, "approver@komdigi.local"), "approve")
	p.crashWhen("the second decision in the history", func() bool { return p.count(id, "approval_decided") == 2 })
	if code := p.decide(p.linkFor(id, "approver@komdigi.local"), "approve"); code != 200 && code != 409 {
		t.Fatalf("approver's second post answered %d", code)
	}
	p.waitStatus(id, store.StatusTakedownSent)
}

// TestKill9BetweenDecisionAndWorkflowNobodyPostsAgain: the same crash, and
// nobody posts again; the reminder time comes and the workflow takes the
// recorded outcome instead of reminding anyone.
func TestKill9BetweenDecisionAndWorkflowNobodyPostsAgain(t *testing.T) {
	bin, root := buildTangkal(t, t.TempDir())
	p := newProc(t, bin, root)
	id := p.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/7771002/", scamAd)
	p.waitStatus(id, store.StatusAwaitingApprove)
	if code := p.decide(p.linkFor(id, "approver@kp2mi.local"), "approve"); code != 200 {
		t.Fatalf("KP2MI's decision answered %d", code)
	}
	p.decideAsync(p.linkFor(id, "approver@komdigi.local"), "approve")
	p.crashWhen("the second decision in the history", func() bool { return p.count(id, "approval_decided") == 2 })
	p.advance(31 * time.Minute)
	p.waitStatus(id, store.StatusTakedownSent)
	if n := p.count(id, "approval_reminded"); n != 0 {
		t.Fatalf("%d reminders after the policy was met", n)
	}
}
