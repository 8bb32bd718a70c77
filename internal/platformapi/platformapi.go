// Package platformapi is the platforms' side of tangkal: a platform's
// trust-and-safety team (Cognito group "platform", its user's
// custom:platform attribute naming the platform) lists the notices
// addressed to its platform and answers them, and the deciding agency
// (an approver, for Komdigi) decides a platform's objection (Sanggah).
//
//	GET  /platform/notices?status=open   the platform's open notices
//	POST /platform/notices/{ref}         {"answer": "acknowledged" | "removed" (+ "removed_at")
//	                                      | "needs_information" (+ "question")
//	                                      | "objected" (+ "grounds", "text")}
//	POST /objections/{ref}               {"decision": "upheld" | "dismissed", "reasons"}
//
// A platform sees only its own notices, and only what it was sent: never
// the reporters, the indicators' scores or another platform's cases. A
// notice of another platform is a 404, as an unknown one. Every answer is
// an event of the case's history; a "removed" answer is a claim the
// compliance check after the deadline confirms or contradicts.
package platformapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/workflow"
)

// TaskCompleter hands the agency's decision to the waiting workflow (the
// sfn client satisfies it).
type TaskCompleter interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Handler serves the platform API.
type Handler struct {
	Table store.Table
	Now   func() time.Time
	// ObjectionWindow is how long after the takedown request a platform
	// may object (0: DefaultObjectionWindow).
	ObjectionWindow time.Duration
	// Agency is the agency deciding objections ("komdigi").
	Agency string
	// Tasks completes the workflow's objection task; nil leaves the
	// decision for the task to pick up when it runs.
	Tasks TaskCompleter
	// Notify tells the platform the agency's decision (a letter); nil
	// tells it only through GET /platform/notices.
	Notify func(ctx context.Context, c *store.Case, decision, reasons string) error
	// Forward passes a platform's question (needs_information) on to
	// the agency; nil only records it.
	Forward func(ctx context.Context, n *store.OpenNotice, question string) error
}

// DefaultObjectionWindow is how long a platform may object when no window
// is configured.
const DefaultObjectionWindow = 24 * time.Hour

// Objection grounds a platform may give.
var grounds = map[string]bool{
	"lawful_content":        true, // the ad is a lawful, licensed placement
	"not_on_platform":       true, // the URL is not content of this platform
	"insufficient_evidence": true,
	"other":                 true,
}

// Limits of what a platform writes.
const (
	maxBody     = 16 << 10
	maxQuestion = 2000
	maxText     = 5000
	maxReasons  = 5000
)

func (h Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Route dispatches the platform API's routes (one Lambda serves them).
func (h Handler) Route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RouteKey {
	case "GET /platform/notices":
		return h.List(ctx, req)
	case "POST /platform/notices/{ref}":
		return h.Answer(ctx, req)
	case "POST /objections/{ref}":
		return h.Decide(ctx, req)
	}
	return api.Response{}, api.Errorf(404, "not_found", "", "no route %s", req.RouteKey)
}

// caller is the platform a request speaks for.
func caller(req api.Request) (auth.Principal, error) {
	p, err := api.Require(req, auth.Platform)
	if err != nil {
		return p, err
	}
	if p.Platform == "" {
		return p, api.Errorf(403, "forbidden", "", "the token names no platform (%s)", auth.PlatformClaim)
	}
	return p, nil
}

// List serves GET /platform/notices?status=open.
func (h Handler) List(ctx context.Context, req api.Request) (api.Response, error) {
	p, err := caller(req)
	if err != nil {
		return api.Response{}, err
	}
	for k := range req.QueryStringParameters {
		if k != "status" {
			return api.Response{}, api.Invalid(k, "unknown parameter %q", k)
		}
	}
	if s := req.QueryStringParameters["status"]; s != "" && s != "open" {
		return api.Response{}, api.Invalid("status", "only status=open is listed (closed notices need no answer)")
	}
	ns, err := h.Table.OpenNotices(ctx, p.Platform, 1000)
	if err != nil {
		return api.Response{}, err
	}
	if ns == nil {
		ns = []store.OpenNotice{}
	}
	return api.JSON(200, map[string]any{"platform": p.Platform, "notices": ns}), nil
}

// AnswerBody is what a platform posts.
type AnswerBody struct {
	Answer    string `json:"answer"`
	RemovedAt string `json:"removed_at,omitempty"`
	Question  string `json:"question,omitempty"`
	Grounds   string `json:"grounds,omitempty"`
	Text      string `json:"text,omitempty"`
}

// check validates the body for its answer, naming the field at fault.
func (b AnswerBody) check(now time.Time) (removedAt time.Time, err error) {
	only := func(allowed ...string) error {
		for f, v := range map[string]string{"removed_at": b.RemovedAt, "question": b.Question, "grounds": b.Grounds, "text": b.Text} {
			if v != "" && !contains(allowed, f) {
				return api.Invalid(f, "%s does not go with answer %q", f, b.Answer)
			}
		}
		return nil
	}
	switch b.Answer {
	case workflow.AnswerAcknowledged:
		return time.Time{}, only()
	case workflow.AnswerRemoved:
		if err := only("removed_at"); err != nil {
			return time.Time{}, err
		}
		if b.RemovedAt == "" {
			return time.Time{}, api.Invalid("removed_at", "required with answer removed (RFC 3339)")
		}
		t, err := time.Parse(time.RFC3339, b.RemovedAt)
		if err != nil {
			return time.Time{}, api.Invalid("removed_at", "not an RFC 3339 time: %q", b.RemovedAt)
		}
		if t.After(now.Add(5 * time.Minute)) {
			return time.Time{}, api.Invalid("removed_at", "is in the future")
		}
		return t, nil
	case workflow.AnswerNeedsInformation:
		if err := only("question"); err != nil {
			return time.Time{}, err
		}
		if strings.TrimSpace(b.Question) == "" || len(b.Question) > maxQuestion {
			return time.Time{}, api.Invalid("question", "required with answer needs_information, at most %d bytes", maxQuestion)
		}
	case workflow.AnswerObjected:
		if err := only("grounds", "text"); err != nil {
			return time.Time{}, err
		}
		if !grounds[b.Grounds] {
			return time.Time{}, api.Invalid("grounds", "one of lawful_content, not_on_platform, insufficient_evidence, other")
		}
		if strings.TrimSpace(b.Text) == "" || len(b.Text) > maxText {
			return time.Time{}, api.Invalid("text", "required with answer objected, at most %d bytes", maxText)
		}
	case "":
		return time.Time{}, api.Invalid("answer", "required: acknowledged, removed, needs_information or objected")
	default:
		return time.Time{}, api.Invalid("answer", "unknown answer %q (acknowledged, removed, needs_information, objected)", b.Answer)
	}
	return time.Time{}, nil
}

// Answer serves POST /platform/notices/{ref}.
func (h Handler) Answer(ctx context.Context, req api.Request) (api.Response, error) {
	p, err := caller(req)
	if err != nil {
		return api.Response{}, err
	}
	ref := req.PathParameters["ref"]
	raw, err := api.Body(req, maxBody)
	if err != nil {
		return api.Response{}, err
	}
	var b AnswerBody
	if err := api.DecodeStrict(raw, &b); err != nil {
		return api.Response{}, err
	}
	now := h.now()
	removedAt, err := b.check(now)
	if err != nil {
		return api.Response{}, err
	}
	n, err := h.Table.GetOpenNotice(ctx, p.Platform, ref)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("open notice " + ref)
	}
	if err != nil {
		return api.Response{}, err
	}
	if n.LastAnswer == b.Answer && (b.Answer == workflow.AnswerAcknowledged || b.Answer == workflow.AnswerRemoved) {
		// A team's retry (or a second click) of the same answer to the
		// same notice records nothing new.
		return api.JSON(200, map[string]any{"ref": ref, "answer": b.Answer, "level": n.Level, "duplicate": true}), nil
	}
	data := history.PlatformAnsweredData{Platform: p.Platform, Answer: b.Answer, Level: n.Level, Question: b.Question, Grounds: b.Grounds, Text: b.Text}
	set := map[string]any{"platform_answer": b.Answer}
	ch := history.Change{
		Set:       set,
		Condition: "#platform = :platform", Names: map[string]string{"#platform": "platform"}, Values: map[string]any{":platform": p.Platform},
	}
	if !removedAt.IsZero() {
		data.RemovedAt = store.FormatTime(removedAt)
		set["claimed_removed_at"] = data.RemovedAt
	}
	noticeSet := "SET last_answer = :a"
	noticeVals := map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: b.Answer}}
	if b.Answer == workflow.AnswerObjected {
		window := h.ObjectionWindow
		if window <= 0 {
			window = DefaultObjectionWindow
		}
		sent, _ := time.Parse(time.RFC3339, n.TakedownAt)
		if !sent.IsZero() && now.After(sent.Add(window)) {
			return api.Response{}, api.Errorf(409, "objection_window_closed", "answer",
				"objections to this notice had to reach us within %s of the takedown request (by %s)", window, store.FormatTime(sent.Add(window)))
		}
		if n.Objection != "" {
			return api.Response{}, api.Errorf(409, "already_objected", "answer", "this case already has an objection (%s)", n.Objection)
		}
		set["objection"], set["status"] = store.ObjectionPending, store.StatusObjected
		ch.Condition += " AND attribute_not_exists(#objection)"
		ch.Names["#objection"] = "objection"
		noticeSet += ", objection = :o"
		noticeVals[":o"] = &types.AttributeValueMemberS{Value: store.ObjectionPending}
	}
	// The notice must still be open when the answer is recorded.
	ch.Items = []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(h.Table.Name), Key: store.Key(store.OpenNoticePK(p.Platform), store.OpenNoticeSK(ref)),
		UpdateExpression: aws.String(noticeSet), ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: noticeVals,
	}}}
	log := history.Log{Table: h.Table, Now: h.Now}
	ev, err := log.Append(ctx, ref, history.PlatformAnswered, "platform:"+p.Platform, data, ch)
	if errors.Is(err, history.ErrConditionFailed) {
		return api.Response{}, api.Errorf(409, "conflict", "", "the notice was closed or already objected to meanwhile; list the open notices again")
	}
	if err != nil {
		return api.Response{}, err
	}
	slog.InfoContext(ctx, "platform answered a notice", "case_id", ref, "platform", p.Platform, "answer", b.Answer)
	if b.Answer == workflow.AnswerNeedsInformation && h.Forward != nil {
		if err := h.Forward(ctx, n, b.Question); err != nil {
			slog.WarnContext(ctx, "could not forward the platform's question", "case_id", ref, "err", err.Error())
		}
	}
	return api.JSON(200, map[string]any{"ref": ref, "answer": b.Answer, "level": n.Level, "recorded_at": ev.At, "event_seq": ev.Seq}), nil
}

// DecisionBody is what the deciding agency posts.
type DecisionBody struct {
	Decision string `json:"decision"`
	Reasons  string `json:"reasons"`
}

// Decide serves POST /objections/{ref}: the agency upholds or dismisses a
// platform's objection, once. The waiting workflow gets the decision at
// once; one not waiting yet takes it when the ladder reaches the check.
func (h Handler) Decide(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Approver)
	if err != nil {
		return api.Response{}, err
	}
	ref := req.PathParameters["ref"]
	raw, err := api.Body(req, maxBody)
	if err != nil {
		return api.Response{}, err
	}
	var b DecisionBody
	if err := api.DecodeStrict(raw, &b); err != nil {
		return api.Response{}, err
	}
	if b.Decision != store.ObjectionUpheld && b.Decision != store.ObjectionDismissed {
		return api.Response{}, api.Invalid("decision", "upheld or dismissed")
	}
	if strings.TrimSpace(b.Reasons) == "" || len(b.Reasons) > maxReasons {
		return api.Response{}, api.Invalid("reasons", "required, at most %d bytes", maxReasons)
	}
	c, err := h.Table.GetCase(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("case " + ref)
	}
	if err != nil {
		return api.Response{}, err
	}
	if c.Objection != store.ObjectionPending {
		return api.Response{}, api.Errorf(409, "no_pending_objection", "", "case %s has no objection waiting for a decision (%q)", ref, c.Objection)
	}
	by := who.Email
	if by == "" {
		by = who.Subject
	}
	data := history.ObjectionDecidedData{Agency: h.Agency, Decision: b.Decision, Reasons: b.Reasons, DecidedBy: by}
	ch := history.Change{
		Set:       map[string]any{"objection": b.Decision},
		Condition: "#objection = :pending", Names: map[string]string{"#objection": "objection"}, Values: map[string]any{":pending": store.ObjectionPending},
		Items: []types.TransactWriteItem{{Update: &types.Update{
			TableName: aws.String(h.Table.Name), Key: store.Key(store.OpenNoticePK(c.Platform), store.OpenNoticeSK(ref)),
			UpdateExpression: aws.String("SET objection = :d, objection_reasons = :r"), ConditionExpression: aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: b.Decision}, ":r": &types.AttributeValueMemberS{Value: b.Reasons}},
		}}},
	}
	log := history.Log{Table: h.Table, Now: h.Now}
	ev, err := log.Append(ctx, ref, history.ObjectionDecided, who.Actor(), data, ch)
	if errors.Is(err, history.ErrConditionFailed) {
		return api.Response{}, api.Errorf(409, "no_pending_objection", "", "case %s was decided or closed meanwhile", ref)
	}
	if err != nil {
		return api.Response{}, err
	}
	if err := h.hand(ctx, ref, b.Decision); err != nil {
		// Recorded: the objection task hands it on when it runs again.
		slog.WarnContext(ctx, "objection decision recorded, not yet handed to the workflow", "case_id", ref, "err", err.Error())
	}
	if h.Notify != nil {
		if err := h.Notify(ctx, c, b.Decision, b.Reasons); err != nil {
			slog.WarnContext(ctx, "could not write to the platform about the objection decision", "case_id", ref, "err", err.Error())
		}
	}
	return api.JSON(200, map[string]any{"ref": ref, "decision": b.Decision, "agency": h.Agency, "recorded_at": ev.At}), nil
}

// hand completes the workflow's objection task, if it is waiting.
func (h Handler) hand(ctx context.Context, caseID, decision string) error {
	if h.Tasks == nil {
		return nil
	}
	o, err := h.Table.GetObjection(ctx, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the ladder has not reached the objection yet
	}
	if err != nil {
		return err
	}
	return workflow.CompleteObjection(ctx, h.Tasks, o.TaskToken, decision)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
