package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/store"
)

// PlatformStats are one platform's compliance figures over the cases
// created in the asked period. Every count is of cases, and each case with
// a takedown request is in exactly one of RemovedInTime, RemovedLate,
// StillLive, NonCompliant and OtherClosed, so they add up to RequestsSent.
type PlatformStats struct {
	Platform string `json:"platform"`
	// Cases is every case of the platform created in the period.
	Cases int `json:"cases"`
	// RequestsSent: cases whose takedown request reached the platform.
	RequestsSent int `json:"requests_sent"`
	// RemovedInTime: removed by the first deadline.
	RemovedInTime int `json:"removed_in_time"`
	// RemovedLate: removed, but after the first deadline (during warnings).
	RemovedLate int `json:"removed_late"`
	// StillLive: a request was sent, the ad has not been seen removed and
	// the case is still open (waiting for the deadline or in warnings).
	StillLive int `json:"still_live"`
	// Overdue: of StillLive, those past their current deadline.
	Overdue int `json:"overdue"`
	// NonCompliant: closed after the last warning with the ad still up.
	NonCompliant int `json:"non_compliant"`
	// OtherClosed: a request was sent, then the case was closed otherwise
	// (e.g. moved to the manual queue by an operator).
	OtherClosed int `json:"other_closed"`
	// RemovalsMeasured is how many removals have both times recorded; the
	// median and p90 are over those (nil when there are none).
	RemovalsMeasured       int    `json:"removals_measured"`
	MedianSecondsToRemoval *int64 `json:"median_seconds_to_removal"`
	P90SecondsToRemoval    *int64 `json:"p90_seconds_to_removal"`
	// Sanctions are the fine recommendations and access-blocking
	// referrals the platform has received: counted since the start, not
	// limited to the period.
	Sanctions store.Sanctions `json:"sanctions"`
	// Escalations are the warnings sent (EscalationsByLevel: warnings 1,
	// 2 and 3), from the counters kept from the stream: for the takedown
	// requests of the WIB months the period touches (every month when it
	// is open), counted in the month of the request.
	Escalations        int64   `json:"escalations"`
	EscalationsByLevel []int64 `json:"escalations_by_level"`
	durations          []time.Duration
}

// ComplianceResponse is the answer of GET /stats/compliance.
type ComplianceResponse struct {
	From      string          `json:"from,omitempty"`
	To        string          `json:"to,omitempty"`
	AsOf      string          `json:"as_of"`
	Platforms []PlatformStats `json:"platforms"`
	Total     PlatformStats   `json:"total"`
}

// statsItem is the part of a case the figures need (a projection).
type statsItem struct {
	Status     string `dynamodbav:"status"`
	Outcome    string `dynamodbav:"outcome"`
	TakedownAt string `dynamodbav:"takedown_at"`
	RemovedAt  string `dynamodbav:"removed_at"`
	Deadline   string `dynamodbav:"deadline"`
}

// ComplianceStats serves GET /stats/compliance?platform=&from=&to=: per
// platform, over the cases created between from and to (RFC 3339, both
// optional), how many takedown requests were sent and what became of them,
// with the median and 90th percentile (nearest rank) of the time from the
// request to the removal. Each platform is one paginated Query of the
// ByPlatform index, reading only the attributes the figures need.
func (r Reader) ComplianceStats(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	q := req.QueryStringParameters
	from, to, err := timeRange(q)
	if err != nil {
		return api.Response{}, err
	}
	platforms := r.Platforms
	if p := q["platform"]; p != "" {
		if len(r.Platforms) > 0 && !slices.Contains(r.Platforms, p) {
			return api.Response{}, api.Invalid("platform", "unknown platform %q (known: %v)", p, r.Platforms)
		}
		platforms = []string{p}
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	out := ComplianceResponse{AsOf: store.FormatTime(now), Platforms: []PlatformStats{}, Total: PlatformStats{Platform: "all"}}
	if q["from"] != "" {
		out.From = store.FormatTime(from)
	}
	if q["to"] != "" {
		out.To = store.FormatTime(to)
	}
	fromMonth, toMonth := "", "~"
	if q["from"] != "" {
		fromMonth = stats.Month(from)
	}
	if q["to"] != "" {
		toMonth = stats.Month(to)
	}
	out.Total.EscalationsByLevel = make([]int64, 3)
	for _, p := range platforms {
		s, err := r.platformStats(ctx, p, from, to, now)
		if err != nil {
			return api.Response{}, err
		}
		if err := s.escalations(ctx, r.Table, fromMonth, toMonth); err != nil {
			return api.Response{}, err
		}
		out.Platforms = append(out.Platforms, s)
		out.Total.add(s)
	}
	out.Total.finish()
	return api.JSON(200, out), nil
}

func (r Reader) platformStats(ctx context.Context, platform string, from, to, now time.Time) (PlatformStats, error) {
	s := PlatformStats{Platform: platform}
	p := dynamodb.NewQueryPaginator(r.Table.DB, &dynamodb.QueryInput{
		TableName:              aws.String(r.Table.Name),
		IndexName:              aws.String(store.IndexByPlatform),
		KeyConditionExpression: aws.String("GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: store.PlatformKey(platform)},
			":from": &types.AttributeValueMemberS{Value: store.FormatTime(from)},
			":to":   &types.AttributeValueMemberS{Value: store.FormatTime(to) + "~"},
		},
		ProjectionExpression:     aws.String("#status, outcome, takedown_at, removed_at, deadline"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s, fmt.Errorf("compliance figures of %s: %w", platform, err)
		}
		var items []statsItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return s, fmt.Errorf("compliance figures of %s: decode: %w", platform, err)
		}
		for _, it := range items {
			s.count(it, now)
		}
	}
	s.finish()
	sanctions, err := r.Table.GetSanctions(ctx, platform)
	if err != nil {
		return s, err
	}
	s.Sanctions = sanctions
	return s, nil
}

// count adds one case to the figures.
func (s *PlatformStats) count(it statsItem, now time.Time) {
	s.Cases++
	if it.TakedownAt == "" {
		return
	}
	s.RequestsSent++
	switch {
	case it.Outcome == store.StatusRemovedInTime:
		s.RemovedInTime++
	case it.Outcome == store.StatusRemovedLate:
		s.RemovedLate++
	case it.Status == store.StatusNonCompliant:
		s.NonCompliant++
	case store.IsClosed(it.Status) || it.Status == store.StatusManualQueue:
		s.OtherClosed++
	default:
		s.StillLive++
		if d, err := time.Parse(time.RFC3339, it.Deadline); err == nil && now.After(d) {
			s.Overdue++
		}
	}
	if it.Outcome != store.StatusRemovedInTime && it.Outcome != store.StatusRemovedLate {
		return
	}
	sent, err1 := time.Parse(time.RFC3339, it.TakedownAt)
	removed, err2 := time.Parse(time.RFC3339, it.RemovedAt)
	if err1 != nil || err2 != nil {
		return
	}
	d := removed.Sub(sent)
	if d < 0 {
		d = 0 // taken down before our request reached it
	}
	s.durations = append(s.durations, d)
}

// escalations reads the platform's warnings from its monthly counters.
func (s *PlatformStats) escalations(ctx context.Context, t store.Table, from, to string) error {
	months, err := stats.ReadMonths(ctx, t, store.StatsPlatform(s.Platform), from, to)
	if err != nil {
		return err
	}
	s.EscalationsByLevel = make([]int64, 3)
	for _, m := range months {
		s.Escalations += m.Numbers["escalations"]
		for l := 1; l <= 3; l++ {
			s.EscalationsByLevel[l-1] += m.Numbers[stats.AttrEscLevel+strconv.Itoa(l)]
		}
	}
	return nil
}

func (s *PlatformStats) add(o PlatformStats) {
	s.Escalations += o.Escalations
	for i, n := range o.EscalationsByLevel {
		s.EscalationsByLevel[i] += n
	}
	s.Cases += o.Cases
	s.RequestsSent += o.RequestsSent
	s.RemovedInTime += o.RemovedInTime
	s.RemovedLate += o.RemovedLate
	s.StillLive += o.StillLive
	s.Overdue += o.Overdue
	s.NonCompliant += o.NonCompliant
	s.OtherClosed += o.OtherClosed
	s.Sanctions.FinesRecommended += o.Sanctions.FinesRecommended
	s.Sanctions.FineAmountIDR += o.Sanctions.FineAmountIDR
	s.Sanctions.BlockingReferrals += o.Sanctions.BlockingReferrals
	s.durations = append(s.durations, o.durations...)
}

func (s *PlatformStats) finish() {
	s.RemovalsMeasured = len(s.durations)
	if len(s.durations) == 0 {
		s.MedianSecondsToRemoval, s.P90SecondsToRemoval = nil, nil
		return
	}
	med := int64(percentile(s.durations, 0.5).Seconds())
	p90 := int64(percentile(s.durations, 0.9).Seconds())
	s.MedianSecondsToRemoval, s.P90SecondsToRemoval = &med, &p90
}
