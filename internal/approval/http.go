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
	// Decided is called after each recorded act, with the approval
	// (TaskToken included): when r.Deliver it completes the workflow task
	// with the agencies' outcome (AfterAct.Done). If it fails the act
	// stays recorded and the response is 502.
	Decided func(ctx context.Context, r Result) error
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
	resp, _ := api.HandlePage(func(ctx context.Context, req api.Request) (api.Response, error) {
		resp, err := h.route(ctx, req)
		var e *api.Error
		if err != nil && !api.WantsJSON(req) && errors.As(err, &e) && len(e.Headers) == 0 {
			return errorPage(e)
		}
		return resp, err
	})(ctx, req)
	return resp
}

// errorPage is a refusal as a page in the console's look.
func errorPage(e *api.Error) (api.Response, error) {
	var b bytes.Buffer
	if err := refusedPage.Execute(&b, e); err != nil {
		return api.Response{}, e
	}
	resp := page(b.String())
	resp.StatusCode = e.Status
	return resp, nil
}

func (h *Handler) route(ctx context.Context, req api.Request) (api.Response, error) {
	switch req.RequestContext.HTTP.Method {
	case http.MethodGet, http.MethodHead:
		return h.Get(ctx, req)
	case http.MethodPost:
		return h.Post(ctx, req)
	}
	return api.Response{}, api.Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "", "pakai GET atau POST / use GET or POST")
}

var errNoApproval = api.Errorf(http.StatusNotFound, "not_found", "", "permintaan persetujuan ini tidak ada / no such approval request")

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
	v := newPageView(a, l, h.now())
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
	r, err := h.Store.Act(ctx, id, Action{Decision: in.Decision, Identity: in.Approver, Channel: ChannelEmail, Reason: in.Reason})
	if errors.Is(err, ErrAlreadyDecided) && h.Decided != nil && !r.Delivered &&
		r.HasOutcome() {
		// The outcome may have been recorded without reaching the
		// workflow (a crash in between): deliver it again. A workflow
		// that already has it refuses the used token, which changes
		// nothing.
		r.Deliver = true
		if derr := h.Decided(ctx, r); derr == nil {
			h.log().InfoContext(ctx, "approval: undelivered outcome delivered", "approval_id", r.ID, "case_id", r.CaseID)
		}
	}
	if err != nil {
		return api.Response{}, actError(err, "decision")
	}
	a := r.Approval
	h.log().InfoContext(ctx, "approval act recorded", "approval_id", a.ID, "case_id", a.CaseID, "decision", in.Decision, "agency", r.Agency, "status", a.Status)
	if h.Decided != nil {
		if err := h.Decided(ctx, r); err != nil {
			h.log().ErrorContext(ctx, "approval: notify workflow", "approval_id", a.ID, "case_id", a.CaseID, "err", err.Error())
			return api.Response{}, api.Errorf(http.StatusBadGateway, "workflow_unavailable", "",
				"keputusan Anda tercatat, tetapi alur kerja belum dapat diberi tahu / your decision was recorded, but the workflow could not be notified yet")
		}
	}
	if api.WantsJSON(req) {
		return api.JSON(http.StatusOK, publicView(a)), nil
	}
	var b bytes.Buffer
	if err := donePage.Execute(&b, doneView{A: a, Agency: shortName(r.Agency), Decision: in.Decision, Reason: strings.TrimSpace(in.Reason), Needs: a.Evaluation()}); err != nil {
		return api.Response{}, fmt.Errorf("render decision on approval %s: %w", id, err)
	}
	return page(b.String()), nil
}

// checkRole: a request with an authenticated principal must be an approver
// or an admin. Requests without one rely on the signed link alone.
func (h *Handler) checkRole(req api.Request) error {
	p, ok := auth.FromRequest(req)
	if ok && !p.HasAny(auth.Approver, auth.Admin) {
		return api.Errorf(http.StatusForbidden, "forbidden", "", "perlu peran penyetuju atau admin / approver or admin role required")
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
		return api.Errorf(http.StatusForbidden, "forged_link", "sig", "tautan tidak bertanda tangan; pakai tautan dari pesan Anda / the link has no signature; use the link from your message")
	}
	switch err := h.Signer.Verify(id, l.Approver, l.Exp, l.Sig, h.now()); {
	case errors.Is(err, ErrLinkExpired):
		return api.Errorf(http.StatusGone, "expired", "exp", "tautan persetujuan ini sudah kedaluwarsa / this approval link has expired")
	case err != nil:
		h.log().WarnContext(ctx, "approval: forged or altered link", "approval_id", id)
		return api.Errorf(http.StatusForbidden, "forged_link", "sig", "tautan tidak sah (diubah atau dipalsukan) / the link is not valid (altered or forged)")
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

// View is the JSON form of an approval shown to approvers (no task
// token, no member list).
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
	CaseView
}

func publicView(a Approval) View {
	v := View{ID: a.ID, CaseID: a.CaseID, Status: a.Status, Decision: a.Decision, DecidedBy: a.DecidedBy,
		Reason: a.Reason, ExpiresAt: a.ExpiresAt.UTC(), Summary: a.Summary, CaseView: a.View(time.Now())}
	if !a.DecidedAt.IsZero() {
		t := a.DecidedAt.UTC()
		v.DecidedAt = &t
	}
	return v
}

type pageView struct {
	A        Approval
	Link     linkParams
	Score    string
	Pending  bool
	Agency   string
	May      map[string]bool
	Deadline string
	Needs    string
	Done     []DecisionLine
	Hold     string
}

// DecisionLine is one recorded decision in words.
type DecisionLine struct{ Text string }

func newPageView(a Approval, l linkParams, now time.Time) pageView {
	v := pageView{A: a, Link: l, Score: fmt.Sprintf("%.2f", a.Summary.Score), Agency: shortName(a.Members[normApprover(l.Approver)]),
		May: map[string]bool{}, Deadline: TanggalWIB(a.ExpiresAt), Needs: a.Evaluation().Why}
	for _, d := range a.MayDo(l.Approver, now) {
		v.May[d] = true
	}
	v.Pending = len(v.May) > 0
	if a.Review != nil {
		v.Done = append(v.Done, DecisionLine{Text: "Tinjauan tambahan / Extra review: " + DecidedPlain(*a.Review, "")})
	}
	for _, ag := range a.Policy.Require {
		if d, ok := a.Decisions[ag]; ok {
			v.Done = append(v.Done, DecisionLine{Text: DecidedPlain(d, "")})
		}
	}
	if a.Hold != nil {
		v.Hold = DecidedPlain(a.Hold.AgencyDecision, "")
		if a.Hold.Released != nil {
			v.Hold += " — dicabut / released " + TanggalWIB(*a.Hold.Released)
		} else {
			v.Hold += " — sampai / until " + TanggalWIB(a.Hold.Until)
		}
	}
	return v
}

type doneView struct {
	A        Approval
	Agency   string
	Decision string
	Reason   string
	Needs    interface{ GetWhy() string }
}

// style links the console's stylesheet (same origin), so the confirm page
// looks like the console; page() sends the console's strict CSP with it.
const style = `<link rel="stylesheet" href="` + theme.StylesheetPath + `">`

// header and footer are the console's page frame (its bar, its footer).
const header = `<header class="top"><div class="bar"><span class="brand">` + theme.Brand + `</span></div></header><main id="main">`
const footer = `</main><footer>` + theme.Brand + ` · Koordinasi penurunan iklan penempatan pekerja migran ilegal <span class="en">/ Takedown coordination for illegal migrant-worker placement ads</span></footer>`

// whenWIB is a time as the console shows one: WIB, UTC on hover.
func whenWIB(t time.Time) template.HTML {
	if t.IsZero() {
		return "–"
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" title="` + u.Format("2006-01-02 15:04:05 UTC") + `">` +
		template.HTMLEscapeString(TanggalWIB(t)) + `</time>`)
}

var pageFuncs = template.FuncMap{"when": whenWIB}

// page answers an approval page with the console's Content-Security-Policy.
func page(body string) api.Response {
	resp := api.HTML(http.StatusOK, body)
	resp.Headers["Content-Security-Policy"] = theme.CSP
	return resp
}

var reviewPage = template.Must(template.New("review").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Persetujuan penurunan konten {{.A.CaseID}} · tangkal</title>` + style + `</head>
<body>` + header + `<h1>Persetujuan penurunan konten <span class="en">/ Takedown approval</span></h1>
{{with .A.Summary}}<section class="card" aria-labelledby="facts"><h2 id="facts">Ringkasan <span class="en">/ Summary</span></h2>
<dl class="facts">
<dt>Kasus <span class="en">/ Case</span></dt><dd>{{.CaseID}}</dd>
<dt>Iklan <span class="en">/ Ad</span></dt><dd>{{.URL}}</dd>
<dt>Platform</dt><dd>{{.Platform}}</dd>
<dt>Urgensi <span class="en">/ Urgency</span></dt><dd>{{.Urgency}}</dd>
<dt>Skor <span class="en">/ Score</span></dt><dd>{{$.Score}}</dd>
{{with .Reports}}<dt>Laporan <span class="en">/ Reports</span></dt><dd>{{.}}</dd>{{end}}
<dt>Batas waktu <span class="en">/ Deadline</span></dt><dd>{{when $.A.ExpiresAt}}</dd>
</dl></section>
{{with .Excerpt}}<section class="card" aria-labelledby="adtext"><h2 id="adtext">Teks iklan <span class="en">/ Ad text</span></h2><blockquote>{{.}}</blockquote></section>{{end}}
{{if .Indicators}}<section class="card" aria-labelledby="why"><h2 id="why">Alasan ditandai <span class="en">/ Why it was flagged</span></h2><ul>{{range .Indicators}}<li><strong>{{.Name}}</strong>{{with .Explained}} — {{.}}{{end}}{{with .Evidence}} <span class="muted">(“{{.}}”)</span>{{end}}</li>{{end}}</ul></section>{{end}}
{{if .Related}}<section class="card" aria-labelledby="rel"><h2 id="rel">Kasus terkait <span class="en">/ Related cases</span></h2><ul>{{range .Related}}<li>{{.Sentence}}</li>{{end}}</ul></section>{{end}}
{{end}}
<section class="card" aria-labelledby="dec"><h2 id="dec">Keputusan instansi <span class="en">/ The agencies' decisions</span></h2>
<ul>{{range .Done}}<li>{{.Text}}</li>{{else}}<li>Belum ada <span class="en">/ None yet</span></li>{{end}}{{with .Hold}}<li>{{.}}</li>{{end}}</ul>
<p class="muted">{{.Needs}}</p></section>
{{if .Pending}}
<section class="card" aria-labelledby="yours"><h2 id="yours">Keputusan Anda ({{.Agency}}) <span class="en">/ Your decision</span></h2>
<form method="post" action="/approvals/{{.A.ID}}">
<input type="hidden" name="a" value="{{.Link.Approver}}">
<input type="hidden" name="exp" value="{{.Link.Exp}}">
<input type="hidden" name="sig" value="{{.Link.Sig}}">
<div class="field"><label for="reason">Alasan <span class="en">/ Reason</span> <span class="hint" id="reason-hint">Wajib untuk menolak atau menahan; dicatat dalam riwayat kasus / Required to reject or hold; recorded in the case history</span></label>
<textarea id="reason" name="reason" rows="3" maxlength="2000" aria-describedby="reason-hint"></textarea></div>
<div class="actions">{{if .May.approve}}<button type="submit" name="decision" value="approve">Setujui / Approve</button>{{end}}
{{if .May.reject}}<button type="submit" name="decision" value="reject" class="danger">Tolak / Reject</button>{{end}}
{{if .May.hold}}<button type="submit" name="decision" value="hold" class="secondary">Tahan / Hold</button>{{end}}
{{if .May.release}}<button type="submit" name="decision" value="release" class="secondary">Cabut penahanan / Release hold</button>{{end}}</div>
<p class="muted">Memutuskan sebagai {{.Link.Approver}} ({{.Agency}}). Keputusan bersifat final. <span class="en">/ Deciding as {{.Link.Approver}}; the decision is final.</span></p>
</form></section>
{{else}}
<p class="alert ok" role="status"><strong>Tidak ada lagi yang perlu Anda putuskan <span class="en">/ Nothing left for you to decide</span>:</strong> {{.A.Status}}.</p>
{{end}}
` + footer + `</body></html>`))

var refusedPage = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Tidak dapat dilanjutkan / Cannot continue · tangkal</title>` + style + `</head>
<body>` + header + `<h1>Tidak dapat dilanjutkan <span class="en">/ Cannot continue</span></h1>
<div class="alert bad" role="alert"><p><strong>{{.Status}}</strong> {{.Message}}</p></div>
` + footer + `</body></html>`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Keputusan dicatat / Decision recorded · tangkal</title>` + style + `</head>
<body>` + header + `<h1>Keputusan dicatat <span class="en">/ Decision recorded</span></h1>
<div class="alert ok" role="status"><p>Kasus <span class="en">/ Case</span> {{.A.CaseID}}: <strong>{{.Decision}}</strong> ({{.Agency}}). Status: <strong>{{.A.Status}}</strong>.</p>{{with .Reason}}<p>Alasan <span class="en">/ Reason</span>: {{.}}</p>{{end}}</div>
<p class="muted">{{.Needs.GetWhy}}</p>
` + footer + `</body></html>`))
