package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFolder(t *testing.T) (*Folder, *clock) {
	t.Helper()
	f, err := NewFolder(filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: t0}
	f.Now = c.now
	return f, c
}

func sample() Email {
	return Email{
		From:    "Tangkal <tangkal@agency.example>",
		To:      []string{"approver@agency.example", "second@agency.example"},
		Subject: "Persetujuan diperlukan: iklan TikTok — kasus c-1",
		Text:    "Buka tautan: https://api.example/approvals/a1?a=approver%40agency.example&exp=1&sig=abc\nTerima kasih.",
		HTML:    `<p>Buka <a href="https://api.example/approvals/a1">tautan</a> — terima kasih</p>`,
		Headers: map[string]string{"X-Tangkal-Case": "c-1"},
	}
}

func emlFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	return m
}

func TestFolderWritesParseableEmail(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Email)
		multipart bool
	}{
		{"text and html", func(*Email) {}, true},
		{"text only", func(e *Email) { e.HTML = "" }, false},
		{"long lines and CRLF", func(e *Email) { e.Text = strings.Repeat("panjang ", 40) + "\r\nbaris dua"; e.HTML = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFolder(t)
			e := sample()
			tt.edit(&e)
			id, err := f.Send(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			files := emlFiles(t, f.Dir)
			if len(files) != 1 {
				t.Fatalf("%d files", len(files))
			}
			raw, _ := os.ReadFile(files[0])
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Header.Get("Message-Id") != id || !strings.HasPrefix(id, "<") {
				t.Errorf("Message-ID %q, returned %q", msg.Header.Get("Message-Id"), id)
			}
			if d, err := msg.Header.Date(); err != nil || !d.Equal(t0) {
				t.Errorf("Date %v %v", d, err)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || subject != e.Subject {
				t.Errorf("subject %q %v", subject, err)
			}
			to, err := msg.Header.AddressList("To")
			if err != nil || len(to) != 2 || to[1].Address != "second@agency.example" {
				t.Errorf("To %v %v", to, err)
			}
			if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Name != "Tangkal" {
				t.Errorf("From %v %v", from, err)
			}
			if msg.Header.Get("X-Tangkal-Case") != "c-1" {
				t.Errorf("custom header lost")
			}
			mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil {
				t.Fatal(err)
			}
			wantText := strings.ReplaceAll(e.Text, "\r\n", "\n")
			if !tt.multipart {
				b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
				if mt != "text/plain" || strings.ReplaceAll(string(b), "\r\n", "\n") != wantText {
					t.Errorf("%s body %q", mt, b)
				}
				return
			}
			if mt != "multipart/alternative" {
				t.Fatalf("content type %s", mt)
			}
			mr := multipart.NewReader(msg.Body, params["boundary"])
			var parts []string
			var bodies []string
			for {
				p, err := mr.NextPart() // decodes quoted-printable
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(p)
				pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
				parts = append(parts, pt)
				bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
			}
			if strings.Join(parts, ",") != "text/plain,text/html" || bodies[0] != wantText || bodies[1] != e.HTML {
				t.Errorf("parts %v bodies %q", parts, bodies)
			}
		})
	}
}

func TestEmailValidation(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Email)
	}{
		{"from", func(e *Email) { e.From = "nobody" }},
		{"to", func(e *Email) { e.To = nil }},
		{"to", func(e *Email) { e.To = []string{"x"} }},
		{"subject", func(e *Email) { e.Subject = " " }},
		{"subject", func(e *Email) { e.Subject = "a\r\nBcc: evil@x.example" }},
		{"text", func(e *Email) { e.Text = "" }},
		{"headers", func(e *Email) { e.Headers = map[string]string{"X-A": "b\r\nBcc: evil@x.example"} }},
	}
	f, _ := newFolder(t)
	for _, tt := range tests {
		e := sample()
		tt.edit(&e)
		if _, err := f.Send(context.Background(), e); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v", tt.field, err)
		}
	}
	if n := len(emlFiles(t, f.Dir)); n != 0 {
		t.Errorf("%d invalid emails written", n)
	}
}

func TestFolderDeduplicatesByIdempotencyKey(t *testing.T) {
	f, _ := newFolder(t)
	e := sample()
	e.Headers = map[string]string{IdempotencyHeader: "c-1:takedown:1"}
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := f.Send(context.Background(), e)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("different ids %q %q", id, ids[0])
		}
	}
	if n := len(emlFiles(t, f.Dir)); n != 1 {
		t.Fatalf("%d files for one key", n)
	}
	e.Headers[IdempotencyHeader] = "c-1:takedown:2"
	if id, _ := f.Send(context.Background(), e); id == ids[0] || len(emlFiles(t, f.Dir)) != 2 {
		t.Fatal("a new attempt was deduplicated")
	}
}

func TestHandlerListsAndShowsMessages(t *testing.T) {
	f, c := newFolder(t)
	first := sample()
	first.Subject = "older <script>alert(1)</script>"
	f.Send(context.Background(), first)
	c.add(time.Minute)
	f.Post(context.Background(), "#approvals", json.RawMessage(`[{"type":"section","text":{"type":"mrkdwn","text":"see https://api.example/approvals/a2?sig=x"}}]`))
	c.add(time.Minute)
	f.Send(context.Background(), sample())
	// Leftover temp files are not messages.
	os.WriteFile(filepath.Join(f.Dir, ".tmp-123"), []byte("junk"), 0o644)

	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	get := func(path string) (int, string, http.Header) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	entries, err := f.List()
	if err != nil || len(entries) != 3 {
		t.Fatalf("entries %v %v", entries, err)
	}
	if entries[0].Subject != sample().Subject || entries[1].Kind != "slack" || entries[2].Subject != first.Subject {
		t.Fatalf("not newest first: %+v", entries)
	}
	code, body, h := get("/")
	if code != 200 || strings.Contains(body, "<script>") || !strings.Contains(body, "older &lt;script&gt;") {
		t.Fatalf("list %d %s", code, body)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Content-Security-Policy") == "" {
		t.Errorf("headers %v", h)
	}
	if strings.Index(body, "kasus c-1") > strings.Index(body, "older") {
		t.Error("list not newest first")
	}

	tests := []struct {
		name, path string
		code       int
		contains   string
	}{
		{"email link clickable", "/m/" + entries[0].Name, 200, `<a href="https://api.example/approvals/a1?a=approver%40agency.example&amp;exp=1&amp;sig=abc" rel="noreferrer">`},
		{"email html part sandboxed", "/m/" + entries[0].Name, 200, `<iframe sandbox=`},
		{"slack link clickable", "/m/" + entries[1].Name, 200, `<a href="https://api.example/approvals/a2?sig=x"`},
		{"subject escaped", "/m/" + entries[2].Name, 200, `older &lt;script&gt;`},
		{"raw", "/raw/" + entries[0].Name, 200, "MIME-Version: 1.0"},
		{"missing", "/m/nothing.eml", 404, "no such message"},
		{"traversal", "/m/..%2f..%2fetc%2fpasswd", 404, ""},
		{"temp file", "/m/.tmp-123", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := get(tt.path)
			if code != tt.code || !strings.Contains(body, tt.contains) {
				t.Fatalf("%d %s", code, body)
			}
			if strings.Contains(body, "<script>alert") {
				t.Fatal("unescaped script")
			}
		})
	}
}

func TestSESSendsSimpleMessage(t *testing.T) {
	var got map[string]any
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"MessageId":"0100018e-ses-id"}`)
	}))
	defer srv.Close()
	client := sesv2.NewFromConfig(aws.Config{
		Region: "ap-southeast-3", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	m := NewSES(client)
	m.ConfigurationSet = "tangkal"
	id, err := m.Send(context.Background(), sample())
	if err != nil || id != "0100018e-ses-id" {
		t.Fatalf("%q %v", id, err)
	}
	simple := got["Content"].(map[string]any)["Simple"].(map[string]any)
	if path != "/v2/email/outbound-emails" || got["FromEmailAddress"] != sample().From ||
		simple["Subject"].(map[string]any)["Data"] != sample().Subject ||
		simple["Body"].(map[string]any)["Html"].(map[string]any)["Data"] != sample().HTML ||
		got["ConfigurationSetName"] != "tangkal" {
		t.Fatalf("%s %v", path, got)
	}
	if _, err := m.Send(context.Background(), Email{}); err == nil {
		t.Fatal("invalid email sent")
	}
}
