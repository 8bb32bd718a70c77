package workflow

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/store"
)

// NoticeInput is SendTakedown's and Escalate's payload.
type NoticeInput struct {
	CaseID string `json:"case_id"`
	// Attempt is Step Functions' retry count of this task (0 first).
	Attempt int `json:"attempt"`
	// Level is the escalation level this notice opens: 0 the takedown
	// request, 1-3 the warnings.
	Level int `json:"level"`
	Task
}

// NoticeOutput is the deadline the notice set.
type NoticeOutput struct {
	Deadline string `json:"deadline"`
	Level    int    `json:"level"`
}

var warningKinds = map[int]platform.Kind{1: platform.KindWarning1, 2: platform.KindWarning2, 3: platform.KindWarning3}

// SendTakedown sends the takedown request through the platform's adapter.
// A platform error that may pass is a TransientError (the state machine
// retries with backoff); the attempt number is part of the idempotency key
// the platform sees, so a task run twice sends one notice per attempt.
func (s *Steps) SendTakedown(ctx context.Context, in NoticeInput) (NoticeOutput, error) {
	in.Level = 0
	return s.notice(ctx, in, platform.KindTakedown)
}

// Escalate sends warning 1, 2 or 3 to the platform's escalation contacts
// with a new deadline.
func (s *Steps) Escalate(ctx context.Context, in NoticeInput) (NoticeOutput, error) {
	kind, ok := warningKinds[in.Level]
	if !ok {
		return NoticeOutput{}, &InputError{Field: "level", Message: fmt.Sprintf("warning level %d does not exist (1-3)", in.Level)}
	}
	return s.notice(ctx, in, kind)
}

func (s *Steps) notice(ctx context.Context, in NoticeInput, kind platform.Kind) (out NoticeOutput, err error) {
	stepName := "send " + string(kind)
	ctx = begin(ctx, stepName, in.CaseID, in.Task)
	defer func() { done(ctx, stepName, err) }()
	c, err := s.getCase(ctx, stepName, in.CaseID)
	if err != nil {
		return NoticeOutput{}, err
	}
	step := "notice:" + string(kind)
	if contains(c.StepsDone, step) {
		return NoticeOutput{Deadline: c.Deadline, Level: in.Level}, nil
	}
	p, err := s.Platforms.Config.Get(c.Platform)
	if err != nil {
		return NoticeOutput{}, &InputError{Field: "platform", Message: err.Error()}
	}
	now := s.now()
	deadline := platform.Deadline(p, c.Urgency, now)
	req := platform.Request{
		CaseID: c.ID, Kind: kind, Attempt: in.Attempt + 1, URL: c.CanonicalURL, Platform: c.Platform,
		Urgency: c.Urgency, Deadline: deadline, Findings: evidenceLine(c),
	}
	// A notice already sent for this attempt (the task ran again after a
	// crash) is not sent again: e-mail, unlike a webhook, cannot be
	// deduplicated by the platform.
	sent, err := s.sentNotice(ctx, req.IdempotencyKey())
	if err != nil {
		return NoticeOutput{}, transient(stepName, c.ID, "look up the notice sent", err)
	}
	var receipt platform.Receipt
	if sent != nil {
		receipt = sent.Receipt
		if d, perr := time.Parse(time.RFC3339, sent.Deadline); perr == nil {
			deadline = d
		}
	} else {
		receipt, err = s.Platforms.Send(ctx, req)
		if err == nil {
			if err := s.rememberNotice(ctx, req.IdempotencyKey(), receipt, deadline); err != nil {
				return NoticeOutput{}, transient(stepName, c.ID, "remember the notice sent", err)
			}
		}
	}
	if err != nil {
		data := history.NoticeFailedData{Kind: string(kind), Attempt: req.Attempt, Error: err.Error(), Transient: platform.IsTransient(err)}
		// Each failed attempt is in the history too (once per attempt).
		if _, rerr := s.record(ctx, stepName, c.ID, step+":failed:"+strconv.Itoa(req.Attempt), history.NoticeFailed, data, history.Change{}); rerr != nil {
			return NoticeOutput{}, rerr
		}
		if platform.IsTransient(err) {
			return NoticeOutput{}, &platform.TransientError{Platform: c.Platform, Err: err}
		}
		return NoticeOutput{}, fmt.Errorf("%s %s: %w", stepName, c.ID, err)
	}
	status := store.StatusTakedownSent
	typ := history.TakedownRequested
	set := map[string]any{"deadline": store.FormatTime(deadline), "escalation": in.Level}
	if kind != platform.KindTakedown {
		status, typ = store.StatusEscalated, history.WarningSent
	} else {
		set["takedown_at"] = store.FormatTime(now)
	}
	set["status"] = status
	_, err = s.record(ctx, stepName, c.ID, step, typ, history.NoticeSentData{
		Kind: string(kind), Level: in.Level, Attempt: req.Attempt, Deadline: store.FormatTime(deadline),
		Channel: receipt.Channel, PlatformRef: receipt.PlatformRef, IdempotencyKey: receipt.IdempotencyKey,
	}, history.Change{Set: set})
	if err != nil {
		return NoticeOutput{}, err
	}
	return NoticeOutput{Deadline: store.FormatTime(deadline), Level: in.Level}, nil
}

// evidenceLine is what the notice cites: the case's indicators (the
// platform package names them) and the hash of the stored copy (it links
// it), never where the copy is kept.
func evidenceLine(c *store.Case) platform.Findings {
	hash, _ := evidence.HashOf(c.Evidence)
	return platform.Findings{Indicators: c.Indicators, EvidenceSHA256: hash}
}
