// Package outbox sends email and Slack messages, and holds their local
// stand-ins.
//
// In AWS, email goes through SES (NewSES); Slack through its Web API
// (internal/slack with slack-go). Locally, Folder writes each email as an
// RFC 5322 .eml file in a directory and serves it (Folder.Handler) as a
// small web page a person can read and click the approval links in, and as
// Mailpit's JSON API (GET /api/v1/messages, GET /api/v1/message/{ID}) for
// scripts and tests. SlackStandIn, served by the same handler, stands in
// for Slack: the Web API calls tangkal makes, the channels rendered as
// Slack shows them, and buttons and modals that send signed interactions.
//
//	var m outbox.Mailer = outbox.NewSES(sesv2.NewFromConfig(cfg))     // AWS
//	f, _ := outbox.NewFolder("var/outbox"); var m outbox.Mailer = f // local
//	id, err := m.Send(ctx, outbox.Email{From: ..., To: ..., Subject: ..., Text: ..., HTML: ...})
//
// Headers set on an Email are passed through (SES allows custom X- headers).
// The header IdempotencyHeader makes Folder a deduplicating recipient: a
// second message with the same key is not written again and returns the
// first message's id (SES has no such feature; callers that must never send
// twice guard the send with their own conditional write).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// IdempotencyHeader carries the sender's idempotency key.
const IdempotencyHeader = "X-Tangkal-Idempotency-Key"

// Email is one message. Text is required; HTML is optional (sent as the
// multipart/alternative's second part).
type Email struct {
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	Headers map[string]string
}

// Validate reports the first missing or malformed field.
func (e Email) Validate() error {
	if !looksLikeAddress(e.From) {
		return fmt.Errorf("email field from: %q is not an address", e.From)
	}
	if len(e.To) == 0 {
		return errors.New("email field to: at least one recipient required")
	}
	for _, to := range e.To {
		if !looksLikeAddress(to) {
			return fmt.Errorf("email field to: %q is not an address", to)
		}
	}
	if strings.TrimSpace(e.Subject) == "" {
		return errors.New("email field subject: required")
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		return errors.New("email field subject: must be one line")
	}
	if e.Text == "" {
		return errors.New("email field text: required")
	}
	for k, v := range e.Headers {
		if k == "" || strings.ContainsAny(k, ": \r\n") || strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("email field headers: invalid header %q", k)
		}
	}
	return nil
}

func looksLikeAddress(s string) bool {
	at := strings.LastIndex(s, "@")
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, "\r\n")
}

// Mailer sends email and returns the provider's message id.
type Mailer interface {
	Send(ctx context.Context, e Email) (messageID string, err error)
}
