package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Case statuses.
const (
	StatusReceived        = "received"
	StatusVerifying       = "verifying"
	StatusAwaitingApprove = "awaiting_approval"
	StatusApproved        = "approved"
	StatusTakedownSent    = "takedown_requested"
	StatusManualQueue     = "manual_queue"
	StatusEscalated       = "escalated"
	// StatusObjected: the platform objected (Sanggah); the ladder waits
	// for the agency's decision.
	StatusObjected = "objected"
	// Closed outcomes.
	StatusRemovedInTime   = "removed_in_time"
	StatusRemovedLate     = "removed_late"
	StatusNonCompliant    = "non_compliant"
	StatusRejected        = "rejected"
	StatusApprovalExpired = "approval_expired"
	StatusNotActionable   = "not_actionable"
	StatusLegitimate      = "legitimate"
	StatusNotJobAd        = "not_job_ad"
	StatusDuplicate       = "duplicate"
	// StatusObjectionUpheld: the agency upheld the platform's objection.
	StatusObjectionUpheld = "objection_upheld"
)

// Objection states of a case (Case.Objection).
const (
	ObjectionPending   = "pending"
	ObjectionUpheld    = "upheld"
	ObjectionDismissed = "dismissed"
	ObjectionLapsed    = "lapsed"
)

// Case is the CASE#<id>/META item.
type Case struct {
	PK string `dynamodbav:"PK" json:"-"`
	SK string `dynamodbav:"SK" json:"-"`

	ID           string   `dynamodbav:"case_id" json:"case_id"`
	URL          string   `dynamodbav:"url" json:"url"`
	CanonicalURL string   `dynamodbav:"canonical_url" json:"canonical_url"`
	Platform     string   `dynamodbav:"platform" json:"platform"`
	Status       string   `dynamodbav:"status" json:"status"`
	Category     string   `dynamodbav:"category,omitempty" json:"category,omitempty"`
	Text         string   `dynamodbav:"text,omitempty" json:"text,omitempty"`
	Urgency      string   `dynamodbav:"urgency,omitempty" json:"urgency,omitempty"`
	Score        float64  `dynamodbav:"score,omitempty" json:"score,omitempty"`
	Verdict      string   `dynamodbav:"verdict,omitempty" json:"verdict,omitempty"`
	Label        string   `dynamodbav:"label,omitempty" json:"label,omitempty"`
	Indicators   []string `dynamodbav:"indicators,omitempty,stringset" json:"indicators,omitempty"`
	Deadline     string   `dynamodbav:"deadline,omitempty" json:"deadline,omitempty"`
	Escalation   int      `dynamodbav:"escalation,omitempty" json:"escalation,omitempty"`
	Outcome      string   `dynamodbav:"outcome,omitempty" json:"outcome,omitempty"`
	RemovedAt    string   `dynamodbav:"removed_at,omitempty" json:"removed_at,omitempty"`
	ReportCount  int      `dynamodbav:"report_count" json:"report_count"`
	CreatedAt    string   `dynamodbav:"created_at" json:"created_at"`
	UpdatedAt    string   `dynamodbav:"updated_at" json:"updated_at"`
	ClosedAt     string   `dynamodbav:"closed_at,omitempty" json:"closed_at,omitempty"`
	EventSeq     int      `dynamodbav:"event_seq" json:"event_count"`
	LastHash     string   `dynamodbav:"last_hash" json:"last_hash"`
	StepsDone    []string `dynamodbav:"steps_done,omitempty,stringset" json:"-"`
	Evidence     string   `dynamodbav:"evidence,omitempty" json:"evidence,omitempty"`
	TakedownAt   string   `dynamodbav:"takedown_at,omitempty" json:"takedown_requested_at,omitempty"`
	ExecutionARN string   `dynamodbav:"execution_arn,omitempty" json:"execution_arn,omitempty"`
	ApprovalID   string   `dynamodbav:"approval_id,omitempty" json:"approval_id,omitempty"`
	DuplicateOf  string   `dynamodbav:"duplicate_of,omitempty" json:"duplicate_of,omitempty"`
	// Reopens: the case of the same ad that closed as removed; the ad was
	// reported again, so this case is a new workflow run for it.
	Reopens string `dynamodbav:"reopens,omitempty" json:"reopens,omitempty"`
	// PlatformAnswer is the platform's latest answer to its notice
	// (acknowledged, removed, needs_information, objected), and
	// ClaimedRemovedAt the removal time a "removed" answer gave: a claim
	// until a compliance check confirms it.
	PlatformAnswer   string `dynamodbav:"platform_answer,omitempty" json:"platform_answer,omitempty"`
	ClaimedRemovedAt string `dynamodbav:"claimed_removed_at,omitempty" json:"claimed_removed_at,omitempty"`
	// Objection is the state of the platform's objection (Objection*).
	Objection string `dynamodbav:"objection,omitempty" json:"objection,omitempty"`
	// Approval is where the agencies' approval stands: each agency's
	// decision, a hold, what the policy still needs (written with each
	// decision, in the same transaction).
	Approval map[string]any `dynamodbav:"approval,omitempty" json:"approval,omitempty"`
	// TrustedFlagger is true when a trusted flagger reported the ad: its
	// review comes first (approvers' inboxes order by it).
	TrustedFlagger bool `dynamodbav:"trusted_flagger,omitempty" json:"trusted_flagger,omitempty"`
	// Source is "public" for a report through the public channel (no
	// account), else empty.
	Source string `dynamodbav:"source,omitempty" json:"source,omitempty"`
	// ExtraReview is true when policy asks for a further review before an
	// approval request (public reports, setting PublicReportsExtraReview).
	ExtraReview bool `dynamodbav:"extra_review,omitempty" json:"extra_review,omitempty"`

	GSI1PK string `dynamodbav:"GSI1PK" json:"-"`
	GSI1SK string `dynamodbav:"GSI1SK" json:"-"`
	GSI2PK string `dynamodbav:"GSI2PK" json:"-"`
	GSI2SK string `dynamodbav:"GSI2SK" json:"-"`
	// GSI4PK: ByStatusPlatform (StatusPlatformKey), sorted by GSI1SK.
	GSI4PK string `dynamodbav:"GSI4PK,omitempty" json:"-"`
}

// ErrNotFound is returned when an item does not exist.
var ErrNotFound = errors.New("not found")

// Table is the handle every package uses to reach the table.
type Table struct {
	DB   *dynamodb.Client
	Name string
}

// GetCase reads a case's META item with a strongly consistent read.
func (t Table) GetCase(ctx context.Context, id string) (*Case, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.Name),
		Key:            Key(CasePK(id), SKMeta),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get case %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get case %s: %w", id, ErrNotFound)
	}
	var c Case
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return nil, fmt.Errorf("decode case %s: %w", id, err)
	}
	return &c, nil
}

// Key builds a primary key.
func Key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

// IsClosed reports whether a status is a final outcome.
func IsClosed(status string) bool {
	switch status {
	case StatusRemovedInTime, StatusRemovedLate, StatusNonCompliant, StatusRejected,
		StatusApprovalExpired, StatusNotActionable, StatusLegitimate, StatusNotJobAd, StatusDuplicate, StatusObjectionUpheld:
		return true
	}
	return false
}

// IsConditionFailed reports whether a single-item write failed its
// condition expression.
func IsConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
