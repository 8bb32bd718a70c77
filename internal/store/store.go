// Package store owns tangkal's single DynamoDB table: its key layout (every
// key builder and prefix lives here), the case record (CASE#<id>/META),
// batch reads and writes with retry, and the decoding of cancelled
// transactions. Other packages build keys only through this package.
//
// Items:
//
//	CASE#<id>      META          the case's current state (Case)
//	CASE#<id>      EVENT#<seq>   append-only, hash-chained history (package history)
//	CASE#<id>      REPORT#<id>   each report of the ad (package report)
//	URL#<sha256>   CLAIM         dedupe claim of a canonical URL (package report)
//	IDEM#<sha256>  IDEM          stored answer of an idempotent request (TTL)
//	NOTICE#<key>   META          a notice sent to a platform, by idempotency key (TTL; package workflow)
//	ENTITY#<k>#<v> CASE#<id>     recruiter entity → case (package entity)
//	TEXT#<b>#<v>   CASE#<id>     one band of an ad text's fingerprint → case, to find reposts (package entity)
//	APPROVAL#<id>  META          approval request and its task token (package approval)
//	REGISTRY       LICENCE#<n>   licensed recruiter registry (package registry)
//	OPENNOTICE#<p> CASE#<id>     a case's notice a platform still has to act on: what
//	                             GET /platform/notices lists (written with each notice,
//	                             deleted when the case closes; package workflow)
//	OBJECTION#<id> META          a platform's objection (Sanggah) awaiting the agency's
//	                             decision, with the workflow's task token (package workflow)
//	STATS#PLATFORM#<p> SANCTIONS per-platform counters of fine recommendations and
//	                             access-blocking referrals (package workflow; read by audit)
//	REPORTER#<pseudonym> REPORT#<received_at>#<id>  a report sent through the console, for its reporter's "my reports" (package console)
//	ENTITY#<k>#<v> WATCH         the entity's takedown cases, for the watchlist (package stats)
//	STATS#<scope>  MONTH#<yyyy-mm> counters of a platform (PLATFORM#<p>) or of
//	                             removed ads (AWARENESS) in a WIB month (package stats)
//	STATS#PIPELINE STATUS        cases by status; MONTH#<yyyy-mm> times to takedown
//	                             request and to approval, by agency (package stats)
//	CASE#<id>      TALLIED#<seq> the event was counted once (TTL; package stats)
//
// Every EVENT# item is also copied, from the stream, outside the table
// (package anchor), so a rewritten history is seen.
//
// GSI ByStatus (GSI1PK=STATUS#<status>, GSI1SK=<created_at>#<id>) and
// ByPlatform (GSI2PK=PLATFORM#<platform>, GSI2SK=<created_at>#<id>) serve
// auditors' listings without a Scan. ByCount (GSI3PK=WATCHLIST,
// takedown_cases, a number) ranks WATCH items for the watchlist.
// ByStatusPlatform and ByFacet serve the other listings (index.go):
//
//	CASE#<id>      FACET#<facet>[#<value>]  the case under ALL, URGENCY#<u>, CATEGORY#<c>,
//	                             AGENCY#<a>, APPROVER#<address> (ByFacet, keys only)
//	REPORTER#<pseudonym> CONTACT#<report id>  the name and contact a reporter gave,
//	                             expiring after the contact retention (TTL; package report)
package store

import (
	"fmt"
	"strings"
	"time"
)

// TableLogicalID is the table's logical id in template.yaml.
const TableLogicalID = "CasesTable"

// Index names, as in template.yaml.
const (
	IndexByStatus   = "ByStatus"
	IndexByPlatform = "ByPlatform"
	IndexByCount    = "ByCount"
)

// Key prefixes and fixed sort keys.
const (
	PrefixCase     = "CASE#"
	PrefixEvent    = "EVENT#"
	PrefixReport   = "REPORT#"
	PrefixClaim    = "URL#"
	PrefixIdem     = "IDEM#"
	PrefixNotice   = "NOTICE#"
	PrefixEntity   = "ENTITY#"
	PrefixText     = "TEXT#"
	PrefixApproval = "APPROVAL#"
	PrefixLicence  = "LICENCE#"
	PrefixStatus   = "STATUS#"
	PrefixPlatform = "PLATFORM#"
	PrefixReporter = "REPORTER#"
	PrefixOpen     = "OPENNOTICE#"
	PrefixObject   = "OBJECTION#"
	PrefixStats    = "STATS#"
	PrefixMonth    = "MONTH#"
	PrefixTallied  = "TALLIED#"
	PrefixContact  = "CONTACT#"

	// SKWatch is an entity's watchlist item; PKWatchlist its ByCount
	// partition.
	SKWatch     = "WATCH"
	PKWatchlist = "WATCHLIST"
	// StatsAwareness is the scope of the removed-ads counters.
	StatsAwareness = "AWARENESS"
	// StatsPipeline is the scope of the pipeline's counters; SKStatus
	// its item of cases by status.
	StatsPipeline = "PIPELINE"
	SKStatus      = "STATUS"

	SKMeta  = "META"
	SKClaim = "CLAIM"
	SKIdem  = "IDEM"
	// SKSanctions is the sort key of a platform's sanction counters.
	SKSanctions = "SANCTIONS"
	// PKRegistry is the partition of the licensed-recruiter registry.
	PKRegistry = "REGISTRY"
	// SKLastEvent sorts after every event of a case.
	SKLastEvent = PrefixEvent + "~"
)

// CasePK is the partition key of a case's items.
func CasePK(id string) string { return PrefixCase + id }

// CaseIDOf returns the case id of a case partition key, ok false for any
// other key.
func CaseIDOf(pk string) (string, bool) {
	id, ok := strings.CutPrefix(pk, PrefixCase)
	return id, ok && id != ""
}

// EventSK is the sort key of the seq-th event of a case.
func EventSK(seq int) string { return fmt.Sprintf("%s%010d", PrefixEvent, seq) }

// EventSeqOf returns the sequence number of an event's sort key, ok false
// for any other sort key.
func EventSeqOf(sk string) (int, bool) {
	rest, ok := strings.CutPrefix(sk, PrefixEvent)
	if !ok || rest == "" {
		return 0, false
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ReportSK is the sort key of a report.
func ReportSK(id string) string { return PrefixReport + id }

// IsReportSK reports whether a sort key is a report's.
func IsReportSK(sk string) bool { return strings.HasPrefix(sk, PrefixReport) }

// ClaimPK is the partition of the dedupe claim of a canonical URL, given its
// key (urlcanon.Key).
func ClaimPK(urlKey string) string { return PrefixClaim + urlKey }

// IdemPK is the partition of a stored idempotent answer, given the hash of
// the caller and its key.
func IdemPK(hash string) string { return PrefixIdem + hash }

// NoticePK is the partition of a notice sent under an idempotency key.
func NoticePK(key string) string { return PrefixNotice + key }

// EntityPK is the partition of a recruiter entity (kind and normalised value).
func EntityPK(kind, value string) string { return PrefixEntity + kind + "#" + value }

// TextPK is the partition of one band of ad-text fingerprints.
func TextPK(band int, value string) string { return fmt.Sprintf("%s%d#%s", PrefixText, band, value) }

// TextCaseSK is the sort key of a case under a fingerprint band.
func TextCaseSK(caseID string) string { return PrefixCase + caseID }

// EntityCaseSK is the sort key of an entity's link to a case.
func EntityCaseSK(caseID string) string { return PrefixCase + caseID }

// ApprovalPK is the partition of an approval request.
func ApprovalPK(id string) string { return PrefixApproval + id }

// LicenceSK is the sort key of a licence in the registry partition.
func LicenceSK(number string) string { return PrefixLicence + number }

// ReporterPK is the partition of the reports one reporter (by pseudonym)
// sent through the console.
func ReporterPK(pseudonym string) string { return PrefixReporter + pseudonym }

// ReporterReportSK sorts a reporter's reports by the time received.
func ReporterReportSK(receivedAt time.Time, reportID string) string {
	return PrefixReport + FormatTime(receivedAt) + "#" + reportID
}

// ContactSK is the sort key of the name and contact given with a report,
// under the reporter's partition.
func ContactSK(reportID string) string { return PrefixContact + reportID }

// StatsPK is the partition of the counters of a scope: a platform
// (StatsPlatform) or StatsAwareness.
func StatsPK(scope string) string { return PrefixStats + scope }

// StatsPlatform is the counters' scope of a platform.
func StatsPlatform(platform string) string { return PrefixPlatform + platform }

// MonthSK is the sort key of a month's counters ("2026-11").
func MonthSK(month string) string { return PrefixMonth + month }

// TalliedSK marks the seq-th event of a case as counted.
func TalliedSK(seq int) string { return fmt.Sprintf("%s%010d", PrefixTallied, seq) }

// StatusKey is the ByStatus partition of a status.
func StatusKey(status string) string { return PrefixStatus + status }

// PlatformKey is the ByPlatform partition of a platform.
func PlatformKey(platform string) string { return PrefixPlatform + platform }

// OpenNoticePK is the partition listing the open notices of a platform.
func OpenNoticePK(platform string) string { return PrefixOpen + platform }

// OpenNoticeSK is the sort key of a case's open notice.
func OpenNoticeSK(caseID string) string { return PrefixCase + caseID }

// ObjectionPK is the partition of a case's objection.
func ObjectionPK(caseID string) string { return PrefixObject + caseID }

// TimeKey is the sort key used in both indexes: time first, id to break ties.
func TimeKey(t time.Time, id string) string {
	return FormatTime(t) + "#" + id
}

// FormatTime is how every timestamp is stored: RFC 3339, UTC, microseconds.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
