// Package bundle makes and checks evidence bundles for prosecutors: one
// case's whole history, its evidence hashes with a signed link to each
// stored copy, the approval decisions, the notices sent to the platform
// with what came back, the chain's verification and its external anchor,
// as one JSON document signed with Ed25519.
//
// The signing key is derived from a secret (a key file locally, a Secrets
// Manager secret in AWS): seed = SHA-256("tangkal bundle key v1\n" +
// secret). Its public half is published (GET /exports/bundle-key, and
// inside every bundle with its key id), so anyone can check a bundle
// offline with `tangkal verify-bundle FILE`, without access to tangkal.
//
//	{"bundle": {...}, "signature": {"algorithm":"Ed25519","key_id":…,"public_key":…,"value":…}}
//
// The signature covers the bundle object's compact JSON (json.Compact of
// its bytes, which keeps key order and strings as they are), so a
// re-indented file still verifies and any changed value does not.
package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/history"
)

// Format names the bundle's layout.
const Format = "tangkal-evidence-bundle/v1"

// Algorithm is the signature algorithm.
const Algorithm = "Ed25519"

// Key signs bundles.
type Key struct{ priv ed25519.PrivateKey }

// MinSecretLen is the shortest secret a key is derived from.
const MinSecretLen = 32

// KeyFromSecret derives the signing key from a secret.
func KeyFromSecret(secret []byte) (*Key, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("bundle signing secret must be at least %d bytes, got %d", MinSecretLen, len(secret))
	}
	seed := sha256.Sum256(append([]byte("tangkal bundle key v1\n"), secret...))
	return &Key{priv: ed25519.NewKeyFromSeed(seed[:])}, nil
}

// Public is the published half of the key.
func (k *Key) Public() PublicKey {
	pub := k.priv.Public().(ed25519.PublicKey)
	return PublicKey{Algorithm: Algorithm, KeyID: KeyID(pub), PublicKey: base64.StdEncoding.EncodeToString(pub)}
}

// PublicKey is how the key is published.
type PublicKey struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	// PublicKey is the raw 32-byte Ed25519 key, base64.
	PublicKey string `json:"public_key"`
}

// KeyID is the first 16 hex digits of the SHA-256 of a public key.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// Signature is a bundle's signature.
type Signature struct {
	PublicKey
	Value string `json:"value"`
}

// Document is a signed bundle as it is handed over.
type Document struct {
	Bundle    json.RawMessage `json:"bundle"`
	Signature Signature       `json:"signature"`
}

// Sign signs a bundle and returns the document.
func (k *Key) Sign(b Bundle) (Document, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return Document{}, fmt.Errorf("encode bundle: %w", err)
	}
	sig := ed25519.Sign(k.priv, raw)
	return Document{Bundle: raw, Signature: Signature{PublicKey: k.Public(), Value: base64.StdEncoding.EncodeToString(sig)}}, nil
}

// Bundle is the content of an evidence bundle.
type Bundle struct {
	Format string `json:"format"`
	CaseID string `json:"case_id"`
	// MadeAt (RFC 3339, UTC) and MadeAtWIB (Indonesian date and time).
	MadeAt    string `json:"made_at"`
	MadeAtWIB string `json:"made_at_wib"`
	MadeBy    string `json:"made_by"`
	// Case is the case's current record.
	Case json.RawMessage `json:"case"`
	// Events is the whole history, in order; Head is the case's head.
	Events []history.Event `json:"events"`
	Head   string          `json:"head"`
	// Chain is the history checked against its own hashes.
	Chain Chain `json:"chain"`
	// Anchor is the check against the external copy, and AnchorRecords
	// the copies themselves (their MACs need the anchor key to check).
	Anchor        anchor.Report   `json:"anchor"`
	AnchorRecords []anchor.Record `json:"anchor_records"`
	Evidence      []Evidence      `json:"evidence"`
	Decisions     []Decision      `json:"decisions"`
	Notices       []Notice        `json:"notices"`
}

// Chain is a chain verification.
type Chain struct {
	Valid  bool   `json:"valid"`
	Length int    `json:"length"`
	Error  string `json:"error,omitempty"`
}

// Evidence is one stored copy of the ad.
type Evidence struct {
	Seq       int    `json:"seq"`
	SHA256    string `json:"sha256"`
	FetchedAt string `json:"fetched_at,omitempty"`
	FinalURL  string `json:"final_url,omitempty"`
	Status    int    `json:"status,omitempty"`
	// Link opens the copy until LinkExpires (signed; empty when links
	// are not configured).
	Link        string `json:"link,omitempty"`
	LinkExpires string `json:"link_expires,omitempty"`
}

// Decision is an approval decision.
type Decision struct {
	Seq int    `json:"seq"`
	At  string `json:"at"`
	history.ApprovalDecidedData
}

// Notice is a takedown request or warning, with the attempts that failed
// and the compliance check that answered it.
type Notice struct {
	Seq int    `json:"seq"`
	At  string `json:"at"`
	history.NoticeSentData
	Failures []history.NoticeFailedData      `json:"failures,omitempty"`
	Replies  []history.ComplianceCheckedData `json:"replies,omitempty"`
}

// Result is what checking a document found.
type Result struct {
	CaseID        string `json:"case_id"`
	KeyID         string `json:"key_id"`
	SignatureOK   bool   `json:"signature_ok"`
	KeyMatches    *bool  `json:"key_matches_published,omitempty"`
	ChainOK       bool   `json:"chain_ok"`
	ChainError    string `json:"chain_error,omitempty"`
	AnchorOK      bool   `json:"anchor_records_match"`
	AnchorError   string `json:"anchor_error,omitempty"`
	AnchorValid   bool   `json:"anchor_report_valid"`
	Events        int    `json:"events"`
	AnchorRecords int    `json:"anchor_records"`
}

// OK is true when everything checked holds.
func (r Result) OK() bool {
	return r.SignatureOK && (r.KeyMatches == nil || *r.KeyMatches) && r.ChainOK && r.AnchorOK
}

// Check verifies a document offline: the signature (against published,
// the published public key in base64, when given), then the history's
// chain recomputed from its events, and that the external copies listed
// hold the same hashes in the same order.
func Check(doc []byte, published string) (Result, error) {
	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		return Result{}, fmt.Errorf("not a bundle document: %w", err)
	}
	if d.Signature.Algorithm != Algorithm {
		return Result{}, fmt.Errorf("signature algorithm %q, want %s", d.Signature.Algorithm, Algorithm)
	}
	pub, err := base64.StdEncoding.DecodeString(d.Signature.PublicKey.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return Result{}, errors.New("the bundle's public key is not a base64 Ed25519 key")
	}
	sig, err := base64.StdEncoding.DecodeString(d.Signature.Value)
	if err != nil {
		return Result{}, errors.New("the signature is not base64")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, d.Bundle); err != nil {
		return Result{}, fmt.Errorf("bundle: %w", err)
	}
	r := Result{KeyID: KeyID(pub), SignatureOK: ed25519.Verify(pub, compact.Bytes(), sig)}
	if published != "" {
		want, err := base64.StdEncoding.DecodeString(published)
		if err != nil {
			return Result{}, errors.New("the published key given is not base64")
		}
		m := bytes.Equal(want, pub)
		r.KeyMatches = &m
	}
	var b Bundle
	if err := json.Unmarshal(d.Bundle, &b); err != nil {
		return Result{}, fmt.Errorf("bundle content: %w", err)
	}
	r.CaseID, r.Events, r.AnchorRecords, r.AnchorValid = b.CaseID, len(b.Events), len(b.AnchorRecords), b.Anchor.Valid
	// Event data is stored compact; a re-indented file indents it too.
	for i, e := range b.Events {
		if len(e.Data) == 0 {
			continue
		}
		var c bytes.Buffer
		if err := json.Compact(&c, e.Data); err != nil {
			return Result{}, fmt.Errorf("event %d data: %w", e.Seq, err)
		}
		b.Events[i].Data = c.Bytes()
	}
	r.ChainOK = true
	if err := history.Verify(b.Events, b.Head); err != nil {
		r.ChainOK, r.ChainError = false, err.Error()
	}
	for _, e := range b.Events {
		if e.CaseID != b.CaseID {
			r.ChainOK, r.ChainError = false, fmt.Sprintf("event %d belongs to case %s", e.Seq, e.CaseID)
			break
		}
	}
	r.AnchorOK = true
	for i, rec := range b.AnchorRecords {
		if i >= len(b.Events) {
			r.AnchorOK, r.AnchorError = false, fmt.Sprintf("the external copy has event %d, the history ends at %d", rec.Seq, len(b.Events))
			break
		}
		e := b.Events[i]
		if rec.Seq != e.Seq || rec.Hash != e.Hash || rec.PrevHash != e.PrevHash || rec.CaseID != b.CaseID {
			r.AnchorOK, r.AnchorError = false, fmt.Sprintf("event %d differs from its external copy", e.Seq)
			break
		}
	}
	return r, nil
}
