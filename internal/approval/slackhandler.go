package approval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/slack"
)

// SlackHandler serves POST /slack/interactions: Slack's signed button
// clicks decide an approval once, as the clicking Slack user.
type SlackHandler struct {
	Verifier slack.Verifier
	Store    *Store
	Decided  func(ctx context.Context, a Approval) error
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
		id, decision, ok := ParseAction(act.ActionID, act.Value)
		if !ok {
			continue
		}
		a, err := h.Store.Decide(ctx, id, decision, SlackApprover(in.User.ID), "decided in Slack by "+in.User.Username)
		switch {
		case errors.Is(err, ErrAlreadyDecided):
			if a.Status == StatusApproved || a.Status == StatusRejected {
				_ = h.Decided(ctx, a) // deliver a decision a crash may have kept from the workflow
			}
			return api.JSON(200, map[string]string{"text": "This request was already decided."}), nil
		case errors.Is(err, ErrExpired):
			return api.JSON(200, map[string]string{"text": "This request has expired."}), nil
		case errors.Is(err, ErrNotApprover), errors.Is(err, ErrNotFound):
			return api.JSON(200, map[string]string{"text": "You are not an approver of this request."}), nil
		case err != nil:
			return api.Response{}, err
		}
		if err := h.Decided(ctx, a); err != nil {
			slog.ErrorContext(ctx, "slack decision not delivered", "approval_id", a.ID, "err", err)
			return api.JSON(200, map[string]string{"text": "Decision recorded, but the workflow could not be reached; an operator will follow up."}), nil
		}
		return api.JSON(200, map[string]string{"text": fmt.Sprintf("Recorded: %s.", decision)}), nil
	}
	return api.JSON(200, map[string]string{"text": "Nothing to do."}), nil
}

// Router serves the approvals function's routes.
type Router struct {
	Approvals *Handler
	Slack     SlackHandler
}

// Route dispatches on the route key.
func (r Router) Route(ctx context.Context, req api.Request) (api.Response, error) {
	if req.RouteKey == "POST /slack/interactions" {
		return r.Slack.Handle(ctx, req)
	}
	return r.Approvals.Handle(ctx, req), nil
}
