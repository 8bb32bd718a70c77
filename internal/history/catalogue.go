package history

import (
	"encoding/json"
	"fmt"

	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/risk"
)

// Type names an event of a case's history. Every type tangkal writes is a
// constant here, with the struct its data has; writers and readers use the
// same struct, so the two cannot drift apart.
type Type = string

// The event catalogue: type → payload.
const (
	CaseOpened                Type = "case_opened"                 // CaseOpenedData
	ReportReceived            Type = "report_received"             // ReportReceivedData
	Verified                  Type = "verified"                    // VerifiedData
	ApprovalRequested         Type = "approval_requested"          // ApprovalRequestedData
	ApprovalEscalated         Type = "approval_escalated"          // ApprovalRequestedData
	ApprovalDecided           Type = "approval_decided"            // ApprovalDecidedData
	ApprovalDecisionRecovered Type = "approval_decision_recovered" // ApprovalDecidedData
	ApprovalReminded          Type = "approval_reminded"           // ApprovalRequestedData
	ApprovalHeld              Type = "approval_held"               // ApprovalDecidedData
	ApprovalReleased          Type = "approval_released"           // ApprovalDecidedData
	ApprovalHoldExpired       Type = "approval_hold_expired"       // ApprovalDecidedData
	NoticeFailed              Type = "notice_failed"               // NoticeFailedData
	TakedownRequested         Type = "takedown_requested"          // NoticeSentData
	WarningSent               Type = "warning_sent"                // NoticeSentData
	ComplianceChecked         Type = "compliance_checked"          // ComplianceCheckedData
	CaseClosed                Type = "case_closed"                 // CaseClosedData
	MovedToManualQueue        Type = "moved_to_manual_queue"       // CaseClosedData
	// The platform's side and the sanctions after the warnings.
	PlatformAnswered           Type = "platform_answered"            // PlatformAnsweredData
	PlatformAnswerContradicted Type = "platform_answer_contradicted" // AnswerContradictedData
	ObjectionDecisionRequested Type = "objection_decision_requested" // ObjectionRequestedData
	ObjectionDecided           Type = "objection_decided"            // ObjectionDecidedData
	ObjectionLapsed            Type = "objection_lapsed"             // ObjectionDecidedData
	FineRecommended            Type = "fine_recommended"             // NoticeSentData
	BlockingReferred           Type = "blocking_referred"            // NoticeSentData
	// An admin resolved the pseudonym of one of the case's reporters.
	PseudonymResolved Type = "pseudonym_resolved" // PseudonymResolvedData
)

// PseudonymResolvedData: an admin (the event's actor) learnt who is behind
// a reporter's pseudonym, for the stated reason; ContactsDisclosed is how
// many of the names and contacts given with this case's reports were still
// kept and shown. The identity itself is never in the history.
type PseudonymResolvedData struct {
	Pseudonym         string `json:"pseudonym"`
	Reason            string `json:"reason"`
	ContactsDisclosed int    `json:"contacts_disclosed"`
}

// PlatformAnsweredData: the platform answered its notice through the
// platform API (acknowledged, removed, needs_information or objected).
type PlatformAnsweredData struct {
	Platform string `json:"platform"`
	Answer   string `json:"answer"`
	// Level is the escalation level of the notice answered (0 the
	// takedown request).
	Level int `json:"level"`
	// RemovedAt is the removal time a "removed" answer claims.
	RemovedAt string `json:"removed_at,omitempty"`
	// Question is what a needs_information answer asks.
	Question string `json:"question,omitempty"`
	// Grounds and Text are an objection's grounds and its statement.
	Grounds string `json:"grounds,omitempty"`
	Text    string `json:"text,omitempty"`
}

// AnswerContradictedData: the platform answered "removed", and the
// compliance check after the deadline still found the ad online.
type AnswerContradictedData struct {
	Level            int    `json:"level"`
	ClaimedRemovedAt string `json:"claimed_removed_at"`
	CheckedAt        string `json:"checked_at"`
	Method           string `json:"method"`
}

// ObjectionRequestedData: the escalation ladder paused and the deciding
// agency was asked to decide the platform's objection by ExpiresAt.
type ObjectionRequestedData struct {
	Agency    string `json:"agency"`
	Grounds   string `json:"grounds,omitempty"`
	ExpiresAt string `json:"expires_at"`
}

// ObjectionDecidedData: the agency upheld or dismissed the objection
// (objection_decided), or let its time pass (objection_lapsed: the ladder
// resumes).
type ObjectionDecidedData struct {
	Agency    string `json:"agency"`
	Decision  string `json:"decision"`
	Reasons   string `json:"reasons,omitempty"`
	DecidedBy string `json:"decided_by,omitempty"`
}

// CaseOpenedData: the first report of an ad opened the case.
type CaseOpenedData struct {
	ReportID     string `json:"report_id"`
	URL          string `json:"url"`
	CanonicalURL string `json:"canonical_url"`
	Platform     string `json:"platform"`
	// Reopens: the earlier case of this ad, closed as removed; the ad was
	// reported again after it.
	Reopens string `json:"reopens,omitempty"`
}

// ReportReceivedData: a further report of the same ad.
type ReportReceivedData struct {
	ReportID string `json:"report_id"`
	URL      string `json:"url"`
}

// VerifiedData: what verification found and the route it chose.
type VerifiedData struct {
	Route       string               `json:"route"`
	Label       string               `json:"label"`
	Urgency     string               `json:"urgency"`
	Score       float64              `json:"score"`
	Indicators  []risk.Indicator     `json:"indicators"`
	Entities    entity.Set           `json:"entities"`
	Registry    []registry.Match     `json:"registry"`
	Related     []entity.RelatedCase `json:"related"`
	Evidence    Evidence             `json:"evidence"`
	DuplicateOf string               `json:"duplicate_of,omitempty"`
	// Repost: an earlier case whose ad text is (nearly) the same, posted
	// again by this or another account.
	Repost *Repost `json:"repost,omitempty"`
}

// Repost is the earlier case a reposted ad repeats, as it stood when the
// repost was verified.
type Repost struct {
	CaseID     string  `json:"case_id"`
	Similarity float64 `json:"similarity"`
	Status     string  `json:"status"`
	// At is when the earlier case reached that status (RFC 3339), if known.
	At string `json:"at,omitempty"`
	// Sentence says it to approvers, Bahasa Indonesia then English.
	Sentence string `json:"sentence"`
}

// Evidence is what fetching the ad found.
type Evidence struct {
	Status      int      `json:"status,omitempty"`
	FinalURL    string   `json:"final_url,omitempty"`
	Redirects   []string `json:"redirects,omitempty"`
	SHA256      string   `json:"sha256,omitempty"`
	Location    string   `json:"location,omitempty"`
	FetchedAt   string   `json:"fetched_at,omitempty"`
	Title       string   `json:"title,omitempty"`
	Excerpt     string   `json:"excerpt,omitempty"`
	Truncated   bool     `json:"truncated,omitempty"`
	Unreachable string   `json:"unreachable,omitempty"`
	Blocked     string   `json:"blocked,omitempty"`
	Gone        bool     `json:"gone,omitempty"`
}

// ApprovalRequestedData: a tier of approvers was asked (approval_requested
// for the first tier, approval_escalated for the next ones).
type ApprovalRequestedData struct {
	ApprovalID string   `json:"approval_id"`
	Tier       int      `json:"tier"`
	Tiers      int      `json:"tiers"`
	Approvers  []string `json:"approvers"`
	ExpiresAt  string   `json:"expires_at"`
	// Policy names the agencies' approval policy; Agencies are the
	// agencies asked (required, may hold, notified), Channels how
	// ("email", "slack:#channel").
	Policy   string   `json:"policy,omitempty"`
	Agencies []string `json:"agencies,omitempty"`
	Channels []string `json:"channels,omitempty"`
	// Waiting are the agencies a reminder went to.
	Waiting []string `json:"waiting,omitempty"`
	// Stage is "review" when the extra review was asked (of the
	// reviewers alone), "decide" when the agencies were; Why says why
	// this request and its window, in words (Indonesian / English).
	Stage string `json:"stage,omitempty"`
	Why   string `json:"why,omitempty"`
}

// ApprovalDecidedData: an approver decided (approval_decided), or a decision
// recorded earlier was handed to the workflow by a later task
// (approval_decision_recovered).
type ApprovalDecidedData struct {
	ApprovalID string `json:"approval_id"`
	Decision   string `json:"decision"`
	DecidedBy  string `json:"decided_by,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Tier       string `json:"tier,omitempty"`
	// Agency is the deciding agency, Channel how the decision came
	// ("email", "slack", "api"); Outcome where the policy stands after it
	// (pending, approved, rejected, held).
	Agency  string `json:"agency,omitempty"`
	Channel string `json:"channel,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	// HoldUntil is when a hold expires (approval_held).
	HoldUntil string `json:"hold_until,omitempty"`
	// Stage is "review" for the extra review's decision.
	Stage string `json:"stage,omitempty"`
}

// NoticeFailedData: one attempt to send a notice failed.
type NoticeFailedData struct {
	Kind      string `json:"kind"`
	Attempt   int    `json:"attempt"`
	Error     string `json:"error"`
	Transient bool   `json:"transient"`
}

// NoticeSentData: the takedown request (level 0) or warning 1-3 reached the
// platform; level 4 the fine recommendation (fine_recommended), level 5
// the access-blocking referral (blocking_referred).
type NoticeSentData struct {
	Kind           string `json:"kind"`
	Level          int    `json:"level"`
	Attempt        int    `json:"attempt"`
	Deadline       string `json:"deadline"`
	Channel        string `json:"channel"`
	PlatformRef    string `json:"platform_ref"`
	IdempotencyKey string `json:"idempotency_key"`
	// FineAmountIDR is the administrative fine a fine recommendation
	// proposes (rupiah, per item times items).
	FineAmountIDR int64 `json:"fine_amount_idr,omitempty"`
	// Agency is who an access-blocking referral goes to.
	Agency string `json:"agency,omitempty"`
}

// ComplianceCheckedData: whether the ad was still up after a deadline, and
// how that was found out (the platform's status API or a re-fetch).
type ComplianceCheckedData struct {
	Level     int    `json:"level"`
	CheckedAt string `json:"checked_at"`
	Method    string `json:"method"` // status_api or refetch
	// PlatformStatus is the status API's answer.
	PlatformStatus string `json:"platform_status,omitempty"`
	// Re-fetch: the blocked reason, or what came back and why it counts
	// as removed or live.
	Blocked  string `json:"blocked,omitempty"`
	Status   int    `json:"status,omitempty"`
	FinalURL string `json:"final_url,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Reason   string `json:"reason,omitempty"`

	Removed bool `json:"removed"`
	// Set when removed.
	Outcome              string `json:"outcome,omitempty"`
	RemovedAt            string `json:"removed_at,omitempty"`
	RemovedAtExact       *bool  `json:"removed_at_exact,omitempty"`
	TimeToRemovalSeconds *int64 `json:"time_to_removal_seconds,omitempty"`
}

// CaseClosedData: the case's outcome, or its move to the manual queue with
// the failure that put it there.
type CaseClosedData struct {
	Outcome   string         `json:"outcome"`
	Failure   map[string]any `json:"failure,omitempty"`
	RemovedAt string         `json:"removed_at,omitempty"`
}

// Decode reads e's data into v, the payload struct of e's type.
func (e Event) Decode(v any) error {
	if len(e.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s event %d of case %s: %w", e.Type, e.Seq, e.CaseID, err)
	}
	return nil
}

// LastVerified returns the data of the latest verified event in evs, ok
// false when the case was never verified.
func LastVerified(evs []Event) (VerifiedData, bool, error) {
	var v VerifiedData
	found := false
	for _, e := range evs {
		if e.Type != Verified {
			continue
		}
		v, found = VerifiedData{}, true
		if err := e.Decode(&v); err != nil {
			return VerifiedData{}, false, err
		}
	}
	return v, found, nil
}
