package platformsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/compliance"
	"github.com/tangkal/tangkal/internal/platform"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	sim    *Sim
	clock  *clock
	client *platform.Client
	http   *http.Client // every host pinned to the simulator
	cfg    platform.Config
}

func secretFor(env string) []byte { return []byte("secret-" + env + "-0123456789abcdef") }

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	return newEnvAt(t, o, &clock{t: t0})
}

// newEnvAt is newEnv on a given clock (a restarted simulator keeps its time).
func newEnvAt(t *testing.T, o Options, c *clock) *env {
	t.Helper()
	cfg, err := platform.Default()
	if err != nil {
		t.Fatal(err)
	}
	o.Config, o.Now = cfg, c.Now
	o.Secrets = map[string][]byte{}
	for id, p := range cfg.Platforms {
		if p.WebhookSecretEnv != "" {
			o.Secrets[id] = secretFor(p.WebhookSecretEnv)
		}
	}
	sim, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	// A pinned route: whatever the host, connect to the simulator.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	// Plain http, since the simulator does not do TLS.
	for id, p := range cfg.Platforms {
		p.WebhookURL = strings.Replace(p.WebhookURL, "https://", "http://", 1)
		p.StatusURL = strings.Replace(p.StatusURL, "https://", "http://", 1)
		cfg.Platforms[id] = p
	}
	pc := &platform.Client{Config: cfg, HTTP: hc, Now: c.Now, Secret: secretFor}
	return &env{sim: sim, clock: c, client: pc, http: hc, cfg: cfg}
}

func (e *env) fetch(t *testing.T, adURL string) (int, string) {
	t.Helper()
	resp, err := e.http.Get(strings.Replace(adURL, "https://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) evaluate(t *testing.T, pid, adURL string) compliance.State {
	code, body := e.fetch(t, adURL)
	return compliance.Evaluate(e.cfg.Platforms[pid], compliance.Check{HTTPStatus: code, Body: body, FinalURL: adURL}).State
}

func req(pid, adURL string, attempt int) platform.Request {
	return platform.Request{CaseID: "c_" + pid, Attempt: attempt, URL: adURL, Platform: pid,
		Urgency: platform.UrgencyUrgent, Deadline: t0.Add(4 * time.Hour)}
}

func TestTakedownRemovesByPlatformStyle(t *testing.T) {
	tests := []struct {
		platform, url string
		removedCode   int
		removedText   string
	}{
		{"facebook", "https://www.facebook.com/groups/123/posts/456", 200, "This content isn&#39;t available"},
		{"instagram", "https://www.instagram.com/p/Cabc123/", 200, "Sorry, this page isn&#39;t available"},
		{"tiktok", "https://www.tiktok.com/@agen.tki/video/7300000000000000001", 200, "Video currently unavailable"},
		{"x", "https://x.com/lokerluarnegeri/status/1790000000000000000", 200, "This account doesn&#39;t exist"},
		{"youtube", "https://www.youtube.com/watch?v=abc123XYZ", 200, "Video unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.sim.Seed(tt.url, "Lowongan kerja Taiwan, biaya Rp 25 juta, hubungi WA 0812")
			if code, body := e.fetch(t, tt.url); code != 200 || !strings.Contains(body, "Lowongan kerja Taiwan") {
				t.Fatalf("live page %d %s", code, body)
			}
			if st := e.evaluate(t, tt.platform, tt.url); st != compliance.Live {
				t.Fatalf("before takedown: %s", st)
			}
			rc, err := e.client.Send(context.Background(), req(tt.platform, tt.url, 1))
			if err != nil || !strings.HasPrefix(rc.PlatformRef, strings.ToUpper(tt.platform)+"-") {
				t.Fatalf("%+v %v", rc, err)
			}
			code, body := e.fetch(t, tt.url)
			if code != tt.removedCode || !strings.Contains(body, tt.removedText) || strings.Contains(body, "Lowongan") {
				t.Fatalf("removed page %d %s", code, body)
			}
			if st := e.evaluate(t, tt.platform, tt.url); st != compliance.Removed {
				t.Fatalf("after takedown: %s", st)
			}
			ans, err := e.client.Status(context.Background(), tt.platform, tt.url)
			if err != nil || ans.Status != platform.StatusRemoved || ans.RemovedAt == nil || !ans.RemovedAt.Equal(t0) {
				t.Fatalf("status %+v %v", ans, err)
			}
		})
	}
}

func TestEmailPlatformPagesAnswer404WhenRemoved(t *testing.T) {
	tests := []struct{ platform, url string }{
		{"website", "https://lowongan-luar-negeri.example/kerja/taiwan"},
		{"telegram", "https://t.me/lokerhongkong"},
		{"whatsapp", "https://chat.whatsapp.com/AbCdEf123"},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.sim.Seed(tt.url, "Kerja di luar negeri tanpa biaya")
			if st := e.evaluate(t, tt.platform, tt.url); st != compliance.Live {
				t.Fatalf("before: %s", st)
			}
			// Email notices are read by people; the removal is by hand.
			if err := e.sim.Remove(tt.url); err != nil {
				t.Fatal(err)
			}
			if code, _ := e.fetch(t, tt.url); code != 404 {
				t.Fatalf("code %d", code)
			}
			if st := e.evaluate(t, tt.platform, tt.url); st != compliance.Removed {
				t.Fatalf("after: %s", st)
			}
		})
	}
}

func TestSignatureChecked(t *testing.T) {
	e := newEnv(t, Options{})
	adURL := "https://www.tiktok.com/@a/video/1"
	tests := []struct {
		name   string
		secret []byte
		now    time.Time
	}{
		{"wrong secret", []byte("guessed"), t0},
		{"stale timestamp", secretFor("TANGKAL_WEBHOOK_SECRET_TIKTOK"), t0.Add(-10 * time.Minute)},
		{"another platform's secret", secretFor("TANGKAL_WEBHOOK_SECRET_FACEBOOK"), t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &platform.Webhook{Platform: e.cfg.Platforms["tiktok"], Secret: tt.secret, HTTP: e.http, Now: func() time.Time { return tt.now }}
			_, err := w.Send(context.Background(), req("tiktok", adURL, 1))
			var rej *platform.RejectedError
			if !errors.As(err, &rej) || rej.StatusCode != 401 {
				t.Fatalf("err %v", err)
			}
		})
	}
	// Unsigned requests too.
	resp, err := e.http.Post("http://takedown.tiktok.example/takedown", "application/json", strings.NewReader(`{"url":"`+adURL+`"}`))
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("unsigned: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	for _, r := range e.sim.Requests() {
		if r.StatusCode != 401 {
			t.Errorf("recorded %+v", r)
		}
	}
	if ads := e.sim.Ads(); len(ads) != 0 {
		t.Fatalf("a rejected notice created state: %+v", ads)
	}
}

func TestIdempotencyKeyDedupes(t *testing.T) {
	e := newEnv(t, Options{Behaviors: map[string]Behavior{"facebook": {Mode: Late, Delay: 10 * time.Hour}}})
	adURL := "https://www.facebook.com/groups/1/posts/2"
	first, err := e.client.Send(context.Background(), req("facebook", adURL, 1))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	again, err := e.client.Send(context.Background(), req("facebook", adURL, 1))
	if err != nil || again.PlatformRef != first.PlatformRef {
		t.Fatalf("replay %+v vs %+v (%v)", again, first, err)
	}
	next, err := e.client.Send(context.Background(), req("facebook", adURL, 2))
	if err != nil || next.PlatformRef == first.PlatformRef {
		t.Fatalf("new attempt %+v %v", next, err)
	}
	rs := e.sim.Requests()
	if len(rs) != 3 || rs[0].Duplicate || !rs[1].Duplicate || rs[2].Duplicate {
		t.Fatalf("%+v", rs)
	}
	// The replay did not move the removal time.
	ads := e.sim.Ads()
	if len(ads) != 1 || !ads[0].RemoveAt.Equal(t0.Add(10*time.Hour)) {
		t.Fatalf("%+v", ads)
	}
}

func TestBehaviors(t *testing.T) {
	adURL := "https://www.instagram.com/p/XYZ/"
	tests := []struct {
		name      string
		b         Behavior
		perURL    bool
		errs      []bool        // per attempt: transient error expected
		removedAt time.Duration // -1: never
	}{
		{"prompt", Behavior{Mode: Prompt}, false, []bool{false}, 0},
		{"late", Behavior{Mode: Late, Delay: 30 * time.Hour}, false, []bool{false}, 30 * time.Hour},
		{"never", Behavior{Mode: Never}, false, []bool{false}, -1},
		{"flaky 2", Behavior{Mode: Flaky, Failures: 2}, false, []bool{true, true, false}, 0},
		{"down", Behavior{Mode: Down}, false, []bool{true, true, true, true}, -1},
		{"per url never", Behavior{Mode: Never}, true, []bool{false}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			if tt.perURL {
				e.sim.SetBehavior("instagram", Behavior{Mode: Prompt})
				if err := e.sim.SetURLBehavior(adURL, tt.b); err != nil {
					t.Fatal(err)
				}
			} else if err := e.sim.SetBehavior("instagram", tt.b); err != nil {
				t.Fatal(err)
			}
			e.sim.Seed(adURL, "Dicari pekerja pabrik Korea")
			for i, wantErr := range tt.errs {
				// The state machine retries with the same attempt number.
				_, err := e.client.Send(context.Background(), req("instagram", adURL, 1))
				if wantErr != platform.IsTransient(err) || (!wantErr && err != nil) {
					t.Fatalf("try %d: err %v", i+1, err)
				}
			}
			check := func() compliance.State { return e.evaluate(t, "instagram", adURL) }
			switch {
			case tt.removedAt < 0:
				e.clock.Add(1000 * time.Hour)
				if st := check(); st != compliance.Live {
					t.Fatalf("removed in %s mode", tt.b.Mode)
				}
			case tt.removedAt == 0:
				if st := check(); st != compliance.Removed {
					t.Fatalf("not removed right away: %s", st)
				}
			default:
				e.clock.Add(tt.removedAt - time.Second)
				if st := check(); st != compliance.Live {
					t.Fatalf("removed early")
				}
				if ans, _ := e.client.Status(context.Background(), "instagram", adURL); ans.Status != platform.StatusLive {
					t.Fatalf("status api says %s before removal", ans.Status)
				}
				e.clock.Add(time.Second)
				if st := check(); st != compliance.Removed {
					t.Fatalf("not removed at request + delay")
				}
				if ans, _ := e.client.Status(context.Background(), "instagram", adURL); ans.Status != platform.StatusRemoved {
					t.Fatalf("status api says %s after removal", ans.Status)
				}
			}
		})
	}
}

func TestDownStatusAPIAndUnknownAds(t *testing.T) {
	e := newEnv(t, Options{Behaviors: map[string]Behavior{"youtube": {Mode: Down}}})
	if _, err := e.client.Status(context.Background(), "youtube", "https://youtube.com/watch?v=1"); !platform.IsTransient(err) {
		t.Fatalf("down status api: %v", err)
	}
	ans, err := e.client.Status(context.Background(), "tiktok", "https://www.tiktok.com/@nobody/video/9")
	if err != nil || ans.Status != platform.StatusUnknown {
		t.Fatalf("unknown ad: %+v %v", ans, err)
	}
	if code, _ := e.fetch(t, "https://www.tiktok.com/@nobody/video/9"); code != 404 {
		t.Fatalf("unseeded page %d", code)
	}
}

func TestBehaviorValidation(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		platform string
		b        Behavior
		field    string
	}{
		{"myspace", Behavior{Mode: Prompt}, "platform"},
		{"x", Behavior{Mode: "sometimes"}, "mode"},
		{"x", Behavior{Mode: Late}, "delay"},
		{"x", Behavior{Mode: Flaky}, "failures"},
	}
	for _, tt := range tests {
		if err := e.sim.SetBehavior(tt.platform, tt.b); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: %v", tt.b, err)
		}
	}
	if err := e.sim.Seed("not a url", "x"); err == nil {
		t.Error("bad url seeded")
	}
}

func TestAdminEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	post := func(path, body string) int {
		resp, err := e.http.Post("http://127.0.0.1"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	adURL := "https://x.com/loker/status/1"
	if c := post("/_sim/seed", `{"url":"`+adURL+`","text":"Kerja <b>Jepang</b>"}`); c != 200 {
		t.Fatalf("seed %d", c)
	}
	if c := post("/_sim/behavior", `{"platform":"x","mode":"late","delay":"30h"}`); c != 200 {
		t.Fatalf("behavior %d", c)
	}
	if c := post("/_sim/behavior", `{"platform":"x","mode":"late","delay":"later"}`); c != 400 {
		t.Fatalf("bad behavior %d", c)
	}
	if code, body := e.fetch(t, adURL); code != 200 || !strings.Contains(body, "Kerja &lt;b&gt;Jepang") {
		t.Fatalf("%d %s", code, body)
	}
	e.client.Send(context.Background(), req("x", adURL, 1))
	resp, _ := e.http.Get("http://127.0.0.1/_sim/requests")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "c_x:takedown:1") || !strings.Contains(string(b), "X-000001") {
		t.Fatalf("admin page: %s", b)
	}
	r, _ := http.NewRequest("GET", "http://127.0.0.1/_sim/requests", nil)
	r.Header.Set("Accept", "application/json")
	resp, _ = e.http.Do(r)
	var v struct {
		Requests []Received
		Ads      []AdState
	}
	json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if len(v.Requests) != 1 || len(v.Ads) != 1 || v.Ads[0].Removed || !v.Ads[0].RemoveAt.Equal(t0.Add(30*time.Hour)) {
		t.Fatalf("%+v", v)
	}
}

// An ad is one thing on its platform, whatever form of its URL reaches it:
// reported as m.facebook.com/…?mibextid=…, noticed by its canonical URL,
// every form is live together and gone together, and it is listed once.
func TestEveryFormOfAnAdIsOneAd(t *testing.T) {
	reported := "https://m.facebook.com/groups/lokerluarnegeri/posts/5550201/?mibextid=abc"
	canonical := "https://facebook.com/groups/lokerluarnegeri/posts/5550201"
	forms := []string{
		reported,
		canonical,
		"https://www.facebook.com/groups/lokerluarnegeri/posts/5550201/",
		"https://web.facebook.com/groups/lokerluarnegeri/permalink/5550201/?fbclid=IwAR0x",
		"https://facebook.com/groups/lokerluarnegeri/posts/5550201?utm_source=wa",
	}
	e := newEnv(t, Options{})
	if err := e.sim.Seed(reported, "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt"); err != nil {
		t.Fatal(err)
	}
	for _, f := range forms {
		if !e.sim.Known(f) {
			t.Errorf("Known(%s) = false", f)
		}
		if st := e.evaluate(t, "facebook", f); st != compliance.Live {
			t.Fatalf("before takedown, %s is %s", f, st)
		}
	}
	if _, err := e.client.Send(context.Background(), req("facebook", canonical, 1)); err != nil {
		t.Fatal(err)
	}
	for _, f := range forms {
		if st := e.evaluate(t, "facebook", f); st != compliance.Removed {
			t.Errorf("after takedown, %s is %s", f, st)
		}
		ans, err := e.client.Status(context.Background(), "facebook", f)
		if err != nil || ans.Status != platform.StatusRemoved {
			t.Errorf("status of %s: %+v %v", f, ans, err)
		}
	}
	ads := e.sim.Ads()
	if len(ads) != 1 || ads[0].URL != canonical || ads[0].FirstURL != reported || !ads[0].Seeded || !ads[0].Removed {
		t.Fatalf("ads = %+v, want one: %s, first seen as %s, seeded and removed", ads, canonical, reported)
	}
	// A behaviour set on one form holds for every form.
	if err := e.sim.SetURLBehavior(forms[2], Behavior{Mode: Never}); err != nil {
		t.Fatal(err)
	}
	if ads := e.sim.Ads(); ads[0].Behavior == nil || ads[0].Behavior.Mode != Never {
		t.Fatalf("behaviour set on %s not on the ad: %+v", forms[2], ads[0])
	}
}

func TestIndexPage(t *testing.T) {
	e := newEnv(t, Options{Behaviors: map[string]Behavior{"x": {Mode: Late, Delay: 10 * time.Hour}}})
	adURL := "https://x.com/lokerkamboja/status/5550403"
	e.sim.Seed(adURL, "Kerja di Kamboja")
	if _, err := e.client.Send(context.Background(), req("x", adURL, 1)); err != nil {
		t.Fatal(err)
	}
	get := func(target string, hdr map[string]string) (int, string, string) {
		t.Helper()
		r, _ := http.NewRequest("GET", target, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		resp, err := e.http.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, page := get("http://127.0.0.1:8084/", nil)
	if code != 200 || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("GET / = %d %s", code, ctype)
	}
	for _, want := range []string{
		"facebook", "Facebook", "tiktok", "telegram", "webhook", "email", // the platforms
		"late (10h0m0s)",                   // x's behaviour
		"prompt", "never", "flaky", "down", // the modes
		adURL, "dijadwalkan / scheduled", // the ad
		"c_x:takedown:1", "X-000001", "2026-03-02 15:00:00 WIB", // the request, in WIB
		"/_sim/requests", "/_sim/seed", "/_sim/remove", "/_sim/behavior", "/takedown", "/status?url=",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index page lacks %q", want)
		}
	}
	// Bahasa Indonesia first, English second.
	for _, pair := range [][2]string{{"Iklan yang tayang", "Published ads"}, {"Permintaan yang diterima", "Requests received"}, {"Mode perilaku", "Behaviour modes"}} {
		if i, j := strings.Index(page, pair[0]), strings.Index(page, pair[1]); i < 0 || j < i {
			t.Errorf("%q should come before %q", pair[0], pair[1])
		}
	}
	if _, _, same := get("http://127.0.0.1:8084/_sim/requests", nil); same != page {
		t.Error("/_sim/requests shows another page than /")
	}
	code, ctype, body := get("http://127.0.0.1:8084/", map[string]string{"Accept": "application/json"})
	var v struct {
		Platforms []PlatformState
		Requests  []Received
		Ads       []AdState
	}
	if err := json.Unmarshal([]byte(body), &v); code != 200 || ctype != "application/json" || err != nil {
		t.Fatalf("GET / as JSON: %d %s %v", code, ctype, err)
	}
	if len(v.Platforms) != len(e.cfg.Platforms) || len(v.Requests) != 1 || len(v.Ads) != 1 {
		t.Fatalf("JSON index: %d platforms, %d requests, %d ads", len(v.Platforms), len(v.Requests), len(v.Ads))
	}
	// A platform's own root is not the index: no ad there is a 404.
	if code, _, body := get("http://www.facebook.com/", nil); code != 404 || strings.Contains(body, "/_sim/") {
		t.Fatalf("GET facebook.com/ = %d %s", code, body)
	}
}
