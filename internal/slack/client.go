package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/tangkal/tangkal/internal/deadline"
)

// Client calls Slack's Web API with github.com/slack-go/slack: the calls
// approvals make (chat.postMessage, chat.update, views.open) and posts to
// an interaction's response URL. Locally APIURL points at the Slack
// stand-in, which serves the same methods.
type Client struct {
	api  *slackgo.Client
	http *http.Client
}

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// CallTimeout bounds one call to Slack, well inside the functions' own
// timeouts (and within their context's deadline: deadline.Call).
const CallTimeout = 10 * time.Second

// NewClient returns a client with the bot token. apiURL "" is Slack's; hc
// nil is a client with a CallTimeout timeout.
func NewClient(token, apiURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: CallTimeout}
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return &Client{api: slackgo.New(token, slackgo.OptionAPIURL(apiURL), slackgo.OptionHTTPClient(hc)), http: hc}
}

// Post posts a message (in thread when thread is set).
func (c *Client) Post(ctx context.Context, channel, thread, text string, blocks []slackgo.Block) (string, string, error) {
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...)}
	if thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(thread))
	}
	ctx, cancel := deadline.Call(ctx, CallTimeout)
	defer cancel()
	ch, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", "", fmt.Errorf("slack chat.postMessage to %s: %w", channel, err)
	}
	return ch, ts, nil
}

// Update replaces a message in place.
func (c *Client) Update(ctx context.Context, channel, ts, text string, blocks []slackgo.Block) error {
	ctx, cancel := deadline.Call(ctx, CallTimeout)
	defer cancel()
	if _, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("slack chat.update %s/%s: %w", channel, ts, err)
	}
	return nil
}

// OpenView opens a modal (views.open).
func (c *Client) OpenView(ctx context.Context, triggerID string, view slackgo.ModalViewRequest) error {
	ctx, cancel := deadline.Call(ctx, CallTimeout)
	defer cancel()
	if _, err := c.api.OpenViewContext(ctx, triggerID, view); err != nil {
		return fmt.Errorf("slack views.open: %w", err)
	}
	return nil
}

// Respond posts an ephemeral answer to an interaction's response URL.
func (c *Client) Respond(ctx context.Context, responseURL, text string) error {
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("slack respond: not a response URL")
	}
	ctx, cancel := deadline.Call(ctx, CallTimeout)
	defer cancel()
	return slackgo.PostWebhookCustomHTTPContext(ctx, responseURL, c.http, &slackgo.WebhookMessage{Text: text, ResponseType: "ephemeral"})
}

// ParseCallback reads the form-encoded body Slack posts to an
// interactivity URL into slack-go's InteractionCallback. Button clicks
// (block_actions) and modal submissions (view_submission) are accepted.
func ParseCallback(body []byte) (slackgo.InteractionCallback, error) {
	var cb slackgo.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, fmt.Errorf("slack interaction: form: %w", err)
	}
	raw := form.Get("payload")
	if raw == "" {
		return cb, errors.New("slack interaction field payload: required")
	}
	if err := json.Unmarshal([]byte(raw), &cb); err != nil {
		return cb, fmt.Errorf("slack interaction field payload: %w", err)
	}
	switch cb.Type {
	case slackgo.InteractionTypeBlockActions:
		if len(cb.ActionCallback.BlockActions) == 0 {
			return cb, errors.New("slack interaction field actions: no action")
		}
	case slackgo.InteractionTypeViewSubmission:
	default:
		return cb, fmt.Errorf("slack interaction field type: %q is not supported (want block_actions or view_submission)", cb.Type)
	}
	if cb.User.ID == "" {
		return cb, errors.New("slack interaction field user.id: required")
	}
	return cb, nil
}
