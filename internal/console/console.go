// Package console is tangkal's web console: server-rendered pages (Go
// templates and assets embedded in the binary) for reporters, approvers,
// auditors and admins, in Bahasa Indonesia first and English on a switch.
//
// It runs as one function behind the same HTTP API (routes /console and
// /console/{proxy+}, no JWT authorizer: it keeps its own session). People
// sign in through the Cognito hosted UI in AWS (authorization code with
// PKCE) or a local sign-in page in `make run`; either way the console
// issues the same signed, HttpOnly, Secure, SameSite session cookie. Every
// form carries a CSRF token bound to the session, and every page is sent
// with a strict Content-Security-Policy (theme.CSP): no inline script or
// style.
//
// Pages call the same handlers as the JSON API, in-process and as the
// signed-in person (Console.invoke), so the role checks and rules are the
// API's own: report.Parse and report.Intake for submissions; the audit
// read API for cases, histories, pseudonymous reports, the chain's
// verification against the external anchor (GET /cases/{id}/verify),
// figures, the exports and the evidence bundle; approval.Inbox.Decide
// (POST /approvals/{id}/decision) for approve, reject, hold and release.
package console

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/console/theme"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/store"
)

// Console serves the pages. Build one with its dependencies; Handle is the
// function's handler.
type Console struct {
	// Key signs sessions, sign-ins under way and CSRF tokens.
	Key    []byte
	SignIn SignIn
	Table  store.Table
	Now    func() time.Time
	// Intake records reports exactly as POST /reports does.
	Intake report.Intake
	// Reader is the audit read API; pages call its handlers in-process.
	Reader audit.Reader
	// Approvals and Decided take decisions as POST /approvals/{id}/decision
	// does (approval.Inbox).
	Approvals *approval.Store
	Decided   func(ctx context.Context, r approval.Result) error
	// Inbox lists an approver's pending requests (nil: AgencyInbox).
	Inbox Inbox
	// Reports lists a reporter's reports (nil: TableReports).
	Reports ReporterReports
	// Platforms and Agencies (members and approval policies) are shown to
	// admins (read only); Agencies also names agencies on every page.
	Platforms platform.Config
	Agencies  agency.Directory
	// Rules name and explain the indicators in the page's language.
	Rules risk.Rules
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Console) seal() sealer { return sealer{key: c.Key, now: c.now} }

func (c *Console) inbox() Inbox {
	if c.Inbox != nil {
		return c.Inbox
	}
	return AgencyInbox{Approvals: c.Approvals}
}

func (c *Console) reports() ReporterReports {
	if c.Reports != nil {
		return c.Reports
	}
	return TableReports{Table: c.Table, PseudonymKey: c.Intake.PseudonymKey}
}

//go:embed templates/*.html
var templateFS embed.FS

var funcs = template.FuncMap{
	"t": t, "label": label, "when": when,
	"pct": func(a, b int) int {
		if b == 0 {
			return 0
		}
		return a * 100 / b
	},
	"add":   func(a, b int) int { return a + b },
	"score": func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12] + "…"
		}
		return s
	},
}

var pages = map[string]*template.Template{}

func init() {
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		if n.Name() == "layout.html" {
			continue
		}
		pages[strings.TrimSuffix(n.Name(), ".html")] = template.Must(
			template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n.Name()))
	}
}

// view is what every page template gets.
type view struct {
	Lang    string
	S       *Session
	CSRF    string
	Title   string // message key
	Path    string
	Nav     []navItem
	LangURL string
	D       any
}

type navItem struct{ Key, Path string }

// request is one page request as the handlers see it.
type request struct {
	api.Request
	ctx     context.Context
	path    string // below /console, "/" at least
	lang    string
	s       *Session
	cookies []string
}

func (r *request) method() string { return r.RequestContext.HTTP.Method }

// Handle is the ConsoleFunction handler.
func (c *Console) Handle(ctx context.Context, req api.Request) (api.Response, error) {
	return api.HandlePage(c.serve)(ctx, req)
}

func (c *Console) serve(ctx context.Context, req api.Request) (api.Response, error) {
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	rest, ok := strings.CutPrefix(p, "/console")
	if !ok {
		return c.fail(&request{Request: req, ctx: ctx, lang: LangID}, api.NotFound("page"))
	}
	if rest == "" {
		return redirect("/console/"), nil
	}
	r := &request{Request: req, ctx: ctx, path: rest, lang: LangID}
	if len(c.Key) < 32 && !strings.HasPrefix(rest, "/static/") {
		slog.ErrorContext(ctx, "console: no session key (TANGKAL_CONSOLE_SECRET) of at least 32 bytes")
		return c.fail(r, api.Errorf(http.StatusServiceUnavailable, "not_configured", "", "the console is not configured"))
	}
	if readCookie(req.Cookies, api.Header(req, "Cookie"), langCookie) == LangEN {
		r.lang = LangEN
	}
	if v := readCookie(req.Cookies, api.Header(req, "Cookie"), SessionCookie); v != "" {
		var s Session
		if c.seal().open("session", v, &s) == nil && s.Exp > c.now().Unix() && s.Subject != "" {
			r.s = &s
		}
	}
	resp, err := c.route(r)
	if err != nil {
		return c.fail(r, err)
	}
	resp.Cookies = append(resp.Cookies, r.cookies...)
	return resp, nil
}

func (c *Console) route(r *request) (api.Response, error) {
	m, p := r.method(), r.path
	seg := strings.Split(strings.Trim(p, "/"), "/")
	get, post := m == http.MethodGet || m == http.MethodHead, m == http.MethodPost
	switch {
	case strings.HasPrefix(p, "/static/") && get:
		return c.static(r)
	case p == "/" && get:
		return c.home(r)
	case p == "/lang" && get:
		return c.setLang(r)
	case p == "/signin" && get:
		return c.signInPage(r)
	case p == "/signin" && post:
		return c.signInLocal(r)
	case p == "/callback" && get:
		return c.callback(r)
	case p == "/signout" && post:
		return c.signOut(r)
	case p == "/report" && get:
		return c.reportForm(r, nil, nil)
	case p == "/report" && post:
		return c.reportSubmit(r)
	case p == "/reports" && get:
		return c.myReports(r)
	case p == "/inbox" && get:
		return c.inboxPage(r)
	case p == "/cases" && get:
		return c.searchPage(r)
	case len(seg) == 2 && seg[0] == "cases" && get:
		return c.casePage(r, seg[1])
	case len(seg) == 3 && seg[0] == "cases" && seg[2] == "history" && get:
		return c.historyPage(r, seg[1])
	case len(seg) == 3 && seg[0] == "cases" && seg[2] == "decision" && post:
		return c.decide(r, seg[1])
	case len(seg) == 3 && seg[0] == "cases" && seg[2] == "bundle" && get:
		return c.bundle(r, seg[1])
	case p == "/exports" && get:
		return c.exportsPage(r)
	case len(seg) == 2 && seg[0] == "exports" && get:
		return c.exportFile(r, seg[1])
	case p == "/figures" && get:
		return c.figuresPage(r)
	case p == "/admin" && get:
		return c.adminPage(r, nil, 200)
	case p == "/admin/resolve" && post:
		return c.resolvePseudonym(r)
	}
	return api.Response{}, api.NotFound("page")
}

// require: no session sends the browser to sign in; a session without one
// of roles gets 403.
var errSignIn = errors.New("sign in first")

func (c *Console) require(r *request, roles ...string) (*Session, error) {
	if r.s == nil {
		return nil, errSignIn
	}
	if len(roles) > 0 && !r.s.Has(roles...) {
		return nil, api.Errorf(http.StatusForbidden, "forbidden", "", "%s", t(r.lang, "error.forbidden"))
	}
	return r.s, nil
}

// form reads a POST body and checks its CSRF token against the session.
func (c *Console) form(r *request) (url.Values, error) {
	b, err := api.Body(r.Request, 256<<10)
	if err != nil {
		return nil, err
	}
	f, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, api.Invalid("body", "the form could not be read")
	}
	if r.s == nil || !c.seal().checkCSRF(r.s.ID, f.Get("csrf")) {
		return nil, api.Errorf(http.StatusForbidden, "csrf", "csrf", "%s", t(r.lang, "error.csrf"))
	}
	return f, nil
}

func (c *Console) nav(s *Session) []navItem {
	if s == nil {
		return nil
	}
	var n []navItem
	add := func(key, path string, roles ...string) {
		if s.Has(roles...) {
			n = append(n, navItem{key, path})
		}
	}
	add("nav.report", "/console/report", auth.Reporter, auth.Admin)
	add("nav.myreports", "/console/reports", auth.Reporter, auth.Admin)
	add("nav.inbox", "/console/inbox", auth.Approver, auth.Admin)
	add("nav.cases", "/console/cases", auth.Auditor, auth.Admin)
	add("nav.figures", "/console/figures", auth.Auditor, auth.Admin)
	add("nav.exports", "/console/exports", auth.Auditor, auth.Admin)
	add("nav.admin", "/console/admin", auth.Admin)
	return n
}

// render answers a page.
func (c *Console) render(r *request, status int, page, title string, d any) (api.Response, error) {
	tpl, ok := pages[page]
	if !ok {
		return api.Response{}, fmt.Errorf("console: no template %s", page)
	}
	v := view{Lang: r.lang, S: r.s, Title: title, Path: "/console" + r.path, Nav: c.nav(r.s), D: d}
	if r.s != nil {
		v.CSRF = c.seal().csrf(r.s.ID)
	}
	other := LangEN
	if r.lang == LangEN {
		other = LangID
	}
	v.LangURL = "/console/lang?" + url.Values{"to": {other}, "next": {v.Path}}.Encode()
	var b strings.Builder
	if err := tpl.Execute(&b, v); err != nil {
		return api.Response{}, fmt.Errorf("render %s: %w", page, err)
	}
	return page200(status, "text/html; charset=utf-8", b.String()), nil
}

func headers(ct string) map[string]string {
	return map[string]string{
		"Content-Type": ct, "Cache-Control": "no-store", "Content-Security-Policy": theme.CSP,
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
}

func page200(status int, ct, body string) api.Response {
	return api.Response{StatusCode: status, Headers: headers(ct), Body: body}
}

func redirect(to string) api.Response {
	h := headers("text/plain; charset=utf-8")
	h["Location"] = to
	return api.Response{StatusCode: http.StatusSeeOther, Headers: h}
}

// fail renders an error as a page of the console (or sends the browser
// to sign in).
func (c *Console) fail(r *request, err error) (api.Response, error) {
	if errors.Is(err, errSignIn) {
		next := "/console" + r.path
		if r.method() != http.MethodGet {
			next = "/console/"
		}
		return redirect("/console/signin?" + url.Values{"next": {next}}.Encode()), nil
	}
	var e *api.Error
	if !errors.As(err, &e) {
		slog.ErrorContext(r.ctx, "console: internal error", "path", r.path, "err", err)
		e = &api.Error{Status: 500, Code: "internal", Message: t(r.lang, "error.internal")}
	}
	shown := *e
	switch {
	case e.Status == http.StatusNotFound:
		shown.Message = t(r.lang, "error.notfound")
	default:
		shown.Message = half(r.lang, e.Message)
	}
	resp, rerr := c.render(r, e.Status, "error", "error.title", &shown)
	if rerr != nil {
		return api.Response{}, e
	}
	resp.Cookies = append(resp.Cookies, r.cookies...)
	return resp, nil
}

func (c *Console) static(r *request) (api.Response, error) {
	switch r.path {
	case "/static/console.css":
		resp := page200(200, "text/css; charset=utf-8", string(theme.CSS))
		resp.Headers["Cache-Control"] = "public, max-age=300"
		return resp, nil
	}
	return api.Response{}, api.NotFound("file")
}

func (c *Console) setLang(r *request) (api.Response, error) {
	q := r.QueryStringParameters
	lang := LangID
	if q["to"] == LangEN {
		lang = LangEN
	}
	r.cookies = append(r.cookies, cookie(langCookie, lang, 365*24*3600))
	return redirect(safeNext(q["next"])), nil
}

// safeNext keeps a redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return "/console/"
	}
	return next
}

func (c *Console) home(r *request) (api.Response, error) {
	if r.s == nil {
		return redirect("/console/signin"), nil
	}
	return c.render(r, 200, "home", "home.title", nil)
}

// call runs a read API handler in-process as the signed-in person: the
// same role checks and answers as the JSON API, decoded into out.
func (c *Console) call(r *request, route string, path, query map[string]string, out any) error {
	resp, err := c.invoke(r, c.Reader.Route, route, path, query, "")
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(resp.Body), out)
}

// invoke runs one of the JSON API's handlers in-process as the signed-in
// person (the claims the API's JWT authorizer would pass): the same role
// checks, rules and answers. An answer of 400 or more is its *api.Error.
func (c *Console) invoke(r *request, h api.HandlerFunc, route string, path, query map[string]string, body string) (api.Response, error) {
	method, _, _ := strings.Cut(route, " ")
	req := api.Request{RouteKey: route, PathParameters: path, QueryStringParameters: query, Body: body}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.DomainName = r.RequestContext.DomainName
	if body != "" {
		req.Headers = map[string]string{"content-type": "application/json"}
	}
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
			"sub": r.s.Subject, "email": r.s.Email, auth.GroupsClaim: "[" + strings.Join(r.s.Roles, " ") + "]",
		}},
	}
	resp, err := api.Handle(h)(r.ctx, req)
	if err != nil {
		return api.Response{}, err
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error *api.Error `json:"error"`
		}
		if json.Unmarshal([]byte(resp.Body), &e) != nil || e.Error == nil {
			return api.Response{}, fmt.Errorf("%s: status %d", route, resp.StatusCode)
		}
		e.Error.Status = resp.StatusCode
		return api.Response{}, e.Error
	}
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return api.Response{}, fmt.Errorf("%s: body: %w", route, err)
		}
		resp.Body, resp.IsBase64Encoded = string(b), false
	}
	return resp, nil
}
