package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
)

// IDPrefix starts every approval id.
const IDPrefix = "ap_"

// Statuses of an approval. Held: the agencies decided, but an agency
// holds the case (an open investigation) until it releases or the hold
// expires.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusHeld     = "held"
	StatusExpired  = "expired"
	// StatusReviewed: the extra review confirmed the case; the required
	// agencies are asked next (the workflow plans tier 1 again).
	StatusReviewed = "reviewed"
)

// Stages of an approval: the extra review (a public report's case, by
// policy) comes first, alone; then the agencies decide.
const (
	StageReview = "review"
	StageDecide = "decide"
)

// Decisions an approver can make.
const (
	Approve = agency.Approve
	Reject  = agency.Reject
	Hold    = agency.Hold
	Release = agency.Release
)

// Channels a decision comes through.
const (
	ChannelEmail = "email"
	ChannelSlack = "slack"
	ChannelAPI   = "api"
	// ChannelConsole is the web console.
	ChannelConsole = "console"
)

// Token phases: which callback the stored task token belongs to.
const (
	PhaseDecide  = "decide"  // RequestApproval or RemindApprovers: waits for the agencies' outcome
	PhaseRelease = "release" // AwaitRelease: waits for a hold's release
)

// EventDecided is the history event of an approve or reject.
const EventDecided = history.ApprovalDecided

// Errors of the store.
var (
	ErrNotFound       = errors.New("approval not found")
	ErrAlreadyDecided = errors.New("approval already decided")
	ErrExpired        = errors.New("approval expired")
	ErrNotApprover    = errors.New("not an approver of this request")
	ErrReasonRequired = errors.New("a reason is required")
	ErrNoHold         = errors.New("no hold to release")
	ErrConflict       = errors.New("approval changed concurrently too often")
)

// AgencyDecision is one agency's decision, or a hold, as recorded.
type AgencyDecision struct {
	Agency   string    `json:"agency"`
	By       string    `json:"by"`
	Channel  string    `json:"channel"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// HoldState is an agency's hold on the takedown.
type HoldState struct {
	AgencyDecision
	Until    time.Time  `json:"until"`
	Released *time.Time `json:"released_at,omitempty"`
}

// Approval is the APPROVAL#<id>/META item: one per case workflow, shared
// by every agency and tier.
type Approval struct {
	ID     string
	CaseID string
	// TaskToken is the Step Functions callback token of the task waiting
	// now (Phase says which). It never leaves the server.
	TaskToken string `json:"-"`
	Phase     string `json:"-"`
	// Delivered is true once the current outcome went to the waiting task.
	Delivered bool `json:"-"`
	Policy    agency.Policy
	Tier      int
	// Members are who may act now: identity (lower-case e-mail or
	// "slack:<user>") → agency id.
	Members   map[string]string
	CreatedAt time.Time
	// ExpiresAt is the end of the current tier's window: links stop
	// working and decisions are refused.
	ExpiresAt time.Time
	Status    string
	Decisions map[string]AgencyDecision // agency → its decision
	Hold      *HoldState
	// Decision, DecidedBy, Reason, DecidedAt: the decision that settled
	// the policy.
	Decision  string
	DecidedBy string
	Reason    string
	DecidedAt time.Time
	Summary   Summary
	// Slack is each agency's approval message in Slack (agency → where).
	Slack   map[string]SlackMessage
	Version int
	// TrustedFlagger: a trusted flagger reported the case (its tiers have
	// the policy's trusted_flagger window; inboxes list it early).
	TrustedFlagger bool
	// Stage is StageReview while the extra review runs, else StageDecide
	// (or empty, for approvals without a review).
	Stage string
	// Review is the reviewer's decision, once made.
	Review *AgencyDecision
}

// InReview reports whether the extra review is still running.
func (a Approval) InReview() bool { return a.Stage == StageReview && a.Status == StatusPending }

// HasOutcome reports whether a holds an outcome the waiting task takes:
// the agencies' (approved, rejected, held) or the review's (reviewed).
func (a Approval) HasOutcome() bool {
	switch a.Status {
	case StatusApproved, StatusRejected, StatusHeld, StatusReviewed:
		return true
	}
	return false
}

// SlackApprover names a Slack user among the members.
func SlackApprover(userID string) string { return agency.SlackIdentity(userID) }

// Evaluation is where the policy stands (during the extra review: that
// it waits for the review).
func (a Approval) Evaluation() agency.Evaluation {
	if a.InReview() && a.Policy.ExtraReview != nil {
		r := a.Policy.ExtraReview
		who := shortName(r.Agency) + " (" + r.Role + ")"
		return agency.Evaluation{Outcome: agency.Pending, Needed: a.Policy.Needed(), Missing: []string{r.Agency},
			Why: "menunggu tinjauan tambahan oleh " + who + " sebelum instansi diminta persetujuan / waiting for the extra review by " + who + " before the agencies are asked"}
	}
	m := map[string]string{}
	for ag, d := range a.Decisions {
		m[ag] = d.Decision
	}
	return a.Policy.Evaluate(m)
}

// Held reports whether a hold is in force at now.
func (a Approval) Held(now time.Time) bool {
	return a.Hold != nil && a.Hold.Released == nil && now.Before(a.Hold.Until)
}

// Approvers are the identities that may act now, sorted.
func (a Approval) Approvers() []string {
	out := make([]string, 0, len(a.Members))
	for id := range a.Members {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

type item struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	ID        string `dynamodbav:"approval_id"`
	CaseID    string `dynamodbav:"case_id"`
	TaskToken string `dynamodbav:"task_token"`
	Phase     string `dynamodbav:"phase"`
	Delivered bool   `dynamodbav:"delivered"`
	// link_expires_at, not the table's TTL attribute expires_at: the
	// decision record must outlive its links.
	ExpiresAt int64  `dynamodbav:"link_expires_at"`
	Status    string `dynamodbav:"status"`
	Version   int    `dynamodbav:"version"`
	// State is the rest, as JSON: policy, tier, members, decisions, hold.
	State string `dynamodbav:"state"`
}

type state struct {
	Policy    agency.Policy             `json:"policy"`
	Tier      int                       `json:"tier"`
	Members   map[string]string         `json:"members"`
	CreatedAt time.Time                 `json:"created_at"`
	Decisions map[string]AgencyDecision `json:"decisions,omitempty"`
	Hold      *HoldState                `json:"hold,omitempty"`
	Decision  string                    `json:"decision,omitempty"`
	DecidedBy string                    `json:"decided_by,omitempty"`
	Reason    string                    `json:"reason,omitempty"`
	DecidedAt time.Time                 `json:"decided_at,omitzero"`
	Summary   Summary                   `json:"summary"`
	Slack     map[string]SlackMessage   `json:"slack,omitempty"`
	Trusted   bool                      `json:"trusted_flagger,omitempty"`
	Stage     string                    `json:"stage,omitempty"`
	Review    *AgencyDecision           `json:"review,omitempty"`
}

// Store keeps approvals in the single table.
type Store struct {
	Table store.Table
	// Log records each decision, hold and release in the case's history,
	// in the same transaction as the approval (required by Act).
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

func (a Approval) marshal() (map[string]types.AttributeValue, error) {
	st, err := json.Marshal(state{Policy: a.Policy, Tier: a.Tier, Members: a.Members, CreatedAt: a.CreatedAt,
		Decisions: a.Decisions, Hold: a.Hold, Decision: a.Decision, DecidedBy: a.DecidedBy, Reason: a.Reason,
		DecidedAt: a.DecidedAt, Summary: a.Summary, Slack: a.Slack, Trusted: a.TrustedFlagger, Stage: a.Stage, Review: a.Review})
	if err != nil {
		return nil, err
	}
	return attributevalue.MarshalMap(item{PK: store.ApprovalPK(a.ID), SK: store.SKMeta, ID: a.ID, CaseID: a.CaseID,
		TaskToken: a.TaskToken, Phase: a.Phase, Delivered: a.Delivered, ExpiresAt: a.ExpiresAt.Unix(), Status: a.Status,
		Version: a.Version, State: string(st)})
}

// Create stores a new pending approval. ID and CreatedAt are filled in
// when empty; CaseID, TaskToken, Members, Policy and ExpiresAt are
// required.
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
	case len(a.Members) == 0:
		return Approval{}, errors.New("create approval field members: at least one required")
	case len(a.Policy.Require) == 0:
		return Approval{}, errors.New("create approval field policy: it requires no agency")
	case !a.ExpiresAt.After(a.CreatedAt):
		return Approval{}, errors.New("create approval field expires_at: must be after created_at")
	}
	members := map[string]string{}
	for id, ag := range a.Members {
		id = normApprover(id)
		if id == "" || strings.Contains(id, "|") || ag == "" {
			return Approval{}, fmt.Errorf("create approval field members: %q is not a valid approver", id)
		}
		members[id] = ag
	}
	a.Members = members
	if a.Tier == 0 {
		a.Tier = 1
	}
	if a.Phase == "" {
		a.Phase = PhaseDecide
	}
	a.Status, a.Version, a.Decisions, a.Hold = StatusPending, 1, map[string]AgencyDecision{}, nil
	if a.Summary.CaseID == "" {
		a.Summary.CaseID = a.CaseID
	}
	a.ExpiresAt = time.Unix(a.ExpiresAt.Unix(), 0)
	av, err := a.marshal()
	if err != nil {
		return Approval{}, fmt.Errorf("create approval: encode: %w", err)
	}
	_, err = s.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table.Name), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if store.IsConditionFailed(err) {
		return Approval{}, fmt.Errorf("create approval %s: id already used", a.ID)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("create approval %s: %w", a.ID, err)
	}
	return a, nil
}

// Get reads an approval (strongly consistent).
func (s *Store) Get(ctx context.Context, id string) (Approval, error) {
	out, err := s.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table.Name), Key: store.Key(store.ApprovalPK(id), store.SKMeta), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Approval{}, fmt.Errorf("get approval %s: %w", id, err)
	}
	if out.Item == nil {
		return Approval{}, fmt.Errorf("get approval %s: %w", id, ErrNotFound)
	}
	return decode(out.Item)
}

func decode(av map[string]types.AttributeValue) (Approval, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Approval{}, fmt.Errorf("decode approval: %w", err)
	}
	var st state
	if err := json.Unmarshal([]byte(it.State), &st); err != nil {
		return Approval{}, fmt.Errorf("decode approval %s state: %w", it.ID, err)
	}
	a := Approval{ID: it.ID, CaseID: it.CaseID, TaskToken: it.TaskToken, Phase: it.Phase, Delivered: it.Delivered,
		ExpiresAt: time.Unix(it.ExpiresAt, 0), Status: it.Status, Version: it.Version,
		Policy: st.Policy, Tier: st.Tier, Members: st.Members, CreatedAt: st.CreatedAt, Decisions: st.Decisions,
		Hold: st.Hold, Decision: st.Decision, DecidedBy: st.DecidedBy, Reason: st.Reason, DecidedAt: st.DecidedAt, Summary: st.Summary, Slack: st.Slack,
		TrustedFlagger: st.Trusted, Stage: st.Stage, Review: st.Review}
	if a.Decisions == nil {
		a.Decisions = map[string]AgencyDecision{}
	}
	return a, nil
}

// MaxReason is the longest reason kept.
const MaxReason = 2000

// Action is one member's act on an approval.
type Action struct {
	Decision string // Approve, Reject, Hold or Release
	Identity string // lower-case e-mail or SlackApprover(user)
	Channel  string // ChannelEmail, ChannelSlack, ChannelAPI
	Reason   string
}

// Result is an approval after an act. Deliver is true when the waiting
// task must now be completed with Outcome (Completer.Deliver).
type Result struct {
	Approval
	Agency  string
	Deliver bool
}

// Decide is Act with an approve or reject (kept for callers of one
// decision).
func (s *Store) Decide(ctx context.Context, id, decision, approver, reason string) (Approval, error) {
	r, err := s.Act(ctx, id, Action{Decision: decision, Identity: approver, Channel: ChannelEmail, Reason: reason})
	return r.Approval, err
}

// Act records a member's decision, hold or release for the member's
// agency, with its history event in the same transaction, and settles the
// policy when it is met or can no longer be met. Errors: ErrNotApprover
// (not a member, or the agency has no say in this), ErrAlreadyDecided
// (the agency or the policy already decided: the approval is returned),
// ErrExpired, ErrReasonRequired, ErrNoHold, ErrNotFound. Concurrent acts
// are serialized by the item's version: none is lost.
func (s *Store) Act(ctx context.Context, id string, act Action) (Result, error) {
	act.Identity = normApprover(act.Identity)
	act.Reason = strings.TrimSpace(act.Reason)
	switch {
	case act.Identity == "":
		return Result{}, fmt.Errorf("act on approval %s field approver: required", id)
	case len(act.Reason) > MaxReason:
		return Result{}, fmt.Errorf("act on approval %s field reason: longer than %d bytes", id, MaxReason)
	case (act.Decision == Reject || act.Decision == Hold) && act.Reason == "":
		return Result{}, fmt.Errorf("act on approval %s field reason: %w to %s", id, ErrReasonRequired, act.Decision)
	}
	switch act.Decision {
	case Approve, Reject, Hold, Release:
	default:
		return Result{}, fmt.Errorf("act on approval %s field decision: %q is not approve, reject, hold or release", id, act.Decision)
	}
	if s.Log == nil {
		return Result{}, errors.New("act on approval: the store has no history log")
	}
	for range 8 {
		a, err := s.Get(ctx, id)
		if err != nil {
			return Result{}, err
		}
		r, typ, data, err := s.apply(a, act)
		if err != nil {
			return r, fmt.Errorf("act on approval %s: %w", id, err)
		}
		err = s.save(ctx, r.Approval, a.Version, typ, act.Identity, data)
		if errors.Is(err, history.ErrConditionFailed) {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("act on approval %s: %w", id, err)
		}
		return r, nil
	}
	return Result{}, fmt.Errorf("act on approval %s: %w", id, ErrConflict)
}

// apply computes the approval after act (pure: no I/O).
func (s *Store) apply(a Approval, act Action) (Result, history.Type, history.ApprovalDecidedData, error) {
	now := s.now()
	ag, ok := a.Members[act.Identity]
	r := Result{Approval: a, Agency: ag}
	if !ok {
		return r, "", history.ApprovalDecidedData{}, fmt.Errorf("%w: %s", ErrNotApprover, act.Identity)
	}
	d := AgencyDecision{Agency: ag, By: act.Identity, Channel: act.Channel, Decision: act.Decision, Reason: act.Reason, At: now.UTC()}
	data := history.ApprovalDecidedData{ApprovalID: a.ID, Decision: act.Decision, DecidedBy: act.Identity, Reason: act.Reason,
		Tier: fmt.Sprint(a.Tier), Agency: ag, Channel: act.Channel}
	var typ history.Type
	decs := map[string]AgencyDecision{}
	for k, v := range a.Decisions {
		decs[k] = v
	}
	r.Decisions = decs
	if a.Stage == StageReview {
		return s.applyReview(a, act, r, d, data)
	}
	switch act.Decision {
	case Approve, Reject:
		if !a.Policy.Requires(ag) {
			return r, "", data, fmt.Errorf("%w: %s (%s) has no say in the approval", ErrNotApprover, act.Identity, ag)
		}
		if a.Status != StatusPending {
			return r, "", data, fmt.Errorf("%w (%s by %s)", ErrAlreadyDecided, a.Status, a.DecidedBy)
		}
		if prev, done := a.Decisions[ag]; done {
			return r, "", data, fmt.Errorf("%w: %s already decided %s for %s", ErrAlreadyDecided, prev.By, prev.Decision, ag)
		}
		if now.Unix() >= a.ExpiresAt.Unix() {
			return r, "", data, fmt.Errorf("%w at %s", ErrExpired, a.ExpiresAt.UTC().Format(time.RFC3339))
		}
		typ = EventDecided
		decs[ag] = d
		ev := r.Evaluation()
		if ev.Outcome != agency.Pending {
			r.Decision, r.DecidedBy, r.Reason, r.DecidedAt = act.Decision, act.Identity, act.Reason, now.UTC()
			r.Status = ev.Outcome
			if ev.Outcome == agency.Approved && a.Held(now) {
				r.Status = StatusHeld
			}
			r.Deliver, r.Delivered = true, false
		}
	case Hold:
		if !a.Policy.MayHold(ag) {
			return r, "", data, fmt.Errorf("%w: %s (%s) may not hold", ErrNotApprover, act.Identity, ag)
		}
		if a.Status != StatusPending {
			return r, "", data, fmt.Errorf("%w (%s)", ErrAlreadyDecided, a.Status)
		}
		if a.Held(now) {
			return r, "", data, fmt.Errorf("%w: held by %s already", ErrAlreadyDecided, a.Hold.By)
		}
		typ = history.ApprovalHeld
		r.Hold = &HoldState{AgencyDecision: d, Until: now.Add(a.Policy.HoldMax()).UTC()}
		data.HoldUntil = store.FormatTime(r.Hold.Until)
	case Release:
		if !a.Policy.MayHold(ag) {
			return r, "", data, fmt.Errorf("%w: %s (%s) may not release", ErrNotApprover, act.Identity, ag)
		}
		if !a.Held(now) || a.Hold.Agency != ag {
			return r, "", data, ErrNoHold
		}
		typ = history.ApprovalReleased
		h := *a.Hold
		t := now.UTC()
		h.Released = &t
		r.Hold = &h
		if a.Status == StatusHeld {
			r.Status = StatusApproved
			r.Deliver, r.Delivered = true, false
		}
	}
	data.Outcome = r.Status
	r.Version = a.Version + 1
	return r, typ, data, nil
}

// applyReview is the reviewer's act during the extra review: a
// confirmation hands the case to the agencies (StatusReviewed), a
// rejection rejects it with the reviewer's reason.
func (s *Store) applyReview(a Approval, act Action, r Result, d AgencyDecision, data history.ApprovalDecidedData) (Result, history.Type, history.ApprovalDecidedData, error) {
	now := s.now()
	data.Stage = StageReview
	switch {
	case act.Decision != Approve && act.Decision != Reject:
		return r, "", data, fmt.Errorf("%w: during the extra review only the reviewer approves or rejects", ErrNotApprover)
	case a.Status != StatusPending:
		by := a.DecidedBy
		if a.Review != nil {
			by = a.Review.By
		}
		return r, "", data, fmt.Errorf("%w (review %s by %s)", ErrAlreadyDecided, a.Status, by)
	case now.Unix() >= a.ExpiresAt.Unix():
		return r, "", data, fmt.Errorf("%w at %s", ErrExpired, a.ExpiresAt.UTC().Format(time.RFC3339))
	}
	r.Review = &d
	r.Status = StatusReviewed
	if act.Decision == Reject {
		r.Status = StatusRejected
		r.Decision, r.DecidedBy, r.Reason, r.DecidedAt = act.Decision, act.Identity, act.Reason, now.UTC()
	}
	r.Deliver, r.Delivered = true, false
	data.Outcome = r.Status
	r.Version = a.Version + 1
	return r, EventDecided, data, nil
}

// save writes a (expected at version) with its history event, and the
// case's view of the approval, in one transaction.
func (s *Store) save(ctx context.Context, a Approval, version int, typ history.Type, who string, data history.ApprovalDecidedData) error {
	av, err := a.marshal()
	if err != nil {
		return err
	}
	cond, _ := attributevalue.MarshalMap(map[string]any{":v": version})
	put := types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.Table.Name), Item: av,
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: cond,
	}}
	items := []types.TransactWriteItem{put}
	if typ == EventDecided {
		// Every agency's decision lists the case under that agency and
		// its approver (auditors' listings, store.IndexByFacet).
		items = append(items, store.DecisionIndexItems(s.Table.Name, a.CaseID, data.Agency, who, s.now())...)
	}
	_, err = s.Log.Append(ctx, a.CaseID, typ, who, data, history.Change{
		Set:   map[string]any{"approval": a.View(s.now())},
		Items: items,
	})
	return err
}

// Update rewrites an approval the workflow changed (a new tier, a fresh
// token) if it is still at version; it returns history.ErrConditionFailed
// when someone acted in between (read again and retry).
func (s *Store) Update(ctx context.Context, a Approval, version int) error {
	av, err := a.marshal()
	if err != nil {
		return err
	}
	cond, _ := attributevalue.MarshalMap(map[string]any{":v": version})
	_, err = s.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table.Name), Item: av,
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: cond,
	})
	if store.IsConditionFailed(err) {
		return history.ErrConditionFailed
	}
	if err != nil {
		return fmt.Errorf("update approval %s: %w", a.ID, err)
	}
	return nil
}

// Modify reads the approval, applies f and writes it back, retrying when
// a member acted in between.
func (s *Store) Modify(ctx context.Context, id string, f func(*Approval) error) (Approval, error) {
	for range 8 {
		a, err := s.Get(ctx, id)
		if err != nil {
			return Approval{}, err
		}
		v := a.Version
		if err := f(&a); err != nil {
			return a, err
		}
		a.Version = v + 1
		err = s.Update(ctx, a, v)
		if errors.Is(err, history.ErrConditionFailed) {
			continue
		}
		return a, err
	}
	return Approval{}, fmt.Errorf("modify approval %s: %w", id, ErrConflict)
}

// CaseView is the approval as GET /cases/{id} shows it.
type CaseView struct {
	ApprovalID string            `dynamodbav:"approval_id" json:"approval_id"`
	Policy     string            `dynamodbav:"policy" json:"policy"`
	Status     string            `dynamodbav:"approval_status" json:"approval_status"`
	Tier       int               `dynamodbav:"tier" json:"tier"`
	Deadline   string            `dynamodbav:"deadline" json:"deadline"`
	Decisions  []DecisionView    `dynamodbav:"decisions" json:"decisions"`
	Hold       *DecisionView     `dynamodbav:"hold,omitempty" json:"hold,omitempty"`
	Needs      agency.Evaluation `dynamodbav:"needs" json:"needs"`
	// Stage is "review" while the extra review runs; Review the
	// reviewer's decision; TrustedFlagger that the window is a trusted
	// flagger's.
	Stage          string        `dynamodbav:"stage,omitempty" json:"stage,omitempty"`
	Review         *DecisionView `dynamodbav:"review,omitempty" json:"review,omitempty"`
	TrustedFlagger bool          `dynamodbav:"trusted_flagger,omitempty" json:"trusted_flagger,omitempty"`
}

// DecisionView is one agency's recorded decision.
type DecisionView struct {
	Agency   string `dynamodbav:"agency" json:"agency"`
	By       string `dynamodbav:"by" json:"by"`
	Channel  string `dynamodbav:"channel" json:"channel"`
	Decision string `dynamodbav:"decision" json:"decision"`
	Reason   string `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
	At       string `dynamodbav:"at" json:"at"`
	Until    string `dynamodbav:"until,omitempty" json:"until,omitempty"`
	Released string `dynamodbav:"released_at,omitempty" json:"released_at,omitempty"`
}

// View is what the case shows of the approval.
func (a Approval) View(now time.Time) CaseView {
	v := CaseView{ApprovalID: a.ID, Policy: a.Policy.Name, Status: a.Status, Tier: a.Tier,
		Deadline: store.FormatTime(a.ExpiresAt), Needs: a.Evaluation(), Decisions: []DecisionView{}, Stage: a.Stage,
		TrustedFlagger: a.TrustedFlagger}
	if a.Review != nil {
		rv := decisionView(*a.Review)
		v.Review = &rv
	}
	for _, ag := range a.Policy.Require {
		if d, ok := a.Decisions[ag]; ok {
			v.Decisions = append(v.Decisions, decisionView(d))
		}
	}
	if a.Hold != nil {
		h := decisionView(a.Hold.AgencyDecision)
		h.Until = store.FormatTime(a.Hold.Until)
		if a.Hold.Released != nil {
			h.Released = store.FormatTime(*a.Hold.Released)
		}
		v.Hold = &h
	}
	if a.Held(now) && v.Needs.Outcome == agency.Approved {
		v.Needs.Why = "disetujui, tetapi ditahan oleh " + a.Hold.Agency + " / approved, but held by " + a.Hold.Agency
	}
	return v
}

func decisionView(d AgencyDecision) DecisionView {
	return DecisionView{Agency: d.Agency, By: d.By, Channel: d.Channel, Decision: d.Decision, Reason: d.Reason, At: store.FormatTime(d.At)}
}

// Bind stores the token of the task that waits now (phase PhaseDecide or
// PhaseRelease). When the outcome that task waits for is already there
// (a decision recorded but not delivered, a release before the wait),
// deliver is true: complete the task at once with Outcome.
func (s *Store) Bind(ctx context.Context, id, token, phase string) (a Approval, deliver bool, err error) {
	a, err = s.Modify(ctx, id, func(a *Approval) error {
		a.TaskToken, a.Phase, a.Delivered = token, phase, false
		return nil
	})
	if err != nil {
		return a, false, err
	}
	switch phase {
	case PhaseDecide:
		deliver = a.HasOutcome()
	case PhaseRelease:
		deliver = a.Status == StatusApproved || a.Status == StatusRejected
	}
	return a, deliver, nil
}

// MarkDelivered notes that the current outcome reached the workflow.
func (s *Store) MarkDelivered(ctx context.Context, id, token string) error {
	_, err := s.Modify(ctx, id, func(a *Approval) error {
		if a.TaskToken != token {
			return nil
		}
		a.Delivered = true
		return nil
	})
	return err
}

// Members lists who may act in a tier: identity → agency.
func Members(dir agency.Directory, p agency.Policy, tier int) map[string]string {
	m := map[string]string{}
	for _, ag := range p.Involved() {
		for t := 1; t <= tier; t++ {
			for _, mem := range dir.Asked(p, t, ag) {
				for _, id := range mem.Identities() {
					m[id] = ag
				}
			}
		}
	}
	return m
}

// ReviewMembers are who review a case first: identity → agency.
func ReviewMembers(dir agency.Directory, p agency.Policy) map[string]string {
	m := map[string]string{}
	for _, mem := range dir.Reviewers(p) {
		m[normApprover(mem.Email)] = p.ExtraReview.Agency
	}
	return m
}

// Outcome is what the waiting task receives for a's status.
func (a Approval) Outcome(now time.Time) Decision {
	d := Decision{Decision: a.Status, Approver: a.DecidedBy, Reason: a.Reason, ApprovalID: a.ID}
	if a.Status == StatusHeld && a.Hold != nil {
		secs := int(a.Hold.Until.Sub(now).Seconds())
		d.HoldSeconds = max(secs, 1)
		d.HeldBy = a.Hold.Agency
	}
	if a.Status == StatusReviewed && a.Review != nil {
		d.Approver, d.Reason = a.Review.By, a.Review.Reason
	}
	if slices.Contains([]string{StatusPending, StatusExpired}, a.Status) {
		d.Decision = StatusRejected
	}
	return d
}
