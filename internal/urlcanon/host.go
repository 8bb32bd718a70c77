package urlcanon

import (
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// rawParts is a URL split into its raw, still escaped components.
type rawParts struct {
	scheme, host, port, path, query, fragment string
}

// split splits raw into its components the way net/url does (fragment at the
// first '#', query at the first '?', authority after "//" up to the first
// '/'), keeping the path and query exactly as written so that their
// percent-encoding can be normalised without changing their meaning.
func split(raw string) (rawParts, error) {
	var p rawParts
	rest, frag, _ := strings.Cut(raw, "#")
	p.fragment = frag
	scheme, rest, ok := strings.Cut(rest, ":")
	if !ok || !validScheme(scheme) {
		return p, errorf("is not an absolute URL (it must start with https://)")
	}
	p.scheme = strings.ToLower(scheme)
	if p.scheme != "http" && p.scheme != "https" {
		return p, errorf("scheme %q is not allowed (only http and https)", p.scheme)
	}
	rest, p.query, _ = strings.Cut(rest, "?")
	// Browsers read '\' as '/' before the query in http(s) URLs, so
	// https://a.example\@b.example/ is a page on a.example.
	rest = strings.ReplaceAll(rest, `\`, "/")
	if !strings.HasPrefix(rest, "//") {
		return p, errorf("has no host (it must start with https://)")
	}
	authority, path, hasPath := strings.Cut(rest[2:], "/")
	if hasPath {
		p.path = "/" + path
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:] // userinfo is never kept
	}
	hostport := authority
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return p, errorf("has an unterminated IPv6 host")
		}
		p.host, hostport = hostport[:end+1], hostport[end+1:]
		if hostport != "" && hostport[0] != ':' {
			return p, errorf("has an invalid host %q", authority)
		}
		p.port = strings.TrimPrefix(hostport, ":")
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		p.host, p.port = hostport[:i], hostport[i+1:]
	} else {
		p.host = hostport
	}
	if p.host == "" {
		return p, errorf("has no host")
	}
	return p, nil
}

func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func normalizePort(port, scheme string) (string, error) {
	if port == "" {
		return "", nil
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", errorf("has an invalid port %q", port)
		}
	}
	n, err := strconv.Atoi(strings.TrimLeft(port, "0"))
	if err != nil || n < 1 || n > 65535 {
		return "", errorf("has an invalid port %q", port)
	}
	if n == 443 || (n == 80 && scheme == "http") {
		return "", nil
	}
	return strconv.Itoa(n), nil
}

// lookupProfile maps a host the way browsers do for lookup (UTS #46,
// non-transitional), without the STD3 and hyphen rules that real host names
// such as "r3---sn-x.example" or "my_site.example" break.
var lookupProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// normalizeHost returns the canonical form of a host as written in a URL
// (brackets around IPv6, percent-encoding and Unicode allowed).
func normalizeHost(h string) (string, error) {
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") {
			return "", errorf("has an invalid host %q", h)
		}
		addr, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", errorf("has an invalid IPv6 host %q", h)
		}
		return addr.String(), nil
	}
	decoded, ok := percentDecode(h)
	if !ok {
		return "", errorf("has invalid percent-encoding in the host")
	}
	ascii, err := lookupProfile.ToASCII(decoded)
	if err != nil {
		return "", errorf("has an invalid host name %q", h)
	}
	if again, err := lookupProfile.ToASCII(ascii); err != nil || again != ascii {
		return "", errorf("has an invalid host name %q", h)
	}
	ascii = strings.TrimSuffix(ascii, ".")
	if ascii == "" {
		return "", errorf("has no host")
	}
	if endsInNumber(ascii) {
		ip, ok := parseIPv4(ascii)
		if !ok {
			return "", errorf("has an invalid IPv4 host %q", h)
		}
		return ip.String(), nil
	}
	if len(ascii) > 253 {
		return "", errorf("has a host name longer than 253 characters")
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if label == "" || len(label) > 63 {
			return "", errorf("has an invalid host name %q", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", errorf("has an invalid character in the host name %q", h)
			}
		}
	}
	return ascii, nil
}

// endsInNumber reports whether the last label of host is a number, which
// makes the whole host an IPv4 address (WHATWG URL standard).
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 parses the IPv4 forms browsers accept: one to four parts, each
// decimal, octal (leading 0) or hex (0x), the last part filling the
// remaining bytes (127.1, 0x7f000001, 017700000001).
func parseIPv4(host string) (netip.Addr, bool) {
	labels := strings.Split(host, ".")
	if len(labels) > 4 {
		return netip.Addr{}, false
	}
	var nums []uint64
	for _, l := range labels {
		n, ok := parseIPv4Number(l)
		if !ok {
			return netip.Addr{}, false
		}
		nums = append(nums, n)
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Number(s string) (uint64, bool) {
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" || len(s) > 12 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}

// IPv4Host reads a host the way browsers do: numeric reports whether the
// host is an IPv4 address by the WHATWG rule (its last label is a number),
// and ok whether it is a valid one (127.1, 0x7f.1, 2130706433,
// 017700000001 all read as 127.0.0.1).
func IPv4Host(host string) (addr netip.Addr, numeric, ok bool) {
	host = strings.TrimSuffix(host, ".")
	if host == "" || !endsInNumber(host) {
		return netip.Addr{}, false, false
	}
	addr, ok = parseIPv4(host)
	return addr, true, ok
}
