// Package platformsim is a simulated social platform for the local stack
// and tests. One http.Handler serves every platform's hosts; the Host
// header says which platform a request is for (callers reach it through
// pinned routes, so "www.tiktok.com" and "takedown.tiktok.example" both
// land here).
//
//	POST /takedown         signed webhook notice (platform.Webhook); 401 on a
//	                       bad signature or timestamp, deduplicated by
//	                       Idempotency-Key (a repeat gets the same answer)
//	GET  /status?url=…     status API (signed like the webhook, payload = url)
//	GET  <any other path>  the ad's page: the ad text while live; after removal
//	                       404 or a "content isn't available" page, by platform
//	GET  /                 index page (on the simulator's own address): the
//	                       platforms and their behaviour, the ads, the
//	                       notices received, these endpoints (HTML, or JSON)
//	GET  /_sim/requests    the same page; as JSON the notices and the ads
//	POST /_sim/seed        {"url", "text"} seeds an ad
//	POST /_sim/remove      {"url"} takes an ad down now (email-channel platforms)
//	POST /_sim/behavior    {"platform" or "url", "mode", "delay", "failures", "stall"}
//
// Ads are keyed by canonical URL (package urlcanon): every form of an ad's
// URL reaches the same ad, served or gone together.
//
// Behaviour per platform or per URL: prompt (removes at the request), late
// (removes Delay after the request, on the injectable clock), never, flaky
// (the first Failures notices for a URL answer 503, then prompt), down
// (always 503).
//
// Modes in which the platform also answers through tangkal's platform API
// (GET /platform/notices, POST /platform/notices/{ref}) the way a
// trust-and-safety team does, once the takedown request is listed there
// (Options.API): confirm (removes at the request and answers "removed"),
// acknowledge (answers "acknowledged", removes Delay later; no delay:
// never), ask (answers "needs_information"), object (objects, Sanggah,
// and leaves the ad up), false_confirm (answers "removed" and leaves the
// ad up).
package platformsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/urlcanon"
)

// Mode is how a platform reacts to takedown notices.
type Mode string

// Modes.
const (
	Prompt Mode = "prompt"
	Late   Mode = "late"
	Never  Mode = "never"
	Flaky  Mode = "flaky"
	Down   Mode = "down"
	// Slow holds the first Failures notices per ad for Stall (real time)
	// before answering 503: the sender gives up first, as it must.
	Slow Mode = "slow"
	// Modes that answer through the platform API.
	Confirm      Mode = "confirm"
	Acknowledge  Mode = "acknowledge"
	Ask          Mode = "ask"
	Object       Mode = "object"
	FalseConfirm Mode = "false_confirm"
)

// answers says what each answering mode posts.
func (m Mode) answer() string {
	switch m {
	case Confirm, FalseConfirm:
		return "removed"
	case Acknowledge:
		return "acknowledged"
	case Ask:
		return "needs_information"
	case Object:
		return "objected"
	}
	return ""
}

// Behavior configures a platform or a single ad.
type Behavior struct {
	Mode Mode `json:"mode"`
	// Delay is the time from the notice to the removal in Late mode.
	Delay time.Duration `json:"delay"`
	// Failures is how many notices per URL answer 503 in Flaky mode (are
	// held in Slow mode).
	Failures int `json:"failures"`
	// Stall is how long Slow mode holds a notice (real time).
	Stall time.Duration `json:"stall"`
}

func (b Behavior) validate() error {
	switch b.Mode {
	case Prompt, Never, Down, Confirm, Acknowledge, Ask, Object, FalseConfirm:
	case Late:
		if b.Delay <= 0 {
			return errors.New("field delay: late mode needs a positive delay")
		}
	case Flaky:
		if b.Failures < 1 {
			return errors.New("field failures: flaky mode needs at least 1 failure")
		}
	case Slow:
		if b.Failures < 1 || b.Stall <= 0 {
			return errors.New("field stall: slow mode needs a positive stall and at least 1 failure")
		}
	default:
		return fmt.Errorf("field mode: unknown mode %q", b.Mode)
	}
	return nil
}

// Options configure a Sim.
type Options struct {
	Config platform.Config
	// Secrets are the webhook signing secrets by platform id.
	Secrets map[string][]byte
	Now     func() time.Time // nil: time.Now
	// Default is the behaviour of platforms without their own (zero: prompt).
	Default   Behavior
	Behaviors map[string]Behavior
	// StatePath, when set, keeps the simulator's state (ads, removals,
	// idempotent answers, flaky attempt counts, received notices, behaviours
	// set at run time) in a file: loaded by New, rewritten atomically after
	// every change, so a restarted simulator carries on where it stopped.
	// Behaviors given here override saved ones for the same platform.
	StatePath string
	// API is tangkal's platform API the answering modes use; nil: they
	// remove (or not) without answering.
	API *API
}

// API is how the simulated platforms reach tangkal's platform API.
type API struct {
	// URL is the API's base URL.
	URL string
	// Token returns a platform-role token for the platform.
	Token func(platformID string) (string, error)
	// HTTP is the client (nil: 10 s timeout).
	HTTP *http.Client
	// Wait is how long a team waits for the notice to be listed (0: 30 s).
	Wait time.Duration
}

// Answered is one answer a simulated platform posted.
type Answered struct {
	At         time.Time `json:"at"`
	Platform   string    `json:"platform"`
	CaseID     string    `json:"case_id"`
	Answer     string    `json:"answer"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error,omitempty"`
}

// Received is one notice as the platform saw it.
type Received struct {
	At             time.Time `json:"at"`
	Platform       string    `json:"platform"`
	Host           string    `json:"host"`
	IdempotencyKey string    `json:"idempotency_key"`
	CaseID         string    `json:"case_id,omitempty"`
	Kind           string    `json:"kind,omitempty"`
	URL            string    `json:"url,omitempty"`
	StatusCode     int       `json:"status_code"`
	Reference      string    `json:"reference,omitempty"`
	Duplicate      bool      `json:"duplicate"`
	Error          string    `json:"error,omitempty"`
}

type ad struct {
	url         string
	platform    string
	text        string
	requestedAt time.Time
	removeAt    time.Time // zero: not scheduled
}

type answer struct {
	code int
	body []byte
}

// Sim is the simulated platform. Safe for concurrent use.
type Sim struct {
	cfg       platform.Config
	secrets   map[string][]byte
	now       func() time.Time
	statePath string

	mu         sync.Mutex
	def        Behavior
	byPlatform map[string]Behavior
	byURL      map[string]Behavior
	ads        map[string]*ad
	answers    map[string]answer // by idempotency key
	attempts   map[string]int    // flaky: notices seen per ad key
	received   []Received
	answered   []Answered
	seq        int
	apiHosts   map[string]string // webhook/status host → platform

	api  *API
	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a simulator.
func New(o Options) (*Sim, error) {
	s := &Sim{cfg: o.Config, secrets: o.Secrets, now: o.Now, def: o.Default, statePath: o.StatePath,
		byPlatform: map[string]Behavior{}, byURL: map[string]Behavior{}, ads: map[string]*ad{},
		answers: map[string]answer{}, attempts: map[string]int{}, apiHosts: map[string]string{},
		api: o.API, stop: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if s.def.Mode == "" {
		s.def.Mode = Prompt
	}
	if err := s.def.validate(); err != nil {
		return nil, fmt.Errorf("platformsim default behavior: %w", err)
	}
	if s.statePath != "" {
		if err := s.load(s.statePath); err != nil {
			return nil, err
		}
	}
	for id, b := range o.Behaviors {
		if err := s.SetBehavior(id, b); err != nil {
			return nil, err
		}
	}
	for id, p := range o.Config.Platforms {
		for _, raw := range []string{p.WebhookURL, p.StatusURL} {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				s.apiHosts[strings.ToLower(u.Hostname())] = id
			}
		}
	}
	return s, nil
}

// SetBehavior sets a platform's behaviour.
func (s *Sim) SetBehavior(platformID string, b Behavior) error {
	if _, err := s.cfg.Get(platformID); err != nil {
		return fmt.Errorf("platformsim behavior field platform: %w", err)
	}
	if err := b.validate(); err != nil {
		return fmt.Errorf("platformsim behavior for %s: %w", platformID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byPlatform[platformID] = b
	return s.saveLocked()
}

// SetURLBehavior sets one ad's behaviour, overriding its platform's.
func (s *Sim) SetURLBehavior(adURL string, b Behavior) error {
	key, _, err := s.key(adURL)
	if err != nil {
		return err
	}
	if err := b.validate(); err != nil {
		return fmt.Errorf("platformsim behavior for %s: %w", adURL, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byURL[key] = b
	return s.saveLocked()
}

// Seed publishes an ad: its page shows text until it is taken down. Seeding
// an ad that was taken down publishes it again.
func (s *Sim) Seed(adURL, text string) error {
	key, pid, err := s.key(adURL)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.ads[key]; ok {
		a.text = text
		if a.removed(s.now()) { // published again after its takedown
			a.requestedAt, a.removeAt = time.Time{}, time.Time{}
		}
	} else {
		s.ads[key] = &ad{url: adURL, platform: pid, text: text}
	}
	return s.saveLocked()
}

// Known reports whether the simulator already holds the ad (seeded or
// noticed), whatever its state.
func (s *Sim) Known(adURL string) bool {
	key, _, err := s.key(adURL)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ads[key]
	return ok
}

// Remove takes an ad down now, as a platform that got an email notice (no
// webhook) would do by hand.
func (s *Sim) Remove(adURL string) error {
	key, pid, err := s.key(adURL)
	if err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.ads[key]
	if !ok {
		a = &ad{url: adURL, platform: pid}
		s.ads[key] = a
	}
	if a.requestedAt.IsZero() {
		a.requestedAt = now
	}
	if a.removeAt.IsZero() || a.removeAt.After(now) {
		a.removeAt = now
	}
	return s.saveLocked()
}

// Requests returns the notices received so far, oldest first.
func (s *Sim) Requests() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// key identifies an ad: its canonical URL (package urlcanon), so every
// form of one ad's URL (m./www. hosts, tracking parameters, http, a
// trailing slash…) reaches the same ad, served or gone together, as on a
// real platform. pid is the platform of the ad's host ("website" for hosts
// no platform claims).
func (s *Sim) key(adURL string) (key, pid string, err error) {
	c, err := urlcanon.Canonicalize(adURL)
	if err != nil {
		return "", "", fmt.Errorf("platformsim field url: %q is not a usable URL: %w", adURL, err)
	}
	return c.URL, s.platformOfHost(c.Host), nil
}

// pageKey is the key of the ad a page request asks for (Host header, path
// and query), or "" when they make no URL.
func (s *Sim) pageKey(r *http.Request) string {
	c, err := urlcanon.Canonicalize("https://" + r.Host + r.URL.EscapedPath() + query(r.URL.RawQuery))
	if err != nil {
		return ""
	}
	return c.URL
}

func query(raw string) string {
	if raw == "" {
		return ""
	}
	return "?" + raw
}

func (s *Sim) platformOfHost(host string) string {
	h := strings.ToLower(host)
	if x, _, ok := strings.Cut(h, ":"); ok {
		h = x
	}
	if id, ok := s.apiHosts[h]; ok {
		return id
	}
	if p, ok := s.cfg.ForHost(h); ok {
		return p.ID
	}
	return "website"
}

func (s *Sim) behavior(key, pid string) Behavior {
	if b, ok := s.byURL[key]; ok {
		return b
	}
	if b, ok := s.byPlatform[pid]; ok {
		return b
	}
	return s.def
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sim/requests" && r.Method == http.MethodGet:
		s.serveRequests(w, r)
	case r.URL.Path == "/_sim/seed" && r.Method == http.MethodPost:
		s.serveSeed(w, r)
	case r.URL.Path == "/_sim/remove" && r.Method == http.MethodPost:
		s.serveRemove(w, r)
	case r.URL.Path == "/_sim/behavior" && r.Method == http.MethodPost:
		s.serveBehavior(w, r)
	case r.URL.Path == "/takedown" && r.Method == http.MethodPost:
		s.serveTakedown(w, r)
	case r.URL.Path == "/status" && r.Method == http.MethodGet:
		s.serveStatus(w, r)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.servePage(w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) []byte {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
	return b
}

func errBody(msg string) map[string]string { return map[string]string{"error": msg} }

func (s *Sim) serveTakedown(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody("unreadable body"))
		return
	}
	var p platform.WebhookPayload
	jsonErr := json.Unmarshal(body, &p)
	pid := s.platformOfHost(r.Host)
	if pid == "website" && p.Platform != "" { // reached by address, not by a pinned host
		pid = p.Platform
	}
	rec := Received{At: s.now(), Platform: pid, Host: r.Host, IdempotencyKey: r.Header.Get(platform.HeaderIdempotencyKey),
		CaseID: p.CaseID, Kind: string(p.Kind), URL: p.URL}
	// reject records a refused notice, then answers it.
	reject := func(code int, msg, note string) {
		rec.StatusCode, rec.Error = code, note
		s.mu.Lock()
		s.received = append(s.received, rec)
		err := s.saveLocked()
		s.mu.Unlock()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errBody(err.Error()))
			return
		}
		writeJSON(w, code, errBody(msg))
	}

	secret := s.secrets[pid]
	if len(secret) == 0 {
		reject(http.StatusUnauthorized, "no webhook secret configured for "+pid, "no secret")
		return
	}
	if err := platform.VerifySignature(secret, r.Header.Get(platform.HeaderTimestamp), r.Header.Get(platform.HeaderSignature), body, s.now()); err != nil {
		reject(http.StatusUnauthorized, err.Error(), err.Error())
		return
	}
	key := rec.IdempotencyKey
	if key == "" {
		reject(http.StatusBadRequest, "Idempotency-Key header required", "no idempotency key")
		return
	}
	if jsonErr != nil || p.URL == "" {
		reject(http.StatusBadRequest, "body must be JSON with a url", "bad body")
		return
	}
	adKey, _, err := s.key(p.URL)
	if err != nil {
		reject(http.StatusBadRequest, err.Error(), err.Error())
		return
	}

	// Everything below happens under one lock and is saved before the
	// answer leaves: a simulator killed after answering remembers the
	// answer, and one killed before answering gets the same notice again.
	s.mu.Lock()
	if ans, ok := s.answers[key]; ok {
		var a platform.WebhookAnswer
		json.Unmarshal(ans.body, &a)
		rec.StatusCode, rec.Reference, rec.Duplicate = ans.code, a.Reference, true
		s.received = append(s.received, rec)
		err := s.saveLocked()
		s.mu.Unlock()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errBody(err.Error()))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(ans.code)
		w.Write(ans.body)
		return
	}
	b := s.behavior(adKey, pid)
	unavailable := b.Mode == Down
	if (b.Mode == Flaky || b.Mode == Slow) && s.attempts[adKey] < b.Failures {
		s.attempts[adKey]++
		unavailable = true
	}
	if unavailable {
		rec.StatusCode, rec.Error = http.StatusServiceUnavailable, "simulated outage"
		if b.Mode == Slow {
			rec.Error = "simulated slowness"
		}
		s.received = append(s.received, rec)
		err := s.saveLocked()
		s.mu.Unlock()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errBody(err.Error()))
			return
		}
		if b.Mode != Slow {
			writeJSON(w, http.StatusServiceUnavailable, errBody("service unavailable"))
			return
		}
		select {
		case <-time.After(b.Stall):
		case <-r.Context().Done():
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, errBody("too slow"))
		return
	}
	now := s.now()
	a, ok := s.ads[adKey]
	if !ok {
		a = &ad{url: p.URL, platform: pid}
		s.ads[adKey] = a
	}
	first := a.requestedAt.IsZero()
	if first {
		a.requestedAt = now
		switch b.Mode {
		case Prompt, Flaky, Slow, Confirm:
			a.removeAt = now
		case Late:
			a.removeAt = now.Add(b.Delay)
		case Acknowledge:
			if b.Delay > 0 {
				a.removeAt = now.Add(b.Delay)
			}
		}
	}
	if first && b.Mode.answer() != "" && p.CaseID != "" {
		s.answerLater(pid, p.CaseID, b.Mode)
	}
	s.seq++
	ref := fmt.Sprintf("%s-%06d", strings.ToUpper(pid), s.seq)
	ansBody, _ := json.Marshal(platform.WebhookAnswer{Reference: ref, Status: "received"})
	s.answers[key] = answer{code: http.StatusAccepted, body: ansBody}
	rec.StatusCode, rec.Reference = http.StatusAccepted, ref
	s.received = append(s.received, rec)
	err = s.saveLocked()
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errBody(err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write(ansBody)
}

// removed reports whether the ad is down at now (caller holds mu).
func (a *ad) removed(now time.Time) bool {
	return !a.removeAt.IsZero() && !now.Before(a.removeAt)
}

func (s *Sim) serveStatus(w http.ResponseWriter, r *http.Request) {
	adURL := r.URL.Query().Get("url")
	pid := s.platformOfHost(r.Host)
	if pid == "website" {
		if _, p, err := s.key(adURL); err == nil {
			pid = p
		}
	}
	if err := platform.VerifySignature(s.secrets[pid], r.Header.Get(platform.HeaderTimestamp), r.Header.Get(platform.HeaderSignature), []byte(adURL), s.now()); err != nil || len(s.secrets[pid]) == 0 {
		writeJSON(w, http.StatusUnauthorized, errBody("bad signature"))
		return
	}
	key, _, err := s.key(adURL)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody(err.Error()))
		return
	}
	now := s.now()
	s.mu.Lock()
	b := s.behavior(key, pid)
	a, ok := s.ads[key]
	ans := platform.StatusAnswer{URL: adURL, Status: platform.StatusUnknown}
	if ok {
		ans.Status = platform.StatusLive
		if a.removed(now) {
			ans.Status = platform.StatusRemoved
			t := a.removeAt.UTC()
			ans.RemovedAt = &t
		}
	}
	s.mu.Unlock()
	if b.Mode == Down {
		writeJSON(w, http.StatusServiceUnavailable, errBody("service unavailable"))
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// removedAs404 lists platforms whose removed content answers 404; the
// others answer 200 with their "content unavailable" page.
var removedAs404 = map[string]bool{"telegram": true, "whatsapp": true, "website": true}

func (s *Sim) servePage(w http.ResponseWriter, r *http.Request) {
	key := s.pageKey(r)
	pid := s.platformOfHost(r.Host)
	now := s.now()
	s.mu.Lock()
	a, ok := s.ads[key]
	if !ok && r.URL.Path == "/" && pid == "website" {
		// The simulator's own address (no platform's host, no ad there):
		// its index page.
		s.mu.Unlock()
		s.serveIndex(w, r)
		return
	}
	var text string
	removed := false
	if ok {
		text, removed = a.text, a.removed(now)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	name := pid
	if p, err := s.cfg.Get(pid); err == nil {
		name = p.DisplayName
	}
	switch {
	case !ok || (text == "" && !removed):
		w.WriteHeader(http.StatusNotFound)
		pageTmpl.Execute(w, map[string]string{"Title": "Page not found", "Body": "The page you requested was not found.", "Platform": name})
	case removed && (removedAs404[pid] || len(s.cfg.Platforms[pid].UnavailableMarkers) == 0):
		w.WriteHeader(http.StatusNotFound)
		pageTmpl.Execute(w, map[string]string{"Title": "Not found", "Body": "The page you requested was not found.", "Platform": name})
	case removed:
		marker := s.cfg.Platforms[pid].UnavailableMarkers[0]
		pageTmpl.Execute(w, map[string]string{"Title": name, "Body": marker + ". It may have been removed or the link may be broken.", "Platform": name})
	default:
		pageTmpl.Execute(w, map[string]string{"Title": name, "Body": text, "Platform": name})
	}
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><header>{{.Platform}}</header><main><article><p>{{.Body}}</p></article></main></body></html>`))

func (s *Sim) serveSeed(w http.ResponseWriter, r *http.Request) {
	var in struct{ URL, Text string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, errBody("body must be JSON {url, text}"))
		return
	}
	if strings.TrimSpace(in.Text) == "" {
		writeJSON(w, http.StatusBadRequest, errBody("field text: required"))
		return
	}
	if err := s.Seed(in.URL, in.Text); err != nil {
		writeJSON(w, http.StatusBadRequest, errBody(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": in.URL})
}

func (s *Sim) serveRemove(w http.ResponseWriter, r *http.Request) {
	var in struct{ URL string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, errBody("body must be JSON {url}"))
		return
	}
	if err := s.Remove(in.URL); err != nil {
		writeJSON(w, http.StatusBadRequest, errBody(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": in.URL})
}

func (s *Sim) serveBehavior(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Platform, URL, Mode, Delay, Stall string
		Failures                          int
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, errBody("body must be JSON {platform|url, mode, delay, failures}"))
		return
	}
	b := Behavior{Mode: Mode(in.Mode), Failures: in.Failures}
	if in.Delay != "" {
		d, err := time.ParseDuration(in.Delay)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errBody("field delay: "+err.Error()))
			return
		}
		b.Delay = d
	}
	if in.Stall != "" {
		d, err := time.ParseDuration(in.Stall)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errBody("field stall: "+err.Error()))
			return
		}
		b.Stall = d
	}
	var err error
	switch {
	case in.URL != "":
		err = s.SetURLBehavior(in.URL, b)
	case in.Platform != "":
		err = s.SetBehavior(in.Platform, b)
	default:
		err = errors.New("field platform or url: required")
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// AdState is an ad as the admin view shows it.
type AdState struct {
	// URL is the ad's canonical URL: every form of it reaches this ad.
	URL string `json:"url"`
	// FirstURL is the form the simulator first heard of it by, when it
	// differs from URL.
	FirstURL    string     `json:"first_url,omitempty"`
	Platform    string     `json:"platform"`
	Seeded      bool       `json:"seeded"`
	RequestedAt *time.Time `json:"requested_at,omitempty"`
	RemoveAt    *time.Time `json:"remove_at,omitempty"`
	Removed     bool       `json:"removed"`
	// Behavior is the ad's own behaviour, if one was set for it.
	Behavior *Behavior `json:"behavior,omitempty"`
}

// Ads returns every known ad's state, sorted by URL.
func (s *Sim) Ads() []AdState {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AdState, 0, len(s.ads))
	for key, a := range s.ads {
		st := AdState{URL: key, Platform: a.platform, Seeded: a.text != "", Removed: a.removed(now)}
		if a.url != key {
			st.FirstURL = a.url
		}
		if !a.requestedAt.IsZero() {
			t := a.requestedAt
			st.RequestedAt = &t
		}
		if !a.removeAt.IsZero() {
			t := a.removeAt
			st.RemoveAt = &t
		}
		if b, ok := s.byURL[key]; ok {
			st.Behavior = &b
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

// PlatformState is a simulated platform as the index page shows it.
type PlatformState struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	Channel     string   `json:"channel"`
	Hosts       []string `json:"hosts,omitempty"`
	Behavior    Behavior `json:"behavior"`
}

// Platforms returns every configured platform with its current behaviour,
// sorted by id.
func (s *Sim) Platforms() []PlatformState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PlatformState, 0, len(s.cfg.Platforms))
	for id, p := range s.cfg.Platforms {
		out = append(out, PlatformState{ID: id, DisplayName: p.DisplayName, Channel: p.Channel, Hosts: p.Hosts, Behavior: s.behavior("", id)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// view is what the index page and GET /_sim/requests show.
type view struct {
	Platforms []PlatformState `json:"platforms,omitempty"`
	Requests  []Received      `json:"requests"`
	Ads       []AdState       `json:"ads"`
	Answers   []Answered      `json:"answers"`
}

func (s *Sim) serveRequests(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, view{Requests: s.Requests(), Ads: s.Ads(), Answers: s.Answers()})
		return
	}
	s.serveIndex(w, r)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || r.URL.Query().Get("format") == "json"
}

// serveIndex is the simulator's page for people: the platforms and their
// behaviour, the published ads, the notices received and the endpoints.
func (s *Sim) serveIndex(w http.ResponseWriter, r *http.Request) {
	v := view{Platforms: s.Platforms(), Requests: s.Requests(), Ads: s.Ads(), Answers: s.Answers()}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, v)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := indexTmpl.Execute(w, v); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

// wib is the time zone people read times in.
var wib = time.FixedZone("WIB", 7*60*60)

func describe(b Behavior) string {
	switch b.Mode {
	case Late:
		return fmt.Sprintf("late (%s)", b.Delay)
	case Flaky:
		return fmt.Sprintf("flaky (%d)", b.Failures)
	case Slow:
		return fmt.Sprintf("slow (%d × %s)", b.Failures, b.Stall)
	}
	return string(b.Mode)
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"wib":      func(t time.Time) string { return t.In(wib).Format("2006-01-02 15:04:05 MST") },
	"behavior": describe,
}).Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Simulator platform / Platform simulator</title>
<style>body{font-family:sans-serif;margin:2em;max-width:80em}td,th{padding:.3em .6em;text-align:left;font-size:.9em;vertical-align:top}
tr:nth-child(even){background:#f4f4f4}code{background:#eee;padding:0 .2em}.en{color:#555}</style></head>
<body><h1>Simulator platform <span class="en">/ Platform simulator</span></h1>
<p>Server ini menggantikan platform media sosial untuk tangkal lokal: menayangkan iklan yang dilaporkan, menerima
permintaan penurunan (webhook bertanda tangan) dan menurunkan iklan sesuai perilaku yang diatur. Satu iklan adalah satu
hal, apa pun bentuk URL-nya (m./www., parameter pelacak, http): semua bentuknya tayang atau hilang bersamaan.</p>
<p class="en">This server stands in for the social platforms of local tangkal: it serves the reported ads, receives
takedown requests (signed webhooks) and takes ads down as its behaviour says. An ad is one thing whatever form its URL
takes (m./www., tracking parameters, http): every form of it is served or gone together.</p>

<h2>Platform <span class="en">/ Platforms</span></h2>
<table><tr><th>ID</th><th>Nama / Name</th><th>Saluran / Channel</th><th>Host</th><th>Perilaku / Behaviour</th></tr>
{{range .Platforms}}<tr><td>{{.ID}}</td><td>{{.DisplayName}}</td><td>{{.Channel}}</td><td>{{range $i, $h := .Hosts}}{{if $i}}, {{end}}{{$h}}{{end}}</td><td>{{behavior .Behavior}}</td></tr>
{{end}}</table>

<h2>Mode perilaku <span class="en">/ Behaviour modes</span></h2>
<table><tr><th>Mode</th><th>Arti</th><th class="en">Meaning</th></tr>
<tr><td><code>prompt</code></td><td>menurunkan iklan saat permintaan tiba</td><td class="en">removes the ad when the request arrives</td></tr>
<tr><td><code>late</code> + <code>delay</code></td><td>menurunkan iklan setelah jeda (mis. 10h) pada jam lokal</td><td class="en">removes the ad after a delay (e.g. 10h) on the local clock</td></tr>
<tr><td><code>never</code></td><td>menerima permintaan, tidak pernah menurunkan</td><td class="en">accepts requests, never removes</td></tr>
<tr><td><code>flaky</code> + <code>failures</code></td><td>permintaan pertama per iklan dijawab 503, lalu seperti prompt</td><td class="en">the first requests per ad answer 503, then as prompt</td></tr>
<tr><td><code>down</code></td><td>selalu menjawab 503</td><td class="en">always answers 503</td></tr>
<tr><td><code>slow</code> + <code>failures</code> + <code>stall</code></td><td>permintaan pertama per iklan ditahan selama <code>stall</code> (waktu nyata), lalu seperti prompt</td><td class="en">the first requests per ad are held for <code>stall</code> (real time), then as prompt</td></tr>
<tr><td><code>confirm</code></td><td>menurunkan iklan dan menjawab "removed" lewat API platform</td><td class="en">removes the ad and answers "removed" through the platform API</td></tr>
<tr><td><code>acknowledge</code> + <code>delay</code></td><td>menjawab "acknowledged", lalu menurunkan setelah jeda</td><td class="en">answers "acknowledged", then removes after the delay</td></tr>
<tr><td><code>ask</code></td><td>menjawab "needs_information" dengan pertanyaan</td><td class="en">answers "needs_information" with a question</td></tr>
<tr><td><code>object</code></td><td>mengajukan sanggahan ("objected")</td><td class="en">objects ("objected")</td></tr>
<tr><td><code>false_confirm</code></td><td>menjawab "removed" tetapi iklan tetap tayang</td><td class="en">answers "removed" but leaves the ad up</td></tr>
</table>
<p>Atur per platform atau per iklan: <code>curl -X POST …/_sim/behavior -d '{"platform":"x","mode":"never"}'</code>,
atau saat mulai: <code>tangkal run --platform x=never</code> (env <code>TANGKAL_SIM_BEHAVIOR</code>).
<span class="en">Set per platform or per ad with the same request (<code>"url"</code> instead of <code>"platform"</code>), or at start with the flag or the environment variable.</span></p>

<h2>Iklan yang tayang <span class="en">/ Published ads</span></h2>
{{if not .Ads}}<p>Belum ada. <span class="en">None yet.</span></p>{{else}}<table><tr><th>URL (kanonis / canonical)</th><th>Platform</th><th>Status</th><th>Diminta / Requested</th><th>Penurunan / Removal</th><th>Perilaku / Behaviour</th></tr>
{{range .Ads}}<tr><td>{{.URL}}{{with .FirstURL}}<br><small>{{.}}</small>{{end}}</td><td>{{.Platform}}</td>
<td>{{if .Removed}}diturunkan / removed{{else if .RemoveAt}}dijadwalkan / scheduled{{else if .Seeded}}tayang / live{{else}}tidak dikenal / unknown{{end}}</td>
<td>{{with .RequestedAt}}{{wib .}}{{end}}</td><td>{{with .RemoveAt}}{{wib .}}{{end}}</td><td>{{with .Behavior}}{{behavior .}}{{end}}</td></tr>
{{end}}</table>{{end}}

<h2>Permintaan yang diterima <span class="en">/ Requests received</span></h2>
{{if not .Requests}}<p>Belum ada. <span class="en">None yet.</span></p>{{else}}<table><tr><th>Waktu / At</th><th>Platform</th><th>Jenis / Kind</th><th>Kasus / Case</th><th>URL</th><th>Idempotency-Key</th><th>Jawaban / Answer</th><th>Ref</th><th>Ulangan / Repeat</th></tr>
{{range .Requests}}<tr><td>{{wib .At}}</td><td>{{.Platform}}</td><td>{{.Kind}}</td><td>{{.CaseID}}</td><td>{{.URL}}</td>
<td>{{.IdempotencyKey}}</td><td>{{.StatusCode}}{{with .Error}} ({{.}}){{end}}</td><td>{{.Reference}}</td><td>{{if .Duplicate}}ya / yes{{end}}</td></tr>
{{end}}</table>{{end}}

<h2>Jawaban lewat API platform <span class="en">/ Answers through the platform API</span></h2>
{{if not .Answers}}<p>Belum ada. <span class="en">None yet.</span></p>{{else}}<table><tr><th>Waktu / At</th><th>Platform</th><th>Kasus / Case</th><th>Jawaban / Answer</th><th>Status</th></tr>
{{range .Answers}}<tr><td>{{wib .At}}</td><td>{{.Platform}}</td><td>{{.CaseID}}</td><td>{{.Answer}}</td><td>{{.StatusCode}}{{with .Error}} ({{.}}){{end}}</td></tr>
{{end}}</table>{{end}}

<h2>Endpoint <span class="en">/ Endpoints</span></h2>
<table><tr><th>Endpoint</th><th>Arti</th><th class="en">Meaning</th></tr>
<tr><td><code>GET /</code></td><td>halaman ini</td><td class="en">this page</td></tr>
<tr><td><code>GET /_sim/requests</code></td><td>halaman ini; <code>?format=json</code> atau <code>Accept: application/json</code> memberi permintaan dan iklan sebagai JSON</td><td class="en">this page; <code>?format=json</code> or <code>Accept: application/json</code> gives the requests and ads as JSON</td></tr>
<tr><td><code>POST /_sim/seed</code> <code>{"url","text"}</code></td><td>menayangkan iklan dengan teks itu</td><td class="en">publishes an ad with that text</td></tr>
<tr><td><code>POST /_sim/remove</code> <code>{"url"}</code></td><td>menurunkan iklan sekarang (seperti platform yang menerima pemberitahuan lewat e-mail)</td><td class="en">takes an ad down now (as a platform noticed by e-mail would)</td></tr>
<tr><td><code>POST /_sim/behavior</code> <code>{"platform" | "url", "mode", "delay", "failures"}</code></td><td>mengatur perilaku platform atau satu iklan</td><td class="en">sets the behaviour of a platform or of one ad</td></tr>
<tr><td><code>POST /takedown</code></td><td>webhook penurunan bertanda tangan (HMAC), dideduplikasi dengan Idempotency-Key</td><td class="en">the signed (HMAC) takedown webhook, deduplicated by Idempotency-Key</td></tr>
<tr><td><code>GET /status?url=…</code></td><td>API status bertanda tangan: tayang, diturunkan atau tidak dikenal</td><td class="en">the signed status API: live, removed or unknown</td></tr>
<tr><td><code>GET</code> URL iklan</td><td>halaman iklan (lewat host platform): teksnya selama tayang, lalu 404 atau halaman "konten tidak tersedia"</td><td class="en">the ad's page (through a platform's host): its text while live, then 404 or a "content unavailable" page</td></tr>
</table>
</body></html>`))
