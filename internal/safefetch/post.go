package safefetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// CheckURL applies the URL policy to rawURL without connecting: scheme,
// port, host (names are resolved, and every address checked, when a
// request is made).
func (f *Fetcher) CheckURL(rawURL string) error {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return &BlockedError{URL: rawURL, Reason: "invalid URL"}
	}
	_, _, err = f.check(u)
	return err
}

// Post sends body to rawURL under the same rules as Get (every resolved
// address checked when dialling), following no redirect, and returns the
// answer's status. The answer's body is read (at most MaxBodyBytes) and
// dropped.
func (f *Fetcher) Post(ctx context.Context, rawURL, contentType string, body []byte, header map[string]string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return 0, &BlockedError{URL: rawURL, Reason: "invalid URL"}
	}
	target, rt, err := f.check(u)
	if err != nil {
		return 0, err
	}
	wire := *target
	if r, ok := f.routes[normalizeHost(target.Hostname())]; ok && r.plain {
		wire.Scheme = "http"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wire.String(), bytes.NewReader(body))
	if err != nil {
		return 0, &BlockedError{URL: target.String(), Reason: "invalid URL"}
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		var b *BlockedError
		if errors.As(err, &b) {
			b.URL = target.String()
			return 0, b
		}
		return 0, &FetchError{URL: target.String(), Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, f.maxBody))
	return resp.StatusCode, nil
}
