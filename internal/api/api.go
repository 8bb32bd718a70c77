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
	"io"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/auth"
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

// JSON answers status with v as JSON.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Fail(err)
	}
	return Response{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/json; charset=utf-8",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(b),
	}
}

// Fail turns an error into a response: an *Error as itself, anything else as
// a 500 whose body reveals nothing (the cause is logged).
func Fail(err error) Response {
	var e *Error
	if errors.As(err, &e) {
		return JSON(e.Status, map[string]*Error{"error": e})
	}
	slog.Error("internal error", "err", err)
	return JSON(500, map[string]*Error{"error": {Code: "internal", Message: "internal error; the request was not completed"}})
}

// HandlerFunc is a handler that may return an error.
type HandlerFunc func(ctx context.Context, req Request) (Response, error)

// Handle wraps h: errors become contract errors and a panic becomes a 500
// instead of a crashed function.
func Handle(h HandlerFunc) func(context.Context, Request) (Response, error) {
	return func(ctx context.Context, req Request) (resp Response, err error) {
		defer func() {
			if r := recover(); r != nil {
				slog.Error("panic in handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()), "route", req.RouteKey)
				resp, err = Fail(errors.New("panic")), nil
			}
		}()
		resp, err = h(ctx, req)
		if err != nil {
			return Fail(err), nil
		}
		return resp, nil
	}
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
