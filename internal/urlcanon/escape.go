package urlcanon

import (
	"sort"
	"strings"
)

const upperhex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// pathChar reports whether c may stay unescaped in a path segment (RFC 3986 pchar).
func pathChar(c byte) bool {
	return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}

// queryChar reports whether c may stay unescaped in a query key or value.
// '&' never occurs (it separates parameters); '=' only in values.
func queryChar(c byte) bool {
	return unreserved(c) || strings.IndexByte("!$'()*+,;=:@/?", c) >= 0
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// normalizeEscapes applies RFC 3986 §6.2.2 normalisation to s: escapes of
// unreserved characters are decoded, other escapes upper-cased, and bytes
// that may not appear raw (keep reports false) escaped. A '%' that does not
// start a valid escape is taken literally and becomes %25.
func normalizeEscapes(s string, keep func(byte) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				d := hi<<4 | lo
				if unreserved(d) {
					b.WriteByte(d)
				} else {
					b.WriteByte('%')
					b.WriteByte(upperhex[d>>4])
					b.WriteByte(upperhex[d&15])
				}
				i += 2
				continue
			}
		}
		if c != '%' && keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

// percentDecode decodes every %XX escape in s ('+' stays '+'). It reports
// false for a malformed escape.
func percentDecode(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

// normalizePath returns the segments of an escaped path, normalised, with
// dot segments resolved and empty segments (duplicate and trailing slashes)
// removed.
func normalizePath(path string) []string {
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		seg = normalizeEscapes(seg, pathChar)
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return out
}

// param is one query parameter, key and value escaped and normalised.
type param struct {
	key, value string
}

// name is the decoded, lower-cased key, for matching against known names.
func (p param) name() string {
	d, ok := percentDecode(p.key)
	if !ok {
		d = p.key
	}
	return strings.ToLower(d)
}

func parseQuery(raw string) []param {
	var ps []param
	for kv := range strings.SplitSeq(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		ps = append(ps, param{key: normalizeEscapes(k, queryChar), value: normalizeEscapes(v, queryChar)})
	}
	return ps
}

// encodeQuery sorts params by key, keeping the order of repeated keys (which
// may be meaningful), and joins them.
func encodeQuery(ps []param) string {
	sorted := append([]param(nil), ps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })
	var b strings.Builder
	for i, p := range sorted {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// get returns the value of the first parameter named name.
func get(ps []param, name string) (string, bool) {
	for _, p := range ps {
		if p.name() == name {
			return p.value, true
		}
	}
	return "", false
}

// only keeps the parameters whose names are listed.
func only(ps []param, names ...string) []param {
	var out []param
	for _, p := range ps {
		for _, n := range names {
			if p.name() == n {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
