package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/store"
)

// Actions of the approval task (the ASL's "action" field).
const (
	ActionPlan         = "plan"          // PlanApproval: the tier's timing
	ActionRequest      = "request"       // RequestApproval: ask the agencies (.waitForTaskToken)
	ActionRemind       = "remind"        // RemindApprovers: remind, keep waiting (.waitForTaskToken)
	ActionAwaitRelease = "await_release" // AwaitRelease: wait for a hold's release (.waitForTaskToken)
	ActionHoldExpired  = "hold_expired"  // HoldExpired: the hold ran out
)

// ApprovalInput is the approval task's payload.
type ApprovalInput struct {
	CaseID    string `json:"case_id"`
	Action    string `json:"action"`
	Tier      int    `json:"tier"`
	TaskToken string `json:"task_token"`
	Task
}

// ApprovalOutput is the approval task's answer: the tier's timing for
// plan, the decision for hold_expired (the waiting actions' answers come
// through the callback; this one is only logged).
type ApprovalOutput struct {
	ApprovalID       string `json:"approval_id,omitempty"`
	Tier             int    `json:"tier,omitempty"`
	Tiers            int    `json:"tiers,omitempty"`
	ReminderSeconds  int    `json:"reminder_seconds,omitempty"`
	RemainingSeconds int    `json:"remaining_seconds,omitempty"`
	Decision         string `json:"decision,omitempty"`
}

// approvalID is derived from the execution, so every tier and retried
// task finds the one approval of this workflow run.
func approvalID(caseID, execution string) string {
	sum := sha256.Sum256([]byte("approval|" + caseID + "|" + execution))
	return approval.IDPrefix + hex.EncodeToString(sum[:])[:26]
}

// RequestApproval runs the approval task's actions.
func (s *Steps) RequestApproval(ctx context.Context, in ApprovalInput) (out ApprovalOutput, err error) {
	stepName := "approval " + in.Action
	ctx = begin(ctx, stepName, in.CaseID, in.Task)
	defer func() { done(ctx, stepName, err) }()
	if len(s.Agencies.Policies) == 0 {
		return ApprovalOutput{}, &InputError{Field: "agencies", Message: "no agencies configured"}
	}
	c, err := s.getCase(ctx, stepName, in.CaseID)
	if err != nil {
		return ApprovalOutput{}, err
	}
	p := s.Agencies.PolicyFor(c.Category, c.Urgency)
	if in.Action != ActionPlan && in.Action != ActionHoldExpired && in.TaskToken == "" {
		return ApprovalOutput{}, &InputError{Field: "task_token", Message: "required"}
	}
	id := approvalID(c.ID, in.Execution)
	switch in.Action {
	case ActionPlan:
		t, ok := p.TierFor(in.Tier, traits(c))
		if !ok {
			return ApprovalOutput{}, &InputError{Field: "tier", Message: fmt.Sprintf("tier %d not in policy %s (%d tiers)", in.Tier, p.Name, len(p.Tiers))}
		}
		return ApprovalOutput{ApprovalID: id, Tier: in.Tier, Tiers: len(p.Tiers), ReminderSeconds: t.ReminderSeconds,
			RemainingSeconds: t.WindowSeconds - t.ReminderSeconds}, nil
	case ActionRequest:
		return s.requestTier(ctx, c, in, p, id)
	case ActionRemind:
		return s.remind(ctx, c, in, id)
	case ActionAwaitRelease:
		a, deliver, err := s.Approvals.Bind(ctx, id, in.TaskToken, approval.PhaseRelease)
		if err != nil {
			return ApprovalOutput{}, transient(stepName, c.ID, "store the task token", err)
		}
		if deliver {
			return ApprovalOutput{ApprovalID: id}, s.deliver(ctx, c, in, a, "await release")
		}
		return ApprovalOutput{ApprovalID: id}, nil
	case ActionHoldExpired:
		return s.holdExpired(ctx, c, id)
	}
	return ApprovalOutput{}, &InputError{Field: "action", Message: fmt.Sprintf("%q is not plan, request, remind, await_release or hold_expired", in.Action)}
}

// traits are what of a case changes its approval by policy.
func traits(c *store.Case) agency.Traits {
	return agency.Traits{TrustedFlagger: c.TrustedFlagger, ExtraReview: c.ExtraReview}
}

// requestTier creates the approval (tier 1) or moves it to the next tier,
// stores the task token, and asks the agencies. A case the policy reviews
// first (a public report's) starts in the review stage: its reviewers
// alone are asked; once the review confirms it (StatusReviewed), the
// workflow plans tier 1 again and this asks the agencies.
func (s *Steps) requestTier(ctx context.Context, c *store.Case, in ApprovalInput, p agency.Policy, id string) (ApprovalOutput, error) {
	const stepName = "request approval"
	t, ok := p.TierFor(in.Tier, traits(c))
	if !ok {
		return ApprovalOutput{}, &InputError{Field: "tier", Message: fmt.Sprintf("tier %d not in policy %s", in.Tier, p.Name)}
	}
	window := t.Window()
	a, err := s.Approvals.Get(ctx, id)
	switch {
	case errors.Is(err, approval.ErrNotFound):
		summary, err := s.summary(ctx, c)
		if err != nil {
			return ApprovalOutput{}, err
		}
		members, stage := approval.Members(s.Agencies, p, in.Tier), ""
		if p.Reviews(traits(c)) {
			members, stage = approval.ReviewMembers(s.Agencies, p), approval.StageReview
		}
		a, err = s.Approvals.Create(ctx, approval.Approval{
			ID: id, CaseID: c.ID, TaskToken: in.TaskToken, Policy: p, Tier: in.Tier,
			Members: members, ExpiresAt: s.now().Add(window), Summary: summary,
			TrustedFlagger: c.TrustedFlagger, Stage: stage,
		})
		if err != nil {
			return ApprovalOutput{}, transient(stepName, c.ID, "create the approval", err)
		}
	case err != nil:
		return ApprovalOutput{}, transient(stepName, c.ID, "read the approval", err)
	default:
		deliver := false
		a, err = s.Approvals.Modify(ctx, id, func(a *approval.Approval) error {
			a.TrustedFlagger = c.TrustedFlagger
			switch {
			case a.Stage == approval.StageReview && a.Status == approval.StatusReviewed:
				// The review confirmed the case: now the agencies are
				// asked, at this tier, with a fresh window.
				a.Stage, a.Status = approval.StageDecide, approval.StatusPending
				a.Tier, a.Members, a.ExpiresAt = in.Tier, approval.Members(s.Agencies, a.Policy, in.Tier), s.now().Add(window)
			case a.Tier < in.Tier && a.Stage == approval.StageReview:
				// The review's next tier: the reviewers again, with a
				// fresh window.
				a.Tier, a.Members, a.ExpiresAt = in.Tier, approval.ReviewMembers(s.Agencies, a.Policy), s.now().Add(window)
			case a.Tier < in.Tier:
				// The next tier: the agencies' supervisors are asked too,
				// with a fresh window; decisions made so far stand.
				a.Tier, a.Members, a.ExpiresAt = in.Tier, approval.Members(s.Agencies, a.Policy, in.Tier), s.now().Add(window)
			}
			a.TaskToken, a.Phase, a.Delivered = in.TaskToken, approval.PhaseDecide, false
			deliver = a.HasOutcome()
			return nil
		})
		if err != nil {
			return ApprovalOutput{}, transient(stepName, c.ID, "move the approval to tier "+strconv.Itoa(in.Tier), err)
		}
		if deliver {
			// Decided earlier, never delivered (a crash in between):
			// hand the decision to the workflow instead of asking again.
			return ApprovalOutput{ApprovalID: id}, s.deliver(ctx, c, in, a, stepName)
		}
	}
	return ApprovalOutput{ApprovalID: id}, s.announce(ctx, c, in, a, announceRequest)
}

// remind stores the fresh token and reminds whoever has not decided.
func (s *Steps) remind(ctx context.Context, c *store.Case, in ApprovalInput, id string) (ApprovalOutput, error) {
	a, deliver, err := s.Approvals.Bind(ctx, id, in.TaskToken, approval.PhaseDecide)
	if err != nil {
		return ApprovalOutput{}, transient("remind approvers", c.ID, "store the task token", err)
	}
	if deliver {
		return ApprovalOutput{ApprovalID: id}, s.deliver(ctx, c, in, a, "remind approvers")
	}
	return ApprovalOutput{ApprovalID: id}, s.announce(ctx, c, in, a, announceReminder)
}

// deliver completes the waiting task with an outcome recorded earlier.
func (s *Steps) deliver(ctx context.Context, c *store.Case, in ApprovalInput, a approval.Approval, stepName string) error {
	if _, err := s.record(ctx, stepName, c.ID, "approval-recovered:"+a.Status+":"+in.State+":"+strconv.Itoa(in.Tier), history.ApprovalDecisionRecovered, history.ApprovalDecidedData{
		ApprovalID: a.ID, Decision: a.Decision, DecidedBy: a.DecidedBy, Tier: strconv.Itoa(a.Tier), Outcome: a.Status,
	}, history.Change{}); err != nil {
		return err
	}
	slog.InfoContext(ctx, "outcome recorded earlier handed to the workflow", "approval_id", a.ID, "outcome", a.Status)
	if err := (approval.Completer{SFN: s.Tasks, Store: s.Approvals, Now: s.Now}).Send(ctx, in.TaskToken, a); err != nil {
		return transient(stepName, c.ID, "send the outcome", err)
	}
	return nil
}

// holdExpired ends a hold nobody released: the agencies' decision stands.
func (s *Steps) holdExpired(ctx context.Context, c *store.Case, id string) (ApprovalOutput, error) {
	const stepName = "hold expired"
	a, err := s.Approvals.Modify(ctx, id, func(a *approval.Approval) error {
		if a.Status == approval.StatusHeld {
			a.Status = approval.StatusApproved
		}
		return nil
	})
	if err != nil {
		return ApprovalOutput{}, transient(stepName, c.ID, "end the hold", err)
	}
	d := history.ApprovalDecidedData{ApprovalID: id, Decision: "hold_expired", Outcome: a.Status}
	if a.Hold != nil {
		d.Agency, d.DecidedBy, d.Reason, d.HoldUntil = a.Hold.Agency, a.Hold.By, a.Hold.Reason, store.FormatTime(a.Hold.Until)
	}
	if _, err := s.record(ctx, stepName, c.ID, "approval-hold-expired", history.ApprovalHoldExpired, d,
		history.Change{Set: map[string]any{"approval": a.View(s.now())}}); err != nil {
		return ApprovalOutput{}, err
	}
	out := ApprovalOutput{ApprovalID: id, Decision: a.Status}
	if a.Status != approval.StatusApproved {
		out.Decision = approval.StatusRejected
	}
	return out, nil
}

type announceKind int

const (
	announceRequest announceKind = iota
	announceReminder
)

// announce sends a tier's request (or its reminder) to each agency
// member asked and not yet decided, by e-mail and in the agency's Slack
// channel, and records it once in the case's history. A crash before the
// record sends again: the outbox drops a message whose idempotency key it
// already has, and the Slack message of a tier is posted once.
func (s *Steps) announce(ctx context.Context, c *store.Case, in ApprovalInput, a approval.Approval, kind announceKind) error {
	stepName := "request approval"
	if kind == announceReminder {
		stepName = "remind approvers"
	}
	p := a.Policy
	if kind == announceRequest {
		if err := s.Approvals.AddToInbox(ctx, a); err != nil {
			return transient(stepName, c.ID, "list the approval in the members' inboxes", err)
		}
	}
	if a.InReview() {
		return s.announceReview(ctx, c, a, kind)
	}
	var asked, agencies, channels, waiting []string
	addCh := func(ch string) {
		if !slices.Contains(channels, ch) {
			channels = append(channels, ch)
		}
	}
	for _, agID := range p.Involved() {
		ag, ok := s.Agencies.Agency(agID)
		if !ok {
			continue
		}
		_, decided := a.Decisions[agID]
		required := p.Requires(agID)
		if kind == announceReminder && (!required || decided) {
			continue
		}
		if required && decided {
			continue
		}
		agencies = append(agencies, agID)
		if required {
			waiting = append(waiting, agID)
		}
		role := approval.RoleNotified
		switch {
		case required:
			role = approval.RoleDecide
		case p.MayHold(agID):
			role = approval.RoleHold
		}
		members := s.Agencies.Asked(p, a.Tier, agID)
		if role == approval.RoleNotified {
			members = ag.Members
		}
		if ag.Channels.Email {
			for _, m := range members {
				if m.Email == "" {
					continue
				}
				to := m.Email
				link := ""
				if role != approval.RoleNotified {
					link = s.Links.Link(a.ID, to, a.ExpiresAt)
				}
				msg := approval.Message{Summary: a.Summary, Agency: ag, Role: role, Tier: a.Tier, Deadline: a.ExpiresAt,
					Link: link, Reminder: kind == announceReminder, Escalation: a.Tier > 1, Policy: p, Names: s.indicatorName}
				subject, text, html := msg.Compose()
				key := fmt.Sprintf("%s:%d:%d:%s", a.ID, a.Tier, kind, to)
				if _, err := s.Mailer.Send(ctx, outbox.Email{From: s.Sender, To: []string{to}, Subject: subject, Text: text, HTML: html,
					Headers: map[string]string{outbox.IdempotencyHeader: key}}); err != nil {
					return transient(stepName, c.ID, "mail "+agID, err)
				}
				asked = append(asked, to)
				addCh(approval.ChannelEmail)
			}
		}
		if ag.Channels.SlackChannel != "" && s.Slack != nil && role == approval.RoleDecide {
			msg := approval.Message{Summary: a.Summary, Agency: ag, Role: role, Tier: a.Tier, Deadline: a.ExpiresAt,
				Reminder: kind == announceReminder, Escalation: a.Tier > 1, Policy: p, Names: s.indicatorName}
			if err := s.postSlack(ctx, a, ag, msg, kind); err != nil {
				return transient(stepName, c.ID, "post to the Slack channel of "+agID, err)
			}
			addCh(approval.ChannelSlack + ":" + ag.Channels.SlackChannel)
		}
	}
	typ, once := history.ApprovalRequested, "approval:"+strconv.Itoa(a.Tier)
	switch {
	case kind == announceReminder:
		typ, once = history.ApprovalReminded, "approval-reminder:"+strconv.Itoa(a.Tier)
	case a.Tier > 1:
		typ = history.ApprovalEscalated
	}
	var why []string
	if a.Review != nil {
		why = append(why, fmt.Sprintf("tinjauan tambahan dikonfirmasi oleh %s (%s) / extra review confirmed by %s (%s)",
			a.Review.By, shortName(a.Review.Agency), a.Review.By, shortName(a.Review.Agency)))
	}
	if w := trustedWhy(a); w != "" {
		why = append(why, w)
	}
	_, err := s.record(ctx, stepName, c.ID, once, typ, history.ApprovalRequestedData{
		ApprovalID: a.ID, Tier: a.Tier, Tiers: len(p.Tiers), Approvers: asked, ExpiresAt: store.FormatTime(a.ExpiresAt),
		Policy: p.Name, Agencies: agencies, Channels: channels, Waiting: waiting, Stage: approval.StageDecide, Why: strings.Join(why, "; "),
	}, history.Change{Set: map[string]any{"status": store.StatusAwaitingApprove, "approval_id": a.ID, "approval": a.View(s.now())}})
	return err
}

func shortName(id string) string { return agency.Agency{ID: id}.Short() }

// trustedWhy says that the window is a trusted flagger's, when it is.
func trustedWhy(a approval.Approval) string {
	if !a.TrustedFlagger || a.Policy.TrustedFlagger == nil {
		return ""
	}
	w := a.Policy.TrustedFlagger
	win, rem := time.Duration(w.WindowSeconds)*time.Second, time.Duration(w.ReminderSeconds)*time.Second
	return fmt.Sprintf("pelapor tepercaya: batas waktu %s (pengingat %s) menurut kebijakan / trusted flagger: a %s window (reminder %s) by policy",
		span(win, "jam", "menit"), span(rem, "jam", "menit"), span(win, "h", "min"), span(rem, "h", "min"))
}

// span writes d in hours or minutes ("4 jam", "30 min").
func span(d time.Duration, hours, minutes string) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d %s", d/time.Hour, hours)
	}
	return fmt.Sprintf("%d %s", d/time.Minute, minutes)
}

// announceReview asks (or reminds) the policy's reviewers alone, by
// e-mail with their signed link, for the extra review; the agencies are
// asked only once a reviewer confirms. It is recorded once per tier.
func (s *Steps) announceReview(ctx context.Context, c *store.Case, a approval.Approval, kind announceKind) error {
	stepName := "request extra review"
	if kind == announceReminder {
		stepName = "remind reviewers"
	}
	p := a.Policy
	ag, ok := s.Agencies.Agency(p.ExtraReview.Agency)
	if !ok {
		return &InputError{Field: "extra_review.agency", Message: fmt.Sprintf("unknown agency %q", p.ExtraReview.Agency)}
	}
	var asked []string
	for _, m := range s.Agencies.Reviewers(p) {
		to := m.Email
		msg := approval.Message{Summary: a.Summary, Agency: ag, Role: approval.RoleDecide, Tier: a.Tier, Deadline: a.ExpiresAt,
			Link: s.Links.Link(a.ID, to, a.ExpiresAt), Reminder: kind == announceReminder, Escalation: a.Tier > 1, Review: true,
			Policy: p, Names: s.indicatorName}
		subject, text, html := msg.Compose()
		key := fmt.Sprintf("%s:review:%d:%d:%s", a.ID, a.Tier, kind, to)
		if _, err := s.Mailer.Send(ctx, outbox.Email{From: s.Sender, To: []string{to}, Subject: subject, Text: text, HTML: html,
			Headers: map[string]string{outbox.IdempotencyHeader: key}}); err != nil {
			return transient(stepName, c.ID, "mail the reviewer of "+ag.ID, err)
		}
		asked = append(asked, to)
	}
	typ, once := history.ApprovalRequested, "review:"+strconv.Itoa(a.Tier)
	switch {
	case kind == announceReminder:
		typ, once = history.ApprovalReminded, "review-reminder:"+strconv.Itoa(a.Tier)
	case a.Tier > 1:
		typ = history.ApprovalEscalated
	}
	why := []string{fmt.Sprintf("laporan publik: tinjauan tambahan oleh %s (%s) sebelum instansi diminta, menurut kebijakan %s / public report: extra review by %s (%s) before the agencies are asked, by policy %s",
		ag.Short(), p.ExtraReview.Role, p.Name, ag.Short(), p.ExtraReview.Role, p.Name)}
	if w := trustedWhy(a); w != "" {
		why = append(why, w)
	}
	_, err := s.record(ctx, stepName, c.ID, once, typ, history.ApprovalRequestedData{
		ApprovalID: a.ID, Tier: a.Tier, Tiers: len(p.Tiers), Approvers: asked, ExpiresAt: store.FormatTime(a.ExpiresAt),
		Policy: p.Name, Agencies: []string{ag.ID}, Channels: []string{approval.ChannelEmail}, Waiting: []string{ag.ID},
		Stage: approval.StageReview, Why: strings.Join(why, "; "),
	}, history.Change{Set: map[string]any{"status": store.StatusAwaitingApprove, "approval_id": a.ID, "approval": a.View(s.now())}})
	return err
}

// postSlack posts the tier's message (or a reminder in its thread) once.
func (s *Steps) postSlack(ctx context.Context, a approval.Approval, ag agency.Agency, msg approval.Message, kind announceKind) error {
	key := fmt.Sprintf("%d:%d", a.Tier, kind)
	if posted, ok := a.Slack[ag.ID]; ok && slices.Contains(posted.Posted, key) {
		return nil
	}
	thread := ""
	if posted, ok := a.Slack[ag.ID]; ok {
		thread = posted.TS
	}
	ch, ts, err := s.Slack.Post(ctx, ag.Channels.SlackChannel, thread, msg.SlackText(), msg.SlackBlocks(a.ID))
	if err != nil {
		return err
	}
	_, err = s.Approvals.Modify(ctx, a.ID, func(x *approval.Approval) error {
		if x.Slack == nil {
			x.Slack = map[string]approval.SlackMessage{}
		}
		m := x.Slack[ag.ID]
		if m.TS == "" || thread == "" {
			m.Channel, m.TS = ch, ts
		}
		m.Posted = append(m.Posted, key)
		x.Slack[ag.ID] = m
		return nil
	})
	return err
}

// indicatorName gives an indicator's names in both languages.
func (s *Steps) indicatorName(id string) (string, string) {
	if n, ok := s.Rules.Name(id); ok {
		return n.Indonesian, n.English
	}
	return id, id
}

// summary is the case as approvers see it, with the verification's
// indicators and the cases it shares recruiter contacts with.
func (s *Steps) summary(ctx context.Context, c *store.Case) (approval.Summary, error) {
	sum := approval.Summary{CaseID: c.ID, URL: c.URL, Platform: c.Platform, Urgency: c.Urgency, Score: c.Score, Verdict: c.Label,
		Reports: c.ReportCount, Category: c.Category}
	evs, err := s.log().List(ctx, c.ID, 0, 0)
	if err != nil {
		return sum, transient("request approval", c.ID, "read the history", err)
	}
	v, _, err := history.LastVerified(evs)
	if err != nil {
		return sum, err
	}
	sum.Excerpt = v.Evidence.Excerpt
	if v.Repost != nil {
		sum.Repost = v.Repost.Sentence
	}
	for _, ind := range v.Indicators {
		if ind.Kind == "info" {
			continue
		}
		nameID, nameEN := s.indicatorName(ind.ID)
		expID, expEN := s.Rules.Explanation(ind.ID)
		if expEN == "" {
			expEN = ind.Explanation
		}
		sum.Indicators = append(sum.Indicators, approval.Indicator{Code: ind.ID, Label: nameEN, LabelID: nameID,
			Explanation: expEN, ExplanationID: expID, Evidence: ind.Match})
	}
	byEntity := map[entity.Key][]string{}
	var order []entity.Key
	for _, r := range v.Related {
		for _, k := range r.Via {
			if _, seen := byEntity[k]; !seen {
				order = append(order, k)
			}
			byEntity[k] = append(byEntity[k], r.CaseID)
		}
	}
	for _, k := range order {
		sum.Related = append(sum.Related, approval.Related{Kind: k.Kind, Value: k.Value, CaseIDs: byEntity[k]})
	}
	return sum, nil
}
