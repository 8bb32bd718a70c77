// Package compliance judges whether a platform took an ad down, and in time,
// and walks the escalation ladder when it did not.
//
//	v := compliance.Evaluate(platformCfg, compliance.Check{Status: ans.Status})          // status API
//	v := compliance.Evaluate(platformCfg, compliance.Check{HTTPStatus: 200, Body: page}) // re-fetch
//	if v.State == compliance.Removed { o := compliance.Outcome(deadline, removedAt) }   // removed_in_time / removed_late
//	next, err := compliance.DefaultLadder.NextStep(level, now) // warning_1 → warning_2 → warning_3 → non_compliant
package compliance

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/platform"
)

// State of an ad after a check.
type State string

// States. Unknown means the check could not tell (network error, 5xx, a
// login wall); the caller checks again later and does not count it as
// removed.
const (
	Removed State = "removed"
	Live    State = "live"
	Unknown State = "unknown"
)

// Check is what a compliance check observed: the platform's status API
// answer, or a re-fetch of the ad page, or both.
type Check struct {
	// Status is the status API's answer ("" when not asked).
	Status platform.Status
	// HTTPStatus, FinalURL and Body describe a re-fetch (HTTPStatus 0: no
	// re-fetch). Body is an excerpt of the page text.
	HTTPStatus int
	FinalURL   string
	Body       string
	// FetchErr is set when the re-fetch failed (DNS, timeout…).
	FetchErr error
}

// Verdict is Evaluate's answer.
type Verdict struct {
	State  State  `json:"state"`
	Reason string `json:"reason"`
}

// Evaluate decides removed, live or unknown. The platform's own answer
// wins; then 404/410; then a "content unavailable" marker of the platform
// on the page; then a redirect to the platform's home page; then any other
// 2xx page is live.
func Evaluate(p platform.Platform, c Check) Verdict {
	switch c.Status {
	case platform.StatusRemoved:
		return Verdict{Removed, "the platform reports the content removed"}
	case platform.StatusLive:
		return Verdict{Live, "the platform reports the content live"}
	}
	if c.HTTPStatus == 0 {
		if c.FetchErr != nil {
			return Verdict{Unknown, "re-fetch failed: " + c.FetchErr.Error()}
		}
		return Verdict{Unknown, "no status answer and no re-fetch"}
	}
	switch c.HTTPStatus {
	case 404:
		return Verdict{Removed, "the page answers 404 Not Found"}
	case 410:
		return Verdict{Removed, "the page answers 410 Gone"}
	case 451:
		return Verdict{Removed, "the page answers 451 Unavailable For Legal Reasons"}
	}
	body := normalize(c.Body)
	for _, m := range p.UnavailableMarkers {
		if m != "" && strings.Contains(body, normalize(m)) {
			return Verdict{Removed, fmt.Sprintf("the page says %q", m)}
		}
	}
	if c.HTTPStatus >= 200 && c.HTTPStatus < 300 {
		if isHome(c.FinalURL) {
			return Verdict{Removed, "the link now redirects to the site's home page"}
		}
		return Verdict{Live, fmt.Sprintf("the page answers %d and shows the content", c.HTTPStatus)}
	}
	return Verdict{Unknown, fmt.Sprintf("the page answers %d", c.HTTPStatus)}
}

// normalize decodes HTML entities, lower-cases and folds typographic
// apostrophes, so "isn&#39;t" and "isn’t" match "isn't".
func normalize(s string) string {
	s = html.UnescapeString(s)
	return strings.ToLower(strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u00a0", " ").Replace(s))
}

func isHome(final string) bool {
	if final == "" {
		return false
	}
	u, err := url.Parse(final)
	if err != nil {
		return false
	}
	return (u.Path == "" || u.Path == "/") && u.RawQuery == ""
}

// Outcomes of a removal.
const (
	RemovedInTime = "removed_in_time"
	RemovedLate   = "removed_late"
)

// Result is how a removal counts.
type Result struct {
	Outcome string `json:"outcome"`
	// TimeToRemoval is from the takedown request to the removal, when
	// Outcome is computed with OutcomeSince; otherwise zero.
	TimeToRemoval time.Duration `json:"time_to_removal_ns,omitempty"`
	// Late is how far past the deadline the removal came (0 when in time).
	Late time.Duration `json:"late_ns,omitempty"`
}

// Outcome classifies a removal at removedAt against the deadline: at or
// before it is removed_in_time, after it removed_late.
func Outcome(deadline, removedAt time.Time) Result {
	if !removedAt.After(deadline) {
		return Result{Outcome: RemovedInTime}
	}
	return Result{Outcome: RemovedLate, Late: removedAt.Sub(deadline)}
}

// OutcomeSince is Outcome with the time to removal counted from requestedAt.
func OutcomeSince(requestedAt, deadline, removedAt time.Time) Result {
	r := Outcome(deadline, removedAt)
	if d := removedAt.Sub(requestedAt); d > 0 {
		r.TimeToRemoval = d
	}
	return r
}

// Level is a rung of the escalation ladder.
type Level string

// Levels, in order. None is before any warning.
const (
	None         Level = ""
	Warning1     Level = "warning_1"
	Warning2     Level = "warning_2"
	Warning3     Level = "warning_3"
	NonCompliant Level = "non_compliant"
)

// Kind returns the platform notice kind sent at this level ("" for None
// and NonCompliant).
func (l Level) Kind() platform.Kind {
	switch l {
	case Warning1:
		return platform.KindWarning1
	case Warning2:
		return platform.KindWarning2
	case Warning3:
		return platform.KindWarning3
	}
	return ""
}

// Ladder says how long a platform gets after each warning.
type Ladder struct {
	Warning1, Warning2, Warning3 time.Duration
}

// DefaultLadder gives 24 hours after each warning.
var DefaultLadder = Ladder{Warning1: 24 * time.Hour, Warning2: 24 * time.Hour, Warning3: 24 * time.Hour}

// Step is the next rung: the level to move to and, for a warning, the new
// deadline. Final is true at NonCompliant (close the case).
type Step struct {
	Level    Level         `json:"level"`
	Kind     platform.Kind `json:"kind,omitempty"`
	Deadline time.Time     `json:"deadline,omitzero"`
	Final    bool          `json:"final"`
}

// ErrLadderEnd is returned for a level past the end of the ladder.
var ErrLadderEnd = errors.New("escalation ladder already ended (non_compliant)")

// NextStep returns the step after level, with the deadline counted from now.
func (l Ladder) NextStep(level Level, now time.Time) (Step, error) {
	switch level {
	case None:
		return Step{Level: Warning1, Kind: platform.KindWarning1, Deadline: now.Add(orDefault(l.Warning1))}, nil
	case Warning1:
		return Step{Level: Warning2, Kind: platform.KindWarning2, Deadline: now.Add(orDefault(l.Warning2))}, nil
	case Warning2:
		return Step{Level: Warning3, Kind: platform.KindWarning3, Deadline: now.Add(orDefault(l.Warning3))}, nil
	case Warning3:
		return Step{Level: NonCompliant, Final: true}, nil
	case NonCompliant:
		return Step{}, ErrLadderEnd
	}
	return Step{}, fmt.Errorf("escalation field level: unknown level %q", level)
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return 24 * time.Hour
	}
	return d
}

// NextStep is DefaultLadder.NextStep.
func NextStep(level Level, now time.Time) (Step, error) { return DefaultLadder.NextStep(level, now) }
