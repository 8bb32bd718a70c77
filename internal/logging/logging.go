// Package logging gives every log line the case, execution, state and
// request it belongs to. Handlers put those attributes in their context
// once (With); every slog *Context call made with that context carries them.
// Lambda's request id is added from the Lambda context by itself.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Attribute names every log line uses.
const (
	CaseID    = "case_id"
	Execution = "execution"
	State     = "state"
	RequestID = "request_id"
)

type ctxKey struct{}

// With returns ctx with attributes (key, value pairs as slog takes them)
// that every record logged with it carries. Empty string values are left
// out; a later With of the same key wins.
func With(ctx context.Context, args ...any) context.Context {
	r := slog.Record{}
	r.Add(args...)
	prev, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	attrs := append([]slog.Attr(nil), prev...)
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			return true
		}
		for i := range attrs {
			if attrs[i].Key == a.Key {
				attrs[i] = a
				return true
			}
		}
		attrs = append(attrs, a)
		return true
	})
	return context.WithValue(ctx, ctxKey{}, attrs)
}

// Attrs returns the attributes With put in ctx.
func Attrs(ctx context.Context) []slog.Attr {
	attrs, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	return attrs
}

// Handler adds the context's attributes (and Lambda's request id) to each
// record before passing it on.
type Handler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	attrs := Attrs(ctx)
	hasRequest := false
	for _, a := range attrs {
		hasRequest = hasRequest || a.Key == RequestID
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && !hasRequest && lc.AwsRequestID != "" {
		attrs = append(attrs, slog.String(RequestID, lc.AwsRequestID))
	}
	if len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }

// New returns a JSON logger to w at the level AWS_LAMBDA_LOG_LEVEL names
// (Lambda's advanced logging controls; INFO when unset). Each line has the
// "level" and RFC 3339 "timestamp" keys Lambda reads to filter application
// logs itself (without a timestamp it would take every line for INFO).
func New(w io.Writer) *slog.Logger {
	return slog.New(Handler{slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: Level(os.Getenv("AWS_LAMBDA_LOG_LEVEL")),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				a.Key = TimestampKey
			}
			return a
		},
	})})
}

// TimestampKey is the key of each line's time, as Lambda's log-level
// filtering reads it.
const TimestampKey = "timestamp"

// Level reads a Lambda log level name (TRACE, DEBUG, INFO, WARN, ERROR,
// FATAL); anything else is INFO.
func Level(name string) slog.Level {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}
