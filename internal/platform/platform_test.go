package platform

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/outbox"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func TestDefaultConfig(t *testing.T) {
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"facebook", "instagram", "tiktok", "x", "telegram", "youtube", "whatsapp", "website"} {
		p, err := cfg.Get(id)
		if err != nil {
			t.Fatalf("bundled config lacks %s: %v", id, err)
		}
		if p.ID != id || time.Duration(p.Deadlines.Urgent) != 4*time.Hour || time.Duration(p.Deadlines.Normal) != 24*time.Hour {
			t.Errorf("%s: id %q deadlines %v/%v", id, p.ID, p.Deadlines.Urgent, p.Deadlines.Normal)
		}
		if len(p.Escalation.Warning1) == 0 || len(p.Escalation.Warning2) == 0 || len(p.Escalation.Warning3) == 0 {
			t.Errorf("%s: escalation contacts missing", id)
		}
		if p.Channel == ChannelWebhook && !strings.Contains(p.WebhookURL, ".example/") {
			t.Errorf("%s: webhook URL %q is not a placeholder host", id, p.WebhookURL)
		}
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, json, field string
	}{
		{"empty", `{"platforms":{}}`, "platforms"},
		{"unknown field", `{"platforms":{"a":{"display_name":"A","channel":"email","notice_email":"a@b.example","bogus":1}}}`, "bogus"},
		{"bad channel", `{"platforms":{"a":{"display_name":"A","channel":"fax"}}}`, "channel"},
		{"webhook without url", `{"platforms":{"a":{"display_name":"A","channel":"webhook","webhook_secret_env":"S"}}}`, "webhook_url"},
		{"webhook without secret", `{"platforms":{"a":{"display_name":"A","channel":"webhook","webhook_url":"https://h.example/t"}}}`, "webhook_secret_env"},
		{"email without address", `{"platforms":{"a":{"display_name":"A","channel":"email"}}}`, "notice_email"},
		{"no name", `{"platforms":{"a":{"channel":"email","notice_email":"a@b.example"}}}`, "display_name"},
		{"bad duration", `{"platforms":{"a":{"display_name":"A","channel":"email","notice_email":"a@b.example","deadlines":{"urgent":"soon"}}}}`, "soon"},
		{"urgent longer", `{"platforms":{"a":{"display_name":"A","channel":"email","notice_email":"a@b.example","deadlines":{"urgent":"48h"}}}}`, "deadlines"},
		{"bad contact", `{"platforms":{"a":{"display_name":"A","channel":"email","notice_email":"a@b.example","escalation":{"warning_1":["nobody"]}}}}`, "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %v does not name %q", err, tt.field)
			}
		})
	}
}

func TestLoadFileAndConfigurableDeadlines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(path, []byte(`{"platforms":{"shop":{"display_name":"Shop","channel":"email","notice_email":"abuse@shop.example","deadlines":{"urgent":"2h","normal":"12h"}}}}`), 0o600)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Get("shop")
	tests := []struct {
		urgency string
		want    time.Time
	}{
		{UrgencyUrgent, t0.Add(2 * time.Hour)},
		{UrgencyNormal, t0.Add(12 * time.Hour)},
		{"", t0.Add(12 * time.Hour)},
	}
	for _, tt := range tests {
		if got := Deadline(p, tt.urgency, t0); !got.Equal(tt.want) {
			t.Errorf("Deadline(%q) = %v, want %v", tt.urgency, got, tt.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestForHost(t *testing.T) {
	cfg, _ := Default()
	tests := []struct{ host, want string }{
		{"www.facebook.com", "facebook"},
		{"M.Facebook.com:443", "facebook"},
		{"vm.tiktok.com", "tiktok"},
		{"twitter.com", "x"},
		{"t.me", "telegram"},
		{"youtu.be", "youtube"},
		{"wa.me", "whatsapp"},
		{"lowongan-kerja.example", ""},
		{"notfacebook.com", ""},
	}
	for _, tt := range tests {
		p, ok := cfg.ForHost(tt.host)
		if p.ID != tt.want || ok != (tt.want != "") {
			t.Errorf("ForHost(%q) = %q,%v; want %q", tt.host, p.ID, ok, tt.want)
		}
	}
}

func TestSignKnownVector(t *testing.T) {
	// Computed independently: HMAC-SHA256("test-secret-0123456789abcdef0123", `1700000000.{"a":1}`).
	const want = "v1=0cca3de94f96e5caf132f34e095edb6f30012475aaf45a3e1850858cdb7d89cc"
	if got := Sign([]byte("test-secret-0123456789abcdef0123"), 1700000000, []byte(`{"a":1}`)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"x":1}`)
	good := Sign(secret, t0.Unix(), body)
	tests := []struct {
		name    string
		ts, sig string
		body    []byte
		now     time.Time
		want    error
	}{
		{"valid", "1772438400", good, body, t0, nil},
		{"clock skew within window", "1772438400", good, body, t0.Add(4 * time.Minute), nil},
		{"stale", "1772438400", good, body, t0.Add(6 * time.Minute), ErrStaleTimestamp},
		{"future", "1772438400", good, body, t0.Add(-6 * time.Minute), ErrStaleTimestamp},
		{"tampered body", "1772438400", good, []byte(`{"x":2}`), t0, ErrBadSignature},
		{"wrong secret", "1772438400", Sign([]byte("other"), t0.Unix(), body), body, t0, ErrBadSignature},
		{"missing", "", "", body, t0, ErrMissingSignature},
		{"garbage timestamp", "yesterday", good, body, t0, ErrStaleTimestamp},
	}
	if t0.Unix() != 1772438400 {
		t.Fatalf("fixture time changed: %d", t0.Unix())
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifySignature(secret, tt.ts, tt.sig, tt.body, tt.now); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func request() Request {
	return Request{CaseID: "c-1", Attempt: 1, URL: "https://www.facebook.com/groups/1/posts/2", Platform: "facebook",
		Urgency: UrgencyUrgent, Deadline: t0.Add(4 * time.Hour), Evidence: "Fee of Rp 15 juta, no P3MI licence"}
}

func TestWebhookSend(t *testing.T) {
	cfg, _ := Default()
	fb, _ := cfg.Get("facebook")
	secret := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name    string
		status  int
		body    string
		wantRef string
		want    any // nil, *TransientError, *RejectedError
	}{
		{"accepted", 202, `{"reference":"FB-1","status":"received"}`, "FB-1", nil},
		{"ok", 200, `{"reference":"FB-2"}`, "FB-2", nil},
		{"rate limited", 429, `slow down`, "", &TransientError{}},
		{"server error", 500, `oops`, "", &TransientError{}},
		{"unavailable", 503, `down`, "", &TransientError{}},
		{"2xx without reference", 200, `ok`, "", &TransientError{}},
		{"bad request", 400, `{"error":"url missing"}`, "", &RejectedError{}},
		{"unauthorized", 401, `bad signature`, "", &RejectedError{}},
		{"not found", 404, `no`, "", &RejectedError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			var gotBody []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				gotBody, _ = io.ReadAll(r.Body)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			p := fb
			p.WebhookURL = srv.URL + "/takedown"
			w := &Webhook{Platform: p, Secret: secret, Now: func() time.Time { return t0 }}
			rc, err := w.Send(context.Background(), request())
			switch tt.want.(type) {
			case nil:
				if err != nil || rc.PlatformRef != tt.wantRef || rc.IdempotencyKey != "c-1:takedown:1" || rc.Channel != ChannelWebhook {
					t.Fatalf("receipt %+v err %v", rc, err)
				}
			case *TransientError:
				var te *TransientError
				if !errors.As(err, &te) {
					t.Fatalf("err %v (%T) is not transient", err, err)
				}
			case *RejectedError:
				var re *RejectedError
				if !errors.As(err, &re) || re.StatusCode != tt.status {
					t.Fatalf("err %v (%T) is not rejected", err, err)
				}
			}
			if got.Header.Get("Content-Type") != "application/json" || got.Header.Get(HeaderIdempotencyKey) != "c-1:takedown:1" {
				t.Errorf("headers %v", got.Header)
			}
			if err := VerifySignature(secret, got.Header.Get(HeaderTimestamp), got.Header.Get(HeaderSignature), gotBody, t0); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			var pl WebhookPayload
			if err := json.Unmarshal(gotBody, &pl); err != nil || pl.URL != request().URL || pl.IdempotencyKey != "c-1:takedown:1" || pl.LegalBasis != DefaultLegalBasis {
				t.Errorf("payload %+v err %v", pl, err)
			}
		})
	}
}

func TestWebhookNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	cfg, _ := Default()
	p, _ := cfg.Get("tiktok")
	p.WebhookURL = addr + "/takedown"
	_, err := (&Webhook{Platform: p, Secret: []byte("k")}).Send(context.Background(), request())
	if !IsTransient(err) {
		t.Fatalf("err %v (%T) is not transient", err, err)
	}
}

func TestRequestValidationNamesField(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Request)
	}{
		{"case_id", func(r *Request) { r.CaseID = "" }},
		{"attempt", func(r *Request) { r.Attempt = 0 }},
		{"url", func(r *Request) { r.URL = "" }},
		{"platform", func(r *Request) { r.Platform = "" }},
		{"deadline", func(r *Request) { r.Deadline = time.Time{} }},
		{"kind", func(r *Request) { r.Kind = "warning_9" }},
	}
	for _, tt := range tests {
		r := request()
		tt.edit(&r)
		_, err := (&Webhook{Secret: []byte("k")}).Send(context.Background(), r)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: err %v", tt.field, err)
		}
	}
}

type recordingMailer struct {
	mu   sync.Mutex
	sent []outbox.Email
	err  error
}

func (m *recordingMailer) Send(_ context.Context, e outbox.Email) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return "", m.err
	}
	m.sent = append(m.sent, e)
	return "msg-" + e.Headers[outbox.IdempotencyHeader], nil
}

func TestClientRoutesNotices(t *testing.T) {
	cfg, _ := Default()
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		io.WriteString(w, `{"reference":"REF"}`)
	}))
	defer srv.Close()
	fb := cfg.Platforms["facebook"]
	fb.WebhookURL = srv.URL + "/takedown"
	cfg.Platforms["facebook"] = fb
	m := &recordingMailer{}
	c := &Client{Config: cfg, Mailer: m, From: "tangkal@agency.example",
		Secret: func(env string) []byte { return []byte("secret-for-" + env) }}

	tests := []struct {
		name      string
		platform  string
		kind      Kind
		channel   string
		to        string
		subjectIn string
	}{
		{"webhook takedown", "facebook", KindTakedown, ChannelWebhook, "", ""},
		{"email takedown", "telegram", KindTakedown, ChannelEmail, "abuse@telegram.example", "Permintaan Penurunan Konten"},
		{"warning 1 to escalation", "facebook", KindWarning1, ChannelEmail, "trust-safety@facebook.example", "Peringatan Pertama"},
		{"warning 3 sanction", "website", KindWarning3, ChannelEmail, "aduan@registrar.example", "Rekomendasi Sanksi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request()
			r.Platform, r.Kind = tt.platform, tt.kind
			before := len(m.sent)
			rc, err := c.Send(context.Background(), r)
			if err != nil || rc.Channel != tt.channel {
				t.Fatalf("receipt %+v err %v", rc, err)
			}
			if tt.channel == ChannelWebhook {
				return
			}
			e := m.sent[before]
			if e.To[0] != tt.to || !strings.Contains(e.Subject, tt.subjectIn) || !strings.Contains(e.Subject, "c-1") {
				t.Errorf("email to %v subject %q", e.To, e.Subject)
			}
			for _, want := range []string{r.URL, "Permenkominfo", "c-1", "WIB"} {
				if !strings.Contains(e.Text, want) && !strings.Contains(e.Text, strings.ReplaceAll(want, "Permenkominfo", "Peraturan Menteri Komunikasi")) {
					t.Errorf("text lacks %q:\n%s", want, e.Text)
				}
			}
			if !strings.Contains(e.HTML, `href="`+r.URL+`"`) {
				t.Errorf("html lacks link: %s", e.HTML)
			}
			if e.Headers[outbox.IdempotencyHeader] != r.IdempotencyKey() {
				t.Errorf("idempotency header %q", e.Headers[outbox.IdempotencyHeader])
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
	if hits != 1 {
		t.Errorf("webhook hit %d times", hits)
	}
	if _, err := c.Send(context.Background(), Request{Platform: "myspace"}); err == nil || !strings.Contains(err.Error(), "myspace") {
		t.Errorf("unknown platform: %v", err)
	}
}

func TestEmailSenderFailureIsTransient(t *testing.T) {
	cfg, _ := Default()
	s := &EmailSender{Platform: cfg.Platforms["telegram"], Mailer: &recordingMailer{err: errors.New("throttled")}, From: "t@agency.example"}
	r := request()
	r.Platform = "telegram"
	if _, err := s.Send(context.Background(), r); !IsTransient(err) {
		t.Fatalf("err %v", err)
	}
}

func TestNoticeEscapesHTML(t *testing.T) {
	cfg, _ := Default()
	r := request()
	r.Evidence = `<script>alert(1)</script>`
	e, err := Letters{}.Email(cfg.Platforms["telegram"], "t@agency.example", r, t0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.HTML, "<script>") {
		t.Fatal("evidence not escaped in HTML")
	}
}

func TestStatus(t *testing.T) {
	cfg, _ := Default()
	secret := []byte("k")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("url")
		if VerifySignature(secret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), []byte(u), time.Now()) != nil {
			w.WriteHeader(401)
			return
		}
		switch {
		case strings.HasSuffix(u, "/gone"):
			io.WriteString(w, `{"status":"removed"}`)
		case strings.HasSuffix(u, "/up"):
			io.WriteString(w, `{"status":"live"}`)
		case strings.HasSuffix(u, "/odd"):
			io.WriteString(w, `{"status":"maybe"}`)
		default:
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	p := cfg.Platforms["youtube"]
	p.StatusURL = srv.URL + "/status"
	cfg.Platforms["youtube"] = p
	c := &Client{Config: cfg, Secret: func(string) []byte { return secret }}
	tests := []struct {
		url       string
		want      Status
		transient bool
	}{
		{"https://youtube.com/watch/gone", StatusRemoved, false},
		{"https://youtube.com/watch/up", StatusLive, false},
		{"https://youtube.com/watch/odd", StatusUnknown, false},
		{"https://youtube.com/watch/err", "", true},
	}
	for _, tt := range tests {
		ans, err := c.Status(context.Background(), "youtube", tt.url)
		if tt.transient {
			if !IsTransient(err) {
				t.Errorf("%s: err %v", tt.url, err)
			}
			continue
		}
		if err != nil || ans.Status != tt.want {
			t.Errorf("%s: %+v %v", tt.url, ans, err)
		}
	}
	if ans, err := c.Status(context.Background(), "telegram", "https://t.me/x"); !errors.Is(err, ErrNoStatusAPI) || ans.Status != StatusUnknown {
		t.Errorf("telegram status: %+v %v", ans, err)
	}
}
