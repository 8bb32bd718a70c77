package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks a bearer token a handler received itself (on a route
// without the HTTP API's authorizer) and returns who it belongs to. Any
// token that does not verify gives an error wrapping ErrInvalidToken.
type Verifier interface {
	Verify(token string) (Principal, error)
}

// PrincipalFromClaims reads a verified token's claims as FromRequest
// reads the authorizer's.
func PrincipalFromClaims(claims map[string]any) (Principal, error) {
	c := AuthorizerClaims(claims)
	if c["sub"] == "" {
		return Principal{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	p := Principal{Subject: c["sub"], Email: c["email"], Roles: ParseGroups(c[GroupsClaim])}
	if v, ok := c["email_verified"]; ok && v != "true" {
		p.Email = "" // an address its owner has not confirmed names no one
	}
	return p, nil
}

// LocalVerifier verifies the local stack's tokens (Signer).
type LocalVerifier struct{ Signer Signer }

// Verify implements Verifier.
func (v LocalVerifier) Verify(token string) (Principal, error) {
	claims, err := v.Signer.Verify(token)
	if err != nil {
		return Principal{}, err
	}
	return PrincipalFromClaims(claims)
}

// Cognito verifies tokens of a Cognito user pool as the HTTP API's JWT
// authorizer does: RS256 signed by a key of the pool's JWKS (fetched over
// HTTPS and cached), issuer https://cognito-idp.<region>.amazonaws.com/<pool>,
// issued to the app client (an ID token's aud, an access token's
// client_id), within exp and nbf.
type Cognito struct {
	Issuer   string
	ClientID string
	// JWKSURL defaults to Issuer + "/.well-known/jwks.json"; it must be https.
	JWKSURL string
	HTTP    *http.Client     // nil: a client with a 5 s timeout
	Now     func() time.Time // nil: time.Now
	// MinRefetch is the least time between two fetches of the JWKS for an
	// unknown key id (default 1 minute), so junk key ids cannot make
	// every request fetch it.
	MinRefetch time.Duration

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// CognitoIssuer is a user pool's issuer.
func CognitoIssuer(region, poolID string) string {
	return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
}

// NewCognito is the verifier of poolID ("<region>_<id>") for clientID.
func NewCognito(poolID, clientID string) (*Cognito, error) {
	region, _, ok := strings.Cut(poolID, "_")
	if !ok || region == "" || clientID == "" {
		return nil, fmt.Errorf("user pool id %q or client id %q is not usable (want <region>_<id> and a client id)", poolID, clientID)
	}
	return &Cognito{Issuer: CognitoIssuer(region, poolID), ClientID: clientID}, nil
}

func (c *Cognito) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Verify implements Verifier.
func (c *Cognito) Verify(token string) (Principal, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, c.key,
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(c.Issuer), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(c.now), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	switch claims["token_use"] {
	case "id":
		aud, _ := claims.GetAudience()
		if len(aud) != 1 || aud[0] != c.ClientID {
			return Principal{}, fmt.Errorf("%w: issued to another client", ErrInvalidToken)
		}
	case "access":
		if claims["client_id"] != c.ClientID {
			return Principal{}, fmt.Errorf("%w: issued to another client", ErrInvalidToken)
		}
	default:
		return Principal{}, fmt.Errorf("%w: not an ID or access token", ErrInvalidToken)
	}
	return PrincipalFromClaims(claims)
}

func (c *Cognito) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no key id")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	wait := c.MinRefetch
	if wait == 0 {
		wait = time.Minute
	}
	if !c.fetched.IsZero() && c.now().Sub(c.fetched) < wait {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	keys, err := c.fetch()
	c.fetched = c.now()
	if err != nil {
		return nil, err
	}
	c.keys = keys
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

// fetch reads the JWKS: its RSA signing keys by key id.
func (c *Cognito) fetch() (map[string]*rsa.PublicKey, error) {
	src := c.JWKSURL
	if src == "" {
		src = c.Issuer + "/.well-known/jwks.json"
	}
	if u, err := url.Parse(src); err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("JWKS address %q is not https", src)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kid, Kty, Alg, Use, N, E string
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Alg != "" && k.Alg != "RS256") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no usable RSA signing key")
	}
	return keys, nil
}
