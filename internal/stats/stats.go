// Package stats keeps counters incrementally from the table's stream, so
// exports and figures never read cases: TallyFunction counts every history
// event once, as it is written.
//
//	case_opened        ─▶ STATS#PLATFORM#<p> / MONTH#<m>  cases (in the month the case opened)
//	takedown_requested ─▶ STATS#PLATFORM#<p> / MONTH#<m>  requests, cat#<category>, dest#<country>
//	                   └▶ ENTITY#<k>#<v> / WATCH         takedown_cases (ByCount index), case_ids, platforms, first/last seen
//	warning_sent       ─▶ the request's month: escalations, esc_l<level>
//	compliance_checked ─▶ the request's month: ttr#<bucket> (time to removal, a bounded histogram)
//	                   └▶ STATS#PIPELINE / MONTH#<m>     rtr#<bucket> (time from the report to the request)
//	approval_decided   ─▶ STATS#PIPELINE / MONTH#<m>     appr#<agency>#<bucket> (time from the first approval request)
//	any status move    ─▶ STATS#PIPELINE / STATUS        st#<status> +1, st#<previous status> -1
//	case_closed        ─▶ the request's month: removed_in_time | removed_late | non_compliant | other_closed
//	   (removed ads)   └▶ STATS#AWARENESS / MONTH#<m>    removed, plat#<p>, ind#<id>, dest#<country>, lure#<id> (one quote)
//
// Months are WIB (Asia/Jakarta). Requests, outcomes, escalations and times
// to removal are counted in the month of the takedown request, so each
// month's outcomes add up to its requests; removed-ad patterns in the month
// the ad was removed. Each event is counted in one transaction with a
// marker (CASE#<id>/TALLIED#<seq>, expiring after a week): a replayed
// stream record counts nothing.
package stats

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Jakarta is WIB.
var Jakarta = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Jakarta"); err == nil {
		return l
	}
	return time.FixedZone("WIB", 7*3600)
}()

// Month is the WIB month of t: "2026-11".
func Month(t time.Time) string { return t.In(Jakarta).Format("2006-01") }

// Attribute prefixes of the counters.
const (
	AttrCategory    = "cat#"
	AttrDestination = "dest#"
	AttrTTR         = "ttr#"
	AttrEscLevel    = "esc_l"
	AttrPlatform    = "plat#"
	AttrIndicator   = "ind#"
	AttrLure        = "lure#"
	// The pipeline's counters (STATS#PIPELINE): cases by status (STATUS
	// item), and per WIB month the time from a case's report to its
	// takedown request (in the request's month) and each agency's
	// approval time, from the first request to the decision (in the
	// decision's month), as histograms.
	AttrStatus          = "st#"
	AttrReportToRequest = "rtr#"
	AttrApproval        = "appr#"
)

// UnknownAgency is where a decision by someone without an agency (a Slack
// user not mapped to an address) is counted.
const UnknownAgency = "unknown"

// Bucket is the histogram bucket of a duration: ceil(4·log2(seconds)), so
// buckets grow by 2^¼ (19%) and a year fits in 100 of them.
func Bucket(seconds int64) int {
	if seconds <= 1 {
		return 0
	}
	return int(math.Ceil(4 * math.Log2(float64(seconds))))
}

// bucketValue is a bucket's representative value: the geometric middle of
// its range (within ±9% of any duration in it).
func bucketValue(b int) int64 {
	if b <= 0 {
		return 0
	}
	return int64(math.Round(math.Pow(2, (float64(b)-0.5)/4)))
}

// Histogram is bucket → count.
type Histogram map[int]int64

// Add merges o into h.
func (h Histogram) Add(o Histogram) {
	for b, n := range o {
		h[b] += n
	}
}

// N is the number of durations counted.
func (h Histogram) N() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile is the nearest-rank q-quantile in seconds, nil when empty.
func (h Histogram) Quantile(q float64) *int64 {
	n := h.N()
	if n == 0 {
		return nil
	}
	bs := make([]int, 0, len(h))
	for b := range h {
		bs = append(bs, b)
	}
	sort.Ints(bs)
	rank := int64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for _, b := range bs {
		seen += h[b]
		if seen >= rank {
			v := bucketValue(b)
			return &v
		}
	}
	v := bucketValue(bs[len(bs)-1])
	return &v
}

// Destination is a country ads send workers to.
type Destination struct {
	Code   string `json:"code"`
	NameID string `json:"name_id"`
	NameEN string `json:"name_en"`
}

var destinations = []struct {
	Destination
	re *regexp.Regexp
}{
	{Destination{"KH", "Kamboja", "Cambodia"}, regexp.MustCompile(`\b(?:kamboja|cambodia|phnom ?penh|sihanoukville)\b|🇰🇭`)},
	{Destination{"MM", "Myanmar", "Myanmar"}, regexp.MustCompile(`\b(?:myanmar|burma|myawaddy)\b|🇲🇲`)},
	{Destination{"LA", "Laos", "Laos"}, regexp.MustCompile(`\blaos\b|🇱🇦`)},
	{Destination{"TH", "Thailand", "Thailand"}, regexp.MustCompile(`\b(?:thailand|bangkok|mae ?sot)\b|🇹🇭`)},
	{Destination{"VN", "Vietnam", "Vietnam"}, regexp.MustCompile(`\bvietnam\b|🇻🇳`)},
	{Destination{"PH", "Filipina", "Philippines"}, regexp.MustCompile(`\b(?:filipina|philippines|manila)\b|🇵🇭`)},
	{Destination{"MY", "Malaysia", "Malaysia"}, regexp.MustCompile(`\b(?:malaysia|kuala lumpur|johor|sabah|sarawak)\b|🇲🇾`)},
	{Destination{"SG", "Singapura", "Singapore"}, regexp.MustCompile(`\b(?:singapura|singapore)\b|🇸🇬`)},
	{Destination{"TW", "Taiwan", "Taiwan"}, regexp.MustCompile(`\btaiwan\b|🇹🇼`)},
	{Destination{"HK", "Hong Kong", "Hong Kong"}, regexp.MustCompile(`\bhong ?kong\b|🇭🇰`)},
	{Destination{"JP", "Jepang", "Japan"}, regexp.MustCompile(`\b(?:jepang|japan)\b|🇯🇵`)},
	{Destination{"KR", "Korea Selatan", "South Korea"}, regexp.MustCompile(`\b(?:korea|korsel)\b|🇰🇷`)},
	{Destination{"SA", "Arab Saudi", "Saudi Arabia"}, regexp.MustCompile(`\b(?:saudi|riyadh|jeddah|mekkah|makkah)\b|🇸🇦`)},
	{Destination{"AE", "Uni Emirat Arab", "United Arab Emirates"}, regexp.MustCompile(`\b(?:dubai|abu dhabi|uea|uae|emirat)\b|🇦🇪`)},
	{Destination{"QA", "Qatar", "Qatar"}, regexp.MustCompile(`\bqatar\b|🇶🇦`)},
	{Destination{"TR", "Turki", "Turkey"}, regexp.MustCompile(`\b(?:turki|turkey|turkiye)\b|🇹🇷`)},
	{Destination{"PL", "Polandia", "Poland"}, regexp.MustCompile(`\b(?:polandia|poland)\b|🇵🇱`)},
	{Destination{"AU", "Australia", "Australia"}, regexp.MustCompile(`\baustralia\b|🇦🇺`)},
}

// Destinations are the countries an ad's text names, by code.
func Destinations(text string) []string {
	lower := strings.ToLower(text)
	var out []string
	for _, d := range destinations {
		if d.re.MatchString(lower) {
			out = append(out, d.Code)
		}
	}
	return out
}

// DestinationOf names a code ("" names stay as the code).
func DestinationOf(code string) Destination {
	for _, d := range destinations {
		if d.Code == code {
			return d.Destination
		}
	}
	return Destination{Code: code, NameID: code, NameEN: code}
}

var (
	redactEmail  = regexp.MustCompile(`[^\s@]+@[^\s@]+\.[A-Za-z]{2,}`)
	redactURL    = regexp.MustCompile(`(?i)\b(?:https?://|www\.|wa\.me/|t\.me/)\S*`)
	redactHandle = regexp.MustCompile(`@\w{2,}`)
	redactDigits = regexp.MustCompile(`\+?\d[\d\s().-]{4,}\d`)
	redactSpace  = regexp.MustCompile(`\s+`)
)

// MaxQuote is the longest lure quoted.
const MaxQuote = 120

// Redact removes every contact from a quote: e-mail addresses, links,
// handles and any run of five or more digits (phones, accounts), and
// shortens it to MaxQuote characters.
func Redact(s string) string {
	for _, re := range []*regexp.Regexp{redactEmail, redactURL, redactHandle} {
		s = re.ReplaceAllString(s, "[…]")
	}
	s = redactDigits.ReplaceAllStringFunc(s, func(m string) string {
		n := 0
		for _, c := range m {
			if c >= '0' && c <= '9' {
				n++
			}
		}
		if n >= 5 {
			return "[…]"
		}
		return m
	})
	s = strings.TrimSpace(redactSpace.ReplaceAllString(s, " "))
	if r := []rune(s); len(r) > MaxQuote {
		s = string(r[:MaxQuote-1]) + "…"
	}
	return s
}

// Counts reads the counter attributes with a prefix from an item's numbers.
func Counts(nums map[string]int64, prefix string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range nums {
		if rest, ok := strings.CutPrefix(k, prefix); ok && v != 0 {
			out[rest] = v
		}
	}
	return out
}

// HistogramOf reads the ttr# buckets of an item's numbers.
func HistogramOf(nums map[string]int64) Histogram { return HistogramWith(nums, AttrTTR) }

// HistogramWith reads the buckets of an item's numbers named prefix<bucket>.
func HistogramWith(nums map[string]int64, prefix string) Histogram {
	h := Histogram{}
	for k, v := range Counts(nums, prefix) {
		if b, err := strconv.Atoi(k); err == nil {
			h[b] += v
		}
	}
	return h
}
