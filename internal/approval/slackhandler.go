package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	slackgo "github.com/slack-go/slack"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/slack"
	"github.com/tangkal/tangkal/internal/store"
)

// AsyncRouteKey is the route key of a verified Slack interaction handed
// to the Approvals function itself for processing after the
// acknowledgement. API Gateway only produces the template's route keys,
// so no request from outside can carry it; in AWS it comes from the
// function's own asynchronous Invoke (lambda:InvokeFunction on itself).
const AsyncRouteKey = "ASYNC slack-interaction"

// SlackJob is a verified Slack act, processed after Slack got its answer.
type SlackJob struct {
	ApprovalID  string `json:"approval_id"`
	Decision    string `json:"decision"`
	User        string `json:"user"`
	Reason      string `json:"reason,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

// SlackHandler serves POST /slack/interactions. It verifies the signature
// and the timestamp, refuses a replayed request, answers within Slack's 3
// seconds (a click on Reject or Hold opens the reason modal first), and
// hands the act to Async, which processes it after the answer.
type SlackHandler struct {
	Verifier slack.Verifier
	Store    *Store
	Slack    SlackMessenger
	// Async processes a job after the acknowledgement (in AWS the
	// function invokes itself asynchronously; locally a goroutine runs
	// the same function). nil: processed before answering.
	Async func(ctx context.Context, job SlackJob) error
	After AfterAct
}

var errSlackAuth = api.Errorf(http.StatusUnauthorized, "bad_signature", "X-Slack-Signature", "Slack signature check failed")

// Handle verifies, acknowledges and enqueues.
func (h SlackHandler) Handle(ctx context.Context, req api.Request) (api.Response, error) {
	body, err := h.Verifier.VerifyRequest(req)
	if err != nil {
		slog.WarnContext(ctx, "slack: refused request", "err", err.Error())
		return api.Response{}, errSlackAuth
	}
	if err := h.Store.FirstUse(ctx, api.Header(req, slack.HeaderTimestamp)+"|"+api.Header(req, slack.HeaderSignature)); err != nil {
		if errors.Is(err, ErrReplayed) {
			slog.WarnContext(ctx, "slack: replayed request refused")
			return api.Response{}, errSlackAuth
		}
		return api.Response{}, err
	}
	cb, err := slack.ParseCallback(body)
	if err != nil {
		return api.Response{}, api.Invalid("payload", "%v", err)
	}
	switch cb.Type {
	case slackgo.InteractionTypeBlockActions:
		for _, act := range cb.ActionCallback.BlockActions {
			id, decision, ok := ParseAction(act.ActionID, act.Value)
			if !ok {
				continue
			}
			if decision == Reject || decision == Hold {
				a, err := h.Store.Get(ctx, id)
				if errors.Is(err, ErrNotFound) {
					return api.JSON(200, map[string]string{"text": "Permintaan tidak ditemukan / No such request."}), nil
				}
				if err != nil {
					return api.Response{}, err
				}
				if h.Slack == nil {
					return api.Response{}, errors.New("slack: no Web API client configured")
				}
				if err := h.Slack.OpenView(ctx, cb.TriggerID, ReasonModal(id, decision, a.CaseID)); err != nil {
					return api.Response{}, err
				}
				return api.Response{StatusCode: 200}, nil
			}
			return h.enqueue(ctx, SlackJob{ApprovalID: id, Decision: decision, User: cb.User.ID, ResponseURL: cb.ResponseURL}, api.Response{StatusCode: 200})
		}
		return api.Response{StatusCode: 200}, nil
	case slackgo.InteractionTypeViewSubmission:
		if cb.View.CallbackID != CallbackReason {
			return api.Response{StatusCode: 200}, nil
		}
		id, decision, ok := ParseModal(cb.View.PrivateMetadata)
		if !ok {
			return api.Response{}, api.Invalid("view.private_metadata", "not a tangkal reason modal")
		}
		reason := ""
		if cb.View.State != nil {
			reason = strings.TrimSpace(cb.View.State.Values[BlockReason][InputReason].Value)
		}
		if reason == "" || len(reason) > MaxReason {
			return api.JSON(200, map[string]any{"response_action": "errors", "errors": map[string]string{
				BlockReason: fmt.Sprintf("Alasan wajib diisi (paling banyak %d karakter) / A reason is required (at most %d characters)", MaxReason, MaxReason)}}), nil
		}
		return h.enqueue(ctx, SlackJob{ApprovalID: id, Decision: decision, User: cb.User.ID, Reason: reason},
			api.JSON(200, map[string]string{"response_action": "clear"}))
	}
	return api.Response{StatusCode: 200}, nil
}

func (h SlackHandler) enqueue(ctx context.Context, job SlackJob, ack api.Response) (api.Response, error) {
	if h.Async == nil {
		if err := h.Process(ctx, job); err != nil {
			return api.Response{}, err
		}
		return ack, nil
	}
	if err := h.Async(ctx, job); err != nil {
		return api.Response{}, fmt.Errorf("slack: hand the interaction over: %w", err)
	}
	return ack, nil
}

// Process records a Slack act as the agency member the Slack user is,
// updates the message in place and completes the workflow when the
// policy is settled. A refusal goes back to the user ephemerally.
func (h SlackHandler) Process(ctx context.Context, job SlackJob) error {
	r, err := h.Store.Act(ctx, job.ApprovalID, Action{Decision: job.Decision, Identity: SlackApprover(job.User), Channel: ChannelSlack, Reason: job.Reason})
	if err != nil {
		if errors.Is(err, ErrAlreadyDecided) && !r.Delivered && (r.Status == StatusApproved || r.Status == StatusRejected || r.Status == StatusHeld) {
			r.Deliver = true
			_ = h.After.Done(ctx, r) // deliver an outcome a crash may have kept from the workflow
		}
		msg := "Tidak dapat dicatat / Could not be recorded"
		var apiErr *api.Error
		refused := errors.As(actError(err, "decision"), &apiErr)
		if refused {
			msg = apiErr.Message
		}
		slog.InfoContext(ctx, "slack act refused", "approval_id", job.ApprovalID, "err", err.Error())
		if h.Slack != nil && job.ResponseURL != "" {
			if rerr := h.Slack.Respond(ctx, job.ResponseURL, msg); rerr != nil {
				slog.WarnContext(ctx, "slack: respond", "err", rerr.Error())
			}
		}
		if refused {
			return nil // refused: nothing to retry
		}
		return err
	}
	return h.After.Done(ctx, r)
}

// ProcessRequest is the Approvals function's entry for AsyncRouteKey.
func (h SlackHandler) ProcessRequest(ctx context.Context, req api.Request) (api.Response, error) {
	var job SlackJob
	if err := json.Unmarshal([]byte(req.Body), &job); err != nil {
		return api.Response{}, fmt.Errorf("slack job: %w", err)
	}
	if err := h.Process(ctx, job); err != nil {
		return api.Response{}, err
	}
	return api.Response{StatusCode: 200}, nil
}

// ErrReplayed is a Slack request seen before.
var ErrReplayed = errors.New("slack request replayed")

// FirstUse records a signed request (its timestamp and signature) once:
// ErrReplayed when it was already taken. The record outlives the
// timestamp's validity (the table's TTL removes it).
func (s *Store) FirstUse(ctx context.Context, signed string) error {
	sum := sha256.Sum256([]byte(signed))
	h := hex.EncodeToString(sum[:])
	av, err := attributevalue.MarshalMap(map[string]any{"PK": store.SlackRequestPK(h), "SK": store.SlackRequestPK(h),
		"expires_at": s.now().Add(time.Hour).Unix()})
	if err != nil {
		return err
	}
	_, err = s.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table.Name), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if store.IsConditionFailed(err) {
		return ErrReplayed
	}
	if err != nil {
		return fmt.Errorf("record slack request: %w", err)
	}
	return nil
}

// AfterAct is what follows a recorded act: the agency's Slack message is
// updated in place, and the workflow gets the outcome when the policy is
// settled.
type AfterAct struct {
	Completer Completer
	Slack     SlackMessenger
	Agencies  agency.Directory
	Now       func() time.Time
}

// Done updates Slack (best effort: a failure is logged) and delivers.
func (n AfterAct) Done(ctx context.Context, r Result) error {
	n.updateSlack(ctx, r)
	if !r.Deliver {
		return nil
	}
	return n.Completer.Decided(ctx, r.Approval)
}

func (n AfterAct) updateSlack(ctx context.Context, r Result) {
	if n.Slack == nil {
		return
	}
	d, ok := r.Decisions[r.Agency]
	if r.Hold != nil && r.Hold.Agency == r.Agency && (!ok || r.Hold.At.After(d.At)) {
		d, ok = r.Hold.AgencyDecision, true
		if r.Hold.Released != nil {
			d.Decision, d.At = Release, *r.Hold.Released
		}
	}
	msg, posted := r.Slack[r.Agency]
	if !ok || !posted || msg.TS == "" {
		return
	}
	ag, _ := n.Agencies.Agency(r.Agency)
	name := ""
	for _, m := range ag.Members {
		for _, id := range m.Identities() {
			if id == d.By {
				name = m.Name
			}
		}
	}
	m := Message{Summary: r.Summary, Agency: ag, Role: RoleDecide, Tier: r.Tier, Deadline: r.ExpiresAt, Policy: r.Policy}
	blocks := DecidedBlocks(m.SlackBlocks(r.ID), d, name)
	if err := n.Slack.Update(ctx, msg.Channel, msg.TS, DecidedPlain(d, name), blocks); err != nil {
		slog.WarnContext(ctx, "slack: update the approval message", "approval_id", r.ID, "err", err.Error())
	}
}

// Router serves the approvals function's routes.
type Router struct {
	Approvals *Handler
	Slack     SlackHandler
	Inbox     Inbox
}

// Route dispatches on the route key.
func (r Router) Route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RouteKey {
	case "POST /slack/interactions":
		return r.Slack.Handle(ctx, req)
	case AsyncRouteKey:
		return r.Slack.ProcessRequest(ctx, req)
	case "GET /approvals":
		return r.Inbox.List(ctx, req)
	case "POST /approvals/{id}/decision":
		return r.Inbox.Decide(ctx, req)
	}
	return r.Approvals.Handle(ctx, req), nil
}
