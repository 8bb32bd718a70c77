package audit

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/store"
)

// Durations are a count with its median and 90th percentile (nearest rank,
// from histogram buckets: within ±9% of the exact value), nil when empty.
type Durations struct {
	Count         int64  `json:"count"`
	MedianSeconds *int64 `json:"median_seconds"`
	P90Seconds    *int64 `json:"p90_seconds"`
}

func durationsOf(h stats.Histogram) Durations {
	return Durations{Count: h.N(), MedianSeconds: h.Quantile(0.5), P90Seconds: h.Quantile(0.9)}
}

// AgencyApprovals is one agency's approval time.
type AgencyApprovals struct {
	Agency string `json:"agency"`
	Durations
}

// PipelineResponse is the answer of GET /stats/pipeline.
type PipelineResponse struct {
	From string `json:"from"`
	To   string `json:"to"`
	AsOf string `json:"as_of"`
	// CasesByStatus is every case's current status (not limited to the
	// period).
	CasesByStatus map[string]int64 `json:"cases_by_status"`
	// ReportToTakedownRequest: from a case's first report to its takedown
	// request, for the requests sent in the period's months.
	ReportToTakedownRequest Durations `json:"report_to_takedown_request"`
	// ApprovalTimeByAgency: from the first approval request to each
	// agency's decision, for the decisions made in the period's months.
	ApprovalTimeByAgency []AgencyApprovals `json:"approval_time_by_agency"`
}

// Pipeline serves GET /stats/pipeline?from=&to= (months, WIB; default the
// last 12): cases by status, time from report to takedown request, and
// approval time by agency, median and p90. Everything comes from the
// counters TallyFunction keeps from the stream (two reads: the status
// item and one Query of the period's months), never from cases.
func (r Reader) Pipeline(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	from, to, err := stats.MonthRange(req.QueryStringParameters, r.now())
	if err != nil {
		return api.Response{}, err
	}
	st, err := stats.ReadItem(ctx, r.Table, store.StatsPK(store.StatsPipeline), store.SKStatus)
	if err != nil {
		return api.Response{}, err
	}
	months, err := stats.ReadMonths(ctx, r.Table, store.StatsPipeline, from, to)
	if err != nil {
		return api.Response{}, err
	}
	out := PipelineResponse{From: from, To: to, AsOf: store.FormatTime(r.now()), CasesByStatus: stats.Counts(st.Numbers, stats.AttrStatus),
		ApprovalTimeByAgency: []AgencyApprovals{}}
	rtr := stats.Histogram{}
	byAgency := map[string]stats.Histogram{}
	for _, m := range months {
		rtr.Add(stats.HistogramWith(m.Numbers, stats.AttrReportToRequest))
		for k, n := range stats.Counts(m.Numbers, stats.AttrApproval) {
			agency, bucket, ok := strings.Cut(k, "#")
			b, err := strconv.Atoi(bucket)
			if !ok || err != nil {
				continue
			}
			if byAgency[agency] == nil {
				byAgency[agency] = stats.Histogram{}
			}
			byAgency[agency][b] += n
		}
	}
	out.ReportToTakedownRequest = durationsOf(rtr)
	for agency, h := range byAgency {
		out.ApprovalTimeByAgency = append(out.ApprovalTimeByAgency, AgencyApprovals{Agency: agency, Durations: durationsOf(h)})
	}
	sort.Slice(out.ApprovalTimeByAgency, func(i, j int) bool { return out.ApprovalTimeByAgency[i].Agency < out.ApprovalTimeByAgency[j].Agency })
	return api.JSON(200, out), nil
}
