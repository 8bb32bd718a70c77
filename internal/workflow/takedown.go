package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tangkal/tangkal/internal/compliance"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/safefetch"
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

func (s *Steps) notice(ctx context.Context, in NoticeInput, kind platform.Kind) (NoticeOutput, error) {
	c, err := s.getCase(ctx, in.CaseID)
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
		return NoticeOutput{}, err
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
			err = s.rememberNotice(ctx, req.IdempotencyKey(), receipt, deadline)
		}
	}
	if err != nil {
		data := map[string]any{"kind": kind, "attempt": req.Attempt, "error": err.Error(), "transient": platform.IsTransient(err)}
		// Each failed attempt is in the history too (once per attempt).
		if _, rerr := s.record(ctx, c.ID, step+":failed:"+strconv.Itoa(req.Attempt), "notice_failed", data, history.Change{}); rerr != nil {
			return NoticeOutput{}, rerr
		}
		if platform.IsTransient(err) {
			return NoticeOutput{}, &platform.TransientError{Platform: c.Platform, Err: err}
		}
		return NoticeOutput{}, err
	}
	status := store.StatusTakedownSent
	typ := "takedown_requested"
	set := map[string]any{"deadline": store.FormatTime(deadline), "escalation": in.Level}
	if kind != platform.KindTakedown {
		status, typ = store.StatusEscalated, "warning_sent"
	} else {
		set["takedown_at"] = store.FormatTime(now)
	}
	set["status"] = status
	_, err = s.record(ctx, c.ID, step, typ, map[string]any{
		"kind": kind, "level": in.Level, "attempt": req.Attempt, "deadline": store.FormatTime(deadline),
		"channel": receipt.Channel, "platform_ref": receipt.PlatformRef, "idempotency_key": receipt.IdempotencyKey,
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

// CheckInput is CheckCompliance's payload.
type CheckInput struct {
	CaseID string `json:"case_id"`
	Level  int    `json:"level"`
}

// CheckOutput says whether the ad is gone and, if so, the outcome.
type CheckOutput struct {
	Removed bool   `json:"removed"`
	Outcome string `json:"outcome"`
}

// CheckCompliance asks the platform's status API where it has one and
// otherwise re-fetches the ad through the safe fetcher.
func (s *Steps) CheckCompliance(ctx context.Context, in CheckInput) (CheckOutput, error) {
	c, err := s.getCase(ctx, in.CaseID)
	if err != nil {
		return CheckOutput{}, err
	}
	step := "check:" + strconv.Itoa(in.Level)
	if contains(c.StepsDone, step) {
		if store.IsClosed(c.Outcome) || c.Outcome != "" {
			return CheckOutput{Removed: true, Outcome: c.Outcome}, nil
		}
		return CheckOutput{}, nil
	}
	p, err := s.Platforms.Config.Get(c.Platform)
	if err != nil {
		return CheckOutput{}, &InputError{Field: "platform", Message: err.Error()}
	}
	now := s.now()
	data := map[string]any{"level": in.Level, "checked_at": store.FormatTime(now)}
	removed := false
	// removedAt is the platform's own removal time when it gives one
	// (exact); otherwise the time this check saw the ad gone, an upper bound.
	var removedAt time.Time
	exact := false
	ans, err := s.Platforms.Status(ctx, c.Platform, c.CanonicalURL)
	switch {
	case err == nil && ans.Status != platform.StatusUnknown:
		data["method"] = "status_api"
		data["platform_status"] = ans.Status
		removed = ans.Status == platform.StatusRemoved
		if removed {
			removedAt = now
			if ans.RemovedAt != nil {
				removedAt, exact = *ans.RemovedAt, true
			}
		}
	case err == nil || errors.Is(err, platform.ErrNoStatusAPI):
		data["method"] = "refetch"
		res, ferr := s.Fetcher.Get(ctx, c.URL)
		var blocked *safefetch.BlockedError
		switch {
		case errors.As(ferr, &blocked):
			data["blocked"] = blocked.Error()
			removed, removedAt = true, now // nothing we may fetch is left at that address
		case ferr != nil:
			return CheckOutput{}, &TransientError{Err: ferr}
		default:
			data["status"], data["final_url"], data["sha256"] = res.Status, res.FinalURL, res.SHA256
			v := compliance.Evaluate(p, compliance.Check{HTTPStatus: res.Status, FinalURL: res.FinalURL, Body: res.Title + " " + res.Excerpt})
			if v.State == compliance.Unknown {
				return CheckOutput{}, &TransientError{Err: fmt.Errorf("cannot tell whether %s is gone: %s", c.URL, v.Reason)}
			}
			data["reason"] = v.Reason
			removed, removedAt = v.State == compliance.Removed, now
		}
	default:
		if platform.IsTransient(err) {
			return CheckOutput{}, &platform.TransientError{Platform: c.Platform, Err: err}
		}
		return CheckOutput{}, &TransientError{Err: err}
	}
	data["removed"] = removed
	out := CheckOutput{Removed: removed}
	ch := history.Change{}
	if removed {
		deadline, _ := time.Parse(time.RFC3339, c.Deadline)
		// Without the platform's own time, the first check after the
		// deadline finding the ad gone means it went before the deadline.
		inTime := in.Level == 0
		if exact {
			inTime = deadline.IsZero() || !removedAt.After(deadline)
		}
		out.Outcome = store.StatusRemovedLate
		if inTime {
			out.Outcome = store.StatusRemovedInTime
		}
		data["outcome"], data["removed_at"], data["removed_at_exact"] = out.Outcome, store.FormatTime(removedAt), exact
		if sent, err := time.Parse(time.RFC3339, c.TakedownAt); err == nil {
			data["time_to_removal_seconds"] = int64(removedAt.Sub(sent).Seconds())
		}
		ch.Set = map[string]any{"outcome": out.Outcome, "removed_at": store.FormatTime(removedAt)}
	}
	if _, err := s.record(ctx, c.ID, step, "compliance_checked", data, ch); err != nil {
		return CheckOutput{}, err
	}
	return out, nil
}

// CloseInput is CloseCase's payload.
type CloseInput struct {
	CaseID  string         `json:"case_id"`
	Outcome string         `json:"outcome"`
	Failure map[string]any `json:"failure,omitempty"`
}

var outcomes = map[string]bool{
	store.StatusRemovedInTime: true, store.StatusRemovedLate: true, store.StatusNonCompliant: true,
	store.StatusRejected: true, store.StatusApprovalExpired: true, store.StatusNotActionable: true,
	store.StatusLegitimate: true, store.StatusNotJobAd: true, store.StatusDuplicate: true, store.StatusManualQueue: true,
}

// CloseCase records the case's outcome, or its move to the manual queue.
func (s *Steps) CloseCase(ctx context.Context, in CloseInput) (struct{}, error) {
	if !outcomes[in.Outcome] {
		return struct{}{}, &InputError{Field: "outcome", Message: fmt.Sprintf("unknown outcome %q", in.Outcome)}
	}
	c, err := s.getCase(ctx, in.CaseID)
	if err != nil {
		return struct{}{}, err
	}
	now := store.FormatTime(s.now())
	set := map[string]any{"status": in.Outcome, "outcome": in.Outcome}
	typ := "case_closed"
	if in.Outcome == store.StatusManualQueue {
		typ = "moved_to_manual_queue"
	} else {
		set["closed_at"] = now
	}
	data := map[string]any{"outcome": in.Outcome}
	if in.Failure != nil {
		data["failure"] = in.Failure
	}
	if c.RemovedAt != "" {
		data["removed_at"] = c.RemovedAt
	}
	_, err = s.record(ctx, c.ID, "close", typ, data, history.Change{Set: set})
	return struct{}{}, err
}
