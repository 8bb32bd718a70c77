package workflow

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// ladder is the escalation ladder after the takedown request: warnings 1-3,
// then the sanctions (Permenkominfo 5/2020): the administrative fine
// recommendation and the access-blocking referral to the ministry.
var ladder = map[int]platform.Kind{
	1: platform.KindWarning1, 2: platform.KindWarning2, 3: platform.KindWarning3,
	4: platform.KindFine, 5: platform.KindBlocking,
}

// LadderTop is the last level of the ladder; the ASL closes a case as
// non_compliant when the ad is still up after it.
const LadderTop = 5

// Sanctions configure the rungs after warning 3.
type Sanctions struct {
	// FinePerItemIDR is the fine recommended per item of content not
	// taken down, in rupiah.
	FinePerItemIDR int64
	// Agency receives the access-blocking referral and decides platforms'
	// objections (Komdigi).
	Agency platform.Agency
}

// DefaultFinePerItemIDR is the fine per item when none is configured.
const DefaultFinePerItemIDR = 500_000_000

// SendTakedown sends the takedown request through the platform's adapter.
// A platform error that may pass is a TransientError (the state machine
// retries with backoff); the attempt number is part of the idempotency key
// the platform sees, so a task run twice sends one notice per attempt.
func (s *Steps) SendTakedown(ctx context.Context, in NoticeInput) (NoticeOutput, error) {
	in.Level = 0
	return s.notice(ctx, in, platform.KindTakedown)
}

// Escalate sends the next rung of the ladder with a new deadline: warning
// 1, 2 or 3 to the platform's escalation contacts, then the fine
// recommendation (4) and the access-blocking referral to the agency (5).
func (s *Steps) Escalate(ctx context.Context, in NoticeInput) (NoticeOutput, error) {
	kind, ok := ladder[in.Level]
	if !ok {
		return NoticeOutput{}, &InputError{Field: "level", Message: fmt.Sprintf("escalation level %d does not exist (1-%d)", in.Level, LadderTop)}
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
	switch kind {
	case platform.KindFine:
		per := s.Sanctions.FinePerItemIDR
		if per <= 0 {
			per = DefaultFinePerItemIDR
		}
		req.Fine = platform.Fine{PerItemIDR: per, Items: 1}
	case platform.KindBlocking:
		req.Agency = s.Sanctions.Agency
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
	takedownAt := c.TakedownAt
	switch kind {
	case platform.KindTakedown:
		takedownAt = store.FormatTime(now)
		set["takedown_at"] = takedownAt
	case platform.KindFine:
		status, typ = store.StatusEscalated, history.FineRecommended
	case platform.KindBlocking:
		status, typ = store.StatusEscalated, history.BlockingReferred
	default:
		status, typ = store.StatusEscalated, history.WarningSent
	}
	set["status"] = status
	sentAt := receipt.SentAt
	if sentAt.IsZero() {
		sentAt = now
	}
	// The platform API lists the notice until the case closes.
	open, err := s.Table.PutOpenNotice(store.OpenNotice{
		Ref: c.ID, Platform: c.Platform, URL: c.CanonicalURL, Kind: string(kind), Level: in.Level,
		LetterNumber: platform.LetterNumber(c.ID, kind, sentAt), Urgency: c.Urgency,
		SentAt: store.FormatTime(sentAt), Deadline: store.FormatTime(deadline), TakedownAt: takedownAt,
		Objection: c.Objection,
	})
	if err != nil {
		return NoticeOutput{}, err
	}
	ch := history.Change{Set: set, Items: []types.TransactWriteItem{open}}
	data := history.NoticeSentData{
		Kind: string(kind), Level: in.Level, Attempt: req.Attempt, Deadline: store.FormatTime(deadline),
		Channel: receipt.Channel, PlatformRef: receipt.PlatformRef, IdempotencyKey: receipt.IdempotencyKey,
	}
	if kind == platform.KindFine || kind == platform.KindBlocking {
		// Non-compliance figures per platform count the sanctions.
		counter := map[string]int64{"blocking_referrals": 1}
		if kind == platform.KindFine {
			data.FineAmountIDR = req.Fine.TotalIDR()
			counter = map[string]int64{"fines_recommended": 1, "fine_amount_idr": data.FineAmountIDR}
		} else {
			data.Agency = req.Agency.ID
		}
		ch.Items = append(ch.Items, s.Table.AddSanctions(c.Platform, counter))
	}
	_, err = s.record(ctx, stepName, c.ID, step, typ, data, ch)
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
