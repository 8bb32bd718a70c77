package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testPool   = "ap-southeast-3_TestPool1"
	testClient = "client-abc123"
)

var (
	rsaOnce       sync.Once
	rsaA, rsaB    *rsa.PrivateKey
	errRSAKeyTest error
)

func testKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	rsaOnce.Do(func() {
		if rsaA, errRSAKeyTest = rsa.GenerateKey(rand.Reader, 2048); errRSAKeyTest == nil {
			rsaB, errRSAKeyTest = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if errRSAKeyTest != nil {
		t.Fatal(errRSAKeyTest)
	}
	return rsaA, rsaB
}

// jwks serves a JWKS over TLS and counts how often it is fetched.
type jwks struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetches atomic.Int32
}

func newJWKS(t *testing.T, keys map[string]*rsa.PublicKey) *jwks {
	t.Helper()
	j := &jwks{keys: keys}
	j.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range j.keys {
			set.Keys = append(set.Keys, map[string]string{"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwks) add(kid string, k *rsa.PublicKey) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys[kid] = k
}

func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCognitoVerifier(t *testing.T) {
	a, b := testKeys(t)
	j := newJWKS(t, map[string]*rsa.PublicKey{"kid-a": &a.PublicKey})
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	v, err := NewCognito(testPool, testClient)
	if err != nil {
		t.Fatal(err)
	}
	v.JWKSURL, v.HTTP, v.Now = j.srv.URL+"/jwks.json", j.srv.Client(), func() time.Time { return now }
	iss := CognitoIssuer("ap-southeast-3", testPool)
	if iss != "https://cognito-idp.ap-southeast-3.amazonaws.com/"+testPool || v.Issuer != iss {
		t.Fatalf("issuer %q", v.Issuer)
	}
	idToken := func(mod func(c jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u-1", "iss": iss, "aud": testClient, "token_use": "id", "email": "approver@kp2mi.go.id",
			"email_verified": true, "cognito:groups": []string{"approver"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	access := jwt.MapClaims{"sub": "u-1", "iss": iss, "client_id": testClient, "token_use": "access",
		"cognito:groups": []string{"approver", "admin"}, "exp": now.Add(time.Hour).Unix()}

	t.Run("valid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			token string
			email string
			roles string
		}{
			"id token":              {sign(t, a, "kid-a", idToken(nil)), "approver@kp2mi.go.id", "approver"},
			"access token":          {sign(t, a, "kid-a", access), "", "approver,admin"},
			"unverified e-mail":     {sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["email_verified"] = false })), "", "approver"},
			"nbf just now":          {sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["nbf"] = now.Unix() })), "approver@kp2mi.go.id", "approver"},
			"within clock leeway":   {sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() })), "approver@kp2mi.go.id", "approver"},
			"no groups is no roles": {sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { delete(c, "cognito:groups") })), "approver@kp2mi.go.id", ""},
		} {
			p, err := v.Verify(tc.token)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p.Subject != "u-1" || p.Email != tc.email || strings.Join(p.Roles, ",") != tc.roles {
				t.Fatalf("%s: principal %+v", name, p)
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		good := sign(t, a, "kid-a", idToken(nil))
		parts := strings.Split(good, ".")
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, idToken(nil))
		hs.Header["kid"] = "kid-a"
		confused, _ := hs.SignedString(a.PublicKey.N.Bytes()) // the public key used as an HMAC secret
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"kid-a"}`)) + "." + parts[1] + "."
		otherClaims, _ := json.Marshal(idToken(func(c jwt.MapClaims) { c["email"] = "attacker@example.org" }))
		spliced := parts[0] + "." + base64.RawURLEncoding.EncodeToString(otherClaims) + "." + parts[2]
		for name, tok := range map[string]string{
			"expired":               sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
			"no exp":                sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { delete(c, "exp") })),
			"not yet valid":         sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
			"other issuer":          sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["iss"] = CognitoIssuer("ap-southeast-3", "ap-southeast-3_Other") })),
			"other client (id)":     sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["aud"] = "another-client" })),
			"two audiences":         sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { c["aud"] = []string{testClient, "another-client"} })),
			"other client (access)": sign(t, a, "kid-a", jwt.MapClaims{"sub": "u-1", "iss": iss, "client_id": "x", "token_use": "access", "exp": now.Add(time.Hour).Unix()}),
			"no token_use":          sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { delete(c, "token_use") })),
			"no subject":            sign(t, a, "kid-a", idToken(func(c jwt.MapClaims) { delete(c, "sub") })),
			"signed by another key": sign(t, b, "kid-a", idToken(nil)),
			"unknown key id":        sign(t, b, "kid-b", idToken(nil)),
			"no key id":             sign(t, a, "", idToken(nil)),
			"HS256 with public key": confused,
			"alg none":              none,
			"claims spliced":        spliced,
			"garbage":               "not.a.token",
			"empty":                 "",
		} {
			if p, err := v.Verify(tok); err == nil || !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s: verified as %+v (err %v)", name, p, err)
			}
		}
	})
}

func TestCognitoVerifierCachesTheJWKSAndFollowsRotation(t *testing.T) {
	a, b := testKeys(t)
	j := newJWKS(t, map[string]*rsa.PublicKey{"kid-a": &a.PublicKey})
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := &Cognito{Issuer: CognitoIssuer("ap-southeast-3", testPool), ClientID: testClient,
		JWKSURL: j.srv.URL, HTTP: j.srv.Client(), Now: clock, MinRefetch: time.Minute}
	claims := jwt.MapClaims{"sub": "u-1", "iss": v.Issuer, "aud": testClient, "token_use": "id", "exp": now.Add(24 * time.Hour).Unix()}
	tokA, tokB := sign(t, a, "kid-a", claims), sign(t, b, "kid-b", claims)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(tokA); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := j.fetches.Load(); n != 1 {
		t.Fatalf("20 verifications fetched the JWKS %d times, want 1", n)
	}
	// A token with a key id the pool does not (yet) have: one fetch, then
	// no more until MinRefetch has passed.
	for range 5 {
		if _, err := v.Verify(tokB); err == nil {
			t.Fatal("token of an unpublished key verified")
		}
	}
	if n := j.fetches.Load(); n > 2 {
		t.Fatalf("unknown key ids fetched the JWKS %d times, want at most 2", n)
	}
	j.add("kid-b", &b.PublicKey) // the pool rotates its keys
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := v.Verify(tokB); err != nil {
		t.Fatalf("token of the new key after rotation: %v", err)
	}
	if _, err := v.Verify(tokA); err != nil {
		t.Fatalf("token of the old key after rotation: %v", err)
	}
}

func TestCognitoVerifierFetchesOnlyOverHTTPS(t *testing.T) {
	a, _ := testKeys(t)
	var fetched atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Store(true) }))
	defer plain.Close()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	v := &Cognito{Issuer: CognitoIssuer("ap-southeast-3", testPool), ClientID: testClient, JWKSURL: plain.URL, Now: func() time.Time { return now }}
	tok := sign(t, a, "kid-a", jwt.MapClaims{"sub": "u", "iss": v.Issuer, "aud": testClient, "token_use": "id", "exp": now.Add(time.Hour).Unix()})
	if _, err := v.Verify(tok); err == nil || fetched.Load() {
		t.Fatalf("verified with keys from plain HTTP (err %v, fetched %v)", err, fetched.Load())
	}
	if _, err := NewCognito("nounderscore", testClient); err == nil {
		t.Fatal("a malformed pool id was accepted")
	}
}

func TestLocalVerifierGivesThePrincipal(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	s := Signer{Key: []byte(strings.Repeat("k", 32)), Now: func() time.Time { return now }}
	tok, err := s.IssueFor("appr-1", "approver@kp2mi.local", []string{Approver}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var v Verifier = LocalVerifier{Signer: s}
	p, err := v.Verify(tok)
	if err != nil || p.Subject != "appr-1" || p.Email != "approver@kp2mi.local" || !p.HasAny(Approver) {
		t.Fatalf("principal %+v, err %v", p, err)
	}
	if _, err := v.Verify(tok + "x"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("altered token: %v", err)
	}
}
