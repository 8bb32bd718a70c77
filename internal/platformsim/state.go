package platformsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/urlcanon"
)

// snapshot is the simulator's state as kept in Options.StatePath, so a
// restarted simulator still knows which ads it took down and when, answers
// a repeated idempotency key as the first time, and keeps counting a flaky
// platform's failures where it left off.
type snapshot struct {
	Version   int                    `json:"version"`
	Platforms map[string]Behavior    `json:"platforms,omitempty"`
	URLs      map[string]Behavior    `json:"urls,omitempty"`
	Ads       []savedAd              `json:"ads,omitempty"`
	Answers   map[string]savedAnswer `json:"answers,omitempty"`
	Attempts  map[string]int         `json:"attempts,omitempty"`
	Received  []Received             `json:"received,omitempty"`
	Answered  []Answered             `json:"answered,omitempty"`
	Seq       int                    `json:"seq"`
}

type savedAd struct {
	Key         string    `json:"key"`
	URL         string    `json:"url"`
	Platform    string    `json:"platform"`
	Text        string    `json:"text,omitempty"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	RemoveAt    time.Time `json:"remove_at,omitzero"`
}

type savedAnswer struct {
	Code int             `json:"code"`
	Body json.RawMessage `json:"body"`
}

const snapshotVersion = 1

// load restores the state saved at path; a missing file is an empty state.
func (s *Sim) load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("platformsim: read state: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("platformsim: state file %s: %w", path, err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("platformsim: state file %s field version: %d, want %d", path, snap.Version, snapshotVersion)
	}
	for id, b := range snap.Platforms {
		s.byPlatform[id] = b
	}
	for k, b := range snap.URLs {
		s.byURL[rekey(k)] = b
	}
	for _, a := range snap.Ads {
		k := rekey(a.Key)
		if c, err := urlcanon.Canonicalize(a.URL); err == nil {
			k = c.URL
		}
		s.mergeAd(k, &ad{url: a.URL, platform: a.Platform, text: a.Text, requestedAt: a.RequestedAt, removeAt: a.RemoveAt})
	}
	for k, a := range snap.Answers {
		s.answers[k] = answer{code: a.Code, body: a.Body}
	}
	for k, n := range snap.Attempts {
		s.attempts[rekey(k)] += n
	}
	s.received = snap.Received
	s.answered = snap.Answered
	s.seq = snap.Seq
	return nil
}

// rekey turns a key saved by an older simulator (host without www./m.,
// path and query: "facebook.com/groups/1/posts/2?mibextid=x") into the
// canonical URL ads are keyed by now; a canonical key stays itself.
func rekey(k string) string {
	raw := k
	if !strings.HasPrefix(k, "https://") {
		raw = "https://" + k
	}
	if c, err := urlcanon.Canonicalize(raw); err == nil {
		return c.URL
	}
	return k
}

// mergeAd adds a loaded ad; two saved under keys that are one ad now (an
// older simulator kept the reported form and the notice's form apart)
// become one: the text of the seeded one, the first request and the first
// removal.
func (s *Sim) mergeAd(key string, a *ad) {
	old, ok := s.ads[key]
	if !ok {
		s.ads[key] = a
		return
	}
	if old.text == "" && a.text != "" {
		old.text, old.url = a.text, a.url
	}
	if old.url == "" {
		old.url = a.url
	}
	if old.requestedAt.IsZero() || (!a.requestedAt.IsZero() && a.requestedAt.Before(old.requestedAt)) {
		old.requestedAt = a.requestedAt
	}
	if old.removeAt.IsZero() || (!a.removeAt.IsZero() && a.removeAt.Before(old.removeAt)) {
		old.removeAt = a.removeAt
	}
}

// saveLocked writes the whole state to the state file, atomically (a
// temporary file renamed over the old one): a process killed at any moment
// leaves either the previous state or the new one. The caller holds mu.
// Without a state path it does nothing.
func (s *Sim) saveLocked() error {
	if s.statePath == "" {
		return nil
	}
	snap := snapshot{Version: snapshotVersion, Platforms: s.byPlatform, URLs: s.byURL,
		Answers: make(map[string]savedAnswer, len(s.answers)), Attempts: s.attempts, Received: s.received, Answered: s.answered, Seq: s.seq}
	for k, a := range s.ads {
		snap.Ads = append(snap.Ads, savedAd{Key: k, URL: a.url, Platform: a.platform, Text: a.text, RequestedAt: a.requestedAt, RemoveAt: a.removeAt})
	}
	sort.Slice(snap.Ads, func(i, j int) bool { return snap.Ads[i].Key < snap.Ads[j].Key })
	for k, a := range s.answers {
		snap.Answers[k] = savedAnswer{Code: a.code, Body: a.body}
	}
	b, err := json.MarshalIndent(snap, "", " ")
	if err != nil {
		return fmt.Errorf("platformsim: encode state: %w", err)
	}
	if err := writeAtomic(s.statePath, b); err != nil {
		return fmt.Errorf("platformsim: save state: %w", err)
	}
	return nil
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// ParseBehavior reads a behaviour as written on a command line: "prompt",
// "never", "down", "late:10h" (removal 10 hours after the notice),
// "flaky:2" (the first 2 notices per ad answer 503), or a mode answering
// through the platform API: "confirm", "acknowledge[:10h]", "ask",
// "object", "false_confirm".
func ParseBehavior(s string) (Behavior, error) {
	mode, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	b := Behavior{Mode: Mode(strings.ToLower(mode))}
	switch b.Mode {
	case Late:
		d, err := time.ParseDuration(arg)
		if err != nil {
			return Behavior{}, fmt.Errorf("behavior %q: late needs a delay such as late:10h", s)
		}
		b.Delay = d
	case Acknowledge:
		if hasArg {
			d, err := time.ParseDuration(arg)
			if err != nil {
				return Behavior{}, fmt.Errorf("behavior %q: acknowledge takes a removal delay such as acknowledge:10h", s)
			}
			b.Delay = d
		}
	case Flaky:
		n, err := strconv.Atoi(arg)
		if err != nil {
			return Behavior{}, fmt.Errorf("behavior %q: flaky needs a failure count such as flaky:2", s)
		}
		b.Failures = n
	default:
		if hasArg {
			return Behavior{}, fmt.Errorf("behavior %q: mode %s takes no argument", s, mode)
		}
	}
	if err := b.validate(); err != nil {
		return Behavior{}, fmt.Errorf("behavior %q: %w", s, err)
	}
	return b, nil
}

// ParsePlatformBehavior reads "platform=behavior", e.g. "facebook=late:10h".
func ParsePlatformBehavior(s string) (platformID string, b Behavior, err error) {
	id, spec, ok := strings.Cut(s, "=")
	id = strings.TrimSpace(strings.ToLower(id))
	if !ok || id == "" {
		return "", Behavior{}, fmt.Errorf("platform behavior %q: want platform=mode, e.g. facebook=late:10h", s)
	}
	b, err = ParseBehavior(spec)
	if err != nil {
		return "", Behavior{}, fmt.Errorf("platform %s: %w", id, err)
	}
	return id, b, nil
}
