package urlcanon

import (
	"regexp"
	"strings"
)

// hostRule says what a host canonicalizes to.
type hostRule struct {
	host     string // canonical host; "" keeps the host as given
	platform string
	short    bool
	rewrite  func(*parts)
	drop     set // parameters that never identify content on this host
}

type set map[string]bool

func newSet(names ...string) set {
	s := set{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

// tracking parameters dropped on every host (names are matched lower-cased,
// after percent-decoding). utm_*, __cft__* and __xts__* are prefixes.
var tracking = newSet(
	"fbclid", "gclid", "dclid", "gclsrc", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
	"igshid", "igsh", "mibextid", "mc_cid", "mc_eid", "_ga", "_gl", "__tn__", "_rdc", "_rdr",
	"sfnsn", "rdid", "is_from_webapp", "sender_device", "share_app_id", "srsltid", "_hsenc", "_hsmi",
	"mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "li_fat_id", "s_kwcid",
)

var trackingPrefixes = []string{"utm_", "__cft__", "__xts__"}

var (
	facebookDrop = newSet("ref", "refsrc", "refid", "fref", "hc_ref", "hc_location", "paipv", "eav",
		"notif_id", "notif_t", "ref_notif_type", "acontext", "extid", "app", "locale", "comment_tracking",
		"privacy_mutation_token", "_fb_noscript", "sk", "rc", "ref_component", "ref_page")
	instagramDrop = newSet("img_index", "hl", "ig_rid", "ig_mid", "ref")
	tiktokDrop    = newSet("_r", "_t", "_d", "is_copy_url", "sender_web_id", "share_item_id", "share_link_id",
		"share_author_id", "u_code", "preview_pb", "timestamp", "user_id", "sec_user_id", "tt_from",
		"checksum", "lang", "language", "web_id", "source", "refer", "enter_from", "enter_method",
		"social_sharing", "embed_source")
	xDrop        = newSet("s", "t", "ref_src", "ref_url", "ref", "src", "cn", "lang", "cxt")
	telegramDrop = newSet("embed", "single", "ref")
	youtubeDrop  = newSet("si", "feature", "pp", "ab_channel", "app", "embeds_referring_euri",
		"source_ve_path", "cbrd", "ucbcb")
	spotifyDrop = newSet("si", "nd", "context")
)

var (
	facebookRule  = hostRule{host: "facebook.com", platform: Facebook, rewrite: facebook, drop: facebookDrop}
	instagramRule = hostRule{host: "instagram.com", platform: Instagram, rewrite: instagram, drop: instagramDrop}
	tiktokRule    = hostRule{host: "tiktok.com", platform: TikTok, rewrite: tiktok, drop: tiktokDrop}
	xRule         = hostRule{host: "x.com", platform: X, rewrite: twitter, drop: xDrop}
	telegramRule  = hostRule{host: "t.me", platform: Telegram, rewrite: telegram, drop: telegramDrop}
	youtubeRule   = hostRule{host: "youtube.com", platform: YouTube, rewrite: youtube, drop: youtubeDrop}
	whatsappRule  = hostRule{host: "whatsapp.com", platform: WhatsApp, rewrite: whatsappSend}
)

// hostRules maps a host (lower-case, ASCII) to its rule.
var hostRules = map[string]hostRule{
	"facebook.com": facebookRule, "www.facebook.com": facebookRule, "m.facebook.com": facebookRule,
	"mbasic.facebook.com": facebookRule, "web.facebook.com": facebookRule, "touch.facebook.com": facebookRule,
	"mobile.facebook.com": facebookRule, "free.facebook.com": facebookRule, "d.facebook.com": facebookRule,
	"fb.com": facebookRule, "www.fb.com": facebookRule, "m.fb.com": facebookRule,
	"fb.watch": {host: "fb.watch", platform: Facebook, short: true}, "www.fb.watch": {host: "fb.watch", platform: Facebook, short: true},
	"fb.me":          {host: "fb.me", platform: Facebook, short: true},
	"l.facebook.com": {platform: Facebook, rewrite: linkShim("u")}, "lm.facebook.com": {platform: Facebook, rewrite: linkShim("u")},

	"instagram.com": instagramRule, "www.instagram.com": instagramRule, "m.instagram.com": instagramRule,
	"instagr.am": instagramRule, "www.instagr.am": instagramRule,
	"l.instagram.com": {platform: Instagram, rewrite: linkShim("u")},

	"tiktok.com": tiktokRule, "www.tiktok.com": tiktokRule, "m.tiktok.com": tiktokRule,
	"vt.tiktok.com": {platform: TikTok, short: true, drop: tiktokDrop},
	"vm.tiktok.com": {platform: TikTok, short: true, drop: tiktokDrop},

	"x.com": xRule, "www.x.com": xRule, "mobile.x.com": xRule, "m.x.com": xRule,
	"twitter.com": xRule, "www.twitter.com": xRule, "mobile.twitter.com": xRule, "m.twitter.com": xRule,

	"t.me": telegramRule, "www.t.me": telegramRule, "telegram.me": telegramRule, "www.telegram.me": telegramRule,
	"telegram.dog": telegramRule, "www.telegram.dog": telegramRule,

	"youtube.com": youtubeRule, "www.youtube.com": youtubeRule, "m.youtube.com": youtubeRule,
	"youtube-nocookie.com": youtubeRule, "www.youtube-nocookie.com": youtubeRule,
	"youtu.be":          {host: "youtube.com", platform: YouTube, rewrite: youtuBe, drop: youtubeDrop},
	"www.youtu.be":      {host: "youtube.com", platform: YouTube, rewrite: youtuBe, drop: youtubeDrop},
	"music.youtube.com": {platform: YouTube, drop: youtubeDrop},

	"wa.me": {platform: WhatsApp, rewrite: waMe}, "www.wa.me": {host: "wa.me", platform: WhatsApp, rewrite: waMe},
	"api.whatsapp.com": {platform: WhatsApp, rewrite: whatsappSend},
	"web.whatsapp.com": {platform: WhatsApp, rewrite: whatsappSend},
	"whatsapp.com":     whatsappRule, "www.whatsapp.com": whatsappRule,
	"chat.whatsapp.com": {platform: WhatsApp},
	"wa.link":           {platform: WhatsApp, short: true},

	"open.spotify.com": {platform: Website, drop: spotifyDrop},
	"google.com":       {platform: Website, rewrite: googleURL}, "www.google.com": {platform: Website, rewrite: googleURL},
	"google.co.id": {platform: Website, rewrite: googleURL}, "www.google.co.id": {platform: Website, rewrite: googleURL},
}

// shorteners are general link shorteners: the target is any website.
var shorteners = newSet("t.co", "bit.ly", "s.id", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "cutt.ly",
	"rebrand.ly", "shorturl.at", "rb.gy", "buff.ly", "lnkd.in", "tiny.cc", "bit.do", "v.gd", "t.ly",
	"shorturl.asia", "bit.ly.id", "shope.ee", "tokopedia.link")

// facebookLocale matches language hosts such as id-id.facebook.com.
var facebookLocale = regexp.MustCompile(`^[a-z]{2}-[a-z]{2}\.facebook\.com$`)

func lookupHost(h string) hostRule {
	r, ok := hostRules[h]
	switch {
	case ok:
	case shorteners[h]:
		r = hostRule{platform: Website, short: true}
	case facebookLocale.MatchString(h):
		r = facebookRule
	case strings.HasSuffix(h, ".blogspot.com"):
		r = hostRule{platform: Website, drop: newSet("m")}
	default:
		r = hostRule{platform: Website}
	}
	if r.host == "" {
		r.host = h
	}
	return r
}

// dropTracking removes the tracking parameters, generic and host-specific.
func dropTracking(r hostRule, ps []param) []param {
	var out []param
next:
	for _, p := range ps {
		n := p.name()
		if tracking[n] || r.drop[n] {
			continue
		}
		for _, prefix := range trackingPrefixes {
			if strings.HasPrefix(n, prefix) {
				continue next
			}
		}
		if r.platform == Website && n == "amp" && (p.value == "" || p.value == "1") {
			continue // the AMP rendering of the same page
		}
		out = append(out, p)
	}
	return out
}

func facebook(u *parts) {
	p := u.path
	switch {
	case len(p) >= 4 && p[0] == "groups" && p[2] == "permalink":
		p[2] = "posts" // the same group post
	case len(p) == 1 && p[0] == "story.php":
		p[0] = "permalink.php" // m.facebook.com's name for the same page
	case len(p) == 3 && p[1] == "videos" && digits(p[2]):
		facebookWatch(u, p[2]) // facebook.com/<page>/videos/<id>
	case len(p) == 1 && p[0] == "video.php":
		if v, ok := get(u.query, "v"); ok && digits(v) {
			facebookWatch(u, v)
		}
	case len(p) == 1 && p[0] == "photo.php":
		u.query = dropNames(u.query, "set", "type") // album context of the same photo
	case len(p) >= 1 && p[0] == "share":
		u.short = true // /share/p/…, /share/v/…, /share/r/…: redirects to the post
	}
}

// facebookWatch makes u facebook.com/watch?v=id: video ids are global, and
// every video URL shows the same video as its watch URL.
func facebookWatch(u *parts, id string) {
	u.path = []string{"watch"}
	u.query = []param{{key: "v", value: id}}
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func instagram(u *parts) {
	p := u.path
	switch {
	case len(p) == 2 && p[0] == "reels":
		p[0] = "reel"
	case len(p) == 3 && (p[1] == "p" || p[1] == "reel" || p[1] == "tv") && !instagramReserved[p[0]]:
		u.path = p[1:] // instagram.com/<user>/p/<id> is /p/<id>
	}
}

var instagramReserved = newSet("p", "reel", "reels", "tv", "stories", "explore", "accounts", "direct")

func tiktok(u *parts) {
	p := u.path
	switch {
	case len(p) >= 2 && p[0] == "t":
		u.short = true // tiktok.com/t/<code>
	case len(p) >= 3 && strings.HasPrefix(p[0], "@") && (p[1] == "video" || p[1] == "photo"):
		// Usernames are case-insensitive; no parameter identifies a video.
		u.path = []string{strings.ToLower(p[0]), p[1], p[2]}
		u.query = nil
	}
}

func twitter(u *parts) {
	if len(u.path) == 0 && strings.HasPrefix(u.frag, "!/") {
		route, _, _ := strings.Cut(u.frag[1:], "?")
		u.path = normalizePath(route) // twitter.com/#!/user/status/1
	}
	p := u.path
	switch {
	case len(p) >= 3 && p[0] != "i" && (p[1] == "status" || p[1] == "statuses"):
		// Handles are case-insensitive; /photo/1, /video/1 show the same post;
		// no parameter identifies a post.
		u.path = []string{strings.ToLower(p[0]), "status", p[2]}
		u.query = nil
	case len(p) == 1:
		p[0] = strings.ToLower(p[0])
	}
}

var telegramUsername = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,31}$`)

func telegram(u *parts) {
	if len(u.path) >= 2 && u.path[0] == "s" {
		u.path = u.path[1:] // t.me/s/<channel>/<n> is the web preview of t.me/<channel>/<n>
	}
	if len(u.path) >= 1 && telegramUsername.MatchString(u.path[0]) {
		u.path[0] = strings.ToLower(u.path[0]) // usernames are case-insensitive
	}
}

func youtube(u *parts) {
	p := u.path
	switch {
	case len(p) >= 2 && (p[0] == "shorts" || p[0] == "live" || p[0] == "embed" || p[0] == "v" || p[0] == "e"):
		watch(u, p[1])
	case len(p) == 1 && p[0] == "watch":
		if v, ok := get(u.query, "v"); ok {
			watch(u, v)
		}
	}
}

func youtuBe(u *parts) {
	if len(u.path) >= 1 {
		watch(u, u.path[0])
	}
}

// watch makes u youtube.com/watch?v=id: only v identifies a video (t, list,
// index, feature, si… do not).
func watch(u *parts, id string) {
	u.host = "youtube.com"
	u.path = []string{"watch"}
	u.query = []param{{key: "v", value: id}}
}

// waMe: wa.me/<phone> keeps the digits only; ?text= is a pre-filled message.
func waMe(u *parts) {
	if len(u.path) == 0 {
		return
	}
	if u.path[0] == "message" {
		u.short = true // wa.me/message/<code> resolves to a number
		return
	}
	if digits, ok := phoneDigits(u.path[0]); ok {
		u.path = []string{digits}
		u.query = nil
	}
}

// whatsappSend: api.whatsapp.com/send?phone=N&text=… is wa.me/N.
func whatsappSend(u *parts) {
	if len(u.path) != 1 || u.path[0] != "send" {
		return
	}
	if phone, ok := get(u.query, "phone"); ok {
		if digits, ok := phoneDigits(phone); ok {
			u.host = "wa.me"
			u.path = []string{digits}
			u.query = nil
		}
	}
}

// phoneDigits returns the digits of an escaped phone number written with
// optional +, spaces, dashes, dots and parentheses.
func phoneDigits(escaped string) (string, bool) {
	s, ok := percentDecode(escaped)
	if !ok {
		return "", false
	}
	var digits []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits = append(digits, c)
		case strings.IndexByte("+ -.()", c) >= 0:
		default:
			return "", false
		}
	}
	if len(digits) < 6 || len(digits) > 15 {
		return "", false
	}
	return string(digits), true
}

func dropNames(ps []param, names ...string) []param {
	drop := newSet(names...)
	var out []param
	for _, p := range ps {
		if !drop[p.name()] {
			out = append(out, p)
		}
	}
	return out
}

// linkShim marks a redirector whose target is in parameter name
// (l.facebook.com/l.php?u=…); Canonicalize continues with the target.
func linkShim(name string) func(*parts) {
	return func(u *parts) {
		if v, ok := get(u.query, name); ok && len(u.path) == 1 && u.path[0] == "l.php" {
			u.unwrap = v
		}
	}
}

// googleURL: google.com/url?q=<target> (or url=) is a search result link.
func googleURL(u *parts) {
	if len(u.path) != 1 || u.path[0] != "url" {
		return
	}
	for _, name := range []string{"q", "url"} {
		if v, ok := get(u.query, name); ok && (strings.HasPrefix(v, "http") || strings.HasPrefix(v, "HTTP")) {
			u.unwrap = v
			return
		}
	}
}
