// Package slack verifies Slack's signed requests and reads interaction
// payloads (button clicks on approval messages).
//
// Verification follows Slack's "Verifying requests from Slack": the
// signature is "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + timestamp +
// ":" + raw body)), compared in constant time, and the timestamp must be
// within five minutes of now.
//
//	v := slack.Verifier{Secret: []byte(os.Getenv("SLACK_SIGNING_SECRET"))}
//	body, err := v.VerifyRequest(req)            // events.APIGatewayV2HTTPRequest
//	in, err := slack.ParseInteraction(body)      // the payload= form field
//	for _, a := range in.Actions { a.ActionID, a.Value }  // in.User.ID
//
// Locally the outbox stands in for Slack: messages are written there, and a
// test or a person replays an interaction with Sign.
package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Header names Slack sends.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
)

// MaxAge is how far a request's timestamp may be from now.
const MaxAge = 5 * time.Minute

// Verification errors.
var (
	ErrMissingHeaders = errors.New("slack: missing X-Slack-Signature or X-Slack-Request-Timestamp")
	ErrStale          = errors.New("slack: request timestamp is more than 5 minutes from now")
	ErrBadSignature   = errors.New("slack: signature does not match")
)

// Sign returns the X-Slack-Signature for a body sent at timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + timestamp + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// Verifier checks request signatures with an app's signing secret.
type Verifier struct {
	Secret []byte
	Now    func() time.Time // nil: time.Now
}

// Verify checks the signature and timestamp headers against the raw body.
func (v Verifier) Verify(timestamp, signature string, body []byte) error {
	if len(v.Secret) == 0 {
		return errors.New("slack: no signing secret configured")
	}
	if timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("header %s %q: %w", HeaderTimestamp, timestamp, ErrStale)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxAge || d < -MaxAge {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(v.Secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// VerifyRequest verifies an API Gateway v2 request (headers are looked up
// case-insensitively; a base64-encoded body is decoded first) and returns
// the raw body.
func (v Verifier) VerifyRequest(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, fmt.Errorf("slack: body: %w", err)
		}
		body = b
	}
	if err := v.Verify(header(req.Headers, HeaderTimestamp), header(req.Headers, HeaderSignature), body); err != nil {
		return nil, err
	}
	return body, nil
}

func header(h map[string]string, name string) string {
	if v, ok := h[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// User is who clicked.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

// Action is one clicked element.
type Action struct {
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Type     string `json:"type"`
	Value    string `json:"value"`
	ActionTS string `json:"action_ts"`
}

// Interaction is a block_actions payload (the fields tangkal uses).
type Interaction struct {
	Type        string   `json:"type"`
	User        User     `json:"user"`
	Actions     []Action `json:"actions"`
	ResponseURL string   `json:"response_url"`
	TriggerID   string   `json:"trigger_id"`
	Team        struct {
		ID     string `json:"id"`
		Domain string `json:"domain"`
	} `json:"team"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Message struct {
		TS string `json:"ts"`
	} `json:"message"`
}

// ParseInteraction reads the form-encoded body Slack posts to an
// interactivity URL: its payload field holds the JSON. Only block_actions
// with at least one action are accepted.
func ParseInteraction(body []byte) (Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Interaction{}, fmt.Errorf("slack interaction: form: %w", err)
	}
	raw := form.Get("payload")
	if raw == "" {
		return Interaction{}, errors.New("slack interaction field payload: required")
	}
	var in Interaction
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return Interaction{}, fmt.Errorf("slack interaction field payload: %w", err)
	}
	if in.Type != "block_actions" {
		return Interaction{}, fmt.Errorf("slack interaction field type: %q is not supported (want block_actions)", in.Type)
	}
	if in.User.ID == "" {
		return Interaction{}, errors.New("slack interaction field user.id: required")
	}
	if len(in.Actions) == 0 {
		return Interaction{}, errors.New("slack interaction field actions: no action")
	}
	return in, nil
}
