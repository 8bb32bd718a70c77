package approval

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/agency"
)

// reviewPolicy: KP2MI decides, once Komdigi's supervisor reviewed.
var reviewPolicy = agency.Policy{Name: "reviewed", Require: []string{"kp2mi"}, Veto: true, Holders: []string{"polri"}, HoldMaxSeconds: 3600,
	Tiers:       []agency.Tier{{Role: agency.RoleApprover, WindowSeconds: 3600, ReminderSeconds: 1800}},
	ExtraReview: &agency.Review{Agency: "komdigi", Role: agency.RoleSupervisor}}

func createInReview(t *testing.T, st *Store) Approval {
	t.Helper()
	a, err := st.Create(context.Background(), Approval{CaseID: "c_1", TaskToken: "TOKEN-review", Policy: reviewPolicy, Stage: StageReview,
		Members: map[string]string{"sup@komdigi.example": "komdigi"}, ExpiresAt: t0.Add(time.Hour), Summary: summary()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// During the extra review only the reviewer acts, and only approve or
// reject; a confirmation is the outcome "reviewed" (the agencies come
// next), a rejection rejects with the reviewer's reason.
func TestReviewStage(t *testing.T) {
	for _, tc := range []struct {
		name, decision, reason string
		status, outcome        string
	}{
		{"confirmed", Approve, "", StatusReviewed, StatusReviewed},
		{"rejected", Reject, "agen berizin / licensed agency", StatusRejected, StatusRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: t0}
			st := newStore(t, c)
			a := createInReview(t, st)
			if ev := a.Evaluation(); ev.Outcome != agency.Pending || !strings.Contains(ev.Why, "tinjauan tambahan oleh Komdigi (supervisor)") {
				t.Fatalf("evaluation in review %+v", ev)
			}
			if may := a.MayDo("sup@komdigi.example", t0); strings.Join(may, ",") != "approve,reject" {
				t.Fatalf("the reviewer may %v", may)
			}
			if _, err := st.Act(context.Background(), a.ID, Action{Decision: Hold, Identity: "sup@komdigi.example", Channel: ChannelAPI, Reason: "x"}); !errors.Is(err, ErrNotApprover) {
				t.Fatalf("hold during the review: %v", err)
			}
			if _, err := st.Act(context.Background(), a.ID, Action{Decision: Approve, Identity: "approver@kp2mi.example", Channel: ChannelAPI}); !errors.Is(err, ErrNotApprover) {
				t.Fatalf("an agency's approver during the review: %v", err)
			}
			r, err := st.Act(context.Background(), a.ID, Action{Decision: tc.decision, Identity: "sup@komdigi.example", Channel: ChannelEmail, Reason: tc.reason})
			if err != nil || r.Status != tc.status || !r.Deliver || r.Review == nil || r.Review.By != "sup@komdigi.example" || len(r.Decisions) != 0 {
				t.Fatalf("review act: %+v %v", r, err)
			}
			if out := r.Outcome(t0); out.Decision != tc.outcome || out.Approver != "sup@komdigi.example" || out.Reason != tc.reason {
				t.Fatalf("outcome %+v", out)
			}
			if _, err := st.Act(context.Background(), a.ID, Action{Decision: Approve, Identity: "sup@komdigi.example", Channel: ChannelEmail}); !errors.Is(err, ErrAlreadyDecided) {
				t.Fatalf("a second review: %v", err)
			}
			if got, _ := st.Get(context.Background(), a.ID); got.Stage != StageReview || got.Review == nil || got.Review.Reason != tc.reason || !got.HasOutcome() {
				t.Fatalf("stored %+v", got)
			}
			v := r.View(t0)
			if v.Stage != StageReview || v.Review == nil || v.Review.Agency != "komdigi" || v.Review.Channel != ChannelEmail {
				t.Fatalf("case view %+v", v)
			}
		})
	}
}

func TestReviewExpires(t *testing.T) {
	c := &clock{t: t0}
	st := newStore(t, c)
	a := createInReview(t, st)
	c.Set(t0.Add(time.Hour))
	if _, err := st.Act(context.Background(), a.ID, Action{Decision: Approve, Identity: "sup@komdigi.example", Channel: ChannelEmail}); !errors.Is(err, ErrExpired) {
		t.Fatalf("review after its window: %v", err)
	}
}

// Inboxes: urgent first, then trusted flaggers' cases, then the soonest
// deadline.
func TestSortInbox(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	in := []Waiting{
		{CaseID: "normal-early", Urgency: "normal", Deadline: at(1)},
		{CaseID: "normal-trusted-late", Urgency: "normal", Deadline: at(9), TrustedFlagger: true},
		{CaseID: "urgent-late", Urgency: "urgent", Deadline: at(8)},
		{CaseID: "urgent-trusted-late", Urgency: "urgent", Deadline: at(9), TrustedFlagger: true},
		{CaseID: "urgent-early", Urgency: "urgent", Deadline: at(2)},
		{CaseID: "normal-late", Urgency: "normal", Deadline: at(7)},
		{CaseID: "normal-trusted-early", Urgency: "normal", Deadline: at(3), TrustedFlagger: true},
	}
	SortInbox(in)
	var got []string
	for _, w := range in {
		got = append(got, w.CaseID)
	}
	want := "urgent-trusted-late,urgent-early,urgent-late,normal-trusted-early,normal-trusted-late,normal-early,normal-late"
	if strings.Join(got, ",") != want {
		t.Fatalf("order %v\nwant  %s", got, want)
	}
}

// The inbox entry carries the trusted-flagger mark it was written with.
func TestInboxEntryKnowsTrustedFlaggers(t *testing.T) {
	c := &clock{t: t0}
	st := newStore(t, c)
	plain := create(t, st)
	trusted, err := st.Create(context.Background(), Approval{CaseID: "c_9", TaskToken: "TOKEN-2", Policy: testPolicy, TrustedFlagger: true,
		Members: testMembers(), ExpiresAt: t0.Add(72 * time.Hour), Summary: Summary{CaseID: "c_9", Urgency: "urgent"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Approval{plain, trusted} {
		if err := st.AddToInbox(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.Pending(context.Background(), "dewi@agency.example")
	if err != nil || len(list) != 2 {
		t.Fatalf("%v %v", list, err)
	}
	// Both urgent; the trusted flagger's first although its deadline is later.
	if list[0].CaseID != "c_9" || !list[0].TrustedFlagger || list[1].TrustedFlagger {
		t.Fatalf("inbox %+v", list)
	}
}
