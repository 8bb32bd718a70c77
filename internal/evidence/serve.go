package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/tangkal/tangkal/internal/api"
)

// Route is the HTTP API route of Server.
const Route = "GET /evidence/{sha256}"

// Server answers GET /evidence/{sha256}?exp=&sig= for platforms following
// the link in a notice. It checks the link before it looks at the store:
// 403 for a missing or wrong signature, 410 for an expired link, 404 when
// no copy has that hash. The stored bytes are never served as a page of
// this API: valid UTF-8 goes out as text/plain (the page's source), any
// other body as an octet-stream attachment, both with nosniff and a
// sandboxing Content-Security-Policy.
type Server struct {
	Links *Links
	Store Reader
	Now   func() time.Time // nil: time.Now
}

// Serve is the handler of Route.
func (s *Server) Serve(ctx context.Context, req api.Request) (api.Response, error) {
	if req.RouteKey != Route {
		return api.Response{}, api.Errorf(404, "not_found", "", "no route %s", req.RouteKey)
	}
	hash := req.PathParameters["sha256"]
	if !hexRe.MatchString(hash) {
		return api.Response{}, api.Errorf(404, "not_found", "sha256", "%q is not the SHA-256 of an evidence copy (64 lower-case hex digits)", hash)
	}
	exp, sig := req.QueryStringParameters["exp"], req.QueryStringParameters["sig"]
	switch {
	case sig == "":
		return api.Response{}, api.Errorf(403, "forbidden", "sig", "the link has no signature; use the link from the notice as it is")
	case exp == "":
		return api.Response{}, api.Errorf(403, "forbidden", "exp", "the link has no expiry; use the link from the notice as it is")
	case s.Links == nil:
		return api.Response{}, errors.New("evidence server: no link signer configured")
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	switch err := s.Links.Verify(hash, exp, sig, now); {
	case errors.Is(err, ErrExpired):
		return api.Response{}, api.Errorf(410, "expired", "exp", "this evidence link has expired; the latest notice for the case has a current one")
	case err != nil:
		return api.Response{}, api.Errorf(403, "forbidden", "sig", "the link's signature does not match; use the link from the notice as it is")
	}
	if s.Store == nil {
		return api.Response{}, errors.New("evidence server: no evidence store configured")
	}
	body, err := s.Store.Get(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return api.Response{}, api.Errorf(404, "not_found", "sha256", "no evidence copy with this hash is stored")
	}
	if err != nil {
		return api.Response{}, fmt.Errorf("serve evidence %s: %w", hash, err)
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != hash {
		return api.Response{}, fmt.Errorf("serve evidence %s: the stored copy does not match its hash", hash)
	}
	return Response(hash, body), nil
}

// Response is the answer carrying a stored copy: text/plain for valid
// UTF-8 without NUL bytes, otherwise an application/octet-stream
// attachment; never a type a browser would render or run.
func Response(hash string, body []byte) api.Response {
	sum := sha256.Sum256(body)
	h := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Cache-Control":           "private, no-store",
		"Referrer-Policy":         "no-referrer",
		"Repr-Digest":             "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":",
		"X-Evidence-SHA256":       hash,
	}
	resp := api.Response{StatusCode: http.StatusOK, Headers: h}
	if utf8.Valid(body) && !bytes.ContainsRune(body, 0) {
		h["Content-Type"] = "text/plain; charset=utf-8"
		h["Content-Disposition"] = `inline; filename="` + hash + `.txt"`
		resp.Body = string(body)
		return resp
	}
	h["Content-Type"] = "application/octet-stream"
	h["Content-Disposition"] = `attachment; filename="` + hash + `.bin"`
	resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	return resp
}
