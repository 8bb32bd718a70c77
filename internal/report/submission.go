// Package report is the intake of reported ads: validation, canonical URLs,
// dedupe into cases, and idempotent retries.
package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/urlcanon"
)

// Limits of a submission.
const (
	MaxBodyBytes  = 64 << 10
	MaxURLLength  = 2048
	MaxTextLength = 10000
	MaxNotes      = 2000
	MaxShortField = 200
	MaxIdemKey    = 128
)

// Reporter describes who reports, as they choose to say.
type Reporter struct {
	Name         string `json:"name,omitempty"`
	Contact      string `json:"contact,omitempty"`
	Organization string `json:"organization,omitempty"`
}

// Submission is the body of POST /reports.
type Submission struct {
	URL        string     `json:"url"`
	Platform   string     `json:"platform,omitempty"`
	Text       string     `json:"text,omitempty"`
	Category   string     `json:"category,omitempty"`
	Notes      string     `json:"notes,omitempty"`
	Reporter   *Reporter  `json:"reporter,omitempty"`
	ObservedAt *time.Time `json:"observed_at,omitempty"`

	// warnings are what Validate changed in the submission.
	warnings []Warning
}

// Warning tells the reporter what intake changed in an accepted report
// (the 202 answer lists them under "warnings").
type Warning struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Warning codes.
const (
	// WarnCredentialsRemoved: the URL had a user name or password before
	// its host; it was removed before anything was stored or sent.
	WarnCredentialsRemoved = "credentials_removed"
)

// Warnings returns what Validate changed in the submission, if anything.
func (s *Submission) Warnings() []Warning { return append([]Warning(nil), s.warnings...) }

var (
	platforms  = map[string]bool{"facebook": true, "instagram": true, "tiktok": true, "x": true, "telegram": true, "youtube": true, "whatsapp": true, "website": true}
	categoryRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	idemKeyRe  = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// Parse decodes and validates a request body. The error is an *api.Error
// naming the field.
func Parse(body []byte, now time.Time) (Submission, urlcanon.Canonical, error) {
	var s Submission
	if len(body) > MaxBodyBytes {
		return s, urlcanon.Canonical{}, api.Errorf(413, "too_large", "body", "body is larger than %d bytes", MaxBodyBytes)
	}
	if err := api.DecodeStrict(body, &s); err != nil {
		return s, urlcanon.Canonical{}, err
	}
	c, err := s.Validate(now)
	return s, c, err
}

// Validate checks every field and canonicalises the URL.
func (s *Submission) Validate(now time.Time) (urlcanon.Canonical, error) {
	s.URL = strings.TrimSpace(s.URL)
	switch {
	case s.URL == "":
		return urlcanon.Canonical{}, api.Invalid("url", "url is required")
	case len(s.URL) > MaxURLLength:
		return urlcanon.Canonical{}, api.Invalid("url", "url is longer than %d characters", MaxURLLength)
	}
	c, err := urlcanon.Canonicalize(s.URL)
	if err != nil {
		msg := err.Error()
		if ue, ok := err.(*urlcanon.Error); ok {
			msg = ue.Message
		}
		return c, api.Invalid("url", "%s", msg)
	}
	// Credentials in a URL (https://user:pass@host/) are never kept: not in
	// the case, its history, mails, Slack or notices to the platform. The
	// canonical URL never has them; the URL as reported loses them here.
	s.warnings = nil
	if stripped, ok := urlcanon.StripUserinfo(s.URL); ok {
		s.URL = stripped
		s.warnings = append(s.warnings, Warning{Field: "url", Code: WarnCredentialsRemoved,
			Message: "Nama pengguna dan kata sandi di URL telah dihapus sebelum laporan disimpan; jangan kirim kredensial. / " +
				"The user name and password in the URL were removed before the report was stored; do not send credentials."})
	}
	if s.Platform != "" && !platforms[s.Platform] {
		return c, api.Invalid("platform", "unknown platform %q (want facebook, instagram, tiktok, x, telegram, youtube, whatsapp or website)", s.Platform)
	}
	if err := checkText("text", s.Text, MaxTextLength); err != nil {
		return c, err
	}
	if err := checkText("notes", s.Notes, MaxNotes); err != nil {
		return c, err
	}
	if s.Category != "" && !categoryRe.MatchString(s.Category) {
		return c, api.Invalid("category", "category must be a lower-case word like scam_compound (letters, digits, underscore; at most 64)")
	}
	if r := s.Reporter; r != nil {
		for field, v := range map[string]string{"reporter.name": r.Name, "reporter.contact": r.Contact, "reporter.organization": r.Organization} {
			if err := checkText(field, v, MaxShortField); err != nil {
				return c, err
			}
		}
	}
	if s.ObservedAt != nil && s.ObservedAt.After(now.Add(5*time.Minute)) {
		return c, api.Invalid("observed_at", "observed_at is in the future")
	}
	return c, nil
}

func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return api.Invalid(field, "%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return api.Invalid(field, "%s is longer than %d characters (%d)", field, max, n)
	}
	if strings.ContainsRune(v, 0) {
		return api.Invalid(field, "%s contains a NUL character", field)
	}
	return nil
}

// ValidIdempotencyKey reports whether an Idempotency-Key header is usable.
func ValidIdempotencyKey(k string) bool { return idemKeyRe.MatchString(k) }

// UnmarshalJSON decodes a reporter strictly, naming an unknown field with
// its full path (reporter.x).
func (r *Reporter) UnmarshalJSON(b []byte) error {
	type plain Reporter
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name := strings.Trim(f, `"`)
			return api.Invalid("reporter."+name, "unknown field %q", "reporter."+name)
		}
		return err
	}
	*r = Reporter(p)
	return nil
}
