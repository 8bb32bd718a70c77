package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/compliance"
	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
)

// Routes VerifyAd chooses (RouteVerdict in the state machine).
const (
	RouteNeedsApproval = "needs_approval"
	RouteNotActionable = "not_actionable"
	RouteDuplicate     = "duplicate"
	RouteClose         = "close" // legitimate or not a job ad: closes with the label
)

// VerifyOutput is VerifyAd's answer.
type VerifyOutput struct {
	Route   string `json:"route"`
	Urgency string `json:"urgency"`
	Label   string `json:"label"`
}

const stepVerify = "verify"

// VerifyAd fetches the ad safely, keeps the evidence, assesses the text,
// indexes recruiter entities and decides the route.
func (s *Steps) VerifyAd(ctx context.Context, in CaseInput) (out VerifyOutput, err error) {
	ctx = begin(ctx, stepVerify, in.CaseID, in.Task)
	defer func() { done(ctx, stepVerify, err) }()
	c, err := s.getCase(ctx, stepVerify, in.CaseID)
	if err != nil {
		return VerifyOutput{}, err
	}
	if contains(c.StepsDone, stepVerify) {
		return VerifyOutput{Route: c.Verdict, Urgency: c.Urgency, Label: c.Label}, nil
	}
	assessor, err := s.Assessors.Assessor(ctx)
	if err != nil {
		return VerifyOutput{}, transient(stepVerify, c.ID, "load the assessor", err)
	}
	ev, text, duplicateOf, err := s.fetch(ctx, c)
	if err != nil {
		return VerifyOutput{}, err
	}
	var a risk.Assessment
	switch {
	case ev.Blocked != "", ev.Gone:
		out.Route = RouteNotActionable
	case duplicateOf != "":
		out.Route = RouteDuplicate
	default:
		a = assessor.Assess(text, c.URL)
		out.Label, out.Urgency = a.Label, a.Urgency
		out.Route = RouteClose
		if a.Label == risk.LabelTakedown {
			out.Route = RouteNeedsApproval
		}
	}
	var related []entity.RelatedCase
	if !a.Entities.Empty() {
		if err := entity.Index(ctx, s.Table, c.ID, c.Platform, c.CanonicalURL, a.Entities); err != nil {
			return VerifyOutput{}, transient(stepVerify, c.ID, "index entities", err)
		}
		if related, err = entity.Related(ctx, s.Table, c.ID, a.Entities); err != nil {
			return VerifyOutput{}, transient(stepVerify, c.ID, "find related cases", err)
		}
	}
	var repost *history.Repost
	if a.Label != "" {
		if repost, err = s.reposts(ctx, c.ID, text); err != nil {
			return VerifyOutput{}, err
		}
	}
	data := history.VerifiedData{
		Route: out.Route, Label: out.Label, Urgency: out.Urgency, Score: a.Score, Indicators: a.Indicators,
		Entities: a.Entities, Registry: a.Registry, Related: related, Evidence: ev, DuplicateOf: duplicateOf,
		Repost: repost,
	}
	ch := history.Change{Set: verifiedCase(data)}
	if data.Urgency != "" {
		created, _ := time.Parse(time.RFC3339, c.CreatedAt)
		ch.Items = append(ch.Items, store.FacetPut(s.Table.Name, c.ID, store.FacetUrgency, data.Urgency, created))
	}
	if _, err := s.record(ctx, stepVerify, c.ID, stepVerify, history.Verified, data, ch); err != nil {
		return VerifyOutput{}, err
	}
	return out, nil
}

// verifiedCase is what verification changes in the case item.
func verifiedCase(v history.VerifiedData) map[string]any {
	set := map[string]any{"verdict": v.Route, "status": store.StatusVerifying}
	if v.Label != "" {
		set["label"] = v.Label
		set["score"] = v.Score
	}
	if v.Urgency != "" {
		set["urgency"] = v.Urgency
	}
	if len(v.Indicators) > 0 {
		ids := make([]string, 0, len(v.Indicators))
		for _, ind := range v.Indicators {
			ids = append(ids, ind.ID)
		}
		set["indicators"] = ids
	}
	if v.Evidence.Location != "" {
		set["evidence"] = v.Evidence.Location
	}
	if v.DuplicateOf != "" {
		set["duplicate_of"] = v.DuplicateOf
	}
	if v.Repost != nil {
		set["repost_of"] = v.Repost.CaseID
	}
	return set
}

// reposts finds the earliest case holding (nearly) the same ad text, and
// records this case's text so later reposts find it.
func (s *Steps) reposts(ctx context.Context, caseID, text string) (*history.Repost, error) {
	f := entity.TextFingerprint(text)
	if !f.Valid() {
		return nil, nil
	}
	found, err := entity.FindReposts(ctx, s.Table, caseID, f)
	if err != nil {
		return nil, transient(stepVerify, caseID, "find reposts", err)
	}
	if err := entity.IndexText(ctx, s.Table, caseID, f); err != nil {
		return nil, transient(stepVerify, caseID, "index the ad text", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	// The most similar; among equals the oldest (case ids sort by time).
	best := found[0]
	for _, r := range found[1:] {
		if r.Similarity == best.Similarity && r.CaseID < best.CaseID {
			best = r
		}
	}
	old, err := s.Table.GetCase(ctx, best.CaseID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, transient(stepVerify, caseID, "read the earlier case "+best.CaseID, err)
	}
	r := &history.Repost{CaseID: old.ID, Similarity: best.Similarity, Status: old.Status}
	r.At, r.Sentence = repostSentence(old)
	return r, nil
}

// repostSentence tells approvers what became of the earlier case.
func repostSentence(old *store.Case) (at, sentence string) {
	when := func(ts string) (string, string, string) {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if ts == "" || err != nil {
			return ts, "", ""
		}
		return ts, " pada " + platform.WaktuID(t), " on " + platform.DateEN(t) + fmt.Sprintf(" %02d.%02d WIB", t.In(platform.Jakarta).Hour(), t.In(platform.Jakarta).Minute())
	}
	var id, en string
	switch old.Status {
	case store.StatusRemovedInTime, store.StatusRemovedLate:
		ts := old.RemovedAt
		if ts == "" {
			ts = old.ClosedAt
		}
		var wid, wen string
		at, wid, wen = when(ts)
		id, en = "disetujui dan sudah diturunkan"+wid, "approved and removed"+wen
	case store.StatusApproved, store.StatusTakedownSent, store.StatusManualQueue, store.StatusEscalated, store.StatusNonCompliant:
		var wid, wen string
		at, wid, wen = when(old.TakedownAt)
		id, en = "disetujui, permintaan penurunan dikirim"+wid, "approved, takedown requested"+wen
		if old.Status == store.StatusNonCompliant {
			id, en = id+", platform tidak menurunkannya", en+", the platform did not remove it"
		}
	case store.StatusRejected:
		var wid, wen string
		at, wid, wen = when(old.ClosedAt)
		id, en = "ditolak oleh pemberi persetujuan"+wid, "rejected by the approver"+wen
	case store.StatusAwaitingApprove:
		id, en = "masih menunggu persetujuan", "still awaiting approval"
	case store.StatusLegitimate:
		id, en = "dinilai iklan sah", "judged a legitimate ad"
	case store.StatusNotJobAd:
		id, en = "dinilai bukan iklan lowongan", "judged not a job ad"
	default:
		id, en = "berstatus "+old.Status, "status "+old.Status
	}
	return at, fmt.Sprintf("Teks sama dengan %s, %s. / Same text as %s, %s.", old.ID, id, old.ID, en)
}

// fetch gets the ad and stores its body. The text to assess is what the
// reporter pasted plus what the page shows; duplicateOf is the case that
// already holds the URL a short link led to.
func (s *Steps) fetch(ctx context.Context, c *store.Case) (ev history.Evidence, text, duplicateOf string, err error) {
	text = c.Text
	res, err := s.Fetcher.Get(ctx, c.URL)
	var blocked *safefetch.BlockedError
	switch {
	case errors.As(err, &blocked):
		return history.Evidence{Blocked: blocked.Error()}, text, "", nil
	case err != nil:
		return history.Evidence{Unreachable: err.Error()}, text, "", nil
	}
	ev = history.Evidence{
		Status: res.Status, FinalURL: res.FinalURL, Redirects: res.Redirects, SHA256: res.SHA256,
		FetchedAt: store.FormatTime(res.FetchedAt), Title: res.Title, Excerpt: res.Excerpt, Truncated: res.Truncated,
	}
	if len(res.Body) > 0 {
		loc, err := s.Evidence.Put(ctx, res.Body, res.ContentType)
		if err != nil {
			return ev, "", "", transient(stepVerify, c.ID, "store the evidence copy", err)
		}
		ev.Location = loc
	}
	p, _ := s.Platforms.Config.Get(c.Platform)
	if v := compliance.Evaluate(p, compliance.Check{HTTPStatus: res.Status, FinalURL: res.FinalURL, Body: res.Title + " " + res.Excerpt}); v.State == compliance.Removed {
		ev.Gone = true
		return ev, text, "", nil
	}
	text = strings.TrimSpace(text + "\n" + res.Title + "\n" + res.Excerpt)
	dup, err := report.ClaimFinalURL(ctx, s.Table, c.ID, c.CanonicalURL, res.FinalURL, c.Reopens)
	if err != nil {
		return ev, "", "", transient(stepVerify, c.ID, "claim the final URL", err)
	}
	return ev, text, dup, nil
}
