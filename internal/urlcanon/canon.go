// Package urlcanon maps the many forms of one reported URL (tracking
// parameters, mobile hosts, http/https, share links, youtu.be…) to one
// canonical URL, so that the same ad reported twice joins one case.
//
// The rules, in order:
//
//   - the scheme is always https (http is upgraded);
//   - the host is lower-cased and converted to its IDNA ASCII form (punycode);
//     IPv4 literals in any form browsers accept (0x7f.1, 2130706433) become
//     dotted quads, IPv6 literals their RFC 5952 form; a trailing dot is dropped;
//   - userinfo (user:pass@) is stripped: the browser goes to the host after the
//     @, and credentials must never be stored;
//   - the default port (:443, or :80 on an http URL) is dropped;
//   - the fragment is dropped (except twitter's old #!/ routes, moved to the path);
//   - the path has its dot segments resolved, duplicate slashes collapsed, the
//     trailing slash removed (the root is "/"); percent-encoding is normalised
//     as RFC 3986 §6.2.2 says (unreserved characters decoded, hex upper-cased,
//     characters that must be escaped escaped; reserved escapes such as %2F and
//     %2B are kept, because decoding them could change the meaning);
//   - tracking parameters are removed, the remaining ones sorted;
//   - platform host variants are unified (m./www./web./mbasic. facebook.com →
//     facebook.com, twitter.com → x.com, telegram.me → t.me, …) and platform URL
//     variants unified (youtu.be/ID, /shorts/ID, /live/ID and /embed/ID →
//     youtube.com/watch?v=ID; facebook group /permalink/ → /posts/;
//     api.whatsapp.com/send?phone=N → wa.me/N; t.me/s/chan/N → t.me/chan/N).
//
// A wrongly merged pair of URLs would hide an ad from takedown, while a missed
// merge only costs a second case, so every rule removes only what is known not
// to identify content.
//
// Short links (vt.tiktok.com, fb.watch, t.co, bit.ly, s.id, …) cannot be
// resolved offline; they stay themselves with ShortLink set, and the fetcher
// can resolve them later.
package urlcanon

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// MaxLength is the longest URL accepted, before and after canonicalization.
const MaxLength = 2048

// Platforms, as inferred from the host.
const (
	Facebook  = "facebook"
	Instagram = "instagram"
	TikTok    = "tiktok"
	X         = "x"
	Telegram  = "telegram"
	YouTube   = "youtube"
	WhatsApp  = "whatsapp"
	Website   = "website"
)

// Canonical is the canonical form of a reported URL.
type Canonical struct {
	// URL is the canonical URL, always https.
	URL string
	// Platform is one of the platform constants, inferred from the host.
	Platform string
	// Host is the canonical host name without port (IPv6 without brackets).
	Host string
	// ShortLink reports that URL is a redirector (vt.tiktok.com, fb.watch,
	// bit.ly, …) whose target is only known after fetching it.
	ShortLink bool
}

// Error is returned for a URL that cannot be canonicalized.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

func errorf(format string, args ...any) error {
	return &Error{Field: "url", Message: fmt.Sprintf(format, args...)}
}

// Key is the dedupe key of a canonical URL: the hex SHA-256 of it.
func Key(canonicalURL string) string {
	sum := sha256.Sum256([]byte(canonicalURL))
	return hex.EncodeToString(sum[:])
}

// Canonicalize returns the canonical form of raw. Leading and trailing white
// space is ignored. It fails with an *Error for an empty URL, one longer than
// MaxLength, one with control characters, one that is not absolute, has a
// scheme other than http or https, or has no valid host.
func Canonicalize(raw string) (Canonical, error) {
	return canonicalize(raw, 0)
}

// maxUnwrap bounds how many nested link shims (l.facebook.com/l.php?u=…)
// are unwrapped. Every level is at least 30 characters shorter than the one
// around it, so within MaxLength the bound is never reached and unwrapping
// always goes to the end (which keeps Canonicalize idempotent).
const maxUnwrap = 100

func canonicalize(raw string, depth int) (Canonical, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return Canonical{}, errorf("is empty")
	case len(raw) > MaxLength:
		return Canonical{}, errorf("is longer than %d characters", MaxLength)
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return Canonical{}, errorf("contains a control character")
		}
	}
	p, err := split(raw)
	if err != nil {
		return Canonical{}, err
	}
	host, err := normalizeHost(p.host)
	if err != nil {
		return Canonical{}, err
	}
	port, err := normalizePort(p.port, p.scheme)
	if err != nil {
		return Canonical{}, err
	}
	u := &parts{
		host:  host,
		port:  port,
		path:  normalizePath(p.path),
		query: parseQuery(p.query),
		frag:  p.fragment,
	}
	rule := lookupHost(host)
	u.host, u.platform, u.short = rule.host, rule.platform, rule.short
	if rule.rewrite != nil {
		rule.rewrite(u)
	}
	if u.unwrap != "" && depth < maxUnwrap {
		if target, ok := percentDecode(u.unwrap); ok {
			if c, err := canonicalize(target, depth+1); err == nil {
				return c, nil
			}
		}
	}
	u.query = dropTracking(rule, u.query)
	out := u.String()
	if len(out) > MaxLength {
		return Canonical{}, errorf("is longer than %d characters once canonical", MaxLength)
	}
	return Canonical{URL: out, Platform: u.platform, Host: u.host, ShortLink: u.short}, nil
}

// parts is a URL being canonicalized. path holds normalised, escaped
// segments without empty ones; the root path is no segments.
type parts struct {
	host     string
	port     string
	path     []string
	query    []param
	frag     string
	platform string
	short    bool
	unwrap   string // escaped target URL of a link shim
}

func (u *parts) String() string {
	var b strings.Builder
	b.WriteString("https://")
	if strings.Contains(u.host, ":") {
		b.WriteString("[" + u.host + "]")
	} else {
		b.WriteString(u.host)
	}
	if u.port != "" {
		b.WriteString(":" + u.port)
	}
	b.WriteString("/")
	b.WriteString(strings.Join(u.path, "/"))
	if q := encodeQuery(u.query); q != "" {
		b.WriteString("?" + q)
	}
	return b.String()
}
