package report

import (
	"context"
	"fmt"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/ratelimit"
)

// Handler serves SubmitReportFunction's routes: POST /reports, POST
// /reports/batch, GET /reporters/me, PUT /reporters/{sub} and POST
// /reporters/{pseudonym}/resolve.
type Handler struct {
	Intake Intake
	// Limiter and Classes limit each reporter by its class; a nil Limiter
	// limits nothing.
	Limiter  *ratelimit.Limiter
	Classes  ratelimit.Classes
	Profiles *Profiles
	// CheckCallback applies the SSRF rules of fetching ads to a callback
	// URL (safefetch.Fetcher.CheckURL).
	CheckCallback func(rawURL string) error
}

// Route dispatches on the route key.
func (h Handler) Route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RouteKey {
	case "POST /reports/batch":
		return h.Batch(ctx, req)
	case "GET /reporters/me":
		return h.Me(ctx, req)
	case "PUT /reporters/me":
		return h.SetFeedback(ctx, req)
	case "PUT /reporters/{sub}":
		return h.SetProfile(ctx, req)
	case "POST /reporters/{sub}/resolve":
		return h.Resolve(ctx, req)
	}
	return h.Submit(ctx, req)
}

// take takes n tokens from the reporter's bucket: a 429 with Retry-After
// when its class's limit is reached.
func (h Handler) take(ctx context.Context, who auth.Principal, n int) (Profile, error) {
	p := Profile{Subject: who.Subject}
	if h.Profiles != nil {
		var err error
		if p, err = h.Profiles.Get(ctx, who.Subject); err != nil {
			return p, err
		}
	}
	if h.Limiter == nil {
		return p, nil
	}
	d, err := h.Limiter.Take(ctx, ratelimit.Key("reporter", who.Subject), h.Classes.For(p.RateClass()), n)
	if err != nil {
		return p, err
	}
	if !d.Allowed {
		return p, ratelimit.Refuse(d)
	}
	return p, nil
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
	// The reporter's profile and the rate limit's write run while the
	// intake reads; the intake writes nothing until they allowed the
	// request, and learns from the profile whether it is a trusted
	// flagger's.
	type allowed struct {
		p   Profile
		err error
	}
	limited := make(chan allowed, 1)
	go func() { p, err := h.take(ctx, who, 1); limited <- allowed{p, err} }()
	gate := func() (bool, error) { a := <-limited; return a.p.Trusted, a.err }
	r, err := h.Intake.SubmitFrom(ctx, who, Origin{Gate: gate}, s, c, body, key)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(202, r), nil
}

// errorOf is the contract error of a failed item.
func errorOf(err error) *api.Error {
	if e, ok := err.(*api.Error); ok {
		return e
	}
	var e *api.Error
	if asAPI(err, &e) {
		return e
	}
	return &api.Error{Status: 500, Code: "internal", Message: fmt.Sprintf("internal error; this item was not recorded (retry it)")}
}
