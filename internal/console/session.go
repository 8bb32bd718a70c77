package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
)

// Cookie names. Every cookie is HttpOnly, Secure and SameSite=Lax, scoped
// to the console's path.
const (
	SessionCookie = "tangkal_session"
	preCookie     = "tangkal_pre"
	langCookie    = "tangkal_lang"
	cookiePath    = "/console"
)

// SessionLifetime is how long a sign-in lasts.
const SessionLifetime = 8 * time.Hour

// Session is who is signed in. It travels in a cookie signed with the
// console's key (HMAC-SHA256); nothing in it is secret, nothing in it can
// be changed without the key.
type Session struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	Name    string   `json:"name,omitempty"`
	Roles   []string `json:"roles"`
	Agency  string   `json:"agency,omitempty"`
	// ID is random per sign-in; CSRF tokens are bound to it.
	ID  string `json:"sid"`
	Exp int64  `json:"exp"`
	// Logout is where signing out sends the browser (the hosted UI's
	// logout endpoint), empty for a local sign-in.
	Logout string `json:"logout,omitempty"`
}

// Principal is the session as the domain packages' role checks see it.
func (s Session) Principal() auth.Principal {
	return auth.Principal{Subject: s.Subject, Email: s.Email, Roles: s.Roles}
}

// Has reports whether the session holds one of roles.
func (s Session) Has(roles ...string) bool { return s.Principal().HasAny(roles...) }

// pre is the state of a sign-in under way: the CSRF nonce of the sign-in
// form, and for the hosted UI the OAuth state and PKCE verifier.
type pre struct {
	Nonce    string `json:"n"`
	State    string `json:"s,omitempty"`
	Verifier string `json:"v,omitempty"`
	Next     string `json:"next,omitempty"`
	Exp      int64  `json:"exp"`
}

type sealer struct {
	key []byte
	now func() time.Time
}

var b64 = base64.RawURLEncoding

func (k sealer) mac(purpose, msg string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(purpose + "\x00" + msg))
	return m.Sum(nil)
}

// seal signs v for purpose: base64(json).base64(mac).
func (k sealer) seal(purpose string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", purpose, err)
	}
	body := b64.EncodeToString(b)
	return body + "." + b64.EncodeToString(k.mac(purpose, body)), nil
}

var errBadSeal = errors.New("cookie not signed by this console")

// open checks the signature and decodes into v.
func (k sealer) open(purpose, s string, v any) error {
	body, sig, ok := strings.Cut(s, ".")
	if !ok {
		return errBadSeal
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(purpose, body)) {
		return errBadSeal
	}
	b, err := b64.DecodeString(body)
	if err != nil {
		return errBadSeal
	}
	return json.Unmarshal(b, v)
}

// csrf is the token every form of a session (or of a sign-in under way)
// carries: a MAC over its random id, so another site can neither read nor
// make it.
func (k sealer) csrf(id string) string { return b64.EncodeToString(k.mac("csrf", id)) }

func (k sealer) checkCSRF(id, token string) bool {
	got, err := b64.DecodeString(token)
	return err == nil && id != "" && hmac.Equal(got, k.mac("csrf", id))
}

func randomID() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return b64.EncodeToString(b)
}

func cookie(name, value string, maxAge int) string {
	c := &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge, c.Value = -1, ""
	}
	return c.String()
}

// readCookie finds a cookie among an API Gateway v2 request's cookies.
func readCookie(cookies []string, header, name string) string {
	all := append([]string(nil), cookies...)
	if header != "" {
		all = append(all, strings.Split(header, ";")...)
	}
	for _, c := range all {
		for _, part := range strings.Split(c, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return v
			}
		}
	}
	return ""
}
