package audit

import (
	"context"
	"errors"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

// Verify serves GET /cases/{id}/verify: the case's history checked
// against its own chain and against the external copy the table's
// writers cannot alter: valid, or the first event altered, removed or
// reordered, and any truncation. A case removed from the table is still
// reported from its external copy.
func (r Reader) Verify(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	id, err := caseID(req)
	if err != nil {
		return api.Response{}, err
	}
	if r.Anchors == nil {
		return api.Response{}, api.Errorf(503, "no_anchor", "", "verification against the external copy is not configured")
	}
	found, head := true, ""
	c, err := r.Table.GetCase(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		found = false
	case err != nil:
		return api.Response{}, err
	default:
		head = c.LastHash
	}
	evs, err := r.log().List(ctx, id, 0, 0)
	if err != nil {
		return api.Response{}, err
	}
	rep, err := r.Anchors.Verify(ctx, id, found, head, evs)
	if err != nil {
		return api.Response{}, err
	}
	if !found && rep.Anchored == 0 && len(evs) == 0 {
		return api.Response{}, api.NotFound("case")
	}
	return api.JSON(200, rep), nil
}

// Digest serves GET /anchors/digest: a digest of every case's head in the
// external copy, made and signed now (the anchor keeps one at least daily).
func (r Reader) Digest(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	if r.Anchors == nil {
		return api.Response{}, api.Errorf(503, "no_anchor", "", "the external copy is not configured")
	}
	d, err := anchor.MakeDigest(ctx, r.Anchors.Store, r.Anchors.MAC, r.now())
	if err != nil {
		return api.Response{}, err
	}
	last, ok, err := anchor.LastDigest(ctx, r.Anchors.Store)
	if err != nil {
		return api.Response{}, err
	}
	out := map[string]any{"digest": d}
	if ok {
		out["last_stored"] = map[string]any{"at": last.At, "root": last.Root, "cases": len(last.Cases)}
	}
	return api.JSON(200, out), nil
}
