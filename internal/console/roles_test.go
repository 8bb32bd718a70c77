package console_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/console/theme"
	"github.com/tangkal/tangkal/internal/store"
)

// client is a person's browser without the browser: it keeps the
// console's cookies and follows no redirects.
type client struct {
	t       *testing.T
	base    string
	cookies map[string]string
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp, string(b)
}

var (
	csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	sentRe = regexp.MustCompile(`sent=(c_[A-Za-z0-9_-]+)`)
)

// submit reports an ad through the console as ngo-sari: the case id.
func submit(t *testing.T, c *client, adURL string) string {
	t.Helper()
	tok := c.signIn("ngo-sari")
	resp, _ := c.do("POST", "/console/report", url.Values{"csrf": {tok}, "url": {adURL}, "text": {scamAd}})
	m := sentRe.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("report %s: %d %s", adURL, resp.StatusCode, resp.Header.Get("Location"))
	}
	return m[1]
}

func (c *client) signIn(member string) string {
	c.t.Helper()
	_, page := c.do("GET", "/console/signin", nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("sign-in page has no CSRF token")
	}
	resp, _ := c.do("POST", "/console/signin", url.Values{"csrf": {m[1]}, "member": {member}})
	if resp.StatusCode != http.StatusSeeOther || c.cookies["tangkal_session"] == "" {
		c.t.Fatalf("sign in as %s: %d, cookies %v", member, resp.StatusCode, c.cookies)
	}
	_, home := c.do("GET", "/console/", nil)
	return csrfRe.FindStringSubmatch(home)[1]
}

// TestPagesCheckRoles: every page answers each role as the API would
// (200, or 403 for a role the API refuses), sends no one without a session
// anywhere but the sign-in page, and carries the strict CSP.
func TestPagesCheckRoles(t *testing.T) {
	st, _ := startStack(t)
	base := strings.TrimSuffix(st.APIURL, "/")
	caseID := submit(t, &client{t: t, base: base, cookies: map[string]string{}}, "https://m.facebook.com/groups/lokerluarnegeri/posts/5550777/")
	waitStatus(t, st, caseID, store.StatusAwaitingApprove)
	pages := []struct {
		path  string
		allow []string // members that get 200; others 403
	}{
		{"/console/", []string{"ngo-sari", "kp2mi-approver", "auditor-1", "admin-1"}},
		{"/console/report", []string{"ngo-sari", "admin-1"}},
		{"/console/reports", []string{"ngo-sari", "admin-1"}},
		{"/console/inbox", []string{"kp2mi-approver", "admin-1"}},
		{"/console/cases", []string{"auditor-1", "admin-1"}},
		{"/console/cases?status=received", []string{"auditor-1", "admin-1"}},
		{"/console/figures", []string{"auditor-1", "admin-1"}},
		{"/console/admin", []string{"admin-1"}},
		{"/console/cases/" + caseID, []string{"kp2mi-approver", "auditor-1", "admin-1"}},
		{"/console/cases/" + caseID + "/history", []string{"auditor-1", "admin-1"}},
		{"/console/cases/" + caseID + "/bundle", []string{"auditor-1", "admin-1"}},
		{"/console/exports", []string{"auditor-1", "admin-1"}},
		{"/console/exports/transparansi.csv", []string{"auditor-1", "admin-1"}},
		{"/console/exports/transparansi.json", []string{"auditor-1", "admin-1"}},
		{"/console/exports/kesadaran.json", []string{"auditor-1", "admin-1"}},
		{"/console/exports/watchlist.json", []string{"auditor-1", "admin-1"}},
	}
	members := []string{"ngo-sari", "kp2mi-approver", "auditor-1", "admin-1"}
	anon := &client{t: t, base: base, cookies: map[string]string{}}
	for _, p := range pages {
		resp, _ := anon.do("GET", p.path, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
			t.Errorf("GET %s without a session: %d %s, want 303 to the sign-in page", p.path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, m := range members {
		c := &client{t: t, base: base, cookies: map[string]string{}}
		c.signIn(m)
		for _, p := range pages {
			want := http.StatusForbidden
			for _, a := range p.allow {
				if a == m {
					want = http.StatusOK
				}
			}
			resp, body := c.do("GET", p.path, nil)
			if resp.StatusCode != want {
				t.Errorf("%s GET %s: %d, want %d", m, p.path, resp.StatusCode, want)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); csp != theme.CSP {
				t.Errorf("%s GET %s: CSP %q", m, p.path, csp)
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
				t.Errorf("%s GET %s: inline script or style in the page", m, p.path)
			}
		}
	}

	t.Run("decisions follow the API's rules", func(t *testing.T) {
		cs, err := st.Table.GetCase(context.Background(), caseID)
		if err != nil || cs.ApprovalID == "" {
			t.Fatalf("case %s has no approval request: %v", caseID, err)
		}
		apID := cs.ApprovalID
		decide := func(member, decision, reason string) (*http.Response, string) {
			c := &client{t: t, base: base, cookies: map[string]string{}}
			tok := c.signIn(member)
			return c.do("POST", "/console/cases/"+caseID+"/decision", url.Values{"csrf": {tok}, "approval": {apID}, "decision": {decision}, "reason": {reason}})
		}
		cases := []struct {
			name, member, decision, reason string
			status                         int
			want                           string
		}{
			{"a reporter may not decide", "ngo-sari", "approve", "", http.StatusForbidden, ""},
			{"an auditor may not decide", "auditor-1", "approve", "", http.StatusForbidden, ""},
			{"a rejection needs a reason", "komdigi-approver", "reject", " ", http.StatusBadRequest, `id="reason-error"`},
			{"a hold needs a reason", "polri-investigator", "hold", "", http.StatusBadRequest, `id="reason-error"`},
			{"a notified agency may not approve", "polri-investigator", "approve", "", http.StatusForbidden, "bukan anggota instansi"},
			{"Polri holds", "polri-investigator", "hold", "penyelidikan berjalan", http.StatusSeeOther, ""},
			{"KP2MI approves", "kp2mi-approver", "approve", "", http.StatusSeeOther, ""},
			{"KP2MI decides once", "kp2mi-approver", "reject", "berubah pikiran", http.StatusConflict, "sudah memutuskan"},
			{"Komdigi approves: held", "komdigi-approver", "approve", "", http.StatusSeeOther, ""},
			{"only the holder releases", "kp2mi-approver", "release", "", http.StatusForbidden, ""},
			{"Polri releases", "polri-investigator", "release", "", http.StatusSeeOther, ""},
		}
		for _, tc := range cases {
			resp, page := decide(tc.member, tc.decision, tc.reason)
			if resp.StatusCode != tc.status || !strings.Contains(page, tc.want) {
				t.Errorf("%s: %d, want %d with %q (%s)", tc.name, resp.StatusCode, tc.status, tc.want, resp.Header.Get("Location"))
			}
		}
		c := &client{t: t, base: base, cookies: map[string]string{}}
		c.signIn("auditor-1")
		_, page := c.do("GET", "/console/cases/"+caseID, nil)
		for _, want := range []string{"Pernah ditahan oleh", "penyelidikan berjalan", "dicabut"} {
			if !strings.Contains(page, want) {
				t.Errorf("the case page after hold and release lacks %q", want)
			}
		}
		waitStatus(t, st, caseID, store.StatusTakedownSent)
	})

	t.Run("forms need the session's CSRF token", func(t *testing.T) {
		c := &client{t: t, base: base, cookies: map[string]string{}}
		token := c.signIn("ngo-sari")
		for _, bad := range []string{"", "forged", strings.Repeat("A", len(token))} {
			resp, _ := c.do("POST", "/console/report", url.Values{"csrf": {bad}, "url": {"https://x.com/a/status/1"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("report with csrf %q: %d, want 403", bad, resp.StatusCode)
			}
		}
		other := &client{t: t, base: base, cookies: map[string]string{}}
		otherToken := other.signIn("ngo-sari")
		if resp, _ := c.do("POST", "/console/report", url.Values{"csrf": {otherToken}, "url": {"https://x.com/a/status/1"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("another session's CSRF token: %d, want 403", resp.StatusCode)
		}
		if resp, _ := c.do("POST", "/console/signout", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther || c.cookies["tangkal_session"] != "" {
			t.Errorf("sign out: %d, session cookie %q", resp.StatusCode, c.cookies["tangkal_session"])
		}
	})

	t.Run("a changed session cookie is no session", func(t *testing.T) {
		c := &client{t: t, base: base, cookies: map[string]string{}}
		c.signIn("ngo-sari")
		v := c.cookies["tangkal_session"]
		body, sig, _ := strings.Cut(v, ".")
		c.cookies["tangkal_session"] = body[:len(body)-2] + "xx." + sig
		if resp, _ := c.do("GET", "/console/admin", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("tampered cookie: %d, want 303 to sign in", resp.StatusCode)
		}
	})

	t.Run("a reporter never sees another reporter's reports", func(t *testing.T) {
		c := &client{t: t, base: base, cookies: map[string]string{}}
		tok := c.signIn("ngo-sari")
		resp, _ := c.do("POST", "/console/report", url.Values{"csrf": {tok}, "url": {"https://twitter.com/lokerkamboja/status/5550403"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("report: %d", resp.StatusCode)
		}
		_, mine := c.do("GET", "/console/reports", nil)
		if !strings.Contains(mine, "5550403") {
			t.Errorf("my reports lacks the report just sent")
		}
		admin := &client{t: t, base: base, cookies: map[string]string{}}
		admin.signIn("admin-1")
		if _, theirs := admin.do("GET", "/console/reports", nil); strings.Contains(theirs, "5550403") {
			t.Errorf("another person's my-reports page shows ngo-sari's report")
		}
	})

	t.Run("errors are shown next to the field", func(t *testing.T) {
		c := &client{t: t, base: base, cookies: map[string]string{}}
		tok := c.signIn("ngo-sari")
		resp, page := c.do("POST", "/console/report", url.Values{"csrf": {tok}, "url": {"https://x.com/a/status/2"}, "text": {strings.Repeat("a", 10001)}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="text-error"`) {
			t.Errorf("too long text: %d, text error shown: %v", resp.StatusCode, strings.Contains(page, `id="text-error"`))
		}
	})
}
