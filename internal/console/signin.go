package console

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
)

// SignIn is how people sign in: LocalSignIn in `make run`, HostedUI in AWS.
type SignIn interface{ signIn() }

// Member is one person the local sign-in page offers.
type Member struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	Name    string   `json:"name"`
	Roles   []string `json:"roles"`
	Agency  string   `json:"agency,omitempty"`
}

// LocalSignIn lists the configured members; choosing one signs in as that
// member. Only the local stack configures it.
type LocalSignIn struct{ Members []Member }

func (LocalSignIn) signIn() {}

// HostedUI signs in through Cognito's hosted UI: authorization code with
// PKCE, the ID token verified against the pool, roles and agency from the
// user's groups ("agency-<id>" names the agency).
type HostedUI struct {
	// Domain is the hosted UI's base URL (https://<prefix>.auth.<region>.amazoncognito.com).
	Domain   string
	ClientID string
	// ConsoleURL is the console's public URL (…/console); empty: from the
	// request's host.
	ConsoleURL string
	// Tokens verifies the ID token (issuer, this client, expiry, RS256).
	Tokens auth.Verifier
	HTTP   *http.Client
}

func (HostedUI) signIn() {}

// AgencyGroupPrefix starts the Cognito group naming a user's agency.
const AgencyGroupPrefix = "agency-"

const preLifetime = 10 * time.Minute

func (c *Console) preState(r *request) (pre, bool) {
	var p pre
	v := readCookie(r.Cookies, api.Header(r.Request, "Cookie"), preCookie)
	if v == "" || c.seal().open("pre", v, &p) != nil || p.Exp <= c.now().Unix() {
		return pre{}, false
	}
	return p, true
}

type signInView struct {
	Members []Member
	Local   bool
	Next    string
	CSRF    string
}

// signInPage: locally the members to choose from; in AWS a redirect to
// the hosted UI.
func (c *Console) signInPage(r *request) (api.Response, error) {
	next := safeNext(r.QueryStringParameters["next"])
	p := pre{Nonce: randomID(), Next: next, Exp: c.now().Add(preLifetime).Unix()}
	switch si := c.SignIn.(type) {
	case LocalSignIn:
		sealed, err := c.seal().seal("pre", p)
		if err != nil {
			return api.Response{}, err
		}
		r.cookies = append(r.cookies, cookie(preCookie, sealed, int(preLifetime.Seconds())))
		// The sign-in form's CSRF token is bound to the sign-in under way.
		return c.render(r, 200, "signin", "signin.title", signInView{Members: si.Members, Local: true, Next: next, CSRF: c.seal().csrf("pre:" + p.Nonce)})
	case HostedUI:
		p.State, p.Verifier = randomID(), randomID()+randomID()
		sealed, err := c.seal().seal("pre", p)
		if err != nil {
			return api.Response{}, err
		}
		r.cookies = append(r.cookies, cookie(preCookie, sealed, int(preLifetime.Seconds())))
		sum := sha256.Sum256([]byte(p.Verifier))
		q := url.Values{
			"response_type": {"code"}, "client_id": {si.ClientID}, "redirect_uri": {si.redirect(r)},
			"scope": {"openid email profile"}, "state": {p.State},
			"code_challenge": {b64.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		}
		return redirect(strings.TrimRight(si.Domain, "/") + "/oauth2/authorize?" + q.Encode()), nil
	}
	return api.Response{}, api.Errorf(http.StatusServiceUnavailable, "no_sign_in", "", "sign-in is not configured")
}

func (h HostedUI) consoleURL(r *request) string {
	if h.ConsoleURL != "" {
		return strings.TrimRight(h.ConsoleURL, "/")
	}
	return "https://" + r.RequestContext.DomainName + "/console"
}

func (h HostedUI) redirect(r *request) string { return h.consoleURL(r) + "/callback" }

// signInLocal: POST /console/signin with a member's subject.
func (c *Console) signInLocal(r *request) (api.Response, error) {
	si, ok := c.SignIn.(LocalSignIn)
	if !ok {
		return api.Response{}, api.NotFound("page")
	}
	p, ok := c.preState(r)
	b, err := api.Body(r.Request, 16<<10)
	if err != nil {
		return api.Response{}, err
	}
	f, _ := url.ParseQuery(string(b))
	if !ok || !c.seal().checkCSRF("pre:"+p.Nonce, f.Get("csrf")) {
		return api.Response{}, api.Errorf(http.StatusForbidden, "csrf", "csrf", "%s", t(r.lang, "error.csrf"))
	}
	i := slices.IndexFunc(si.Members, func(m Member) bool { return m.Subject == f.Get("member") })
	if i < 0 {
		return api.Response{}, api.Invalid("member", "no such member")
	}
	m := si.Members[i]
	return c.startSession(r, Session{Subject: m.Subject, Email: m.Email, Name: m.Name, Roles: m.Roles, Agency: m.Agency}, p.Next)
}

func (c *Console) startSession(r *request, s Session, next string) (api.Response, error) {
	s.ID, s.Exp = randomID(), c.now().Add(SessionLifetime).Unix()
	sealed, err := c.seal().seal("session", s)
	if err != nil {
		return api.Response{}, err
	}
	r.cookies = append(r.cookies, cookie(SessionCookie, sealed, int(SessionLifetime.Seconds())), cookie(preCookie, "", -1))
	return redirect(safeNext(next)), nil
}

// callback: the hosted UI sends the browser back with a code; the code
// and the PKCE verifier buy the ID token, which is verified.
func (c *Console) callback(r *request) (api.Response, error) {
	si, ok := c.SignIn.(HostedUI)
	if !ok {
		return api.Response{}, api.NotFound("page")
	}
	q := r.QueryStringParameters
	p, ok := c.preState(r)
	if !ok || q["state"] == "" || q["state"] != p.State || q["code"] == "" {
		return api.Response{}, api.Errorf(http.StatusBadRequest, "sign_in_failed", "state", "%s", t(r.lang, "signin.expired"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {si.ClientID}, "code": {q["code"]},
		"redirect_uri": {si.redirect(r)}, "code_verifier": {p.Verifier}}
	hc := si.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodPost, strings.TrimRight(si.Domain, "/")+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return api.Response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return api.Response{}, fmt.Errorf("sign-in token exchange: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.IDToken == "" {
		return api.Response{}, api.Errorf(http.StatusBadGateway, "sign_in_failed", "", "the sign-in service did not give a token (status %d)", resp.StatusCode)
	}
	who, err := si.Tokens.Verify(tok.IDToken)
	if err != nil {
		return api.Response{}, api.Errorf(http.StatusUnauthorized, "sign_in_failed", "", "the sign-in token is not valid")
	}
	s := Session{Subject: who.Subject, Email: who.Email, Name: who.Email}
	for _, g := range who.Roles {
		if a, ok := strings.CutPrefix(g, AgencyGroupPrefix); ok {
			s.Agency = strings.ToUpper(a)
		} else {
			s.Roles = append(s.Roles, g)
		}
	}
	s.Logout = strings.TrimRight(si.Domain, "/") + "/logout?" + url.Values{"client_id": {si.ClientID}, "logout_uri": {si.consoleURL(r) + "/"}}.Encode()
	return c.startSession(r, s, p.Next)
}

func (c *Console) signOut(r *request) (api.Response, error) {
	if _, err := c.form(r); err != nil {
		return api.Response{}, err
	}
	r.cookies = append(r.cookies, cookie(SessionCookie, "", -1))
	if r.s.Logout != "" {
		return redirect(r.s.Logout), nil
	}
	return redirect("/console/signin"), nil
}
