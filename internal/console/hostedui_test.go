package console

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
)

type tokenVerifier map[string]auth.Principal

func (v tokenVerifier) Verify(tok string) (auth.Principal, error) {
	if p, ok := v[tok]; ok {
		return p, nil
	}
	return auth.Principal{}, errors.New("invalid token")
}

// TestHostedUISignIn walks the authorization code flow with PKCE against a
// stand-in of Cognito's token endpoint that checks the verifier against
// the challenge, as Cognito does.
func TestHostedUISignIn(t *testing.T) {
	var challenge string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" || r.ParseForm() != nil {
			http.Error(w, `{"error":"invalid_request"}`, 400)
			return
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("code") != "the-code" || b64.EncodeToString(sum[:]) != challenge || r.PostForm.Get("client_id") != "console-client" {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id_token":"id-token-of-dewi","token_type":"Bearer"}`))
	}))
	defer idp.Close()
	c := &Console{Key: []byte(strings.Repeat("k", 32)), SignIn: HostedUI{Domain: idp.URL, ClientID: "console-client",
		ConsoleURL: "https://console.example/console", HTTP: idp.Client(),
		Tokens: tokenVerifier{"id-token-of-dewi": {Subject: "u-1", Email: "dewi@kp2mi.go.id", Roles: []string{"approver", "agency-kp2mi"}}}}}
	get := func(path, query string, cookies []string) api.Response {
		req := api.Request{RawPath: path, RawQueryString: query, Cookies: cookies}
		req.RequestContext.HTTP.Method = "GET"
		if query != "" {
			q, _ := url.ParseQuery(query)
			req.QueryStringParameters = map[string]string{}
			for k := range q {
				req.QueryStringParameters[k] = q.Get(k)
			}
		}
		resp, err := c.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	start := get("/console/signin", "", nil)
	loc, err := url.Parse(start.Headers["Location"])
	if start.StatusCode != 303 || err != nil || !strings.HasPrefix(start.Headers["Location"], idp.URL+"/oauth2/authorize?") {
		t.Fatalf("sign-in: %d %s", start.StatusCode, start.Headers["Location"])
	}
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != "https://console.example/console/callback" || q.Get("state") == "" {
		t.Fatalf("authorize request %v", q)
	}
	challenge = q.Get("code_challenge")
	pre := strings.Split(start.Cookies[0], ";")[0]

	if bad := get("/console/callback", url.Values{"code": {"the-code"}, "state": {"another"}}.Encode(), []string{pre}); bad.StatusCode != 400 {
		t.Errorf("callback with a foreign state: %d, want 400", bad.StatusCode)
	}
	if bad := get("/console/callback", url.Values{"code": {"the-code"}, "state": {q.Get("state")}}.Encode(), nil); bad.StatusCode != 400 {
		t.Errorf("callback without the sign-in cookie: %d, want 400", bad.StatusCode)
	}
	done := get("/console/callback", url.Values{"code": {"the-code"}, "state": {q.Get("state")}}.Encode(), []string{pre})
	if done.StatusCode != 303 || done.Headers["Location"] != "/console/" {
		t.Fatalf("callback: %d %s %s", done.StatusCode, done.Headers["Location"], done.Body)
	}
	var s Session
	for _, ck := range done.Cookies {
		if v, ok := strings.CutPrefix(strings.Split(ck, ";")[0], SessionCookie+"="); ok && v != "" {
			if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "Secure") || !strings.Contains(ck, "SameSite=Lax") {
				t.Errorf("session cookie %q lacks HttpOnly, Secure or SameSite", ck)
			}
			if err := c.seal().open("session", v, &s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.Subject != "u-1" || s.Agency != "KP2MI" || len(s.Roles) != 1 || s.Roles[0] != "approver" || !strings.Contains(s.Logout, "/logout?") {
		t.Errorf("session %+v: want approver u-1 of KP2MI with a logout link", s)
	}
}
