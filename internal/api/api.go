// Package api holds what every HTTP handler of tangkal shares: JSON answers,
// the error shape of the contract, strict request decoding and role checks,
// all on API Gateway HTTP API (v2) events.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/logging"
)

// Request and Response are the API Gateway v2 HTTP shapes.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// Error is the contract's error: {"error": {"code", "message", "field"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Headers go on the error's answer (e.g. Retry-After on a 429).
	Headers map[string]string `json:"-"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Errorf makes an *Error.
func Errorf(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a 400 naming the field.
func Invalid(field, format string, args ...any) *Error {
	return Errorf(400, "invalid_request", field, format, args...)
}

// Common errors.
var (
	ErrUnauthorized = &Error{Status: 401, Code: "unauthorized", Message: "a valid bearer token is required"}
	ErrForbidden    = &Error{Status: 403, Code: "forbidden", Message: "your role may not do this"}
)

// NotFound is a 404 for a missing thing.
func NotFound(what string) *Error {
	return Errorf(404, "not_found", "", "%s not found", what)
}

// securityHeaders go on every answer: nothing is cached, sniffed, framed
// or allowed to load anything but its own inline styles.
func securityHeaders(contentType string) map[string]string {
	return map[string]string{
		"Content-Type":            contentType,
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
}

// JSON answers status with v as JSON.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Fail(err)
	}
	return Response{StatusCode: status, Headers: securityHeaders("application/json; charset=utf-8"), Body: string(b)}
}

// HTML answers status with a page for people.
func HTML(status int, page string) Response {
	return Response{StatusCode: status, Headers: securityHeaders("text/html; charset=utf-8"), Body: page}
}

// Fail turns an error into the contract's JSON answer: an *Error as itself,
// anything else as a 500 whose body reveals nothing (the cause is logged).
func Fail(err error) Response { return fail(context.Background(), err, false) }

// fail is the one error path of every handler: the error as JSON, or as an
// HTML page when page is true.
func fail(ctx context.Context, err error, page bool) Response {
	var e *Error
	if !errors.As(err, &e) {
		slog.ErrorContext(ctx, "internal error", "err", err)
		e = &Error{Status: 500, Code: "internal", Message: "internal error; the request was not completed"}
	}
	if !page {
		return withHeaders(JSON(e.Status, map[string]*Error{"error": e}), e.Headers)
	}
	var b strings.Builder
	if err := errorPage.Execute(&b, map[string]any{"Status": e.Status, "Title": http.StatusText(e.Status), "Message": e.Message}); err != nil {
		return withHeaders(JSON(e.Status, map[string]*Error{"error": e}), e.Headers)
	}
	return withHeaders(HTML(e.Status, b.String()), e.Headers)
}

func withHeaders(r Response, h map[string]string) Response {
	for k, v := range h {
		if _, fixed := r.Headers[k]; !fixed {
			r.Headers[k] = v
		}
	}
	return r
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:48em;margin:2em auto;padding:0 1em}</style></head>
<body><h1>{{.Status}} {{.Title}}</h1><p>{{.Message}}</p></body></html>`))

// HandlerFunc is a handler that may return an error.
type HandlerFunc func(ctx context.Context, req Request) (Response, error)

// Handle wraps h for the JSON API: errors become contract errors and a
// panic becomes a 500 instead of a crashed function.
func Handle(h HandlerFunc) func(context.Context, Request) (Response, error) {
	return serve(h, func(Request) bool { return false })
}

// HandlePage wraps h for pages people open (approval links): errors are an
// HTML page unless the client asks for JSON.
func HandlePage(h HandlerFunc) func(context.Context, Request) (Response, error) {
	return serve(h, func(req Request) bool { return !WantsJSON(req) })
}

func serve(h HandlerFunc, page func(Request) bool) func(context.Context, Request) (Response, error) {
	return func(ctx context.Context, req Request) (resp Response, err error) {
		ctx = logging.With(ctx, logging.RequestID, req.RequestContext.RequestID)
		defer func() {
			if r := recover(); r != nil {
				slog.ErrorContext(ctx, "panic in handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()), "route", req.RouteKey)
				resp, err = fail(ctx, errors.New("panic"), page(req)), nil
			}
		}()
		resp, err = h(ctx, req)
		if err != nil {
			return fail(ctx, err, page(req)), nil
		}
		return resp, nil
	}
}

// WantsJSON reports whether the client sent or asks for JSON.
func WantsJSON(req Request) bool {
	ct, _, _ := mime.ParseMediaType(Header(req, "Content-Type"))
	return ct == "application/json" || strings.Contains(Header(req, "Accept"), "application/json")
}

// Body returns the request body, decoded if API Gateway base64-encoded it,
// refusing more than max bytes.
func Body(req Request, max int) ([]byte, error) {
	b := []byte(req.Body)
	if req.IsBase64Encoded {
		d, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, Invalid("body", "body is not valid base64")
		}
		b = d
	}
	if len(b) > max {
		return nil, Errorf(413, "too_large", "body", "body is larger than %d bytes", max)
	}
	return b, nil
}

// DecodeStrict decodes one JSON object into v, rejecting unknown fields,
// wrong types and trailing data with an error naming the field. It also
// refuses what encoding/json alone would quietly read as something else:
// keys matching a field only case-insensitively ("URL" for "url"), keys
// given twice, `}` or `]` after the object, and invalid UTF-8 or escaped
// lone surrogates in strings (which would become U+FFFD).
func DecodeStrict(b []byte, v any) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return Invalid("body", "body is empty; a JSON object is required")
	}
	if err := checkShape(b, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var apiErr *Error
		if errors.As(err, &apiErr) {
			return apiErr
		}
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return Invalid(field, "must be a %s, not a JSON %s", typeName(typeErr.Type.Kind().String()), typeErr.Value)
		case errors.As(err, &syntaxErr):
			return Invalid("body", "malformed JSON at byte %d", syntaxErr.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return Invalid(field, "unknown field %q", field)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return Invalid("body", "truncated JSON")
		default:
			var timeErr *json.UnsupportedValueError
			if errors.As(err, &timeErr) {
				return Invalid("body", "%v", err)
			}
			return Invalid("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Invalid("body", "unexpected data after the JSON object")
	}
	if !utf8.Valid(b) {
		return Invalid("body", "body is not valid UTF-8")
	}
	return nil
}

func typeName(kind string) string {
	switch kind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "int", "int64", "float64", "uint":
		return "number"
	case "bool":
		return "boolean"
	}
	return kind
}

// Require returns the caller if it holds one of roles: 401 without an
// authenticated caller, 403 with the wrong role.
func Require(req Request, roles ...string) (auth.Principal, error) {
	p, ok := auth.FromRequest(req)
	if !ok {
		return p, ErrUnauthorized
	}
	if !p.HasAny(roles...) {
		return p, Errorf(403, "forbidden", "", "requires role %s", strings.Join(roles, " or "))
	}
	return p, nil
}

// Header reads a header case-insensitively (API Gateway lower-cases them).
func Header(req Request, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
