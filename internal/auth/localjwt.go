package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Local token settings, mirroring a Cognito access token's claims.
const (
	LocalIssuer   = "tangkal-local"
	LocalAudience = "tangkal"
)

// Signer issues and verifies HS256 JWTs for the local stack.
type Signer struct {
	Key []byte
	Now func() time.Time
}

func (s Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

var b64 = base64.RawURLEncoding

// Issue returns a token for sub holding roles, valid for ttl.
func (s Signer) Issue(sub string, roles []string, ttl time.Duration) (string, error) {
	return s.IssueFor(sub, "", roles, ttl)
}

// IssueFor is Issue with an e-mail claim (as a Cognito ID token has),
// left out when email is empty.
func (s Signer) IssueFor(sub, email string, roles []string, ttl time.Duration) (string, error) {
	return s.issue(sub, email, roles, nil, ttl)
}

// IssuePlatform returns a token of the platform role for platform id
// (subject and PlatformClaim both the id), as a platform's Cognito user
// carries its platform in a custom attribute.
func (s Signer) IssuePlatform(id string, ttl time.Duration) (string, error) {
	return s.issue(id, "", []string{Platform}, map[string]any{PlatformClaim: id}, ttl)
}

func (s Signer) issue(sub, email string, roles []string, extra map[string]any, ttl time.Duration) (string, error) {
	if len(s.Key) < 32 {
		return "", errors.New("signing key shorter than 32 bytes")
	}
	if sub == "" {
		return "", errors.New("subject is empty")
	}
	for _, r := range roles {
		if !isRole(r) {
			return "", fmt.Errorf("unknown role %q (want one of %s)", r, strings.Join(AllRoles, ", "))
		}
	}
	now := s.now()
	groups := make([]any, len(roles))
	for i, r := range roles {
		groups[i] = r
	}
	claims := map[string]any{
		"iss": LocalIssuer, "aud": LocalAudience, "sub": sub, "token_use": "access",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(), GroupsClaim: groups,
		"username": sub,
	}
	if email != "" {
		claims["email"], claims["email_verified"] = email, true
	}
	for k, v := range extra {
		claims[k] = v
	}
	head := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := head + "." + b64.EncodeToString(body)
	return signing + "." + b64.EncodeToString(s.mac(signing)), nil
}

func (s Signer) mac(msg string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// ErrInvalidToken is returned for any token that does not verify.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks the signature, algorithm, issuer, audience and validity
// window, and returns the claims.
func (s Signer) Verify(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	var head struct {
		Alg string `json:"alg"`
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &head) != nil || head.Alg != "HS256" {
		return nil, fmt.Errorf("%w: unsupported header", ErrInvalidToken)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.mac(parts[0]+"."+parts[1])) {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: malformed claims", ErrInvalidToken)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, fmt.Errorf("%w: malformed claims", ErrInvalidToken)
	}
	now := float64(s.now().Unix())
	if exp, ok := claims["exp"].(float64); !ok || now >= exp {
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	if nbf, ok := claims["nbf"].(float64); ok && now+60 < nbf {
		return nil, fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	}
	if claims["iss"] != LocalIssuer || claims["aud"] != LocalAudience {
		return nil, fmt.Errorf("%w: wrong issuer or audience", ErrInvalidToken)
	}
	return claims, nil
}

func isRole(r string) bool {
	for _, x := range AllRoles {
		if r == x {
			return true
		}
	}
	return false
}

// LoadOrCreateKey reads the local signing key at path, creating a random
// one (mode 0600) if there is none yet.
func LoadOrCreateKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("signing key %s is damaged; delete it to make a new one", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("create signing key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return k, nil
}
