package approval

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

type inboxItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	ApprovalID string `dynamodbav:"approval_id"`
	CaseID     string `dynamodbav:"case_id"`
	Agency     string `dynamodbav:"agency"`
	ExpiresAt  int64  `dynamodbav:"expires_at"` // TTL: a month after the request
	// Trusted: a trusted flagger reported the case (inboxes list it early).
	Trusted bool `dynamodbav:"trusted_flagger,omitempty"`
}

// inboxKeep is how long an inbox entry stays (the table's TTL removes it).
const inboxKeep = 30 * 24 * time.Hour

// AddToInbox lists a in the inbox of each member who may act on it and
// has an e-mail (the identity of a token's caller).
func (s *Store) AddToInbox(ctx context.Context, a Approval) error {
	var writes []types.WriteRequest
	for who, ag := range a.Members {
		if strings.HasPrefix(who, "slack:") {
			continue
		}
		av, err := attributevalue.MarshalMap(inboxItem{PK: store.InboxPK(who), SK: store.ApprovalPK(a.ID), ApprovalID: a.ID,
			CaseID: a.CaseID, Agency: ag, ExpiresAt: a.ExpiresAt.Add(inboxKeep).Unix(), Trusted: a.TrustedFlagger})
		if err != nil {
			return fmt.Errorf("inbox of approval %s: %w", a.ID, err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	return s.Table.BatchWrite(ctx, writes)
}

// Waiting is one entry of an approver's inbox.
type Waiting struct {
	ApprovalID string            `json:"approval_id"`
	CaseID     string            `json:"case_id"`
	Agency     string            `json:"agency"`
	Deadline   time.Time         `json:"deadline"`
	DeadlineID string            `json:"deadline_wib"`
	Urgency    string            `json:"urgency"`
	URL        string            `json:"url"`
	Platform   string            `json:"platform"`
	MayDecide  []string          `json:"may_decide"`
	Needs      agency.Evaluation `json:"needs"`
	// TrustedFlagger: a trusted flagger reported the case.
	TrustedFlagger bool `json:"trusted_flagger"`
	// Stage is "review" when the caller is asked for the extra review.
	Stage string `json:"stage,omitempty"`
}

// Pending lists what waits for who (a lower-case e-mail): approvals still
// open whose policy needs who's agency (or who's extra review), or that
// who's agency may hold or release. Urgent cases come first, then trusted
// flaggers' (as their inbox entries say), then the soonest deadline.
func (s *Store) Pending(ctx context.Context, who string) ([]Waiting, error) {
	who = normApprover(who)
	var keys []map[string]types.AttributeValue
	trusted := map[string]bool{}
	p := dynamodb.NewQueryPaginator(s.Table.DB, &dynamodb.QueryInput{
		TableName: aws.String(s.Table.Name), KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: store.InboxPK(who)}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("inbox of %s: %w", who, err)
		}
		for _, it := range page.Items {
			var in inboxItem
			if err := attributevalue.UnmarshalMap(it, &in); err != nil {
				return nil, fmt.Errorf("inbox of %s: %w", who, err)
			}
			keys = append(keys, store.Key(store.ApprovalPK(in.ApprovalID), store.SKMeta))
			trusted[in.ApprovalID] = in.Trusted
		}
	}
	items, err := s.Table.BatchGet(ctx, keys, "")
	if err != nil {
		return nil, fmt.Errorf("inbox of %s: %w", who, err)
	}
	now := s.now()
	out := []Waiting{}
	for _, it := range items {
		a, err := decode(it)
		if err != nil {
			return nil, err
		}
		may := a.MayDo(who, now)
		if len(may) == 0 {
			continue
		}
		out = append(out, Waiting{ApprovalID: a.ID, CaseID: a.CaseID, Agency: a.Members[who], Deadline: a.ExpiresAt.UTC(),
			DeadlineID: TanggalWIB(a.ExpiresAt), Urgency: a.Summary.Urgency, URL: a.Summary.URL, Platform: a.Summary.Platform,
			MayDecide: may, Needs: a.Evaluation(), TrustedFlagger: trusted[a.ID], Stage: stageOf(a)})
	}
	SortInbox(out)
	return out, nil
}

func stageOf(a Approval) string {
	if a.InReview() {
		return StageReview
	}
	return ""
}

// SortInbox orders an inbox: urgent first, then trusted flaggers' cases,
// then the soonest deadline (then the case id, for a stable order).
func SortInbox(w []Waiting) {
	rank := func(x Waiting) int {
		r := 0
		if x.Urgency != "urgent" {
			r += 2
		}
		if !x.TrustedFlagger {
			r++
		}
		return r
	}
	sort.SliceStable(w, func(i, j int) bool {
		if ri, rj := rank(w[i]), rank(w[j]); ri != rj {
			return ri < rj
		}
		if !w[i].Deadline.Equal(w[j].Deadline) {
			return w[i].Deadline.Before(w[j].Deadline)
		}
		return w[i].CaseID < w[j].CaseID
	})
}

// MayDo is what who may do on a now: approve and reject while the policy
// waits for who's agency, hold while open (for a holder), release of the
// agency's own hold.
func (a Approval) MayDo(who string, now time.Time) []string {
	ag, ok := a.Members[normApprover(who)]
	if !ok {
		return nil
	}
	var may []string
	_, decided := a.Decisions[ag]
	open := a.Status == StatusPending && now.Before(a.ExpiresAt)
	if a.Stage == StageReview {
		// The reviewer alone, approve or reject; nothing else yet.
		if open {
			may = append(may, Approve, Reject)
		}
		return may
	}
	if open && a.Policy.Requires(ag) && !decided {
		may = append(may, Approve, Reject)
	}
	if a.Policy.MayHold(ag) {
		if a.Held(now) && a.Hold.Agency == ag {
			may = append(may, Release)
		} else if open && !a.Held(now) {
			may = append(may, Hold)
		}
	}
	return may
}

// Inbox serves GET /approvals?status=pending and POST
// /approvals/{id}/decision for approvers signed in with a token (the JWT
// authorizer's claims): the caller is the member with the token's
// e-mail.
type Inbox struct {
	Store   *Store
	Decided func(ctx context.Context, r Result) error
}

// List is GET /approvals?status=pending.
func (h Inbox) List(ctx context.Context, req api.Request) (api.Response, error) {
	p, err := api.Require(req, auth.Approver)
	if err != nil {
		return api.Response{}, err
	}
	if st := req.QueryStringParameters["status"]; st != "" && st != StatusPending {
		return api.Response{}, api.Invalid("status", `status must be "pending" (the only listing so far)`)
	}
	for k := range req.QueryStringParameters {
		if k != "status" {
			return api.Response{}, api.Invalid(k, "unknown query parameter %q", k)
		}
	}
	if p.Email == "" {
		return api.Response{}, api.Errorf(http.StatusForbidden, "no_email", "authorization", "token Anda tidak membawa e-mail / your token carries no e-mail")
	}
	list, err := h.Store.Pending(ctx, p.Email)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, map[string]any{"approvals": list}), nil
}

// Decide is POST /approvals/{id}/decision: {"decision": "approve" |
// "reject" | "hold" | "release", "reason": "…"} for the caller's agency.
func (h Inbox) Decide(ctx context.Context, req api.Request) (api.Response, error) {
	p, err := api.Require(req, auth.Approver)
	if err != nil {
		return api.Response{}, err
	}
	if p.Email == "" {
		return api.Response{}, api.Errorf(http.StatusForbidden, "no_email", "authorization", "token Anda tidak membawa e-mail / your token carries no e-mail")
	}
	id := req.PathParameters["id"]
	if !strings.HasPrefix(id, IDPrefix) || strings.ContainsAny(id, "|/?#&") {
		return api.Response{}, errNoApproval
	}
	body := req.Body
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return api.Response{}, api.Invalid("body", "body is not valid base64")
		}
		body = string(b)
	}
	var in struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := api.DecodeStrict([]byte(body), &in); err != nil {
		return api.Response{}, err
	}
	r, err := h.Store.Act(ctx, id, Action{Decision: in.Decision, Identity: p.Email, Channel: ChannelAPI, Reason: in.Reason})
	if err != nil {
		return api.Response{}, actError(err, "decision")
	}
	if h.Decided != nil {
		if err := h.Decided(ctx, r); err != nil {
			return api.Response{}, api.Errorf(http.StatusBadGateway, "workflow_unavailable", "",
				"keputusan Anda tercatat, tetapi alur kerja belum dapat diberi tahu / your decision was recorded, but the workflow could not be notified yet")
		}
	}
	return api.JSON(http.StatusOK, map[string]any{"approval_id": r.ID, "case_id": r.CaseID, "agency": r.Agency,
		"decision": in.Decision, "status": r.Status, "needs": r.Evaluation()}), nil
}

// actError maps Act's errors to the API's.
func actError(err error, decisionField string) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return errNoApproval
	case errors.Is(err, ErrNotApprover):
		return api.Errorf(http.StatusForbidden, "not_approver", "", "Anda bukan anggota instansi yang diminta memutuskan ini / you are not a member of an agency asked to decide this")
	case errors.Is(err, ErrAlreadyDecided):
		return api.Errorf(http.StatusConflict, "already_decided", "", "sudah diputuskan / already decided: %v", unwrapMsg(err))
	case errors.Is(err, ErrExpired):
		return api.Errorf(http.StatusGone, "expired", "", "permintaan persetujuan ini sudah kedaluwarsa / this approval request has expired")
	case errors.Is(err, ErrReasonRequired):
		return api.Errorf(http.StatusBadRequest, "invalid_field", "reason", "alasan wajib diisi untuk menolak atau menahan / a reason is required to reject or hold")
	case errors.Is(err, ErrNoHold):
		return api.Errorf(http.StatusConflict, "no_hold", decisionField, "tidak ada penahanan oleh instansi Anda / there is no hold of your agency to release")
	case strings.Contains(err.Error(), "field decision"):
		return api.Errorf(http.StatusBadRequest, "invalid_field", decisionField, `decision harus "approve", "reject", "hold" atau "release" / decision must be "approve", "reject", "hold" or "release"`)
	case strings.Contains(err.Error(), "field reason"):
		return api.Errorf(http.StatusBadRequest, "invalid_field", "reason", "alasan lebih dari %d byte / reason is longer than %d bytes", MaxReason, MaxReason)
	}
	return err
}

func unwrapMsg(err error) string {
	s := err.Error()
	if i := strings.Index(s, ErrAlreadyDecided.Error()); i >= 0 {
		return s[i:]
	}
	return s
}

var _ = slices.Contains[[]string]
