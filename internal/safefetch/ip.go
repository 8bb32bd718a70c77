package safefetch

import (
	"net"
	"net/netip"
	"strings"

	"github.com/tangkal/tangkal/internal/urlcanon"
)

type blockedRange struct {
	prefix netip.Prefix
	reason string
}

func ranges(pairs ...string) []blockedRange {
	var rs []blockedRange
	for i := 0; i < len(pairs); i += 2 {
		rs = append(rs, blockedRange{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return rs
}

// blockedV4 lists the IPv4 special-purpose ranges (IANA registry) that must
// never be fetched; the first match names the reason.
var blockedV4 = ranges(
	"0.0.0.0/32", "unspecified address",
	"0.0.0.0/8", "this-network address",
	"10.0.0.0/8", "private address",
	"100.64.0.0/10", "carrier-grade NAT shared address",
	"127.0.0.0/8", "loopback address",
	"169.254.169.254/32", "cloud metadata address",
	"169.254.0.0/16", "link-local address",
	"172.16.0.0/12", "private address",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.0.2.0/24", "documentation address",
	"192.88.99.0/24", "6to4 relay anycast address",
	"192.168.0.0/16", "private address",
	"198.18.0.0/15", "benchmarking address",
	"198.51.100.0/24", "documentation address",
	"203.0.113.0/24", "documentation address",
	"224.0.0.0/4", "multicast address",
	"255.255.255.255/32", "broadcast address",
	"240.0.0.0/4", "reserved address",
)

// blockedV6 lists the IPv6 ranges that must never be fetched. Addresses
// embedding an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
var blockedV6 = ranges(
	"::/128", "unspecified address",
	"::1/128", "loopback address",
	"::/96", "IPv4-compatible IPv6 address (deprecated)",
	"64:ff9b:1::/48", "local-use NAT64 address",
	"100::/64", "discard-only address",
	"2001::/32", "Teredo tunnel address",
	"2001::/23", "IETF protocol assignment",
	"2001:db8::/32", "documentation address",
	"3fff::/20", "documentation address",
	"5f00::/16", "segment routing address",
	"fd00:ec2::254/128", "cloud metadata address",
	"fc00::/7", "unique local address",
	"fe80::/10", "link-local address",
	"fec0::/10", "site-local address (deprecated)",
	"ff00::/8", "multicast address",
)

var (
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// IsBlockedIP reports whether ip must never be fetched, and why: private,
// loopback, link-local (cloud metadata included), multicast, unspecified,
// broadcast, CGNAT, documentation and reserved ranges, in IPv4 and IPv6, and
// IPv6 forms that embed such an IPv4 address.
func IsBlockedIP(ip net.IP) (bool, string) {
	addr, ok := addrFromIP(ip)
	if !ok {
		return true, "not an IP address"
	}
	return isBlocked(addr)
}

// addrFromIP converts a net.IP, which holds IPv4 addresses in 16 bytes, so
// that an IPv4 address is judged as one.
func addrFromIP(ip net.IP) (netip.Addr, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if ip.To4() != nil {
		addr = addr.Unmap()
	}
	return addr, ok
}

func isBlocked(a netip.Addr) (bool, string) {
	if !a.IsValid() {
		return true, "not an IP address"
	}
	if a.Zone() != "" {
		return true, "scoped IPv6 address"
	}
	if a.Is4In6() {
		return embedded("IPv4-mapped IPv6", a.Unmap())
	}
	if a.Is4() {
		for _, r := range blockedV4 {
			if r.prefix.Contains(a) {
				return true, r.reason
			}
		}
		return false, ""
	}
	for _, r := range blockedV6 {
		if r.prefix.Contains(a) {
			return true, r.reason
		}
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return embedded("NAT64", netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(a):
		return embedded("6to4", netip.AddrFrom4([4]byte(b[2:6])))
	case !globalUnicast.Contains(a):
		return true, "reserved IPv6 address"
	}
	return false, ""
}

func embedded(form string, v4 netip.Addr) (bool, string) {
	if blocked, reason := isBlocked(v4); blocked {
		return true, form + " form of a " + reason + " (" + v4.String() + ")"
	}
	return false, ""
}

// hostIP returns the IP address a URL host stands for, reading IPv4 the way
// browsers and inet_aton do (127.1, 0x7f.1, 2130706433, 017700000001), so
// that no spelling of a blocked address reaches a resolver. ok is false for a
// host name; err is set for a numeric host that is no valid address.
func hostIP(host string) (addr netip.Addr, ok bool, err error) {
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		return a, err == nil, err
	}
	a, numeric, valid := urlcanon.IPv4Host(host)
	switch {
	case !numeric:
		return netip.Addr{}, false, nil
	case !valid:
		return netip.Addr{}, true, errNumericHost
	}
	return a, true, nil
}

type hostError string

func (e hostError) Error() string { return string(e) }

const errNumericHost = hostError("numeric host is not a valid IPv4 address")
