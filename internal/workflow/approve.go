package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/store"
)

// ApprovalInput is RequestApproval's payload.
type ApprovalInput struct {
	CaseID         string `json:"case_id"`
	Tier           int    `json:"tier"`
	Tiers          int    `json:"tiers"`
	TimeoutSeconds int    `json:"timeout_seconds"`
	TaskToken      string `json:"task_token"`
	Task
}

// ApprovalOutput is RequestApproval's answer (the workflow waits for the
// callback; this is only logged by Step Functions).
type ApprovalOutput struct {
	ApprovalID string `json:"approval_id"`
}

// approvalID is derived from the task token, so a retried task finds the
// approval it already created instead of mailing approvers twice.
func approvalID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return approval.IDPrefix + hex.EncodeToString(sum[:])[:26]
}

// RequestApproval stores the task token under an approval id and sends
// this tier's approvers their signed links.
func (s *Steps) RequestApproval(ctx context.Context, in ApprovalInput) (out ApprovalOutput, err error) {
	const stepName = "request approval"
	ctx = begin(ctx, stepName, in.CaseID, in.Task)
	defer func() { done(ctx, stepName, err) }()
	if in.TaskToken == "" {
		return ApprovalOutput{}, &InputError{Field: "task_token", Message: "required"}
	}
	if in.Tier < 1 || in.Tier > len(s.ApproverTiers) {
		return ApprovalOutput{}, &InputError{Field: "tier", Message: fmt.Sprintf("tier %d not configured (%d tiers)", in.Tier, len(s.ApproverTiers))}
	}
	c, err := s.getCase(ctx, stepName, in.CaseID)
	if err != nil {
		return ApprovalOutput{}, err
	}
	id := approvalID(in.TaskToken)
	step := "approval:" + strconv.Itoa(in.Tier)
	approvers := s.ApproverTiers[in.Tier-1]
	a, err := s.Approvals.Get(ctx, id)
	switch {
	case err == nil && contains(c.StepsDone, step):
		return ApprovalOutput{ApprovalID: id}, nil // requested and recorded by an earlier run of this task
	case err == nil:
		// An earlier run created the approval but stopped (a crash) before
		// its messages went out or before it was recorded: finish the job.
		// The outbox drops a message whose idempotency key it already has.
		return s.announceApproval(ctx, c, in, a, approvers, step)
	case !errors.Is(err, approval.ErrNotFound):
		return ApprovalOutput{}, transient(stepName, c.ID, "read the approval", err)
	}
	// The previous tier's request is over: its links stop working. If it
	// was decided after all (the decision was recorded but never reached
	// the workflow, e.g. a crash in between), that decision stands: hand it
	// to the workflow through this task instead of asking the next tier.
	if c.ApprovalID != "" {
		_, err := s.Approvals.Expire(ctx, c.ApprovalID)
		switch {
		case errors.Is(err, approval.ErrAlreadyDecided):
			return s.recoverDecision(ctx, c, in, step)
		case err != nil && !errors.Is(err, approval.ErrNotFound):
			return ApprovalOutput{}, transient(stepName, c.ID, "expire the previous tier's approval", err)
		}
	}
	timeout := time.Duration(in.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = 4 * time.Hour
	}
	summary, err := s.summary(ctx, c)
	if err != nil {
		return ApprovalOutput{}, err
	}
	deciders := append([]string(nil), approvers...)
	for user, who := range s.SlackApprovers {
		if contains(approvers, who) {
			deciders = append(deciders, approval.SlackApprover(user))
		}
	}
	a, err = s.Approvals.Create(ctx, approval.Approval{
		ID: id, CaseID: c.ID, TaskToken: in.TaskToken, Tier: strconv.Itoa(in.Tier), Approvers: deciders,
		ExpiresAt: s.now().Add(timeout), Summary: summary,
	})
	if err != nil {
		return ApprovalOutput{}, transient(stepName, c.ID, "create the approval", err)
	}
	return s.announceApproval(ctx, c, in, a, approvers, step)
}

// announceApproval sends an approval request's messages and records it in
// the case's history.
func (s *Steps) announceApproval(ctx context.Context, c *store.Case, in ApprovalInput, a approval.Approval, approvers []string, step string) (ApprovalOutput, error) {
	summary := a.Summary
	for _, to := range approvers {
		link := s.Links.Link(a.ID, to, a.ExpiresAt)
		subject, text, html := approval.Compose(summary, link)
		_, err := s.Mailer.Send(ctx, outbox.Email{
			From: s.Sender, To: []string{to}, Subject: subject, Text: text, HTML: html,
			Headers: map[string]string{outbox.IdempotencyHeader: a.ID + ":" + to},
		})
		if err != nil {
			return ApprovalOutput{}, transient("request approval", c.ID, fmt.Sprintf("mail the approval request to tier %d", in.Tier), err)
		}
	}
	if s.Slack != nil && s.SlackChannel != "" {
		if err := s.Slack.Post(ctx, s.SlackChannel, approval.SlackBlocks(summary, a.ID, "")); err != nil {
			return ApprovalOutput{}, transient("request approval", c.ID, "post the approval request to Slack", err)
		}
	}
	typ := history.ApprovalRequested
	if in.Tier > 1 {
		typ = history.ApprovalEscalated
	}
	_, err := s.record(ctx, "request approval", c.ID, step, typ, history.ApprovalRequestedData{
		ApprovalID: a.ID, Tier: in.Tier, Tiers: in.Tiers, Approvers: approvers, ExpiresAt: store.FormatTime(a.ExpiresAt),
	}, history.Change{Set: map[string]any{"status": store.StatusAwaitingApprove, "approval_id": a.ID}})
	if err != nil {
		return ApprovalOutput{}, err
	}
	return ApprovalOutput{ApprovalID: a.ID}, nil
}

// summary is the case as approvers see it, with the verification's
// indicators and the cases it shares recruiter contacts with.
func (s *Steps) summary(ctx context.Context, c *store.Case) (approval.Summary, error) {
	sum := approval.Summary{CaseID: c.ID, URL: c.URL, Platform: c.Platform, Urgency: c.Urgency, Score: c.Score, Verdict: c.Label, Reports: c.ReportCount}
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
		sum.Indicators = append(sum.Indicators, approval.Indicator{Code: ind.ID, Label: humanize(ind.ID), Explanation: ind.Explanation, Evidence: ind.Match})
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

// humanize turns an indicator id into a label: "passport_held" → "Passport held".
func humanize(id string) string {
	s := strings.ReplaceAll(id, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// recoverDecision completes this task with the previous tier's recorded
// decision.
func (s *Steps) recoverDecision(ctx context.Context, c *store.Case, in ApprovalInput, step string) (ApprovalOutput, error) {
	const stepName = "recover decision"
	prev, err := s.Approvals.Get(ctx, c.ApprovalID)
	if err != nil {
		return ApprovalOutput{}, transient(stepName, c.ID, "read the decided approval", err)
	}
	if prev.Status != approval.StatusApproved && prev.Status != approval.StatusRejected {
		return ApprovalOutput{}, transient(stepName, c.ID, "read the decided approval", fmt.Errorf("approval %s is %s", prev.ID, prev.Status))
	}
	if _, err := s.record(ctx, stepName, c.ID, step, history.ApprovalDecisionRecovered, history.ApprovalDecidedData{
		ApprovalID: prev.ID, Decision: prev.Decision, DecidedBy: prev.DecidedBy, Tier: strconv.Itoa(in.Tier),
	}, history.Change{}); err != nil {
		return ApprovalOutput{}, err
	}
	slog.InfoContext(ctx, "decision recorded earlier handed to the workflow", "approval_id", prev.ID)
	if err := (approval.Completer{SFN: s.Tasks}).Send(ctx, in.TaskToken, prev); err != nil {
		return ApprovalOutput{}, transient(stepName, c.ID, "send the decision", err)
	}
	return ApprovalOutput{ApprovalID: prev.ID}, nil
}
