package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tangkal/tangkal/data"
)

// Channels a platform takes takedown requests on.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// Urgency values of a case.
const (
	UrgencyUrgent = "urgent"
	UrgencyNormal = "normal"
)

// Default deadlines (Permenkominfo 5/2020): 4 hours for urgent content, 24
// hours otherwise.
const (
	DefaultUrgentDeadline = 4 * time.Hour
	DefaultNormalDeadline = 24 * time.Hour
)

// Duration is a time.Duration written as a Go duration string ("4h",
// "90m") in JSON.
type Duration time.Duration

// UnmarshalJSON reads "4h" style strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	if v <= 0 {
		return fmt.Errorf("duration %q must be positive", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// Deadlines per urgency.
type Deadlines struct {
	Urgent Duration `json:"urgent"`
	Normal Duration `json:"normal"`
}

// Escalation lists who receives each warning after a missed deadline.
type Escalation struct {
	Warning1 []string `json:"warning_1"`
	Warning2 []string `json:"warning_2"`
	Warning3 []string `json:"warning_3"`
}

// Platform is one platform's configuration.
type Platform struct {
	// ID is the key in the configuration ("facebook", "x", "website"...).
	ID          string   `json:"-"`
	DisplayName string   `json:"display_name"`
	Hosts       []string `json:"hosts,omitempty"`
	// Channel is ChannelWebhook or ChannelEmail.
	Channel    string `json:"channel"`
	WebhookURL string `json:"webhook_url,omitempty"`
	// WebhookSecretEnv names the environment variable holding the webhook
	// signing secret; the secret itself is never in the configuration.
	WebhookSecretEnv string `json:"webhook_secret_env,omitempty"`
	// StatusURL, when set, answers GET ?url=<ad url> with the ad's status.
	StatusURL          string     `json:"status_url,omitempty"`
	NoticeEmail        string     `json:"notice_email"`
	Escalation         Escalation `json:"escalation"`
	Deadlines          Deadlines  `json:"deadlines"`
	UnavailableMarkers []string   `json:"unavailable_markers,omitempty"`
}

// Contacts returns the recipients of a notice of the given kind: the notice
// address for a takedown, the escalation contacts for a warning.
func (p Platform) Contacts(kind Kind) []string {
	switch kind {
	case KindTakedown:
		if p.NoticeEmail == "" {
			return nil
		}
		return []string{p.NoticeEmail}
	case KindWarning1:
		return p.Escalation.Warning1
	case KindWarning2:
		return p.Escalation.Warning2
	case KindWarning3, KindFine, KindBlocking:
		// The sanctions go to the same senior contacts as warning 3 (a
		// blocking referral to the agency first: Letters.Email).
		return p.Escalation.Warning3
	}
	return nil
}

// Config is the set of configured platforms.
type Config struct {
	Platforms map[string]Platform `json:"platforms"`
}

// Default returns the bundled configuration (data/platforms.json).
func Default() (Config, error) {
	return Parse(data.Platforms)
}

// Load reads a configuration file; an empty path means the bundled one.
func Load(path string) (Config, error) {
	if path == "" {
		return Default()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load platform config: %w", err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("load platform config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a configuration. Missing deadlines default to
// 4h (urgent) and 24h (normal).
func Parse(b []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("parse platform config: %w", err)
	}
	if len(cfg.Platforms) == 0 {
		return Config{}, errors.New("parse platform config: field platforms: no platforms configured")
	}
	for id, p := range cfg.Platforms {
		p.ID = id
		if p.Deadlines.Urgent == 0 {
			p.Deadlines.Urgent = Duration(DefaultUrgentDeadline)
		}
		if p.Deadlines.Normal == 0 {
			p.Deadlines.Normal = Duration(DefaultNormalDeadline)
		}
		for i, h := range p.Hosts {
			p.Hosts[i] = strings.ToLower(h)
		}
		if err := p.validate(); err != nil {
			return Config{}, fmt.Errorf("parse platform config: platform %s: %w", id, err)
		}
		cfg.Platforms[id] = p
	}
	return cfg, nil
}

func (p Platform) validate() error {
	if p.DisplayName == "" {
		return errors.New("field display_name: required")
	}
	switch p.Channel {
	case ChannelWebhook:
		if err := checkURL(p.WebhookURL); err != nil {
			return fmt.Errorf("field webhook_url: %w", err)
		}
		if p.WebhookSecretEnv == "" {
			return errors.New("field webhook_secret_env: required for the webhook channel")
		}
	case ChannelEmail:
		if p.NoticeEmail == "" {
			return errors.New("field notice_email: required for the email channel")
		}
	default:
		return fmt.Errorf("field channel: %q is neither %q nor %q", p.Channel, ChannelWebhook, ChannelEmail)
	}
	if p.StatusURL != "" {
		if err := checkURL(p.StatusURL); err != nil {
			return fmt.Errorf("field status_url: %w", err)
		}
	}
	for _, addr := range append([]string{p.NoticeEmail}, append(append(p.Escalation.Warning1, p.Escalation.Warning2...), p.Escalation.Warning3...)...) {
		if addr != "" && !strings.Contains(addr, "@") {
			return fmt.Errorf("field escalation/notice_email: %q is not an email address", addr)
		}
	}
	if p.Deadlines.Urgent > p.Deadlines.Normal {
		return errors.New("field deadlines: urgent must not be longer than normal")
	}
	return nil
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// Get returns the named platform.
func (c Config) Get(id string) (Platform, error) {
	p, ok := c.Platforms[id]
	if !ok {
		return Platform{}, fmt.Errorf("platform %q is not configured", id)
	}
	return p, nil
}

// IDs returns the configured platform ids, sorted.
func (c Config) IDs() []string {
	ids := make([]string, 0, len(c.Platforms))
	for id := range c.Platforms {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ForHost returns the platform serving the given host (port and case
// ignored; subdomains of a configured host match). ok is false for hosts no
// platform claims (the caller usually falls back to "website").
func (c Config) ForHost(host string) (Platform, bool) {
	host = strings.ToLower(host)
	if h, _, found := strings.Cut(host, ":"); found {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	best, bestLen := Platform{}, 0
	for _, p := range c.Platforms {
		for _, h := range p.Hosts {
			if (host == h || strings.HasSuffix(host, "."+h)) && len(h) > bestLen {
				best, bestLen = p, len(h)
			}
		}
	}
	return best, bestLen > 0
}

// Deadline is when a platform must have removed content of the given
// urgency, counted from from. Unknown urgencies get the normal deadline.
func Deadline(p Platform, urgency string, from time.Time) time.Time {
	d := time.Duration(p.Deadlines.Normal)
	if urgency == UrgencyUrgent {
		d = time.Duration(p.Deadlines.Urgent)
	}
	if d <= 0 {
		d = DefaultNormalDeadline
		if urgency == UrgencyUrgent {
			d = DefaultUrgentDeadline
		}
	}
	return from.Add(d)
}
