package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
)

// IDPrefix starts every approval id.
const IDPrefix = "ap_"

// Statuses of an approval.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusExpired  = "expired"
)

// Decisions an approver can make.
const (
	Approve = "approve"
	Reject  = "reject"
)

// EventDecided is the history event Decide records when the Store has a Log.
const EventDecided = history.ApprovalDecided

// Errors of the store.
var (
	ErrNotFound       = errors.New("approval not found")
	ErrAlreadyDecided = errors.New("approval already decided")
	ErrExpired        = errors.New("approval expired")
	ErrNotApprover    = errors.New("not an approver of this request")
)

// Approval is the APPROVAL#<id>/META item.
type Approval struct {
	ID     string
	CaseID string
	// TaskToken is the Step Functions callback token. It never leaves the
	// server: it is not in links, pages, messages, logs or JSON.
	TaskToken string `json:"-"`
	Tier      string
	// Approvers are who may decide: lower-case emails, or "slack:<user id>"
	// (SlackApprover) for Slack buttons.
	Approvers []string
	CreatedAt time.Time
	// ExpiresAt is when the links stop working and Decide refuses.
	ExpiresAt time.Time
	Status    string
	Decision  string // Approve or Reject once decided
	DecidedBy string
	// Agency is the decider's agency (store.AgencyOf the address).
	Agency    string
	Reason    string
	DecidedAt time.Time
	// Summary is the case as the approvers see it, frozen at Create.
	Summary Summary
}

// SlackApprover names a Slack user in Approvers.
func SlackApprover(userID string) string { return "slack:" + userID }

type item struct {
	PK        string   `dynamodbav:"PK"`
	SK        string   `dynamodbav:"SK"`
	ID        string   `dynamodbav:"approval_id"`
	CaseID    string   `dynamodbav:"case_id"`
	TaskToken string   `dynamodbav:"task_token"`
	Tier      string   `dynamodbav:"tier,omitempty"`
	Approvers []string `dynamodbav:"approvers,stringset"`
	CreatedAt string   `dynamodbav:"created_at"`
	// link_expires_at, not the table's TTL attribute expires_at: the
	// decision record must outlive its links.
	ExpiresAt int64  `dynamodbav:"link_expires_at"`
	Status    string `dynamodbav:"status"`
	Decision  string `dynamodbav:"decision,omitempty"`
	DecidedBy string `dynamodbav:"decided_by,omitempty"`
	Agency    string `dynamodbav:"agency,omitempty"`
	Reason    string `dynamodbav:"reason,omitempty"`
	DecidedAt string `dynamodbav:"decided_at,omitempty"`
	Summary   string `dynamodbav:"summary,omitempty"`
}

// Store keeps approvals in the single table.
type Store struct {
	Table store.Table
	// Log, when set, makes Decide record EventDecided in the case's history
	// in the same transaction as the decision.
	Log *history.Log
	Now func() time.Time // nil: time.Now
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func normApprover(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// Create stores a new pending approval. ID and CreatedAt are filled in when
// empty; CaseID, TaskToken, Approvers and ExpiresAt are required.
func (s *Store) Create(ctx context.Context, a Approval) (Approval, error) {
	now := s.now()
	if a.ID == "" {
		a.ID = ident.New(IDPrefix, now)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	switch {
	case strings.ContainsAny(a.ID, "|/?#&") || a.ID == "":
		return Approval{}, fmt.Errorf("create approval field id: %q is not a valid id", a.ID)
	case a.CaseID == "":
		return Approval{}, errors.New("create approval field case_id: required")
	case a.TaskToken == "":
		return Approval{}, errors.New("create approval field task_token: required")
	case len(a.Approvers) == 0:
		return Approval{}, errors.New("create approval field approvers: at least one required")
	case !a.ExpiresAt.After(a.CreatedAt):
		return Approval{}, errors.New("create approval field expires_at: must be after created_at")
	}
	set := make([]string, 0, len(a.Approvers))
	for _, ap := range a.Approvers {
		ap = normApprover(ap)
		if ap == "" || strings.Contains(ap, "|") {
			return Approval{}, fmt.Errorf("create approval field approvers: %q is not a valid approver", ap)
		}
		if !slices.Contains(set, ap) {
			set = append(set, ap)
		}
	}
	a.Approvers = set
	a.Status = StatusPending
	a.Decision, a.DecidedBy, a.Reason, a.DecidedAt = "", "", "", time.Time{}
	if a.Summary.CaseID == "" {
		a.Summary.CaseID = a.CaseID
	}
	sum, err := json.Marshal(a.Summary)
	if err != nil {
		return Approval{}, fmt.Errorf("create approval: encode summary: %w", err)
	}
	av, err := attributevalue.MarshalMap(item{
		PK: store.ApprovalPK(a.ID), SK: store.SKMeta, ID: a.ID, CaseID: a.CaseID, TaskToken: a.TaskToken, Tier: a.Tier,
		Approvers: a.Approvers, CreatedAt: store.FormatTime(a.CreatedAt), ExpiresAt: a.ExpiresAt.Unix(),
		Status: StatusPending, Summary: string(sum),
	})
	if err != nil {
		return Approval{}, fmt.Errorf("create approval: encode: %w", err)
	}
	_, err = s.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table.Name),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if store.IsConditionFailed(err) {
		return Approval{}, fmt.Errorf("create approval %s: id already used", a.ID)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("create approval %s: %w", a.ID, err)
	}
	a.ExpiresAt = time.Unix(a.ExpiresAt.Unix(), 0)
	return a, nil
}

// Get reads an approval (strongly consistent).
func (s *Store) Get(ctx context.Context, id string) (Approval, error) {
	out, err := s.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table.Name),
		Key:            store.Key(store.ApprovalPK(id), store.SKMeta),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Approval{}, fmt.Errorf("get approval %s: %w", id, err)
	}
	if out.Item == nil {
		return Approval{}, fmt.Errorf("get approval %s: %w", id, ErrNotFound)
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Approval{}, fmt.Errorf("decode approval %s: %w", id, err)
	}
	a := Approval{ID: it.ID, CaseID: it.CaseID, TaskToken: it.TaskToken, Tier: it.Tier, Approvers: it.Approvers,
		ExpiresAt: time.Unix(it.ExpiresAt, 0), Status: it.Status, Decision: it.Decision, DecidedBy: it.DecidedBy,
		Agency: it.Agency, Reason: it.Reason}
	a.CreatedAt, _ = time.Parse(time.RFC3339Nano, it.CreatedAt)
	if it.DecidedAt != "" {
		a.DecidedAt, _ = time.Parse(time.RFC3339Nano, it.DecidedAt)
	}
	if it.Summary != "" {
		if err := json.Unmarshal([]byte(it.Summary), &a.Summary); err != nil {
			return Approval{}, fmt.Errorf("decode approval %s summary: %w", id, err)
		}
	}
	slices.Sort(a.Approvers)
	return a, nil
}

// MaxReason is the longest reason kept.
const MaxReason = 2000

// Decide records approver's decision (Approve or Reject) once. It returns
// the decided approval, TaskToken included, for the caller to complete the
// workflow task (SendTaskSuccess or SendTaskFailure). Errors:
// ErrAlreadyDecided (with the approval as decided the first time),
// ErrExpired, ErrNotApprover, ErrNotFound. Under any number of concurrent
// calls exactly one succeeds.
func (s *Store) Decide(ctx context.Context, id, decision, approver, reason string) (Approval, error) {
	var status string
	switch decision {
	case Approve:
		status = StatusApproved
	case Reject:
		status = StatusRejected
	default:
		return Approval{}, fmt.Errorf("decide approval %s field decision: %q is neither %q nor %q", id, decision, Approve, Reject)
	}
	approver = normApprover(approver)
	if approver == "" {
		return Approval{}, fmt.Errorf("decide approval %s field approver: required", id)
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > MaxReason {
		return Approval{}, fmt.Errorf("decide approval %s field reason: longer than %d bytes", id, MaxReason)
	}
	now := s.now()
	values := map[string]any{
		":pending": StatusPending, ":status": status, ":decision": decision, ":who": approver,
		":at": store.FormatTime(now), ":now": now.Unix(),
	}
	expr := "SET #status = :status, decision = :decision, decided_by = :who, decided_at = :at"
	agency := store.AgencyOf(approver)
	if agency != "" {
		expr += ", agency = :agency"
		values[":agency"] = agency
	}
	if reason != "" {
		expr += ", reason = :reason"
		values[":reason"] = reason
	}
	av, err := attributevalue.MarshalMap(values)
	if err != nil {
		return Approval{}, fmt.Errorf("decide approval %s: %w", id, err)
	}
	update := &types.Update{
		TableName:                 aws.String(s.Table.Name),
		Key:                       store.Key(store.ApprovalPK(id), store.SKMeta),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#status = :pending AND contains(approvers, :who) AND link_expires_at > :now"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: av,
	}
	if s.Log != nil {
		err = s.decideWithEvent(ctx, id, update, decision, approver, agency, reason, now)
	} else {
		_, err = s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: update.TableName, Key: update.Key, UpdateExpression: update.UpdateExpression,
			ConditionExpression: update.ConditionExpression, ExpressionAttributeNames: update.ExpressionAttributeNames,
			ExpressionAttributeValues: update.ExpressionAttributeValues,
		})
		if store.IsConditionFailed(err) {
			err = history.ErrConditionFailed
		}
	}
	if errors.Is(err, history.ErrConditionFailed) {
		return s.whyNot(ctx, id, approver, now)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("decide approval %s: %w", id, err)
	}
	return s.Get(ctx, id)
}

func (s *Store) decideWithEvent(ctx context.Context, id string, update *types.Update, decision, approver, agency, reason string, now time.Time) error {
	// The case id is needed for the event; it never changes, so reading it
	// first is safe.
	a, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	data := history.ApprovalDecidedData{ApprovalID: id, Decision: decision, Reason: reason, Tier: a.Tier, Agency: agency}
	// Item 0 of Items is the decision's condition (history reports its
	// failure as ErrConditionFailed); then the case under its deciders.
	items := append([]types.TransactWriteItem{{Update: update}}, store.DecisionIndexItems(s.Table.Name, a.CaseID, agency, approver, now)...)
	_, err = s.Log.Append(ctx, a.CaseID, EventDecided, approver, data, history.Change{Items: items})
	return err
}

// whyNot explains a failed decision condition.
func (s *Store) whyNot(ctx context.Context, id, approver string, now time.Time) (Approval, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return Approval{}, fmt.Errorf("decide approval %s: %w", id, err)
	}
	switch {
	case a.Status != StatusPending:
		return a, fmt.Errorf("decide approval %s: %w (%s by %s)", id, ErrAlreadyDecided, a.Status, a.DecidedBy)
	case !slices.Contains(a.Approvers, approver):
		return Approval{}, fmt.Errorf("decide approval %s: %w: %s", id, ErrNotApprover, approver)
	case now.Unix() >= a.ExpiresAt.Unix():
		return Approval{}, fmt.Errorf("decide approval %s: %w at %s", id, ErrExpired, a.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return Approval{}, fmt.Errorf("decide approval %s: condition failed for an unknown reason", id)
}

// Expire marks a pending approval expired (the workflow's approval timeout
// fired). It returns ErrAlreadyDecided if a decision came first.
func (s *Store) Expire(ctx context.Context, id string) (Approval, error) {
	now := s.now()
	av, _ := attributevalue.MarshalMap(map[string]any{":pending": StatusPending, ":expired": StatusExpired, ":at": store.FormatTime(now)})
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table.Name),
		Key:                       store.Key(store.ApprovalPK(id), store.SKMeta),
		UpdateExpression:          aws.String("SET #status = :expired, decided_at = :at"),
		ConditionExpression:       aws.String("#status = :pending"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: av,
	})
	if store.IsConditionFailed(err) {
		a, gerr := s.Get(ctx, id)
		if gerr != nil {
			return Approval{}, fmt.Errorf("expire approval %s: %w", id, gerr)
		}
		return a, fmt.Errorf("expire approval %s: %w (%s)", id, ErrAlreadyDecided, a.Status)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("expire approval %s: %w", id, err)
	}
	return s.Get(ctx, id)
}
