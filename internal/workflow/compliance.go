package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tangkal/tangkal/internal/compliance"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
)

// CheckInput is CheckCompliance's payload.
type CheckInput struct {
	CaseID string `json:"case_id"`
	Level  int    `json:"level"`
	Task
}

// CheckOutput says whether the ad is gone and, if so, the outcome; and
// whether the ladder waits for the agency to decide the platform's
// objection.
type CheckOutput struct {
	Removed  bool   `json:"removed"`
	Outcome  string `json:"outcome"`
	Objected bool   `json:"objected"`
}

// objectionOpen reports whether the ladder must wait for (or take) the
// agency's decision on the platform's objection: pending, or upheld
// before the workflow got there.
func objectionOpen(c *store.Case) bool {
	return c.Objection == store.ObjectionPending || c.Objection == store.ObjectionUpheld
}

const stepCheck = "check compliance"

// sighting is what one check found out about the ad.
type sighting struct {
	data    history.ComplianceCheckedData
	removed bool
	// at is the platform's own removal time when it gives one (exact);
	// otherwise the time this check saw the ad gone, an upper bound.
	at    time.Time
	exact bool
}

// CheckCompliance asks the platform's status API where it has one and
// otherwise re-fetches the ad through the safe fetcher.
func (s *Steps) CheckCompliance(ctx context.Context, in CheckInput) (out CheckOutput, err error) {
	ctx = begin(ctx, stepCheck, in.CaseID, in.Task)
	defer func() { done(ctx, stepCheck, err) }()
	c, err := s.getCase(ctx, stepCheck, in.CaseID)
	if err != nil {
		return CheckOutput{}, err
	}
	step := "check:" + strconv.Itoa(in.Level)
	if contains(c.StepsDone, step) {
		if c.Outcome != "" {
			return CheckOutput{Removed: true, Outcome: c.Outcome}, nil
		}
		return CheckOutput{Objected: objectionOpen(c)}, nil
	}
	p, err := s.Platforms.Config.Get(c.Platform)
	if err != nil {
		return CheckOutput{}, &InputError{Field: "platform", Message: err.Error()}
	}
	now := s.now()
	seen, err := s.askStatusAPI(ctx, c, now)
	if errors.Is(err, platform.ErrNoStatusAPI) {
		seen, err = s.refetch(ctx, c, p, now)
	}
	if err != nil {
		return CheckOutput{}, err
	}
	seen.data.Level, seen.data.CheckedAt, seen.data.Removed = in.Level, store.FormatTime(now), seen.removed
	out = CheckOutput{Removed: seen.removed}
	ch := history.Change{}
	if seen.removed {
		out.Outcome = outcomeOf(c, in.Level, seen)
		seen.data.Outcome, seen.data.RemovedAt, seen.data.RemovedAtExact = out.Outcome, store.FormatTime(seen.at), &seen.exact
		if sent, err := time.Parse(time.RFC3339, c.TakedownAt); err == nil {
			secs := int64(seen.at.Sub(sent).Seconds())
			seen.data.TimeToRemovalSeconds = &secs
		}
		ch.Set = map[string]any{"outcome": out.Outcome, "removed_at": store.FormatTime(seen.at)}
	}
	if _, err := s.record(ctx, stepCheck, c.ID, step, history.ComplianceChecked, seen.data, ch); err != nil {
		return CheckOutput{}, err
	}
	if !seen.removed && c.PlatformAnswer == AnswerRemoved {
		// The platform said it removed the ad; the check says otherwise.
		// The claim is recorded as contradicted and the ladder goes on.
		data := history.AnswerContradictedData{Level: in.Level, ClaimedRemovedAt: c.ClaimedRemovedAt, CheckedAt: seen.data.CheckedAt, Method: seen.data.Method}
		if _, err := s.record(ctx, stepCheck, c.ID, step+":contradicted", history.PlatformAnswerContradicted, data,
			history.Change{Set: map[string]any{"platform_answer": AnswerContradicted}}); err != nil {
			return CheckOutput{}, err
		}
	}
	out.Objected = !seen.removed && objectionOpen(c)
	return out, nil
}

// The platform's answers to a notice (POST /platform/notices/{ref}), and
// what a "removed" answer becomes when a check finds the ad still online.
const (
	AnswerAcknowledged     = "acknowledged"
	AnswerRemoved          = "removed"
	AnswerNeedsInformation = "needs_information"
	AnswerObjected         = "objected"
	AnswerContradicted     = "removed_contradicted"
)

// outcomeOf tells removed in time from removed late. Without the
// platform's own time, the first check after the deadline finding the ad
// gone means it went before the deadline.
func outcomeOf(c *store.Case, level int, seen sighting) string {
	inTime := level == 0
	if seen.exact {
		deadline, _ := time.Parse(time.RFC3339, c.Deadline)
		inTime = deadline.IsZero() || !seen.at.After(deadline)
	}
	if inTime {
		return store.StatusRemovedInTime
	}
	return store.StatusRemovedLate
}

// askStatusAPI asks the platform's status API. platform.ErrNoStatusAPI
// means the platform has none, or it does not know the ad: re-fetch.
func (s *Steps) askStatusAPI(ctx context.Context, c *store.Case, now time.Time) (sighting, error) {
	ans, err := s.Platforms.Status(ctx, c.Platform, c.CanonicalURL)
	switch {
	case errors.Is(err, platform.ErrNoStatusAPI):
		return sighting{}, err
	case err != nil && platform.IsTransient(err):
		return sighting{}, &platform.TransientError{Platform: c.Platform, Err: err}
	case err != nil:
		return sighting{}, transient(stepCheck, c.ID, "ask the platform's status API", err)
	case ans.Status == platform.StatusUnknown:
		return sighting{}, platform.ErrNoStatusAPI
	}
	seen := sighting{data: history.ComplianceCheckedData{Method: "status_api", PlatformStatus: string(ans.Status)}}
	seen.removed = ans.Status == platform.StatusRemoved
	if seen.removed {
		seen.at = now
		if ans.RemovedAt != nil {
			seen.at, seen.exact = *ans.RemovedAt, true
		}
	}
	return seen, nil
}

// refetch fetches the ad again and judges from what comes back, with the
// platform's "content unavailable" markers.
func (s *Steps) refetch(ctx context.Context, c *store.Case, p platform.Platform, now time.Time) (sighting, error) {
	seen := sighting{data: history.ComplianceCheckedData{Method: "refetch"}, at: now}
	res, err := s.Fetcher.Get(ctx, c.URL)
	var blocked *safefetch.BlockedError
	switch {
	case errors.As(err, &blocked):
		// Nothing we may fetch is left at that address.
		seen.data.Blocked, seen.removed = blocked.Error(), true
		return seen, nil
	case err != nil:
		return sighting{}, transient(stepCheck, c.ID, "re-fetch the ad", err)
	}
	seen.data.Status, seen.data.FinalURL, seen.data.SHA256 = res.Status, res.FinalURL, res.SHA256
	v := compliance.Evaluate(p, compliance.Check{HTTPStatus: res.Status, FinalURL: res.FinalURL, Body: res.Title + " " + res.Excerpt})
	if v.State == compliance.Unknown {
		return sighting{}, transient(stepCheck, c.ID, "judge the re-fetch", fmt.Errorf("cannot tell whether %s is gone: %s", c.URL, v.Reason))
	}
	seen.data.Reason, seen.removed = v.Reason, v.State == compliance.Removed
	return seen, nil
}
