// Package export serves the public exports, made from the counters package
// stats keeps (never by reading cases):
//
//   - GET /exports/transparency?from=&to=&format=csv|json: per platform and
//     WIB month, takedown requests and what became of them, time to
//     removal, escalations, categories and destinations.
//   - GET /exports/awareness?from=&to=: per month, patterns of the ads
//     removed: top indicators with one quoted lure each (contacts
//     removed), destinations and platforms, for education campaigns.
//
// Both are public (no authorizer): they hold counts and redacted quotes
// only, never a case id, URL, reporter, approver or recruiter contact;
// the API's throttling bounds their cost. The watchlist, which names
// recruiters, is in package audit, for auditors and admins only.
package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/store"
)

// Exports serves the public exports.
type Exports struct {
	Table store.Table
	// Platforms the transparency report covers.
	Platforms []string
	Rules     risk.Rules
	Now       func() time.Time
}

func (x Exports) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

// MaxMonths is the longest period one export covers.
const MaxMonths = stats.MaxMonths

// months reads from and to ("2026-11"; default: the last 12 months up to
// this one, WIB).
func (x Exports) months(q map[string]string) (string, string, error) {
	return stats.MonthRange(q, x.now())
}

// monthItem is one month's counters.
type monthItem = stats.MonthCounters

// readMonths queries a scope's months from..to.
func (x Exports) readMonths(ctx context.Context, scope, from, to string) ([]monthItem, error) {
	return stats.ReadMonths(ctx, x.Table, scope, from, to)
}

// Count is a named count.
type Count struct {
	Key    string `json:"key"`
	NameID string `json:"name_id,omitempty"`
	NameEN string `json:"name_en,omitempty"`
	Count  int64  `json:"count"`
	// Quote is a lure as the ads worded it, contacts removed.
	Quote string `json:"quote,omitempty"`
}

// ranked sorts counts, largest first, at most n (0: all).
func ranked(m map[string]int64, n int, name func(string) (string, string)) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		c := Count{Key: k, Count: v}
		if name != nil {
			c.NameID, c.NameEN = name(k)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

func destinationName(code string) (string, string) {
	d := stats.DestinationOf(code)
	return d.NameID, d.NameEN
}

// TransparencyRow is one platform's month.
type TransparencyRow struct {
	Platform               string  `json:"platform"`
	Month                  string  `json:"month"`
	Requests               int64   `json:"requests"`
	RemovedInTime          int64   `json:"removed_in_time"`
	RemovedLate            int64   `json:"removed_late"`
	StillLive              int64   `json:"still_live"`
	NonCompliant           int64   `json:"non_compliant"`
	OtherClosed            int64   `json:"other_closed"`
	RemovalsMeasured       int64   `json:"removals_measured"`
	MedianSecondsToRemoval *int64  `json:"median_seconds_to_removal"`
	P90SecondsToRemoval    *int64  `json:"p90_seconds_to_removal"`
	Escalations            int64   `json:"escalations"`
	EscalationsByLevel     []int64 `json:"escalations_by_level"`
	Categories             []Count `json:"categories"`
	Destinations           []Count `json:"destinations"`
	histogram              stats.Histogram
}

// Transparency serves GET /exports/transparency (public).
func (x Exports) Transparency(ctx context.Context, req api.Request) (api.Response, error) {
	q := req.QueryStringParameters
	from, to, err := x.months(q)
	if err != nil {
		return api.Response{}, err
	}
	format := q["format"]
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return api.Response{}, api.Invalid("format", "format: csv atau json / format must be csv or json")
	}
	rows := []TransparencyRow{}
	for _, p := range x.Platforms {
		items, err := x.readMonths(ctx, store.StatsPlatform(p), from, to)
		if err != nil {
			return api.Response{}, err
		}
		for _, it := range items {
			n := it.Numbers
			o := stats.OutcomesOf(n)
			r := TransparencyRow{Platform: p, Month: it.Month, Requests: o.Requests, RemovedInTime: o.RemovedInTime,
				RemovedLate: o.RemovedLate, StillLive: o.StillLive(), NonCompliant: o.NonCompliant, OtherClosed: o.OtherClosed,
				Escalations: o.Escalations, EscalationsByLevel: o.EscalationsByLevel[:], histogram: o.TimeToRemoval}
			r.RemovalsMeasured = r.histogram.N()
			r.MedianSecondsToRemoval, r.P90SecondsToRemoval = r.histogram.Quantile(0.5), r.histogram.Quantile(0.9)
			r.Categories = ranked(stats.Counts(n, stats.AttrCategory), 0, nil)
			r.Destinations = ranked(stats.Counts(n, stats.AttrDestination), 0, destinationName)
			rows = append(rows, r)
		}
	}
	if format == "csv" {
		return transparencyCSV(rows, from, to)
	}
	return api.JSON(200, map[string]any{
		"title_id": "Laporan transparansi penurunan iklan penempatan ilegal pekerja migran",
		"title_en": "Transparency report on takedowns of illegal migrant-worker placement ads",
		"from":     from, "to": to, "months_in": "WIB", "rows": rows,
		"note_id": "Bulan = bulan permintaan penurunan (WIB). Waktu hingga dihapus: median dan p90 dari histogram (galat ±9%). Tanpa data pribadi.",
		"note_en": "Month = month of the takedown request (WIB). Time to removal: median and p90 from a histogram (±9%). No personal data.",
	}), nil
}

func joinCounts(cs []Count) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Key+":"+strconv.FormatInt(c.Count, 10))
	}
	return strings.Join(parts, ";")
}

func transparencyCSV(rows []TransparencyRow, from, to string) (api.Response, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	_ = w.Write([]string{"platform", "month", "requests", "removed_in_time", "removed_late", "still_live", "non_compliant", "other_closed",
		"median_seconds_to_removal", "p90_seconds_to_removal", "escalations", "warning_1", "warning_2", "warning_3", "categories", "destinations"})
	for _, r := range rows {
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		_ = w.Write([]string{r.Platform, r.Month, i(r.Requests), i(r.RemovedInTime), i(r.RemovedLate), i(r.StillLive), i(r.NonCompliant), i(r.OtherClosed),
			opt(r.MedianSecondsToRemoval), opt(r.P90SecondsToRemoval), i(r.Escalations), i(r.EscalationsByLevel[0]), i(r.EscalationsByLevel[1]), i(r.EscalationsByLevel[2]),
			joinCounts(r.Categories), joinCounts(r.Destinations)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return api.Response{}, fmt.Errorf("transparency CSV: %w", err)
	}
	resp := api.JSON(200, nil)
	resp.Body = buf.String()
	resp.Headers["Content-Type"] = "text/csv; charset=utf-8"
	resp.Headers["Content-Disposition"] = fmt.Sprintf(`attachment; filename="transparansi-%s-%s.csv"`, from, to)
	return resp, nil
}

// AwarenessMonth is one month's patterns of removed ads.
type AwarenessMonth struct {
	Month        string  `json:"month"`
	RemovedAds   int64   `json:"removed_ads"`
	Indicators   []Count `json:"top_indicators"`
	Destinations []Count `json:"destinations"`
	Platforms    []Count `json:"platforms"`
}

// TopIndicators is how many indicators a month lists.
const TopIndicators = 10

// Awareness serves GET /exports/awareness (public).
func (x Exports) Awareness(ctx context.Context, req api.Request) (api.Response, error) {
	from, to, err := x.months(req.QueryStringParameters)
	if err != nil {
		return api.Response{}, err
	}
	items, err := x.readMonths(ctx, store.StatsAwareness, from, to)
	if err != nil {
		return api.Response{}, err
	}
	months := []AwarenessMonth{}
	for _, it := range items {
		m := AwarenessMonth{Month: it.Month, RemovedAds: it.Numbers["removed"]}
		m.Indicators = ranked(stats.Counts(it.Numbers, stats.AttrIndicator), TopIndicators, func(id string) (string, string) {
			n, _ := x.Rules.Name(id)
			return n.Indonesian, n.English
		})
		for i := range m.Indicators {
			// Redacted when counted; redacted again, should the rule change.
			m.Indicators[i].Quote = stats.Redact(it.Strings[stats.AttrLure+m.Indicators[i].Key])
		}
		m.Destinations = ranked(stats.Counts(it.Numbers, stats.AttrDestination), 0, destinationName)
		m.Platforms = ranked(stats.Counts(it.Numbers, stats.AttrPlatform), 0, nil)
		months = append(months, m)
	}
	return api.JSON(200, map[string]any{
		"title_id": "Pola iklan penempatan ilegal yang diturunkan",
		"title_en": "Patterns of removed illegal placement ads",
		"from":     from, "to": to, "months": months,
		"note_id": "Untuk kampanye edukasi di daerah asal. Kutipan tanpa kontak; tanpa data pribadi.",
		"note_en": "For education campaigns in sending regions. Quotes without contacts; no personal data.",
	}), nil
}
