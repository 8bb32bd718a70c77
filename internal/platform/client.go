package platform

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Sender sends one notice to a platform.
type Sender interface {
	Send(ctx context.Context, req Request) (Receipt, error)
}

// Client sends notices to whichever platform a request names: takedown
// requests on the platform's channel (webhook or email), warnings by email
// to the platform's escalation contacts.
type Client struct {
	Config Config
	Mailer Mailer
	From   string       // sender address of notices
	HTTP   *http.Client // nil: 30s timeout client
	// Secret returns the webhook secret stored in the named environment
	// variable; nil reads the environment.
	Secret func(envName string) []byte
	Now    func() time.Time // nil: time.Now
	// Names names the indicators a notice cites (IndicatorNames(rules));
	// nil writes them out from their ids.
	Names Namer
	// EvidenceLinks links notices to the stored copy of the ad; nil
	// leaves the link out.
	EvidenceLinks Linker
}

func (c *Client) letters() Letters { return Letters{Names: c.Names, Evidence: c.EvidenceLinks} }

func (c *Client) secret(env string) []byte {
	if c.Secret != nil {
		return c.Secret(env)
	}
	return []byte(os.Getenv(env))
}

// Sender returns the adapter for a notice of the given kind to platform id.
func (c *Client) Sender(id string, kind Kind) (Sender, error) {
	p, err := c.Config.Get(id)
	if err != nil {
		return nil, err
	}
	if kind == KindTakedown && p.Channel == ChannelWebhook {
		return c.webhook(p), nil
	}
	return &EmailSender{Platform: p, Mailer: c.Mailer, From: c.From, Now: c.Now, Letters: c.letters()}, nil
}

func (c *Client) webhook(p Platform) *Webhook {
	return &Webhook{Platform: p, Secret: c.secret(p.WebhookSecretEnv), HTTP: c.HTTP, Now: c.Now, Letters: c.letters()}
}

// Send sends req through the right adapter.
func (c *Client) Send(ctx context.Context, req Request) (Receipt, error) {
	kind := req.Kind
	if kind == "" {
		kind = KindTakedown
	}
	s, err := c.Sender(req.Platform, kind)
	if err != nil {
		return Receipt{}, fmt.Errorf("send %s for case %s: %w", kind, req.CaseID, err)
	}
	return s.Send(ctx, req)
}

// Status asks platform id's status API about an ad. It returns
// ErrNoStatusAPI (with StatusUnknown) for platforms without one; the caller
// then re-fetches the page and lets package compliance judge it.
func (c *Client) Status(ctx context.Context, id, adURL string) (StatusAnswer, error) {
	p, err := c.Config.Get(id)
	if err != nil {
		return StatusAnswer{}, err
	}
	return c.webhook(p).Status(ctx, adURL)
}
