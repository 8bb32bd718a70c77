package localstack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/store"
)

var evidenceLinkRe = regexp.MustCompile(`https?://[^\s"<>]+/evidence/[0-9a-f]{64}\?[^\s"<>]+`)

// noticeLinks reads the notices of one kind mailed to a platform about a
// case and returns their texts and the evidence links in them.
func (f *flow) noticeLinks(id, kind string) (texts, links []string) {
	f.t.Helper()
	files, _ := filepath.Glob(filepath.Join(f.st.Outbox.Dir, "*.eml"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			f.t.Fatal(err)
		}
		if msg.Header.Get("X-Tangkal-Case") != id || msg.Header.Get("X-Tangkal-Notice") != kind {
			continue
		}
		text := mailText(f.t, raw)
		texts = append(texts, text)
		for _, l := range evidenceLinkRe.FindAllString(text, -1) {
			if l = strings.ReplaceAll(l, "&amp;", "&"); !slices.Contains(links, l) {
				links = append(links, l)
			}
		}
	}
	return texts, links
}

type fetched struct {
	status int
	header http.Header
	body   []byte
}

// fetchAsPlatform opens a link the way a platform's reviewer would: no
// token, no cookie, nothing but the link.
func fetchAsPlatform(t *testing.T, link string) fetched {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, resp.Header, b}
}

func refusal(t *testing.T, got fetched) (code, field string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.Unmarshal(got.body, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("refusal %d %q is not a JSON error", got.status, got.body)
	}
	return e.Error.Code, e.Error.Field
}

// A platform opens the evidence link of the notice it got and sees the
// copy tangkal kept; a changed link is refused, an old one expires, and the
// next notice brings a working one.
func TestNoticeEvidenceLinkOpensTheStoredCopy(t *testing.T) {
	f := startFlow(t, Config{})
	adURL := "https://t.me/lokerkamboja/5551313"
	id := f.submit(adURL, scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	c := f.waitStatus(id, store.StatusTakedownSent)
	sentAt := f.clock.Now()

	texts, links := f.noticeLinks(id, "takedown")
	if len(texts) != 1 || len(links) != 1 {
		t.Fatalf("%d takedown notices with links %v, want 1 with 1", len(texts), links)
	}
	for _, bad := range []string{"file://", ".local/", "[", "tourist_visa"} {
		if strings.Contains(texts[0], bad) {
			t.Errorf("the notice contains %q", bad)
		}
	}
	link := links[0]
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, f.st.APIURL+"/evidence/") {
		t.Fatalf("evidence link %q is not on the API (%s)", link, f.st.APIURL)
	}
	hash, ok := evidence.HashOf(c.Evidence)
	if !ok || u.Path != "/evidence/"+hash {
		t.Fatalf("link %q does not name the case's copy %q", link, c.Evidence)
	}
	expUnix, err := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	if life := time.Unix(expUnix, 0).Sub(sentAt).Round(time.Hour); err != nil || life != 30*24*time.Hour {
		t.Fatalf("link expires %s after the notice (%v), want 30 days (the template's default)", life, err)
	}

	// As the platform: the stored bytes, as text, never as a page.
	got := fetchAsPlatform(t, link)
	if got.status != 200 {
		t.Fatalf("GET evidence link: %d %s", got.status, got.body)
	}
	stored, err := os.ReadFile(filepath.Join(strings.TrimPrefix(c.Evidence, "file://")))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(got.body)
	if !bytes.Equal(got.body, stored) || hex.EncodeToString(sum[:]) != hash || !bytes.Contains(got.body, []byte("KAMBOJA")) {
		t.Fatalf("served %d bytes (sha256 %x), want the stored copy %s", len(got.body), sum, hash)
	}
	if ct := got.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if got.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(got.header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("headers %v", got.header)
	}

	// Changed links are refused and carry nothing of the copy.
	q := u.Query()
	sig, exp := q.Get("sig"), q.Get("exp")
	flip := func(s string) string {
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	other := strings.Repeat("0", 64)
	base := f.st.APIURL + "/evidence/"
	tampered := []struct {
		name, link string
		status     int
		field      string
	}{
		{"signature changed", base + hash + "?exp=" + exp + "&sig=" + flip(sig), 403, "sig"},
		{"expiry pushed back", base + hash + "?exp=4102444800&sig=" + sig, 403, "sig"},
		{"another copy", base + other + "?exp=" + exp + "&sig=" + sig, 403, "sig"},
		{"no signature", base + hash + "?exp=" + exp, 403, "sig"},
		{"bare", base + hash, 403, "sig"},
		{"not a hash", base + "..%2f..%2fauth%2fsigning.key?exp=" + exp + "&sig=" + sig, 404, "sha256"},
	}
	for _, tt := range tampered {
		t.Run(tt.name, func(t *testing.T) {
			got := fetchAsPlatform(t, tt.link)
			if _, field := refusal(t, got); got.status != tt.status || field != tt.field {
				t.Fatalf("%d field %q, want %d %q", got.status, field, tt.status, tt.field)
			}
			if bytes.Contains(got.body, []byte("KAMBOJA")) {
				t.Fatal("a refused link served the copy")
			}
		})
	}
	// A link tangkal signed for a hash it never stored: 404.
	unknown, _ := f.st.EvidenceLinks.Link(other, f.clock.Now())
	if got := fetchAsPlatform(t, unknown); got.status != 404 {
		t.Fatalf("link to an unknown copy: %d %s", got.status, got.body)
	}

	// Thirty days on, the link has expired (the ad is still up, so the
	// workflow sends warning 1 meanwhile, with a fresh link).
	f.advance(30*24*time.Hour + time.Minute)
	got = fetchAsPlatform(t, link)
	if code, field := refusal(t, got); got.status != 410 || code != "expired" || field != "exp" {
		t.Fatalf("expired link: %d %s", got.status, got.body)
	}
	waitFor(t, func() bool { return strings.Contains(f.history(id), "warning_sent") })
	_, fresh := f.noticeLinks(id, "warning_1")
	if len(fresh) != 1 || fresh[0] == link {
		t.Fatalf("warning 1 links %v, want one new link", fresh)
	}
	if got := fetchAsPlatform(t, fresh[0]); got.status != 200 || !bytes.Equal(got.body, stored) {
		t.Fatalf("warning 1's link: %d", got.status)
	}
}
