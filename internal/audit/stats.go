package audit

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/store"
)

// PlatformStats are one platform's compliance figures for the takedown
// requests of the asked WIB months, read from the counters TallyFunction
// keeps from the stream (never from the cases). Each request is in exactly
// one of RemovedInTime, RemovedLate, StillLive, NonCompliant and
// OtherClosed, so they add up to RequestsSent.
type PlatformStats struct {
	Platform string `json:"platform"`
	// Cases is every case of the platform opened in the months.
	Cases int `json:"cases"`
	// RequestsSent: takedown requests that reached the platform in the
	// months.
	RequestsSent int `json:"requests_sent"`
	// RemovedInTime: removed by the first deadline.
	RemovedInTime int `json:"removed_in_time"`
	// RemovedLate: removed, but after the first deadline (during warnings).
	RemovedLate int `json:"removed_late"`
	// StillLive: a request was sent and its case is not closed yet
	// (waiting for the deadline, in warnings or in the manual queue).
	StillLive int `json:"still_live"`
	// Overdue: of StillLive, those past their current deadline (from the
	// platform's open notices, which is the platform's work in hand).
	Overdue int `json:"overdue"`
	// NonCompliant: closed after the last warning with the ad still up.
	NonCompliant int `json:"non_compliant"`
	// OtherClosed: a request was sent, then the case was closed otherwise.
	OtherClosed int `json:"other_closed"`
	// RemovalsMeasured is how many removals have a time to removal; the
	// median and p90 are over those (nil when there are none), from a
	// histogram whose buckets are within ±9% of the times in them.
	RemovalsMeasured       int    `json:"removals_measured"`
	MedianSecondsToRemoval *int64 `json:"median_seconds_to_removal"`
	P90SecondsToRemoval    *int64 `json:"p90_seconds_to_removal"`
	// Sanctions are the fine recommendations and access-blocking
	// referrals the platform has received: counted since the start, not
	// limited to the months.
	Sanctions store.Sanctions `json:"sanctions"`
	// Escalations are the warnings sent for the months' requests
	// (EscalationsByLevel: warnings 1, 2 and 3).
	Escalations        int64   `json:"escalations"`
	EscalationsByLevel []int64 `json:"escalations_by_level"`
	outcomes           stats.Outcomes
}

// ComplianceResponse is the answer of GET /stats/compliance. From and To
// are the WIB months counted (empty: open).
type ComplianceResponse struct {
	From      string          `json:"from,omitempty"`
	To        string          `json:"to,omitempty"`
	AsOf      string          `json:"as_of"`
	Platforms []PlatformStats `json:"platforms"`
	Total     PlatformStats   `json:"total"`
	NoteID    string          `json:"note_id"`
	NoteEN    string          `json:"note_en"`
}

// ComplianceStats serves GET /stats/compliance?platform=&from=&to=: per
// platform, for the takedown requests of the WIB months from..to (each a
// month like 2026-11 or an RFC 3339 time, which names its WIB month; both
// optional), how many were sent and what became of them, with the median
// and 90th percentile of the time from the request to the removal. Each
// platform costs one Query of its monthly counters, one of its open
// notices and one read of its sanctions, however many cases it has.
func (r Reader) ComplianceStats(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	q := req.QueryStringParameters
	from, to, err := monthBounds(q)
	if err != nil {
		return api.Response{}, err
	}
	platforms := r.Platforms
	if p := q["platform"]; p != "" {
		if len(r.Platforms) > 0 && !slices.Contains(r.Platforms, p) {
			return api.Response{}, api.Invalid("platform", "platform %q tidak dikenal / unknown platform %q (known: %v)", p, p, r.Platforms)
		}
		platforms = []string{p}
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	out := ComplianceResponse{AsOf: store.FormatTime(now), Platforms: []PlatformStats{}, Total: PlatformStats{Platform: "all"},
		NoteID: "Bulan = bulan permintaan penurunan (WIB); kasus = kasus yang dibuka pada bulan itu. Waktu hingga dihapus: median dan p90 dari histogram (galat ±9%).",
		NoteEN: "Month = month of the takedown request (WIB); cases = cases opened in the month. Time to removal: median and p90 from a histogram (±9%)."}
	if from != "" {
		out.From = from
	}
	if to != "~" {
		out.To = to
	}
	for _, p := range platforms {
		s, err := r.platformStats(ctx, p, from, to, now)
		if err != nil {
			return api.Response{}, err
		}
		out.Platforms = append(out.Platforms, s)
		out.Total.add(s)
	}
	out.Total.finish()
	return api.JSON(200, out), nil
}

// monthBounds reads from and to as WIB months ("" and "~" when open).
func monthBounds(q map[string]string) (string, string, error) {
	from, to := "", "~"
	for _, f := range []struct {
		name string
		dst  *string
	}{{"from", &from}, {"to", &to}} {
		v := q[f.name]
		if v == "" {
			continue
		}
		if m, err := time.Parse("2006-01", v); err == nil {
			*f.dst = m.Format("2006-01")
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			*f.dst = stats.Month(t)
		} else {
			return "", "", api.Invalid(f.name, "%s harus bulan seperti 2026-11 atau waktu RFC 3339 / %s must be a month like 2026-11 or an RFC 3339 time", f.name, f.name)
		}
	}
	if to < from {
		return "", "", api.Invalid("to", "to sebelum from / to is before from")
	}
	return from, to, nil
}

func (r Reader) platformStats(ctx context.Context, platform, from, to string, now time.Time) (PlatformStats, error) {
	s := PlatformStats{Platform: platform}
	months, err := stats.ReadMonths(ctx, r.Table, store.StatsPlatform(platform), from, to)
	if err != nil {
		return s, fmt.Errorf("compliance figures of %s: %w", platform, err)
	}
	for _, m := range months {
		s.outcomes.Add(stats.OutcomesOf(m.Numbers))
	}
	notices, err := r.Table.OpenNotices(ctx, platform, math.MaxInt)
	if err != nil {
		return s, fmt.Errorf("compliance figures of %s: %w", platform, err)
	}
	for _, n := range notices {
		sent, err1 := time.Parse(time.RFC3339, n.TakedownAt)
		due, err2 := time.Parse(time.RFC3339, n.Deadline)
		if m := stats.Month(sent); err1 == nil && err2 == nil && m >= from && m <= to && now.After(due) {
			s.Overdue++
		}
	}
	if s.Sanctions, err = r.Table.GetSanctions(ctx, platform); err != nil {
		return s, err
	}
	s.finish()
	return s, nil
}

func (s *PlatformStats) add(o PlatformStats) {
	s.outcomes.Add(o.outcomes)
	s.Overdue += o.Overdue
	s.Sanctions.FinesRecommended += o.Sanctions.FinesRecommended
	s.Sanctions.FineAmountIDR += o.Sanctions.FineAmountIDR
	s.Sanctions.BlockingReferrals += o.Sanctions.BlockingReferrals
}

// finish fills the figures from the summed counters.
func (s *PlatformStats) finish() {
	o := s.outcomes
	s.Cases, s.RequestsSent = int(o.Cases), int(o.Requests)
	s.RemovedInTime, s.RemovedLate, s.StillLive = int(o.RemovedInTime), int(o.RemovedLate), int(o.StillLive())
	s.NonCompliant, s.OtherClosed = int(o.NonCompliant), int(o.OtherClosed)
	s.Overdue = min(s.Overdue, s.StillLive)
	s.Escalations, s.EscalationsByLevel = o.Escalations, append([]int64(nil), o.EscalationsByLevel[:]...)
	s.RemovalsMeasured = int(o.TimeToRemoval.N())
	s.MedianSecondsToRemoval, s.P90SecondsToRemoval = o.TimeToRemoval.Quantile(0.5), o.TimeToRemoval.Quantile(0.9)
}
