package urlcanon

import "strings"

// StripUserinfo returns raw without its userinfo (the "user:pass@" before
// the host), everything else exactly as written, and whether there was one.
// It reads the authority as Canonicalize does (and as browsers do): after
// "//", up to the first '/', '\', '?' or '#', with the host after the last
// '@'. A URL that is not http or https, or has no authority, is returned
// unchanged.
func StripUserinfo(raw string) (string, bool) {
	colon := strings.IndexByte(raw, ':')
	if colon < 0 || !validScheme(raw[:colon]) {
		return raw, false
	}
	if scheme := strings.ToLower(raw[:colon]); scheme != "http" && scheme != "https" {
		return raw, false
	}
	rest := raw[colon+1:]
	if len(rest) < 2 || (rest[0] != '/' && rest[0] != '\\') || (rest[1] != '/' && rest[1] != '\\') {
		return raw, false
	}
	start := colon + 3
	end := len(raw)
	if i := strings.IndexAny(raw[start:], `/\?#`); i >= 0 {
		end = start + i
	}
	at := strings.LastIndexByte(raw[start:end], '@')
	if at < 0 {
		return raw, false
	}
	return raw[:start] + raw[start+at+1:], true
}
