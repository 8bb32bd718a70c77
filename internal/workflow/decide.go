package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/slack"
)

// TaskCompleter sends a callback's result (the sfn client satisfies it).
type TaskCompleter interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Decision is what RequestApproval's task returns to the workflow.
type Decision struct {
	Decision   string `json:"decision"` // approved or rejected
	Approver   string `json:"approver"`
	Reason     string `json:"reason,omitempty"`
	ApprovalID string `json:"approval_id"`
}

// Completer hands approvers' decisions back to the waiting workflow.
type Completer struct{ SFN TaskCompleter }

// Decided is approval.Handler's callback: SendTaskSuccess with the decision
// (the task token is read from the store and never leaves the server).
func (c Completer) Decided(ctx context.Context, a approval.Approval) error {
	return c.send(ctx, a.TaskToken, a)
}

// send completes the task behind token with a's decision.
func (c Completer) send(ctx context.Context, token string, a approval.Approval) error {
	d := Decision{Decision: "rejected", Approver: a.DecidedBy, Reason: a.Reason, ApprovalID: a.ID}
	if a.Decision == approval.Approve {
		d.Decision = "approved"
	}
	out, _ := json.Marshal(d)
	if _, err := c.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))}); err != nil {
		return fmt.Errorf("send decision of approval %s to the workflow: %w", a.ID, err)
	}
	return nil
}

// SlackHandler serves POST /slack/interactions: Slack's signed button
// clicks decide an approval once, as the clicking Slack user.
type SlackHandler struct {
	Verifier slack.Verifier
	Store    *approval.Store
	Decided  func(ctx context.Context, a approval.Approval) error
}

// Handle verifies the signature, then decides.
func (h SlackHandler) Handle(ctx context.Context, req api.Request) (api.Response, error) {
	body, err := h.Verifier.VerifyRequest(req)
	if err != nil {
		return api.Response{}, api.Errorf(http.StatusUnauthorized, "bad_signature", "X-Slack-Signature", "Slack signature check failed")
	}
	in, err := slack.ParseInteraction(body)
	if err != nil {
		return api.Response{}, api.Invalid("payload", "%v", err)
	}
	for _, act := range in.Actions {
		id, decision, ok := approval.ParseAction(act.ActionID, act.Value)
		if !ok {
			continue
		}
		a, err := h.Store.Decide(ctx, id, decision, approval.SlackApprover(in.User.ID), "decided in Slack by "+in.User.Username)
		switch {
		case errors.Is(err, approval.ErrAlreadyDecided):
			if a.Status == approval.StatusApproved || a.Status == approval.StatusRejected {
				_ = h.Decided(ctx, a) // deliver a decision a crash may have kept from the workflow
			}
			return api.JSON(200, map[string]string{"text": "This request was already decided."}), nil
		case errors.Is(err, approval.ErrExpired):
			return api.JSON(200, map[string]string{"text": "This request has expired."}), nil
		case errors.Is(err, approval.ErrNotApprover), errors.Is(err, approval.ErrNotFound):
			return api.JSON(200, map[string]string{"text": "You are not an approver of this request."}), nil
		case err != nil:
			return api.Response{}, err
		}
		if err := h.Decided(ctx, a); err != nil {
			slog.Error("slack decision not delivered", "approval_id", a.ID, "err", err)
			return api.JSON(200, map[string]string{"text": "Decision recorded, but the workflow could not be reached; an operator will follow up."}), nil
		}
		return api.JSON(200, map[string]string{"text": fmt.Sprintf("Recorded: %s.", decision)}), nil
	}
	return api.JSON(200, map[string]string{"text": "Nothing to do."}), nil
}

// Router serves the approvals function's routes.
type Router struct {
	Approvals *approval.Handler
	Slack     SlackHandler
}

// Route dispatches on the route key.
func (r Router) Route(ctx context.Context, req api.Request) (api.Response, error) {
	if req.RouteKey == "POST /slack/interactions" {
		return r.Slack.Handle(ctx, req)
	}
	return r.Approvals.Handle(ctx, events.APIGatewayV2HTTPRequest(req)), nil
}
