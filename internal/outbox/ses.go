package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/tangkal/tangkal/internal/deadline"
)

// SESClient is the part of the SES v2 client the mailer uses.
type SESClient interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends email through Amazon SES v2.
type SES struct {
	Client SESClient
	// ConfigurationSet is optional (bounce and complaint tracking).
	ConfigurationSet string
}

// NewSES returns a mailer using client.
func NewSES(client SESClient) *SES { return &SES{Client: client} }

// Send sends e as a simple SES message (text and optional HTML part, custom
// headers passed through) and returns SES's message id.
func (s *SES) Send(ctx context.Context, e Email) (string, error) {
	if err := e.Validate(); err != nil {
		return "", err
	}
	if s.Client == nil {
		return "", errors.New("ses: no client")
	}
	utf8 := aws.String("UTF-8")
	body := &types.Body{Text: &types.Content{Data: aws.String(e.Text), Charset: utf8}}
	if e.HTML != "" {
		body.Html = &types.Content{Data: aws.String(e.HTML), Charset: utf8}
	}
	msg := &types.Message{
		Subject: &types.Content{Data: aws.String(e.Subject), Charset: utf8},
		Body:    body,
	}
	for k, v := range e.Headers {
		msg.Headers = append(msg.Headers, types.MessageHeader{Name: aws.String(k), Value: aws.String(v)})
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(e.From),
		Destination:      &types.Destination{ToAddresses: e.To},
		Content:          &types.EmailContent{Simple: msg},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	ctx, cancel := deadline.Call(ctx, 10*time.Second)
	defer cancel()
	out, err := s.Client.SendEmail(ctx, in)
	if err != nil {
		return "", fmt.Errorf("ses: send %q: %w", e.Subject, err)
	}
	return aws.ToString(out.MessageId), nil
}
