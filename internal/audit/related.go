package audit

import (
	"context"
	"errors"
	"github.com/tangkal/tangkal/internal/history"
	"net/url"
	"strings"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/entity"
)

// linkingKinds are the entity kinds that tie ads to one recruiter. Company
// names are left out: impersonators copy a licensed agency's name, so a
// shared name says nothing about who is behind an ad.
var linkingKinds = []string{entity.KindPhone, entity.KindTelegram, entity.KindBank, entity.KindEmail}

// RelatedResponse is the answer of GET /cases/{id}/related.
type RelatedResponse struct {
	CaseID string `json:"case_id"`
	// Verified is false while the case has not been verified yet (its
	// entities are not known); Related is then empty.
	Verified bool                 `json:"verified"`
	Entities []entity.Key         `json:"entities"`
	Related  []entity.RelatedCase `json:"related"`
}

// Related serves GET /cases/{id}/related: the other cases, on any
// platform, that share a recruiter contact (phone or WhatsApp, Telegram,
// bank account, e-mail) with the case, and which contacts link them. The
// case's contacts come from its verification; the links are looked up
// afresh, so cases verified later show up too.
func (r Reader) Related(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Approver, auth.Admin); err != nil {
		return api.Response{}, err
	}
	c, err := r.pathCase(ctx, req)
	if err != nil {
		return api.Response{}, err
	}
	id := c.ID
	set, verified, err := r.verifiedEntities(ctx, id)
	if err != nil {
		return api.Response{}, err
	}
	out := RelatedResponse{CaseID: id, Verified: verified, Entities: set.Keys(), Related: []entity.RelatedCase{}}
	if out.Entities == nil {
		out.Entities = []entity.Key{}
	}
	if !set.Empty() {
		rel, err := entity.Related(ctx, r.Table, id, set)
		if err != nil {
			return api.Response{}, err
		}
		if rel != nil {
			out.Related = rel
		}
	}
	return api.JSON(200, out), nil
}

// verifiedEntities reads the linking entities recorded by the case's
// "verified" event (the latest one, should there be several).
func (r Reader) verifiedEntities(ctx context.Context, id string) (entity.Set, bool, error) {
	evs, err := r.log().List(ctx, id, 0, 0)
	if err != nil {
		return entity.Set{}, false, err
	}
	v, verified, err := history.LastVerified(evs)
	if err != nil {
		return entity.Set{}, false, err
	}
	set := v.Entities
	set.Companies = nil // see linkingKinds
	return set, verified, nil
}

// EntityResponse is the answer of GET /entities/{kind}/{value}.
type EntityResponse struct {
	Kind  string       `json:"kind"`
	Value string       `json:"value"` // normalised
	Cases []entity.Ref `json:"cases"`
}

// maxEntityCases bounds one answer of GET /entities/{kind}/{value}.
const maxEntityCases = 500

// Entity serves GET /entities/{kind}/{value}: the cases a recruiter
// contact appears in. The value is normalised as the index stores it, so
// "0812-5550-0371", "+62 812 5550 0371" and "6281255500371" all find
// "+6281255500371".
func (r Reader) Entity(ctx context.Context, req api.Request) (api.Response, error) {
	if _, err := api.Require(req, auth.Auditor, auth.Approver, auth.Admin); err != nil {
		return api.Response{}, err
	}
	kind := strings.ToLower(strings.TrimSpace(req.PathParameters["kind"]))
	if kind == "whatsapp" || kind == "wa" {
		kind = entity.KindPhone // WhatsApp numbers are phone numbers
	}
	known := kind == entity.KindCompany
	for _, k := range linkingKinds {
		known = known || k == kind
	}
	if !known {
		return api.Response{}, api.Invalid("kind", "kind %q is not one of phone, telegram, bank, email, company", req.PathParameters["kind"])
	}
	raw := req.PathParameters["value"]
	// API Gateway may hand the segment over still escaped; none of the
	// kinds holds a literal '%', so decoding once more is safe.
	if strings.Contains(raw, "%") {
		if v, err := url.PathUnescape(raw); err == nil {
			raw = v
		}
	}
	value, err := entity.Normalize(kind, raw)
	if err != nil {
		var ve *entity.ValueError
		if errors.As(err, &ve) {
			return api.Response{}, api.Invalid("value", "%s is %s", ve.Kind, ve.Reason)
		}
		return api.Response{}, api.Invalid("value", "%v", err)
	}
	refs, err := entity.Cases(ctx, r.Table, kind, value, maxEntityCases)
	if err != nil {
		return api.Response{}, err
	}
	if refs == nil {
		refs = []entity.Ref{}
	}
	return api.JSON(200, EntityResponse{Kind: kind, Value: value, Cases: refs}), nil
}
