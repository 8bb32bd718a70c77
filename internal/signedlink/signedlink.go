// Package signedlink signs the parameters of links that are their own
// credential: an approval link mailed to one approver, a link to an ad's
// evidence copy given to a platform. A signature is an HMAC-SHA256 over
// the link's fields and its expiry with the current version of a rotating
// secret, prefixed with that version's key id, so a link signed before a
// rotation still verifies for the secret's grace period:
//
//	<key id>.<base64url(HMAC-SHA256(key, field₁|field₂|…|exp))>
package signedlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/secrets"
)

// Errors of Verify.
var (
	// ErrForged: the signature does not sign these fields and this expiry
	// with a key the secret accepts (a part changed, or is missing).
	ErrForged = errors.New("link signature is not valid")
	// ErrExpired: the signature is good, and its expiry has passed.
	ErrExpired = errors.New("link has expired")
)

// Signer signs and checks links with the keys of a secret.
type Signer struct{ keys *secrets.Ring }

// New returns a Signer reading its keys from ring at run time.
func New(ring *secrets.Ring) Signer { return Signer{keys: ring} }

// Sign returns the signature of fields with the expiry exp (unix
// seconds), made with the secret's current version.
func (s Signer) Sign(exp int64, fields ...string) string {
	k := s.keys.Current()
	return k.ID + "." + mac(k.Value, exp, fields)
}

// Verify checks a signature against fields and the link's raw expiry
// parameter: ErrForged when it does not sign them (exp not a number, or a
// field holding the separator "|", included), ErrExpired when it does but
// now is at or past exp. A signature without a key id (made before key
// ids) is tried with every version the secret accepts.
func (s Signer) Verify(sig, exp string, now time.Time, fields ...string) error {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sig == "" {
		return ErrForged
	}
	for _, f := range fields {
		if strings.Contains(f, "|") {
			return ErrForged
		}
	}
	kid, m, ok := strings.Cut(sig, ".")
	if !ok {
		kid, m = "", sig
	}
	valid := false
	for _, key := range s.keys.Lookup(kid) {
		valid = valid || hmac.Equal([]byte(mac(key, e, fields)), []byte(m))
	}
	if !valid {
		return ErrForged
	}
	if now.Unix() >= e {
		return ErrExpired
	}
	return nil
}

func mac(key []byte, exp int64, fields []string) string {
	m := hmac.New(sha256.New, key)
	for _, f := range fields {
		m.Write([]byte(f + "|"))
	}
	m.Write([]byte(strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
