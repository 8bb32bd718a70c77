package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/deadline"
)

// SlackHTTP posts messages to Slack: to an incoming-webhook URL (Token
// empty) or to the Web API's chat.postMessage (URL
// "https://slack.com/api/chat.postMessage" and a bot Token).
type SlackHTTP struct {
	URL   string
	Token string
	HTTP  *http.Client // nil: 10s timeout client
}

// Post sends {"channel", "blocks"}. A non-2xx answer or a Web API answer
// with "ok": false is an error.
func (s *SlackHTTP) Post(ctx context.Context, channel string, blocks json.RawMessage) error {
	if s.URL == "" {
		return errors.New("slack post: no URL configured")
	}
	if !json.Valid(blocks) {
		return errors.New("slack post field blocks: not valid JSON")
	}
	body, err := json.Marshal(map[string]any{"channel": channel, "blocks": blocks})
	if err != nil {
		return fmt.Errorf("slack post: %w", err)
	}
	ctx, cancel := deadline.Call(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("slack post: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	c := s.HTTP
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("slack post to %s: %w", channel, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("slack post to %s: HTTP %d: %s", channel, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var ans struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &ans) == nil && !ans.OK {
			return fmt.Errorf("slack post to %s: %s", channel, ans.Error)
		}
	}
	return nil
}
