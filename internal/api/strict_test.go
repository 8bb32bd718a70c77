package api

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type strictReporter struct {
	Name    string `json:"name,omitempty"`
	Contact string `json:"contact,omitempty"`
}

type strictBody struct {
	URL        string            `json:"url"`
	Text       string            `json:"text,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Reporter   *strictReporter   `json:"reporter,omitempty"`
	ObservedAt *time.Time        `json:"observed_at,omitempty"`
	Ignored    string            `json:"-"`
}

func TestDecodeStrictRefusesWhatWouldBeReadAsSomethingElse(t *testing.T) {
	tests := []struct {
		name, body, field, msg string
	}{
		{"trailing brace", `{"url":"https://example.com/a"}}`, "body", "after the JSON object"},
		{"trailing braces", `{"url":"https://example.com/a"}}}}`, "body", "after the JSON object"},
		{"trailing bracket", `{"url":"https://example.com/a"}]`, "body", "after the JSON object"},
		{"trailing object", `{"url":"https://example.com/a"} {}`, "body", "after the JSON object"},
		{"trailing word", `{"url":"https://example.com/a"} x`, "body", "after the JSON object"},
		{"upper-case key", `{"URL":"https://example.com/a"}`, "URL", "case"},
		{"mixed-case key", `{"Url":"https://example.com/a"}`, "Url", "case"},
		{"upper-case text", `{"url":"https://example.com/a","TEXT":"x"}`, "TEXT", "case"},
		{"upper-case nested key", `{"url":"https://example.com/a","reporter":{"Name":"x"}}`, "reporter.Name", "case"},
		{"upper-case key in a list of objects is not checked past the type", `{"url":"https://example.com/a","tags":[{"A":1}]}`, "tags", ""},
		{"unknown key", `{"url":"https://example.com/a","colour":"red"}`, "colour", "unknown"},
		{"ignored field's Go name", `{"url":"https://example.com/a","Ignored":"x"}`, "Ignored", "unknown"},
		{"duplicate key", `{"url":"https://example.com/a","url":"https://example.com/b"}`, "url", "more than once"},
		{"duplicate nested key", `{"url":"https://example.com/a","reporter":{"name":"a","name":"b"}}`, "reporter.name", "more than once"},
		{"duplicate map key", `{"url":"https://example.com/a","labels":{"k":"a","k":"b"}}`, "labels.k", "more than once"},
		{"invalid UTF-8 in a value", "{\"url\":\"https://example.com/a\",\"text\":\"loker \xff\xfe\"}", "text", "UTF-8"},
		{"invalid UTF-8 in a nested value", "{\"url\":\"https://example.com/a\",\"reporter\":{\"name\":\"S\xc3\"}}", "reporter.name", "UTF-8"},
		{"invalid UTF-8 in a key", "{\"url\":\"https://example.com/a\",\"te\xffxt\":\"x\"}", "body", "UTF-8"},
		{"invalid UTF-8 in a list", "{\"url\":\"https://example.com/a\",\"tags\":[\"a\",\"\xff\"]}", "tags", "UTF-8"},
		{"lone high surrogate", `{"url":"https://example.com/a","text":"loker \ud800"}`, "text", "surrogate"},
		{"lone low surrogate", `{"url":"https://example.com/a","text":"\udc00 loker"}`, "text", "surrogate"},
		{"reversed surrogates", `{"url":"https://example.com/a","text":"\udc00\ud800"}`, "text", "surrogate"},
		{"high surrogate then letter", `{"url":"https://example.com/a","text":"\ud83dx"}`, "text", "surrogate"},
		{"wrong type", `{"url":42}`, "url", "string"},
		{"truncated", `{"url":"https://exa`, "body", "truncated"},
		{"malformed", `{"url" "x"}`, "body", "malformed"},
		{"empty", "  \n", "body", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v strictBody
			err := DecodeStrict([]byte(tt.body), &v)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Status != 400 || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %d field %q %q, want 400 field %q with %q", e.Status, e.Field, e.Message, tt.field, tt.msg)
			}
		})
	}
}

func TestDecodeStrictKeepsWhatIsValid(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(v strictBody) bool
	}{
		{"plain", `{"url":"https://example.com/a"}`, func(v strictBody) bool { return v.URL == "https://example.com/a" }},
		{"whitespace around", " \n\t{\"url\":\"u\"}\r\n ", func(v strictBody) bool { return v.URL == "u" }},
		{"escaped pair is one emoji", `{"url":"u","text":"\ud83d\ude4f"}`, func(v strictBody) bool { return v.Text == "🙏" }},
		{"literal emoji", `{"url":"u","text":"🙏 loker"}`, func(v strictBody) bool { return v.Text == "🙏 loker" }},
		{"a real replacement character stays", `{"url":"u","text":"� and \ufffd"}`, func(v strictBody) bool { return v.Text == "\ufffd and \ufffd" }},
		{"escaped backslash before u", `{"url":"u","text":"\\ud800"}`, func(v strictBody) bool { return v.Text == `\ud800` }},
		{"map keys differing in case are different keys", `{"url":"u","labels":{"k":"a","K":"b"}}`, func(v strictBody) bool { return v.Labels["k"] == "a" && v.Labels["K"] == "b" }},
		{"same key in two objects", `{"url":"u","reporter":{"name":"a"},"labels":{"name":"b"}}`, func(v strictBody) bool { return v.Reporter.Name == "a" }},
		{"time", `{"url":"u","observed_at":"2026-11-25T08:00:00Z"}`, func(v strictBody) bool { return v.ObservedAt != nil && v.ObservedAt.Year() == 2026 }},
		{"null nested", `{"url":"u","reporter":null,"tags":null}`, func(v strictBody) bool { return v.Reporter == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v strictBody
			if err := DecodeStrict([]byte(tt.body), &v); err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.check(v) {
				t.Fatalf("decoded %+v", v)
			}
		})
	}
}

// Two byte strings that differ must never decode to the same value: the
// replacement character must not stand in for what was sent.
func TestDecodeStrictNeverMergesDifferentBytes(t *testing.T) {
	bodies := []string{
		"{\"url\":\"u\",\"text\":\"a\xff\"}",
		"{\"url\":\"u\",\"text\":\"a\xfe\"}",
		`{"url":"u","text":"a\udc00"}`,
		`{"url":"u","text":"a\ud800"}`,
		`{"url":"u","text":"a\ufffd"}`,
	}
	seen := map[string]string{}
	for _, b := range bodies {
		var v strictBody
		if err := DecodeStrict([]byte(b), &v); err != nil {
			continue
		}
		if prev, ok := seen[v.Text]; ok {
			t.Fatalf("%q and %q both decode to text %q", prev, b, v.Text)
		}
		seen[v.Text] = b
	}
	if len(seen) != 1 {
		t.Fatalf("%d bodies accepted, want only the one with a real U+FFFD: %v", len(seen), seen)
	}
}
