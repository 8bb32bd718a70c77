package report

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/api"
)

func TestParseRejectsBadInputNamingTheField(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("a", 2049)
	tests := []struct {
		name, body, field string
		status            int
	}{
		{"empty body", ``, "body", 400},
		{"not json", `url=x`, "body", 400},
		{"array", `[]`, "", 400},
		{"missing url", `{"text":"loker"}`, "url", 400},
		{"blank url", `{"url":"   "}`, "url", 400},
		{"ftp url", `{"url":"ftp://example.com/ad"}`, "url", 400},
		{"javascript url", `{"url":"javascript:alert(1)"}`, "url", 400},
		{"relative url", `{"url":"/p/123"}`, "url", 400},
		{"url too long", `{"url":"https://example.com/` + long + `"}`, "url", 400},
		{"url wrong type", `{"url":42}`, "url", 400},
		{"unknown field", `{"url":"https://example.com/a","colour":"red"}`, "colour", 400},
		{"text too long", `{"url":"https://example.com/a","text":"` + strings.Repeat("é", 10001) + `"}`, "text", 400},
		{"bad platform", `{"url":"https://example.com/a","platform":"myspace"}`, "platform", 400},
		{"bad category", `{"url":"https://example.com/a","category":"DROP TABLE"}`, "category", 400},
		{"reporter name too long", `{"url":"https://example.com/a","reporter":{"name":"` + strings.Repeat("n", 201) + `"}}`, "reporter.name", 400},
		{"unknown reporter field", `{"url":"https://example.com/a","reporter":{"phone":"1"}}`, "reporter.phone", 400},
		{"observed in future", `{"url":"https://example.com/a","observed_at":"2027-01-01T00:00:00Z"}`, "observed_at", 400},
		{"observed not a time", `{"url":"https://example.com/a","observed_at":"yesterday"}`, "body", 400},
		{"trailing data", `{"url":"https://example.com/a"} {}`, "body", 400},
		{"body too large", `{"url":"https://example.com/a","text":"` + strings.Repeat("a", 70000) + `"}`, "body", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.body), now)
			var e *api.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *api.Error", err)
			}
			if e.Status != tt.status || (tt.field != "" && e.Field != tt.field) {
				t.Fatalf("got %d field %q (%s), want %d field %q", e.Status, e.Field, e.Message, tt.status, tt.field)
			}
		})
	}
}

func TestParseAcceptsAFullReport(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	body := `{"url":"http://m.facebook.com/groups/123/posts/456/?fbclid=abc","platform":"facebook","text":"Loker admin online Kamboja, gaji 15jt, visa turis 🙏",
	"category":"scam_compound","notes":"seen twice","reporter":{"name":"Sari","contact":"sari@example.org","organization":"NGO"},"observed_at":"2026-11-25T08:00:00Z"}`
	s, c, err := Parse([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Platform != "facebook" || strings.Contains(c.URL, "fbclid") || !strings.HasPrefix(c.URL, "https://facebook.com/") {
		t.Fatalf("canonical = %+v", c)
	}
	if s.Reporter == nil || s.Reporter.Organization != "NGO" || s.ObservedAt == nil {
		t.Fatalf("submission = %+v", s)
	}
}

func TestParseRemovesCredentialsFromTheURL(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, url, wantURL, wantCanonical string
		warned                            bool
	}{
		{"user and password", "https://sari:Rahasia-123@m.facebook.com/groups/1/posts/2/?mibextid=x",
			"https://m.facebook.com/groups/1/posts/2/?mibextid=x", "https://facebook.com/groups/1/posts/2", true},
		{"user alone", "https://sari@lokerjepang555.example/daftar", "https://lokerjepang555.example/daftar", "https://lokerjepang555.example/daftar", true},
		{"empty userinfo", "http://@lokerjepang555.example/", "http://lokerjepang555.example/", "https://lokerjepang555.example/", true},
		{"@ in the path is kept", "https://www.tiktok.com/@kerja/video/7", "https://www.tiktok.com/@kerja/video/7", "https://tiktok.com/@kerja/video/7", false},
		{"no userinfo", "https://x.com/a/status/1", "https://x.com/a/status/1", "https://x.com/a/status/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, err := Parse([]byte(`{"url":"`+tt.url+`"}`), now)
			if err != nil {
				t.Fatal(err)
			}
			if s.URL != tt.wantURL || c.URL != tt.wantCanonical {
				t.Fatalf("url %q canonical %q, want %q and %q", s.URL, c.URL, tt.wantURL, tt.wantCanonical)
			}
			w := s.Warnings()
			if !tt.warned {
				if len(w) != 0 {
					t.Fatalf("warnings %+v for a URL without credentials", w)
				}
				return
			}
			if len(w) != 1 || w[0].Field != "url" || w[0].Code != WarnCredentialsRemoved {
				t.Fatalf("warnings = %+v, want one credentials_removed on url", w)
			}
			// Bahasa Indonesia first, then English; and never the secret itself.
			id, en := strings.Index(w[0].Message, "kata sandi"), strings.Index(w[0].Message, "password")
			if id < 0 || en < 0 || id > en || strings.Contains(w[0].Message, "Rahasia") || strings.Contains(w[0].Message, "sari") {
				t.Fatalf("message %q", w[0].Message)
			}
		})
	}
}

func TestIdempotencyKeyFormat(t *testing.T) {
	for k, want := range map[string]bool{"abc-123": true, "": false, "has space": false, strings.Repeat("k", 129): false, "ünï": false} {
		if got := ValidIdempotencyKey(k); got != want {
			t.Errorf("ValidIdempotencyKey(%q) = %v", k, got)
		}
	}
}
