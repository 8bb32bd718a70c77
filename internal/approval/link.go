package approval

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/secrets"
	"github.com/tangkal/tangkal/internal/signedlink"
)

// SecretEnv names the environment variable holding the link-signing secret.
const SecretEnv = "TANGKAL_APPROVAL_SECRET"

// MinSecretLen is the shortest accepted signing secret.
const MinSecretLen = 32

// Link errors.
var (
	ErrForged      = errors.New("approval link signature is not valid")
	ErrLinkExpired = errors.New("approval link has expired")
)

// Signer makes and checks approval links:
// <BaseURL>/approvals/<id>?a=<approver>&exp=<unix>&sig=<key id>.<base64url(HMAC-SHA256(secret, id|approver|exp))>.
// The key id names the secret's version that signed, so a link mailed
// before a rotation still verifies (with the previous version, for the
// secret's grace period).
type Signer struct {
	links   signedlink.Signer
	BaseURL string // e.g. "https://api.tangkal.example" (no trailing slash needed)
}

// NewSigner returns a Signer with one fixed key; the secret must be at
// least MinSecretLen bytes.
func NewSigner(secret []byte, baseURL string) (*Signer, error) {
	return NewRingSigner(secrets.Static(secret), baseURL)
}

// NewRingSigner returns a Signer whose key is the secret of ring, read at
// run time; its current version must be at least MinSecretLen bytes.
func NewRingSigner(ring *secrets.Ring, baseURL string) (*Signer, error) {
	if n := len(ring.Current().Value); n < MinSecretLen {
		return nil, fmt.Errorf("approval signer: secret (%s) must be at least %d bytes, got %d", SecretEnv, MinSecretLen, n)
	}
	if _, err := url.Parse(baseURL); err != nil {
		return nil, fmt.Errorf("approval signer: base URL: %w", err)
	}
	return &Signer{links: signedlink.New(ring), BaseURL: strings.TrimSuffix(baseURL, "/")}, nil
}

// Sign returns the sig for id, approver and expiry (unix seconds), with
// the current key: "<key id>.<mac>".
func (s *Signer) Sign(id, approver string, exp int64) string {
	return s.links.Sign(exp, id, normApprover(approver))
}

// Link returns the signed review link for one approver.
func (s *Signer) Link(id, approver string, exp time.Time) string {
	q := url.Values{
		"a":   {normApprover(approver)},
		"exp": {strconv.FormatInt(exp.Unix(), 10)},
		"sig": {s.Sign(id, approver, exp.Unix())},
	}
	return s.BaseURL + "/approvals/" + url.PathEscape(id) + "?" + q.Encode()
}

// Verify checks a link's parameters: ErrForged when the signature does not
// match (any tampered part), ErrLinkExpired when it matches but now is past
// the expiry. exp is the raw "exp" parameter.
func (s *Signer) Verify(id, approver, exp, sig string, now time.Time) error {
	if id == "" || approver == "" {
		return ErrForged
	}
	switch err := s.links.Verify(sig, exp, now, id, normApprover(approver)); {
	case errors.Is(err, signedlink.ErrExpired):
		return ErrLinkExpired
	case err != nil:
		return ErrForged
	}
	return nil
}
