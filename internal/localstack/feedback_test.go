package localstack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/feedback"
	"github.com/tangkal/tangkal/internal/store"
)

type hookReceiver struct {
	mu       sync.Mutex
	got      []feedback.Message
	sigs     []string
	bodies   [][]byte
	failNext int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failNext > 0 {
		h.failNext--
		w.WriteHeader(503)
		return
	}
	var m feedback.Message
	_ = json.Unmarshal(b, &m)
	h.got, h.sigs, h.bodies = append(h.got, m), append(h.sigs, r.Header.Get("X-Tangkal-Signature")), append(h.bodies, b)
	w.WriteHeader(204)
}

func (h *hookReceiver) statuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.got {
		out = append(out, m.Status)
	}
	return out
}

// A reporter with a callback URL hears, by signed webhook (retried when its
// receiver fails), that its case's takedown was requested and that the ad
// was removed; a reporter with an e-mail address gets e-mails. Neither
// message names the other reporter or the approvers. Each reporter's
// accuracy record counts the outcome once.
func TestReportersHearOfTheirCasesOutcomes(t *testing.T) {
	hooks := &hookReceiver{failNext: 1}
	srv := httptest.NewServer(hooks)
	t.Cleanup(srv.Close)
	f := startFlow(t, Config{Routes: map[string]string{"hooks.ngo.example": srv.URL}})
	hooked := client{t: t, base: f.st.APIURL}
	hooked.token, _ = f.st.Token("ngo-hooks", auth.Reporter)
	mailed := client{t: t, base: f.st.APIURL}
	mailed.token, _ = f.st.Token("ngo-mail", auth.Reporter)

	for _, bad := range []string{"http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "https://localhost/x", "ftp://hooks.ngo.example/", "https://hooks.ngo.example:8443/x"} {
		if code, out := hooked.do("PUT", "/reporters/me", map[string]any{"callback_url": bad}, nil); code != 400 || !strings.Contains(toJSONString(out), `"field":"callback_url"`) {
			t.Errorf("callback %s: %d %v", bad, code, out)
		}
	}
	code, out := hooked.do("PUT", "/reporters/me", map[string]any{"callback_url": "https://hooks.ngo.example/tangkal"}, nil)
	secret, _ := out["callback_secret"].(string)
	if code != 200 || len(secret) != 64 {
		t.Fatalf("set callback: %d %v", code, out)
	}
	if code, out := mailed.do("PUT", "/reporters/me", map[string]any{"email": "desk@ngo-mail.example"}, nil); code != 200 {
		t.Fatalf("set e-mail: %d %v", code, out)
	}
	if code, out := hooked.do("GET", "/reporters/me", nil, nil); code != 200 || out["callback_secret"] != nil || out["callback_url"] != "https://hooks.ngo.example/tangkal" {
		t.Fatalf("me shows the secret or lost the callback: %v", out)
	}

	ad := "https://www.facebook.com/groups/lokerluarnegeri/posts/5558801/"
	code, rec := hooked.do("POST", "/reports", map[string]any{"url": ad, "text": scamAd}, nil)
	if code != 202 {
		t.Fatalf("report: %d %v", code, rec)
	}
	id := rec["case_id"].(string)
	code, rec2 := mailed.do("POST", "/reports", map[string]any{"url": ad + "?utm_source=wa"}, nil)
	if code != 202 || rec2["case_id"] != id {
		t.Fatalf("second report: %d %v", code, rec2)
	}
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	f.advance(5 * time.Hour)
	f.waitStatus(id, store.StatusRemovedInTime)
	waitFor(t, func() bool { return strings.Contains(strings.Join(hooks.statuses(), ","), store.StatusRemovedInTime) })

	hooks.mu.Lock()
	for i, m := range hooks.got {
		if m.CaseID != id || len(m.Reports) != 1 || m.Reports[0] != rec["report_id"] {
			t.Errorf("webhook %d: %+v", i, m)
		}
		if want := feedback.Signature(secret, parseSigTime(hooks.sigs[i]), hooks.bodies[i]); hooks.sigs[i] != want {
			t.Errorf("webhook %d signature %q, want %q", i, hooks.sigs[i], want)
		}
		for _, leak := range []string{rec2["report_id"].(string), "ngo-mail", "approver@", "director@", "trust-safety"} {
			if strings.Contains(string(hooks.bodies[i]), leak) {
				t.Errorf("webhook %d reveals %q: %s", i, leak, hooks.bodies[i])
			}
		}
	}
	hooks.mu.Unlock()
	got := strings.Join(hooks.statuses(), ",")
	if !strings.Contains(got, store.StatusTakedownSent) || strings.Count(got, store.StatusRemovedInTime) != 1 {
		t.Fatalf("webhooks for %s, want takedown_requested and removed_in_time once", got)
	}
	// The e-mail reporter's messages, in the outbox.
	waitFor(t, func() bool {
		n := 0
		files, _ := filepath.Glob(filepath.Join(f.st.Outbox.Dir, "*.eml"))
		for _, name := range files {
			raw, _ := os.ReadFile(name)
			text := mailText(t, raw)
			if strings.Contains(string(raw), "desk@ngo-mail.example") && strings.Contains(text, id) {
				n++
				if strings.Contains(text, rec["report_id"].(string)) || strings.Contains(text, "ngo-hooks") {
					t.Errorf("the e-mail names the other reporter's report")
				}
			}
		}
		return n >= 2
	})
	// Both records count the case once, as an approved takedown.
	for _, c := range []client{hooked, mailed} {
		waitFor(t, func() bool {
			_, me := c.do("GET", "/reporters/me", nil, nil)
			return me["cases_closed"] == 1.0 && me["approved_takedowns"] == 1.0
		})
		_, me := c.do("GET", "/reporters/me", nil, nil)
		if sh, _ := me["shares"].(map[string]any); sh["approved"] != 1.0 || sh["rejected_or_not_job_ad"] != 0.0 {
			t.Fatalf("record: %v", me)
		}
	}
}

func parseSigTime(sig string) time.Time {
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	var n int64
	for _, c := range ts {
		n = n*10 + int64(c-'0')
	}
	return time.Unix(n, 0)
}

func toJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
