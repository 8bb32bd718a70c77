package approval

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/console/theme"
)

// Handler serves the approval review page (GET /approvals/{id}) and takes
// decisions (POST /approvals/{id}).
type Handler struct {
	Store  *Store
	Signer *Signer
	// Decided is called once, after a decision is stored, with the decided
	// approval (TaskToken included): it completes the workflow task
	// (SendTaskSuccess for Approve, SendTaskFailure for Reject). If it
	// fails the decision stays recorded and the response is 502.
	Decided func(ctx context.Context, a Approval) error
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: slog.Default()
	// Tokens verifies a bearer token sent with a decision (the route has
	// no authorizer). nil: a decision that carries a token is refused.
	Tokens auth.Verifier
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// Handle dispatches on the method: GET shows, POST decides, others 405.
// Errors are pages for people, or JSON for clients that ask for it.
func (h *Handler) Handle(ctx context.Context, req api.Request) api.Response {
	resp, _ := api.HandlePage(h.route)(ctx, req)
	return resp
}

func (h *Handler) route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RequestContext.HTTP.Method {
	case http.MethodGet, http.MethodHead:
		return h.Get(ctx, req)
	case http.MethodPost:
		return h.Post(ctx, req)
	}
	return api.Response{}, api.Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "", "use GET or POST")
}

var errNoApproval = api.Errorf(http.StatusNotFound, "not_found", "", "no such approval request")

// Get shows the case summary and the confirm form. It never decides.
func (h *Handler) Get(ctx context.Context, req api.Request) (api.Response, error) {
	if err := h.checkRole(req); err != nil {
		return api.Response{}, err
	}
	id := approvalID(req)
	q := query(req)
	l := linkParams{Approver: q.Get("a"), Exp: q.Get("exp"), Sig: q.Get("sig")}
	if err := h.checkLink(ctx, id, l); err != nil {
		return api.Response{}, err
	}
	a, err := h.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return api.Response{}, errNoApproval
	}
	if err != nil {
		return api.Response{}, fmt.Errorf("show approval %s: %w", id, err)
	}
	if api.WantsJSON(req) {
		return api.JSON(http.StatusOK, publicView(a)), nil
	}
	v := pageView{A: a, Link: l, Score: fmt.Sprintf("%.2f", a.Summary.Score), Pending: a.Status == StatusPending}
	var b bytes.Buffer
	if err := reviewPage.Execute(&b, v); err != nil {
		return api.Response{}, fmt.Errorf("render approval %s: %w", id, err)
	}
	return page(b.String()), nil
}

// Post decides once. Fields (form-encoded or JSON): decision ("approve" or
// "reject"), a (the approver, from the link), exp, sig, reason (optional).
func (h *Handler) Post(ctx context.Context, req api.Request) (api.Response, error) {
	if err := h.checkRole(req); err != nil {
		return api.Response{}, err
	}
	bearer, sent, err := h.checkBearer(ctx, req)
	if err != nil {
		return api.Response{}, err
	}
	id := approvalID(req)
	in, err := readDecision(req)
	if err != nil {
		return api.Response{}, err
	}
	if err := h.checkLink(ctx, id, in.linkParams); err != nil {
		return api.Response{}, err
	}
	if sent && !strings.EqualFold(strings.TrimSpace(bearer.Email), strings.TrimSpace(in.Approver)) {
		h.log().WarnContext(ctx, "approval: token of another person than the link's approver", "approval_id", id)
		return api.Response{}, api.Errorf(http.StatusForbidden, "not_link_approver", "authorization", "token Anda milik orang lain, bukan penyetuju tautan ini / your token belongs to another person than this link's approver")
	}
	if in.Decision != Approve && in.Decision != Reject {
		return api.Response{}, api.Errorf(http.StatusBadRequest, "invalid_field", "decision", `decision must be "approve" or "reject"`)
	}
	if len(in.Reason) > MaxReason {
		return api.Response{}, api.Errorf(http.StatusBadRequest, "invalid_field", "reason", "reason is longer than %d bytes", MaxReason)
	}
	a, err := h.Store.Decide(ctx, id, in.Decision, in.Approver, in.Reason)
	switch {
	case errors.Is(err, ErrNotFound):
		return api.Response{}, errNoApproval
	case errors.Is(err, ErrAlreadyDecided):
		// The first decision may have been recorded without reaching the
		// workflow (a crash in between): deliver it again. A workflow that
		// already has it refuses the used token, which changes nothing.
		if h.Decided != nil && (a.Status == StatusApproved || a.Status == StatusRejected) {
			if err := h.Decided(ctx, a); err == nil {
				h.log().InfoContext(ctx, "approval: undelivered decision delivered", "approval_id", a.ID, "case_id", a.CaseID)
			}
		}
		return api.Response{}, api.Errorf(http.StatusConflict, "already_decided", "", "this request was already decided (%s)", a.Status)
	case errors.Is(err, ErrExpired):
		return api.Response{}, api.Errorf(http.StatusGone, "expired", "", "this approval request has expired")
	case errors.Is(err, ErrNotApprover):
		return api.Response{}, api.Errorf(http.StatusForbidden, "not_approver", "a", "you are not an approver of this request")
	case err != nil:
		return api.Response{}, fmt.Errorf("record decision on approval %s: %w", id, err)
	}
	h.log().InfoContext(ctx, "approval decided", "approval_id", a.ID, "case_id", a.CaseID, "decision", a.Decision, "by", a.DecidedBy)
	if h.Decided != nil {
		if err := h.Decided(ctx, a); err != nil {
			h.log().ErrorContext(ctx, "approval: notify workflow", "approval_id", a.ID, "case_id", a.CaseID, "err", err.Error())
			return api.Response{}, api.Errorf(http.StatusBadGateway, "workflow_unavailable", "",
				"your decision was recorded, but the workflow could not be notified yet")
		}
	}
	if api.WantsJSON(req) {
		return api.JSON(http.StatusOK, publicView(a)), nil
	}
	var b bytes.Buffer
	if err := donePage.Execute(&b, a); err != nil {
		return api.Response{}, fmt.Errorf("render decision on approval %s: %w", id, err)
	}
	return page(b.String()), nil
}

// checkRole: a request with an authenticated principal must be an approver
// or an admin. Requests without one rely on the signed link alone.
func (h *Handler) checkRole(req api.Request) error {
	p, ok := auth.FromRequest(req)
	if ok && !p.HasAny(auth.Approver, auth.Admin) {
		return api.Errorf(http.StatusForbidden, "forbidden", "", "approver or admin role required")
	}
	return nil
}

// checkBearer: a decision may carry the approver's own token (an
// Authorization header). The route has no authorizer, so the token is
// verified here: 401 if it does not verify, 403 if it is not an
// approver's. sent is false when no token came (the signed link alone
// then decides); the caller checks the token's e-mail against the link.
func (h *Handler) checkBearer(ctx context.Context, req api.Request) (p auth.Principal, sent bool, err error) {
	authz := strings.TrimSpace(api.Header(req, "Authorization"))
	if authz == "" {
		return p, false, nil
	}
	refuse := func(status int, msg string) (auth.Principal, bool, error) {
		code := "unauthorized"
		if status == http.StatusForbidden {
			code = "forbidden"
		}
		return p, true, api.Errorf(status, code, "authorization", "%s", msg)
	}
	scheme, tok, _ := strings.Cut(authz, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return refuse(http.StatusUnauthorized, "header Authorization harus berupa bearer token / the Authorization header must be a bearer token")
	}
	if h.Tokens == nil {
		h.log().ErrorContext(ctx, "approval: a decision carried a token, but no token verifier is configured")
		return refuse(http.StatusUnauthorized, "token tidak dapat diperiksa di sini; putuskan dengan tautan saja / tokens cannot be checked here; decide with the link alone")
	}
	p, err = h.Tokens.Verify(tok)
	if err != nil {
		h.log().WarnContext(ctx, "approval: invalid bearer token on a decision", "err", err.Error())
		return refuse(http.StatusUnauthorized, "bearer token tidak sah (kedaluwarsa, diubah, atau bukan dari kami) / the bearer token is not valid (expired, altered or not ours)")
	}
	if !p.HasAny(auth.Approver) {
		return refuse(http.StatusForbidden, "bearer token ini bukan milik penyetuju / the bearer token is not an approver's")
	}
	if p.Email == "" {
		return refuse(http.StatusForbidden, "bearer token tidak membawa e-mail terverifikasi untuk dicocokkan dengan penyetuju tautan / the bearer token carries no verified e-mail to match the link's approver")
	}
	return p, true, nil
}

type linkParams struct {
	Approver string `json:"a"`
	Exp      string `json:"exp"`
	Sig      string `json:"sig"`
}

func (h *Handler) checkLink(ctx context.Context, id string, l linkParams) error {
	if id == "" {
		return errNoApproval
	}
	if l.Sig == "" {
		return api.Errorf(http.StatusForbidden, "forged_link", "sig", "the link has no signature; use the link from your message")
	}
	switch err := h.Signer.Verify(id, l.Approver, l.Exp, l.Sig, h.now()); {
	case errors.Is(err, ErrLinkExpired):
		return api.Errorf(http.StatusGone, "expired", "exp", "this approval link has expired")
	case err != nil:
		h.log().WarnContext(ctx, "approval: forged or altered link", "approval_id", id)
		return api.Errorf(http.StatusForbidden, "forged_link", "sig", "the link is not valid (altered or forged)")
	}
	return nil
}

type decisionInput struct {
	linkParams
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func readDecision(req api.Request) (decisionInput, error) {
	invalid := func(field, msg string) (decisionInput, error) {
		return decisionInput{}, api.Errorf(http.StatusBadRequest, "invalid_request", field, "%s", msg)
	}
	body := req.Body
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return invalid("body", "body is not valid base64")
		}
		body = string(b)
	}
	if len(body) > 64<<10 {
		return invalid("body", "body too large")
	}
	ct, _, _ := mime.ParseMediaType(api.Header(req, "Content-Type"))
	var in decisionInput
	switch ct {
	case "application/json":
		var raw struct {
			decisionInput
			Approver string `json:"approver"`
		}
		dec := json.NewDecoder(strings.NewReader(body))
		if err := dec.Decode(&raw); err != nil {
			return invalid("body", fmt.Sprintf("body is not valid JSON: %v", err))
		}
		in = raw.decisionInput
		if in.Approver == "" {
			in.Approver = raw.Approver
		}
	case "application/x-www-form-urlencoded", "":
		f, err := url.ParseQuery(body)
		if err != nil {
			return invalid("body", "body is not a valid form")
		}
		in = decisionInput{linkParams: linkParams{Approver: f.Get("a"), Exp: f.Get("exp"), Sig: f.Get("sig")},
			Decision: f.Get("decision"), Reason: f.Get("reason")}
	default:
		return invalid("content-type", fmt.Sprintf("unsupported content type %q", ct))
	}
	in.Decision = strings.ToLower(strings.TrimSpace(in.Decision))
	if in.Decision == "" {
		return invalid("decision", "decision is required")
	}
	return in, nil
}

func approvalID(req api.Request) string {
	if id := req.PathParameters["id"]; id != "" {
		return id
	}
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	if rest, ok := strings.CutPrefix(p, "/approvals/"); ok && !strings.Contains(rest, "/") {
		id, err := url.PathUnescape(rest)
		if err == nil {
			return id
		}
	}
	return ""
}

func query(req api.Request) url.Values {
	if req.RawQueryString != "" {
		if q, err := url.ParseQuery(req.RawQueryString); err == nil {
			return q
		}
	}
	q := url.Values{}
	for k, v := range req.QueryStringParameters {
		q.Set(k, v)
	}
	return q
}

// View is the JSON form of an approval shown to approvers (no task token,
// no approver list).
type View struct {
	ID        string     `json:"approval_id"`
	CaseID    string     `json:"case_id"`
	Status    string     `json:"status"`
	Decision  string     `json:"decision,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	ExpiresAt time.Time  `json:"expires_at"`
	Summary   Summary    `json:"summary"`
}

func publicView(a Approval) View {
	v := View{ID: a.ID, CaseID: a.CaseID, Status: a.Status, Decision: a.Decision, DecidedBy: a.DecidedBy,
		Reason: a.Reason, ExpiresAt: a.ExpiresAt.UTC(), Summary: a.Summary}
	if !a.DecidedAt.IsZero() {
		t := a.DecidedAt.UTC()
		v.DecidedAt = &t
	}
	return v
}

type pageView struct {
	A       Approval
	Link    linkParams
	Score   string
	Pending bool
}

// style links the console's stylesheet (same origin), so the confirm page
// looks like the console; page() sends the console's strict CSP with it.
const style = `<link rel="stylesheet" href="` + theme.StylesheetPath + `">`

// header and footer are the console's page frame.
const header = `<header class="top"><div class="bar"><span class="brand">` + theme.Brand + `</span></div></header><main id="main" class="card">`
const footer = `</main>`

// page answers an approval page with the console's Content-Security-Policy.
func page(body string) api.Response {
	resp := api.HTML(http.StatusOK, body)
	resp.Headers["Content-Security-Policy"] = theme.CSP
	return resp
}

var reviewPage = template.Must(template.New("review").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Takedown approval {{.A.CaseID}}</title>` + style + `</head>
<body>` + header + `<h1>Persetujuan penurunan / Takedown approval</h1>
{{with .A.Summary}}<table>
<tr><th>Case</th><td>{{.CaseID}}</td></tr>
<tr><th>Ad</th><td>{{.URL}}</td></tr>
<tr><th>Platform</th><td>{{.Platform}}</td></tr>
<tr><th>Urgency</th><td>{{.Urgency}}</td></tr>
<tr><th>Score</th><td>{{$.Score}}</td></tr>
{{with .Reports}}<tr><th>Reports</th><td>{{.}}</td></tr>{{end}}
</table>
{{with .Excerpt}}<h2>Ad text</h2><blockquote>{{.}}</blockquote>{{end}}
{{if .Indicators}}<h2>Risk indicators</h2><ul>{{range .Indicators}}<li><strong>{{.Label}}</strong>{{with .Explanation}} — {{.}}{{end}}{{with .Evidence}} <span class="muted">(“{{.}}”)</span>{{end}}</li>{{end}}</ul>{{end}}
{{if .Related}}<h2>Related cases</h2><ul>{{range .Related}}<li>{{.Sentence}}</li>{{end}}</ul>{{end}}
{{end}}
{{if .Pending}}
<h2>Your decision</h2>
<form method="post" action="/approvals/{{.A.ID}}">
<input type="hidden" name="a" value="{{.Link.Approver}}">
<input type="hidden" name="exp" value="{{.Link.Exp}}">
<input type="hidden" name="sig" value="{{.Link.Sig}}">
<p><label for="reason">Reason (optional, recorded in the case history)</label><br>
<textarea id="reason" name="reason" rows="3" maxlength="2000"></textarea></p>
<p><button type="submit" name="decision" value="approve">Approve takedown</button>
<button type="submit" name="decision" value="reject">Reject</button></p>
<p class="muted">Deciding as {{.Link.Approver}}. The decision is final.</p>
</form>
{{else}}
<p><strong>Already decided:</strong> {{.A.Status}}{{with .A.DecidedBy}} by {{.}}{{end}}{{if not .A.DecidedAt.IsZero}} at {{.A.DecidedAt.UTC.Format "2006-01-02 15:04 MST"}}{{end}}.</p>
{{end}}
` + footer + `</body></html>`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Decision recorded</title>` + style + `</head>
<body>` + header + `<h1>Decision recorded</h1>
<p>Keputusan dicatat / Case {{.CaseID}}: <strong>{{.Status}}</strong> by {{.DecidedBy}}.</p>{{with .Reason}}<p>Reason: {{.}}</p>{{end}}
` + footer + `</body></html>`))
