// Package publicreport is the public channel: anyone may report an ad
// without an account and without giving personal data. Abuse is held back
// by a rate limit per address, a size cap, and a proof-of-work challenge
// that needs no third-party service; the answer is a private status link (a
// capability URL) that shows that one report's status and outcome only.
package publicreport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Challenge lifetime and difficulty.
const (
	ChallengeLifetime = 10 * time.Minute
	// DefaultBits is the proof-of-work difficulty unless configured
	// (template parameter PublicChallengeBits): about a million SHA-256
	// hashes, a second or two in a phone's browser.
	DefaultBits = 20
	MaxBits     = 28
)

// Challenges issues and checks proof-of-work challenges, signed so that
// issuing one stores nothing.
type Challenges struct {
	Key  []byte
	Bits int
}

// Challenge is the answer of GET /public/challenge.
type Challenge struct {
	Challenge string `json:"challenge"`
	// Bits is how many leading zero bits SHA-256(challenge + ":" + nonce)
	// must have.
	Bits      int    `json:"difficulty_bits"`
	ExpiresAt string `json:"expires_at"`
	HowTo     string `json:"how_to"`
}

// HowTo says how to solve a challenge, in both languages.
const HowTo = "Cari nonce (teks apa saja) sehingga SHA-256(challenge + \":\" + nonce) diawali difficulty_bits bit nol; kirim challenge dan nonce bersama laporan. / " +
	"Find a nonce (any text) such that SHA-256(challenge + \":\" + nonce) starts with difficulty_bits zero bits; send challenge and nonce with the report."

// Issue makes a challenge valid until now + ChallengeLifetime.
func (c Challenges) Issue(now time.Time) Challenge {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	exp := now.Add(ChallengeLifetime).Unix()
	payload := base64.RawURLEncoding.EncodeToString(nonce[:]) + "." + strconv.FormatInt(exp, 10) + "." + strconv.Itoa(c.Bits)
	return Challenge{
		Challenge: payload + "." + c.sign(payload), Bits: c.Bits,
		ExpiresAt: time.Unix(exp, 0).UTC().Format(time.RFC3339), HowTo: HowTo,
	}
}

func (c Challenges) sign(payload string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte("tangkal-public-challenge\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Errors of Check.
var (
	ErrForged  = errors.New("challenge is not one this service issued")
	ErrExpired = errors.New("challenge has expired")
	ErrWork    = errors.New("nonce does not solve the challenge")
)

// Check verifies a challenge and its solution; it returns the challenge's
// expiry (until when it must be remembered as spent).
func (c Challenges) Check(challenge, nonce string, now time.Time) (time.Time, error) {
	parts := strings.Split(challenge, ".")
	if len(parts) != 4 || len(challenge) > 200 {
		return time.Time{}, ErrForged
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(c.sign(payload))) {
		return time.Time{}, ErrForged
	}
	exp, err1 := strconv.ParseInt(parts[1], 10, 64)
	need, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return time.Time{}, ErrForged
	}
	expiry := time.Unix(exp, 0)
	if !now.Before(expiry) {
		return time.Time{}, ErrExpired
	}
	if len(nonce) == 0 || len(nonce) > 64 || LeadingZeroBits(challenge, nonce) < need {
		return time.Time{}, ErrWork
	}
	return expiry, nil
}

// LeadingZeroBits counts the leading zero bits of SHA-256(challenge:nonce).
func LeadingZeroBits(challenge, nonce string) int {
	sum := sha256.Sum256([]byte(challenge + ":" + nonce))
	n := 0
	for i := 0; i < len(sum); i += 8 {
		w := binary.BigEndian.Uint64(sum[i : i+8])
		z := bits.LeadingZeros64(w)
		n += z
		if z < 64 {
			break
		}
	}
	return n
}

// Solve finds a nonce for a challenge (what a reporter's client does).
func Solve(challenge string, bits int) string {
	for i := 0; ; i++ {
		n := strconv.Itoa(i)
		if LeadingZeroBits(challenge, n) >= bits {
			return n
		}
	}
}
