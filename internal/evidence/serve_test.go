package evidence

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/api"
)

var t0 = time.Date(2026, 12, 1, 7, 30, 0, 0, time.UTC)

func newLinks(t *testing.T) *Links {
	t.Helper()
	l, err := NewLinks([]byte(strings.Repeat("s", 32)), "https://api.tangkal.example/", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewLinksRefusesWeakSettings(t *testing.T) {
	tests := []struct {
		name, secret, base string
		life               time.Duration
	}{
		{"short secret", "k", "https://api.example", 0},
		{"relative base", strings.Repeat("s", 32), "/evidence", 0},
		{"host only", strings.Repeat("s", 32), "api.example", 0},
		{"other scheme", strings.Repeat("s", 32), "ftp://api.example", 0},
		{"negative lifetime", strings.Repeat("s", 32), "https://api.example", -time.Hour},
	}
	for _, tt := range tests {
		if _, err := NewLinks([]byte(tt.secret), tt.base, tt.life); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	l, err := NewLinks([]byte(strings.Repeat("s", 32)), "https://api.example", 0)
	if err != nil || l.Lifetime != DefaultLinkLifetime {
		t.Fatalf("default lifetime %v, %v", l, err)
	}
	// Without a base URL: checks links, makes none.
	checker, err := NewLinks([]byte(strings.Repeat("s", 32)), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := checker.Link(strings.Repeat("a", 64), t0); u != "" {
		t.Errorf("a checker made the link %q", u)
	}
	made, _ := l.Link(strings.Repeat("a", 64), t0)
	q, _ := url.Parse(made)
	if err := checker.Verify(strings.Repeat("a", 64), q.Query().Get("exp"), q.Query().Get("sig"), t0); err != nil {
		t.Errorf("checker refuses a link of the same key: %v", err)
	}
}

func TestLifetimeDays(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", DefaultLinkLifetime, true},
		{"30", 30 * 24 * time.Hour, true},
		{" 7 ", 7 * 24 * time.Hour, true},
		{"0", 0, false},
		{"-3", 0, false},
		{"30d", 0, false},
		{"99999", 0, false},
	}
	for _, tt := range tests {
		got, err := LifetimeDays(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("LifetimeDays(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestHashOf(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		loc  string
		want string
	}{
		{"s3://tangkal-evidence/sha256/" + h, h},
		{"file://.local/evidence/sha256/" + h, h},
		{"file:///srv/x/sha256/" + h + "/../../etc", ""},
		{"s3://b/sha256/" + strings.ToUpper(h), ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got, ok := HashOf(tt.loc); got != tt.want || ok != (tt.want != "") {
			t.Errorf("HashOf(%q) = %q, %v", tt.loc, got, ok)
		}
	}
}

type served struct {
	status  int
	headers map[string]string
	body    []byte
	err     api.Error
}

func get(t *testing.T, s *Server, hash string, q url.Values) served {
	t.Helper()
	req := api.Request{RouteKey: Route, PathParameters: map[string]string{"sha256": hash}, QueryStringParameters: map[string]string{}}
	for k := range q {
		req.QueryStringParameters[k] = q.Get(k)
	}
	resp, err := api.Handle(s.Serve)(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	out := served{status: resp.StatusCode, headers: resp.Headers, body: []byte(resp.Body)}
	if resp.IsBase64Encoded {
		if out.body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			t.Fatal(err)
		}
	}
	if resp.StatusCode >= 400 {
		var e struct{ Error api.Error }
		if err := json.Unmarshal(out.body, &e); err != nil {
			t.Fatalf("error body %q: %v", out.body, err)
		}
		out.err = e.Error
	}
	return out
}

func linkQuery(t *testing.T, l *Links, hash string, now time.Time) url.Values {
	t.Helper()
	raw, _ := l.Link(hash, now)
	u, err := url.Parse(raw)
	if err != nil || u.Path != "/evidence/"+hash || !strings.HasPrefix(raw, "https://api.tangkal.example/evidence/") {
		t.Fatalf("link %q", raw)
	}
	return u.Query()
}

func TestServeEvidence(t *testing.T) {
	store := Folder{Dir: t.TempDir()}
	page := []byte(`<html><script>alert(1)</script>LOWONGAN ADMIN ONLINE KAMBOJA</html>`)
	binary := []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0xfe}
	for _, b := range [][]byte{page, binary} {
		if _, err := store.Put(context.Background(), b, "text/html"); err != nil {
			t.Fatal(err)
		}
	}
	hashOf := func(b []byte) string { return strings.TrimPrefix(Name(b), "sha256/") }
	links := newLinks(t)
	now := t0
	s := &Server{Links: links, Store: store, Now: func() time.Time { return now }}

	t.Run("page as text", func(t *testing.T) {
		h := hashOf(page)
		got := get(t, s, h, linkQuery(t, links, h, t0))
		if got.status != 200 || string(got.body) != string(page) {
			t.Fatalf("%d %q", got.status, got.body)
		}
		want := map[string]string{
			"Content-Type":            "text/plain; charset=utf-8",
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; sandbox",
			"Content-Disposition":     `inline; filename="` + h + `.txt"`,
			"X-Evidence-SHA256":       h,
		}
		for k, v := range want {
			if got.headers[k] != v {
				t.Errorf("%s = %q, want %q", k, got.headers[k], v)
			}
		}
	})
	t.Run("binary as attachment", func(t *testing.T) {
		h := hashOf(binary)
		got := get(t, s, h, linkQuery(t, links, h, t0))
		if got.status != 200 || string(got.body) != string(binary) {
			t.Fatalf("%d %q", got.status, got.body)
		}
		if got.headers["Content-Type"] != "application/octet-stream" || !strings.HasPrefix(got.headers["Content-Disposition"], "attachment;") || got.headers["X-Content-Type-Options"] != "nosniff" {
			t.Errorf("headers %v", got.headers)
		}
	})

	h := hashOf(page)
	good := linkQuery(t, links, h, t0)
	other := strings.Repeat("0", 64)
	tests := []struct {
		name   string
		hash   string
		q      url.Values
		at     time.Time
		status int
		field  string
	}{
		{"changed signature", h, url.Values{"exp": good["exp"], "sig": {strings.ToUpper(good.Get("sig"))}}, t0, 403, "sig"},
		{"extended expiry", h, url.Values{"exp": {"9999999999"}, "sig": good["sig"]}, t0, 403, "sig"},
		{"other copy, same signature", hashOf(binary), good, t0, 403, "sig"},
		{"no signature", h, url.Values{"exp": good["exp"]}, t0, 403, "sig"},
		{"no expiry", h, url.Values{"sig": good["sig"]}, t0, 403, "exp"},
		{"forged by another key", h, func() url.Values {
			l, _ := NewLinks([]byte(strings.Repeat("x", 32)), "https://api.tangkal.example", 0)
			return linkQuery(t, l, h, t0)
		}(), t0, 403, "sig"},
		{"expired", h, good, t0.Add(30 * 24 * time.Hour), 410, "exp"},
		{"valid link, nothing stored", other, linkQuery(t, links, other, t0), t0, 404, "sha256"},
		{"not a hash", "..%2F..%2Fetc%2Fpasswd", good, t0, 404, "sha256"},
		{"upper-case hash", strings.ToUpper(h), good, t0, 404, "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.at
			got := get(t, s, tt.hash, tt.q)
			if got.status != tt.status || got.err.Field != tt.field || got.err.Message == "" {
				t.Fatalf("%d %+v, want %d naming %s", got.status, got.err, tt.status, tt.field)
			}
			if strings.Contains(string(got.body), "<script>") {
				t.Fatal("a refusal carries the copy")
			}
		})
	}
	now = t0

	t.Run("copy altered on disk", func(t *testing.T) {
		path := filepath.Join(store.Dir, "sha256", h)
		if err := os.WriteFile(path, []byte("something else"), 0o644); err != nil {
			t.Fatal(err)
		}
		got := get(t, s, h, good)
		if got.status != 500 || strings.Contains(string(got.body), "something else") {
			t.Fatalf("%d %q", got.status, got.body)
		}
	})
}

func TestVerifyErrors(t *testing.T) {
	l := newLinks(t)
	h := strings.Repeat("c", 64)
	exp := t0.Add(time.Hour).Unix()
	sig := l.Sign(h, exp)
	if err := l.Verify(h, "1"+strings.Repeat("0", 10), sig, t0); !errors.Is(err, ErrForged) {
		t.Errorf("changed exp: %v", err)
	}
	if err := l.Verify(h, "soon", sig, t0); !errors.Is(err, ErrForged) {
		t.Errorf("garbage exp: %v", err)
	}
	if err := l.Verify(h, strconv.FormatInt(exp, 10), sig, t0.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v", err)
	}
	if err := l.Verify(h, strconv.FormatInt(exp, 10), sig, t0); err != nil {
		t.Errorf("valid: %v", err)
	}
}
