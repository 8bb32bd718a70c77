package evidence

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

// Environment variables of evidence links.
const (
	// LinkSecretEnv holds the HMAC key that signs evidence links.
	LinkSecretEnv = "TANGKAL_EVIDENCE_LINK_SECRET"
	// LinkDaysEnv holds how many days a link stays valid (default 30).
	LinkDaysEnv = "TANGKAL_EVIDENCE_LINK_DAYS"
)

// DefaultLinkLifetime is how long an evidence link works by default.
const DefaultLinkLifetime = 30 * 24 * time.Hour

// MinLinkSecretLen is the shortest accepted signing secret.
const MinLinkSecretLen = 32

// Link errors.
var (
	ErrForged  = errors.New("evidence link signature is not valid")
	ErrExpired = errors.New("evidence link has expired")
)

// Links makes and checks the links notices give platforms to the stored
// copy of an ad:
// <BaseURL>/evidence/<sha256>?exp=<unix>&sig=<base64url(HMAC-SHA256(secret, "evidence|" + sha256 + "|" + exp))>.
// Platforms have no accounts; the signature and the expiry are the only
// credentials, and they name one copy only.
type Links struct {
	links    signedlink.Signer
	BaseURL  string
	Lifetime time.Duration
}

// NewLinks returns a Links; the secret must be at least MinLinkSecretLen
// bytes and baseURL an absolute http(s) URL, or empty for a Links that
// only checks links (the function serving them does not know the API's
// public URL). A lifetime of 0 is DefaultLinkLifetime.
func NewLinks(secret []byte, baseURL string, lifetime time.Duration) (*Links, error) {
	return NewRingLinks(secrets.Static(secret), baseURL, lifetime)
}

// NewRingLinks is NewLinks with the key of ring, read at run time: links
// carry the id of the key version that signed them ("sig=<key id>.<mac>"),
// and those signed before a rotation verify for the secret's grace period.
func NewRingLinks(ring *secrets.Ring, baseURL string, lifetime time.Duration) (*Links, error) {
	if n := len(ring.Current().Value); n < MinLinkSecretLen {
		return nil, fmt.Errorf("evidence links: secret (%s) must be at least %d bytes, got %d", LinkSecretEnv, MinLinkSecretLen, n)
	}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("evidence links: base URL %q is not an absolute http(s) URL", baseURL)
		}
	}
	if lifetime < 0 {
		return nil, fmt.Errorf("evidence links: lifetime %s is negative", lifetime)
	}
	if lifetime == 0 {
		lifetime = DefaultLinkLifetime
	}
	return &Links{links: signedlink.New(ring), BaseURL: strings.TrimSuffix(baseURL, "/"), Lifetime: lifetime}, nil
}

// LifetimeDays reads a lifetime in whole days ("30"); empty is
// DefaultLinkLifetime.
func LifetimeDays(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultLinkLifetime, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("evidence link lifetime %q: want a whole number of days from 1 to 3650", s)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// Sign returns the sig of a link to the copy with that hex hash, expiring
// at exp (unix seconds).
func (l *Links) Sign(hash string, exp int64) string {
	return l.links.Sign(exp, linkPurpose, hash)
}

// linkPurpose is the first signed field, so that no other signed link
// (an approval link under the same secret) passes for an evidence link.
const linkPurpose = "evidence"

// Link returns a link to the copy with that hex hash, valid for Lifetime
// from now, and its expiry. A nil Links, or one without a base URL, makes
// no link ("").
func (l *Links) Link(hash string, now time.Time) (string, time.Time) {
	if l == nil || l.BaseURL == "" {
		return "", time.Time{}
	}
	exp := now.Add(l.Lifetime).Truncate(time.Second)
	q := url.Values{"exp": {strconv.FormatInt(exp.Unix(), 10)}, "sig": {l.Sign(hash, exp.Unix())}}
	return l.BaseURL + "/evidence/" + hash + "?" + q.Encode(), exp
}

// Verify checks a link's parameters: ErrForged when the signature does not
// match (any part changed, or missing), ErrExpired when it matches but now
// is at or past the expiry. exp is the raw "exp" parameter.
func (l *Links) Verify(hash, exp, sig string, now time.Time) error {
	if !hexRe.MatchString(hash) {
		return ErrForged
	}
	switch err := l.links.Verify(sig, exp, now, linkPurpose, hash); {
	case errors.Is(err, signedlink.ErrExpired):
		return ErrExpired
	case err != nil:
		return ErrForged
	}
	return nil
}

// HashOf returns the hex SHA-256 a stored copy's location names
// ("s3://bucket/sha256/<hex>", "file://…/sha256/<hex>"); ok is false for
// anything else.
func HashOf(location string) (string, bool) {
	i := strings.LastIndex(location, "sha256/")
	if i < 0 {
		return "", false
	}
	h := location[i+len("sha256/"):]
	if !hexRe.MatchString(h) {
		return "", false
	}
	return h, true
}
