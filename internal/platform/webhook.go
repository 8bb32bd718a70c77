package platform

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/deadline"
	"github.com/tangkal/tangkal/internal/secrets"
)

// Webhook headers.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Tangkal-Timestamp"
	HeaderSignature      = "X-Tangkal-Signature"
	// HeaderKeyID names the version of the webhook secret that signed
	// (secrets.KeyID), so a platform holding two versions during a
	// rotation knows which one to check with.
	HeaderKeyID = "X-Tangkal-Key-Id"
)

// SignatureWindow is how far a signed timestamp may be from the receiver's
// clock.
const SignatureWindow = 5 * time.Minute

// Signature errors.
var (
	ErrMissingSignature = errors.New("missing signature or timestamp header")
	ErrBadSignature     = errors.New("signature does not match")
	ErrStaleTimestamp   = errors.New("timestamp outside the allowed window")
)

// Sign returns the X-Tangkal-Signature value for a payload:
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + payload)).
func Sign(secret []byte, timestamp int64, payload []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(payload)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a received signature and timestamp header against
// the payload, in constant time, with the timestamp within
// SignatureWindow of now.
func VerifySignature(secret []byte, timestampHeader, signatureHeader string, payload []byte, now time.Time) error {
	if timestampHeader == "" || signatureHeader == "" {
		return ErrMissingSignature
	}
	ts, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("header %s: %w", HeaderTimestamp, ErrStaleTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > SignatureWindow || d < -SignatureWindow {
		return ErrStaleTimestamp
	}
	want := Sign(secret, ts, payload)
	if !hmac.Equal([]byte(want), []byte(signatureHeader)) {
		return ErrBadSignature
	}
	return nil
}

// WebhookPayload is the JSON body of a webhook notice: the machine-readable
// facts, and the letter itself (Subject, Notice) as an e-mail platform
// would get it.
type WebhookPayload struct {
	IdempotencyKey string    `json:"idempotency_key"`
	CaseID         string    `json:"case_id"`
	Kind           Kind      `json:"kind"`
	Attempt        int       `json:"attempt"`
	URL            string    `json:"url"`
	Platform       string    `json:"platform"`
	Urgency        string    `json:"urgency"`
	Deadline       time.Time `json:"deadline"`
	LegalBasis     string    `json:"legal_basis"`
	// Evidence sums up the reasons in words, Bahasa Indonesia then English.
	Evidence string    `json:"evidence"`
	SentAt   time.Time `json:"sent_at"`
	// Number is the letter number (TKL/<case>/<PK|P1|P2|P3>/<year>).
	Number  string `json:"number"`
	Subject string `json:"subject"`
	// Indicators are the reasons, each named in both languages.
	Indicators []Indicator `json:"indicators"`
	// EvidenceCopy is a signed link to the stored copy of the ad, valid
	// until its expires_at; absent when no copy was kept.
	EvidenceCopy *EvidenceCopy `json:"evidence_copy,omitempty"`
	// Notice is the letter as plain text.
	Notice string `json:"notice"`
}

// Summary sums up a letter's reasons in words, Bahasa Indonesia then
// English ("Alasan: …; …. Reasons: …; ….").
func (l Letter) Summary() string {
	if len(l.Indicators) == 0 {
		return l.Request.Evidence
	}
	id, en := make([]string, len(l.Indicators)), make([]string, len(l.Indicators))
	for i, ind := range l.Indicators {
		id[i], en[i] = ind.Indonesian, ind.English
	}
	return "Alasan: " + strings.Join(id, "; ") + ". Reasons: " + strings.Join(en, "; ") + "."
}

// WebhookAnswer is what a platform answers to a webhook notice (2xx).
type WebhookAnswer struct {
	Reference string `json:"reference"`
	Status    string `json:"status,omitempty"`
}

// Webhook sends notices as signed JSON POSTs.
type Webhook struct {
	Platform Platform
	Secret   []byte
	HTTP     *http.Client     // nil: a client with a CallTimeout timeout
	Now      func() time.Time // nil: time.Now
	Letters  Letters
}

func (w *Webhook) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Webhook) client() *http.Client {
	if w.HTTP != nil {
		return w.HTTP
	}
	return &http.Client{Timeout: CallTimeout}
}

// CallTimeout bounds one call to a platform, well inside the 30 s of the
// functions making it (and within their context's deadline: deadline.Call).
const CallTimeout = 10 * time.Second

// Send posts the notice to the platform's webhook URL. 2xx gives a
// Receipt; 429, 5xx and network errors a *TransientError; other statuses a
// *RejectedError.
func (w *Webhook) Send(ctx context.Context, req Request) (Receipt, error) {
	now := w.now()
	lt, err := w.Letters.Write(w.Platform, req, now)
	if err != nil {
		return Receipt{}, err
	}
	req = lt.Request
	if len(w.Secret) == 0 {
		return Receipt{}, fmt.Errorf("webhook %s: no signing secret (set %s)", w.Platform.ID, w.Platform.WebhookSecretEnv)
	}
	key := req.IdempotencyKey()
	indicators := lt.Indicators
	if indicators == nil {
		indicators = []Indicator{}
	}
	body, err := json.Marshal(WebhookPayload{
		IdempotencyKey: key, CaseID: req.CaseID, Kind: req.Kind, Attempt: req.Attempt,
		URL: req.URL, Platform: req.Platform, Urgency: req.Urgency, Deadline: req.Deadline.UTC(),
		LegalBasis: req.LegalBasis, Evidence: lt.Summary(), SentAt: now.UTC(),
		Number: lt.Number, Subject: lt.Subject, Indicators: indicators, EvidenceCopy: lt.EvidenceCopy, Notice: lt.Text,
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("webhook %s: encode: %w", w.Platform.ID, err)
	}
	ctx, cancel := deadline.Call(ctx, CallTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Platform.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, fmt.Errorf("webhook %s: %w", w.Platform.ID, err)
	}
	ts := now.Unix()
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set(HeaderIdempotencyKey, key)
	hreq.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	hreq.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	hreq.Header.Set(HeaderKeyID, secrets.KeyID(w.Secret))
	resp, err := w.client().Do(hreq)
	if err != nil {
		return Receipt{}, &TransientError{Platform: w.Platform.ID, Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := classify(w.Platform.ID, resp.StatusCode, b); err != nil {
		return Receipt{}, err
	}
	var ans WebhookAnswer
	if err := json.Unmarshal(b, &ans); err != nil || ans.Reference == "" {
		// The platform took it (2xx) but its answer is unreadable: asking
		// again with the same key is safe and gets the reference.
		return Receipt{}, &TransientError{Platform: w.Platform.ID, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("answer without a reference: %q", snippet(b))}
	}
	return Receipt{PlatformRef: ans.Reference, Channel: ChannelWebhook, IdempotencyKey: key, SentAt: now}, nil
}

func classify(platform string, status int, body []byte) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusTooManyRequests || status >= 500:
		return &TransientError{Platform: platform, StatusCode: status, Err: errors.New(snippet(body))}
	default:
		return &RejectedError{Platform: platform, StatusCode: status, Message: snippet(body)}
	}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Status values of an ad on its platform.
type Status string

// Statuses.
const (
	StatusRemoved Status = "removed"
	StatusLive    Status = "live"
	StatusUnknown Status = "unknown"
)

// ErrNoStatusAPI means the platform has no status API; re-fetch the page.
var ErrNoStatusAPI = errors.New("platform has no status API")

// StatusAnswer is the JSON a status API answers.
type StatusAnswer struct {
	URL       string     `json:"url"`
	Status    Status     `json:"status"`
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

// Status asks the platform's status API about an ad: GET status_url?url=…,
// signed like a webhook with the ad URL as the payload.
func (w *Webhook) Status(ctx context.Context, adURL string) (StatusAnswer, error) {
	if w.Platform.StatusURL == "" {
		return StatusAnswer{URL: adURL, Status: StatusUnknown}, ErrNoStatusAPI
	}
	u, err := url.Parse(w.Platform.StatusURL)
	if err != nil {
		return StatusAnswer{}, fmt.Errorf("status %s: %w", w.Platform.ID, err)
	}
	q := u.Query()
	q.Set("url", adURL)
	u.RawQuery = q.Encode()
	ctx, cancel := deadline.Call(ctx, CallTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return StatusAnswer{}, fmt.Errorf("status %s: %w", w.Platform.ID, err)
	}
	ts := w.now().Unix()
	hreq.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	hreq.Header.Set(HeaderSignature, Sign(w.Secret, ts, []byte(adURL)))
	hreq.Header.Set(HeaderKeyID, secrets.KeyID(w.Secret))
	hreq.Header.Set("Accept", "application/json")
	resp, err := w.client().Do(hreq)
	if err != nil {
		return StatusAnswer{}, &TransientError{Platform: w.Platform.ID, Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := classify(w.Platform.ID, resp.StatusCode, b); err != nil {
		return StatusAnswer{}, err
	}
	var ans StatusAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return StatusAnswer{}, &TransientError{Platform: w.Platform.ID, StatusCode: resp.StatusCode, Err: fmt.Errorf("unreadable status answer: %w", err)}
	}
	switch ans.Status {
	case StatusRemoved, StatusLive, StatusUnknown:
	default:
		ans.Status = StatusUnknown
	}
	return ans, nil
}
