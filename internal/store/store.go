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
//	APPROVAL#<id>  META          the agencies' approval: policy, decisions, hold, task token (package approval)
//	INBOX#<who>    APPROVAL#<id> an approval waiting for a member (e-mail), for GET /approvals (TTL; package approval)
//	SLACKREQ#<sha> SLACKREQ      a Slack request already taken, refusing its replay (TTL; package approval)
//	REGISTRY       LICENCE#<n>   licensed recruiter registry (package registry)
//	OPENNOTICE#<p> CASE#<id>     a case's notice a platform still has to act on: what
//	                             GET /platform/notices lists (written with each notice,
//	                             deleted when the case closes; package workflow)
//	OBJECTION#<id> META          a platform's objection (Sanggah) awaiting the agency's
//	                             decision, with the workflow's task token (package workflow)
//	STATS#PLATFORM#<p> SANCTIONS per-platform counters of fine recommendations and
//	                             access-blocking referrals (package workflow; read by audit)
//	MYREPORTS#<pseudonym> REPORT#<received_at>#<id>  every report of a reporter, however sent (API, batch,
//	                             console), for its reporter's "my reports" and pseudonym resolution (package report)
//	MYREPORTS#<pseudonym> CONTACT#<report id>  the name and contact a reporter gave,
//	                             expiring after the contact retention (TTL; package report)
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
//	RATE#<scope>#<sha256> BUCKET a rate-limit bucket: its theoretical arrival time (TTL; package ratelimit)
//	REPORTER#<sub> PROFILE       a reporter's class, trusted-flagger status, callback (package report)
//	REPORTER#<sub> OUTCOME#<case> a case's outcome counted once in the reporter's accuracy record (package feedback)
//	CASE#<id>      FEEDBACK#<status> reporters were told of the case's status (package feedback)
//	PUBLIC#<sha256> STATUS       a public report's status capability, by the hash of its token (TTL; package publicreport)
//	CHALLENGE#<sha256> SPENT     a used proof-of-work challenge of the public channel (TTL; package publicreport)
//
// GSI ByStatus (GSI1PK=STATUS#<status>, GSI1SK=<created_at>#<id>) and
// ByPlatform (GSI2PK=PLATFORM#<platform>, GSI2SK=<created_at>#<id>) serve
// auditors' listings without a Scan. ByCount (GSI3PK=WATCHLIST,
// takedown_cases, a number) ranks WATCH items for the watchlist.
// ByStatusPlatform and ByFacet serve the other listings (index.go):
//
//	CASE#<id>      FACET#<facet>[#<value>]  the case under ALL, URGENCY#<u>, CATEGORY#<c>,
//	                             AGENCY#<a>, APPROVER#<address> (ByFacet, keys only)
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
	PrefixCase      = "CASE#"
	PrefixEvent     = "EVENT#"
	PrefixReport    = "REPORT#"
	PrefixClaim     = "URL#"
	PrefixIdem      = "IDEM#"
	PrefixNotice    = "NOTICE#"
	PrefixEntity    = "ENTITY#"
	PrefixText      = "TEXT#"
	PrefixApproval  = "APPROVAL#"
	PrefixInbox     = "INBOX#"
	PrefixSlackReq  = "SLACKREQ#"
	PrefixLicence   = "LICENCE#"
	PrefixStatus    = "STATUS#"
	PrefixPlatform  = "PLATFORM#"
	PrefixMyReports = "MYREPORTS#"
	PrefixOpen      = "OPENNOTICE#"
	PrefixObject    = "OBJECTION#"
	PrefixStats     = "STATS#"
	PrefixMonth     = "MONTH#"
	PrefixTallied   = "TALLIED#"
	PrefixContact   = "CONTACT#"

	// SKWatch is an entity's watchlist item; PKWatchlist its ByCount
	// partition.
	SKWatch     = "WATCH"
	PKWatchlist = "WATCHLIST"
	// StatsAwareness is the scope of the removed-ads counters.
	StatsAwareness = "AWARENESS"
	PrefixRate     = "RATE#"
	PrefixReporter = "REPORTER#"
	PrefixPublic   = "PUBLIC#"
	PrefixSpent    = "CHALLENGE#"
	PrefixFeedback = "FEEDBACK#"
	PrefixOutcome  = "OUTCOME#"
	// StatsPipeline is the scope of the pipeline's counters; SKStatus
	// (below) its item of cases by status.
	StatsPipeline = "PIPELINE"

	SKMeta  = "META"
	SKClaim = "CLAIM"
	SKIdem  = "IDEM"
	// SKSanctions is the sort key of a platform's sanction counters.
	SKSanctions = "SANCTIONS"
	// SKBucket, SKProfile, SKStatus and SKSpent are the sort keys of a
	// rate-limit bucket, a reporter's profile, a public report's status
	// capability and a spent challenge.
	SKBucket  = "BUCKET"
	SKProfile = "PROFILE"
	SKStatus  = "STATUS"
	SKSpent   = "SPENT"
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

// InboxPK is the inbox of a member (lower-case e-mail); its items' sort
// keys are ApprovalPK(id).
func InboxPK(who string) string { return PrefixInbox + who }

// SlackRequestPK is the replay guard of one signed Slack request.
func SlackRequestPK(hash string) string { return PrefixSlackReq + hash }

// LicenceSK is the sort key of a licence in the registry partition.
func LicenceSK(number string) string { return PrefixLicence + number }

// MyReportsPK is the partition of one reporter's (by pseudonym) reports,
// however sent, and of the contacts given with them.
func MyReportsPK(pseudonym string) string { return PrefixMyReports + pseudonym }

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

// RatePK is the partition of a rate-limit bucket: scope (reporter,
// address) and the hash of whom it limits.
func RatePK(scope, hash string) string { return PrefixRate + scope + "#" + hash }

// ReporterPK is the partition of a reporter's profile (its token subject).
func ReporterPK(sub string) string { return PrefixReporter + sub }

// PublicPK is the partition of a public report's status capability, given
// the hash of its token.
func PublicPK(hash string) string { return PrefixPublic + hash }

// SpentPK is the partition of a used challenge, given its hash.
func SpentPK(hash string) string { return PrefixSpent + hash }

// FeedbackSK marks, under a case, that its reporters were told of status.
func FeedbackSK(status string) string { return PrefixFeedback + status }

// OutcomeSK marks, under a reporter, that a case's outcome was counted.
func OutcomeSK(caseID string) string { return PrefixOutcome + caseID }

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
