package report

import (
	"context"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
)

// Handler serves POST /reports and POST /reporters/{pseudonym}/resolve.
type Handler struct{ Intake Intake }

// Route dispatches the function's routes.
func (h Handler) Route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RouteKey {
	case "POST /reporters/{pseudonym}/resolve":
		return h.Resolve(ctx, req)
	case "POST /reports", "":
		return h.Submit(ctx, req)
	}
	return api.Response{}, api.Errorf(404, "not_found", "", "no route %s", req.RouteKey)
}

// Submit validates the body and records the report: 202 with the receipt.
func (h Handler) Submit(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Reporter, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	key := api.Header(req, "Idempotency-Key")
	if key != "" && !ValidIdempotencyKey(key) {
		return api.Response{}, api.Invalid("Idempotency-Key", "Idempotency-Key must be 1 to %d printable ASCII characters", MaxIdemKey)
	}
	body, err := api.Body(req, MaxBodyBytes)
	if err != nil {
		return api.Response{}, err
	}
	s, c, err := Parse(body, h.Intake.now())
	if err != nil {
		return api.Response{}, err
	}
	r, err := h.Intake.Submit(ctx, who, s, c, body, key)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(202, r), nil
}
