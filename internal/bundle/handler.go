package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/store"
)

// Maker serves GET /cases/{id}/bundle and GET /exports/bundle-key.
type Maker struct {
	Table   store.Table
	Anchors *anchor.Verifier
	// Links signs the links to evidence copies (nil: no links). Without a
	// base URL the request's own host is used.
	Links *evidence.Links
	Key   *Key
	Now   func() time.Time
}

func (m Maker) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// PublishedKey serves GET /exports/bundle-key: the public half of the
// signing key, for anyone checking a bundle offline. It is public.
func (m Maker) PublishedKey(_ context.Context, _ api.Request) (api.Response, error) {
	if m.Key == nil {
		return api.Response{}, api.Errorf(404, "no_bundle_key", "", "no key is published: evidence bundles are not configured")
	}
	return api.JSON(200, m.Key.Public()), nil
}

// Serve serves GET /cases/{id}/bundle (auditor, admin): the signed bundle.
func (m Maker) Serve(ctx context.Context, req api.Request) (api.Response, error) {
	who, err := api.Require(req, auth.Auditor, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	if m.Key == nil || m.Anchors == nil {
		return api.Response{}, api.Errorf(503, "no_bundle_key", "", "evidence bundles are not configured (signing key or external copy missing)")
	}
	id := req.PathParameters["id"]
	if !ident.Valid("c_", id) {
		return api.Response{}, api.NotFound("case")
	}
	c, err := m.Table.GetCase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("case")
	}
	if err != nil {
		return api.Response{}, err
	}
	links := m.Links
	if links != nil && links.BaseURL == "" && req.RequestContext.DomainName != "" {
		l := *links
		l.BaseURL = "https://" + req.RequestContext.DomainName
		links = &l
	}
	b, err := m.Make(ctx, c, who.Subject, links)
	if err != nil {
		return api.Response{}, err
	}
	doc, err := m.Key.Sign(b)
	if err != nil {
		return api.Response{}, err
	}
	resp := api.JSON(200, doc)
	resp.Headers["Content-Disposition"] = fmt.Sprintf(`attachment; filename="bundle-%s.json"`, c.ID)
	return resp, nil
}

// Make assembles a case's bundle.
func (m Maker) Make(ctx context.Context, c *store.Case, by string, links *evidence.Links) (Bundle, error) {
	now := m.now()
	evs, err := history.Log{Table: m.Table}.List(ctx, c.ID, 0, 0)
	if err != nil {
		return Bundle{}, err
	}
	caseJSON, err := json.Marshal(c)
	if err != nil {
		return Bundle{}, fmt.Errorf("encode case %s: %w", c.ID, err)
	}
	b := Bundle{Format: Format, CaseID: c.ID, MadeAt: now.UTC().Format(time.RFC3339), MadeAtWIB: platform.WaktuID(now), MadeBy: by,
		Case: caseJSON, Events: evs, Head: c.LastHash, Chain: Chain{Valid: true, Length: len(evs)},
		Evidence: []Evidence{}, Decisions: []Decision{}, Notices: []Notice{}}
	if b.Events == nil {
		b.Events = []history.Event{}
	}
	if err := history.Verify(evs, c.LastHash); err != nil {
		b.Chain.Valid, b.Chain.Error = false, err.Error()
	}
	rep, err := m.Anchors.Verify(ctx, c.ID, true, c.LastHash, evs)
	if err != nil {
		return Bundle{}, err
	}
	b.Anchor, b.AnchorRecords = rep, rep.Records
	if b.AnchorRecords == nil {
		b.AnchorRecords = []anchor.Record{}
	}
	var failures []history.NoticeFailedData
	for _, e := range evs {
		switch e.Type {
		case history.Verified:
			var v history.VerifiedData
			if err := e.Decode(&v); err != nil {
				return Bundle{}, err
			}
			if v.Evidence.SHA256 != "" {
				ev := Evidence{Seq: e.Seq, SHA256: v.Evidence.SHA256, FetchedAt: v.Evidence.FetchedAt, FinalURL: v.Evidence.FinalURL, Status: v.Evidence.Status}
				if h, ok := evidence.HashOf(v.Evidence.Location); ok {
					if link, exp := links.Link(h, now); link != "" {
						ev.Link, ev.LinkExpires = link, exp.UTC().Format(time.RFC3339)
					}
				}
				b.Evidence = append(b.Evidence, ev)
			}
		case history.ApprovalDecided, history.ApprovalDecisionRecovered:
			var d history.ApprovalDecidedData
			if err := e.Decode(&d); err != nil {
				return Bundle{}, err
			}
			b.Decisions = append(b.Decisions, Decision{Seq: e.Seq, At: e.At, ApprovalDecidedData: d})
		case history.NoticeFailed:
			var f history.NoticeFailedData
			if err := e.Decode(&f); err != nil {
				return Bundle{}, err
			}
			failures = append(failures, f)
		case history.TakedownRequested, history.WarningSent:
			var n history.NoticeSentData
			if err := e.Decode(&n); err != nil {
				return Bundle{}, err
			}
			b.Notices = append(b.Notices, Notice{Seq: e.Seq, At: e.At, NoticeSentData: n, Failures: failures})
			failures = nil
		case history.ComplianceChecked:
			var cc history.ComplianceCheckedData
			if err := e.Decode(&cc); err != nil {
				return Bundle{}, err
			}
			if len(b.Notices) > 0 {
				last := &b.Notices[len(b.Notices)-1]
				last.Replies = append(last.Replies, cc)
			}
		}
	}
	return b, nil
}
