// Package safefetch fetches URLs submitted by untrusted reporters without
// letting them reach our own network (no SSRF).
//
// Every address the fetcher connects to is checked: literal IPs in the URL (in
// every spelling browsers accept), every address a host name resolves to (one
// blocked answer refuses the host, so a name cannot smuggle a private address
// beside a public one), and again the address of the socket being connected
// (net.Dialer.Control). The resolved, checked address is the one dialed, so
// DNS rebinding between check and connect is impossible. Redirects are
// followed by hand, at most MaxRedirects, each hop checked like the first.
// Only http and https, only the allowed ports (80 and 443 by default), no
// proxy from the environment, no cookies, no credentials from the URL, a
// total time limit and a body size limit applied after decompression.
//
// The local stack serves stand-in platforms on 127.0.0.1. Options.Routes pins
// a platform host to such an address: a request for that exact host is sent
// to the pinned address, and only that host can reach it; every other host,
// and the address itself, still goes through the checks above.
package safefetch

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/idna"
)

// UserAgent is sent with every request.
const UserAgent = "tangkal-verifier/1.0 (+takedown verification)"

// Defaults for the zero Options.
const (
	DefaultTimeout               = 10 * time.Second
	DefaultResponseHeaderTimeout = 5 * time.Second
	DefaultMaxBodyBytes          = 2 << 20
	DefaultMaxRedirects          = 5
)

// Resolver looks up a host's addresses; *net.Resolver implements it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Options configure a Fetcher. The zero value is the production setting.
type Options struct {
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Routes pins hosts to addresses, for local stand-ins: "facebook.com" →
	// "127.0.0.1:9321" sends requests for exactly facebook.com to that
	// address, with TLS for https URLs (see TLSConfig); a value written
	// "http://127.0.0.1:9321" speaks plain HTTP to it for both schemes. Pinned
	// addresses skip the address checks, for the pinned host only.
	Routes map[string]string
	// Clock stamps Result.FetchedAt; nil means time.Now.
	Clock func() time.Time
	// Timeout bounds the whole fetch: every redirect hop and the body.
	Timeout time.Duration
	// ResponseHeaderTimeout bounds the wait for each response's headers.
	ResponseHeaderTimeout time.Duration
	// MaxBodyBytes is the most body bytes read (after decompression); the
	// rest is left unread and Result.Truncated set.
	MaxBodyBytes int64
	// MaxRedirects is the most redirects followed.
	MaxRedirects int
	// AllowedPorts are the ports a URL may name; nil means 80 and 443.
	AllowedPorts []int
	// TLSConfig is cloned for https connections; nil means system roots.
	TLSConfig *tls.Config
}

// Result is what a fetch found.
type Result struct {
	Status      int
	FinalURL    string
	Redirects   []string // every URL redirected to, in order; the last is FinalURL
	ContentType string
	Body        []byte
	Truncated   bool   // the body was longer than MaxBodyBytes
	SHA256      string // hex SHA-256 of Body
	FetchedAt   time.Time
	Excerpt     string // visible text, HTML stripped, white space collapsed, at most 1000 characters
	Title       string
}

// BlockedError is a fetch refused by policy: the URL, a redirect or a
// resolved address is not allowed. Retrying cannot help.
type BlockedError struct {
	URL    string
	IP     net.IP // the refused address, nil when the refusal is not about one
	Reason string
}

func (e *BlockedError) Error() string {
	msg := "fetch " + e.URL + ": blocked: " + e.Reason
	if e.IP != nil {
		msg += " " + e.IP.String()
	}
	return msg
}

// FetchError is a network failure, a timeout or a misbehaving server; a
// later retry may succeed.
type FetchError struct {
	URL string
	Err error
}

func (e *FetchError) Error() string { return "fetch " + e.URL + ": " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Timeout reports whether the fetch ran out of time.
func (e *FetchError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

// ErrTooManyRedirects is wrapped in the FetchError of a fetch that was
// redirected more than MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

type route struct {
	addr  string // host:port to dial
	plain bool   // speak HTTP even for https URLs
	err   error  // a malformed route, reported when used
}

// Fetcher fetches URLs safely. It is safe for concurrent use.
type Fetcher struct {
	resolver     Resolver
	routes       map[string]route
	clock        func() time.Time
	timeout      time.Duration
	maxBody      int64
	maxRedirects int
	ports        map[int]bool
	public       *http.Transport
	pinned       *http.Transport
	// connect opens the TCP connection to a checked address.
	connect func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a Fetcher for opts.
func New(opts Options) *Fetcher {
	f := &Fetcher{
		resolver:     opts.Resolver,
		routes:       map[string]route{},
		clock:        opts.Clock,
		timeout:      opts.Timeout,
		maxBody:      opts.MaxBodyBytes,
		maxRedirects: opts.MaxRedirects,
		ports:        map[int]bool{},
	}
	if f.resolver == nil {
		f.resolver = net.DefaultResolver
	}
	if f.clock == nil {
		f.clock = time.Now
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.maxBody <= 0 {
		f.maxBody = DefaultMaxBodyBytes
	}
	if f.maxRedirects <= 0 {
		f.maxRedirects = DefaultMaxRedirects
	}
	ports := opts.AllowedPorts
	if len(ports) == 0 {
		ports = []int{80, 443}
	}
	for _, p := range ports {
		f.ports[p] = true
	}
	for host, target := range opts.Routes {
		f.routes[normalizeHost(host)] = parseRoute(target)
	}
	headerTimeout := opts.ResponseHeaderTimeout
	if headerTimeout <= 0 {
		headerTimeout = DefaultResponseHeaderTimeout
	}
	dialer := &net.Dialer{Timeout: f.timeout, Control: control}
	f.connect = dialer.DialContext
	newTransport := func(dial func(context.Context, string, string) (net.Conn, error)) *http.Transport {
		tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.TLSConfig != nil {
			tlsConfig = opts.TLSConfig.Clone()
		}
		return &http.Transport{
			Proxy:                  nil, // never a proxy from the environment
			DialContext:            dial,
			TLSClientConfig:        tlsConfig,
			TLSHandshakeTimeout:    headerTimeout,
			ResponseHeaderTimeout:  headerTimeout,
			MaxResponseHeaderBytes: 64 << 10,
			DisableKeepAlives:      true,
			ForceAttemptHTTP2:      true,
		}
	}
	f.public = newTransport(f.dialPublic)
	f.pinned = newTransport(f.dialPinned)
	return f
}

func parseRoute(target string) route {
	r := route{addr: target}
	if rest, ok := strings.CutPrefix(target, "http://"); ok {
		r.addr, r.plain = strings.TrimSuffix(rest, "/"), true
	}
	if _, _, err := net.SplitHostPort(r.addr); err != nil {
		r.err = fmt.Errorf("route %q: %w", target, err)
	}
	return r
}

func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if ascii, err := idna.Lookup.ToASCII(h); err == nil {
		return ascii
	}
	return h
}

// Get fetches rawURL, following redirects. A non-2xx status is not an error:
// it is in Result.Status (a 404 is how a removed ad looks).
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, &BlockedError{URL: rawURL, Reason: "invalid URL"}
	}
	first := u
	var redirects []string
	for {
		target, rt, err := f.check(u)
		if err != nil {
			return nil, err
		}
		if u != first {
			redirects = append(redirects, target.String())
		}
		resp, err := f.roundTrip(ctx, target, rt)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.StatusCode) || loc == "" {
			return f.result(ctx, target, redirects, resp)
		}
		resp.Body.Close()
		if len(redirects) == f.maxRedirects {
			return nil, &FetchError{URL: target.String(), Err: fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, f.maxRedirects)}
		}
		next, err := target.Parse(loc)
		if err != nil {
			return nil, &BlockedError{URL: target.String(), Reason: "invalid redirect location " + strconv.Quote(loc)}
		}
		u = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// check applies the URL policy to u and returns the URL to request and the
// transport that may carry it.
func (f *Fetcher) check(u *url.URL) (*url.URL, http.RoundTripper, error) {
	blocked := func(ip net.IP, reason string) error {
		return &BlockedError{URL: u.Redacted(), IP: ip, Reason: reason}
	}
	t := *u
	t.Scheme = strings.ToLower(t.Scheme)
	if t.Scheme != "http" && t.Scheme != "https" {
		return nil, nil, blocked(nil, "scheme "+strconv.Quote(t.Scheme)+" is not allowed")
	}
	t.User = nil // credentials are never sent
	t.Fragment, t.RawFragment = "", ""
	if t.Opaque != "" || t.Hostname() == "" {
		return nil, nil, blocked(nil, "URL has no host")
	}
	port := t.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[t.Scheme]
	}
	if n, err := strconv.Atoi(port); err != nil || !f.ports[n] {
		return nil, nil, blocked(nil, "port "+port+" is not allowed")
	}
	host := normalizeHost(t.Hostname())
	if r, ok := f.routes[host]; ok {
		if r.err != nil {
			return nil, nil, blocked(nil, r.err.Error())
		}
		return &t, f.pinned, nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil, nil, blocked(nil, "loopback host name")
	}
	addr, numeric, err := hostIP(host)
	if err != nil {
		return nil, nil, blocked(nil, "host "+strconv.Quote(t.Hostname())+": "+err.Error())
	}
	if numeric {
		if bad, reason := isBlocked(addr); bad {
			return nil, nil, blocked(net.IP(addr.AsSlice()), reason)
		}
		// Dial the address itself, never the spelling a resolver might read differently.
		h := addr.String()
		if addr.Is6() {
			h = "[" + h + "]"
		}
		if t.Port() != "" {
			h += ":" + t.Port()
		}
		t.Host = h
	}
	return &t, f.public, nil
}

func (f *Fetcher) roundTrip(ctx context.Context, u *url.URL, rt http.RoundTripper) (*http.Response, error) {
	wire := *u
	if r, ok := f.routes[normalizeHost(u.Hostname())]; ok && r.plain {
		wire.Scheme = "http" // a plain local stand-in; the dial goes to the pinned address
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wire.String(), nil)
	if err != nil {
		return nil, &BlockedError{URL: u.String(), Reason: "invalid URL"}
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.8")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		var b *BlockedError
		if errors.As(err, &b) {
			b.URL = u.String()
			return nil, b
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, &FetchError{URL: u.String(), Err: err}
	}
	return resp, nil
}

func (f *Fetcher) result(ctx context.Context, u *url.URL, redirects []string, resp *http.Response) (*Result, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBody+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, &FetchError{URL: u.String(), Err: fmt.Errorf("read body: %w", err)}
	}
	r := &Result{
		Status:      resp.StatusCode,
		FinalURL:    u.String(),
		Redirects:   redirects,
		ContentType: resp.Header.Get("Content-Type"),
		FetchedAt:   f.clock(),
	}
	if int64(len(body)) > f.maxBody {
		body, r.Truncated = body[:f.maxBody], true
	}
	r.Body = body
	sum := sha256.Sum256(body)
	r.SHA256 = hex.EncodeToString(sum[:])
	if resp.Uncompressed || resp.Header.Get("Content-Encoding") == "" {
		r.Title, r.Excerpt = extract(mediaType(r.ContentType, body), body)
	}
	return r, nil
}

func mediaType(contentType string, body []byte) string {
	if contentType == "" {
		contentType = http.DetectContentType(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

// dialPublic resolves the host, refuses it if any of its addresses is
// blocked, and connects to the checked addresses themselves.
func (f *Fetcher) dialPublic(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		answers, err := f.resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		for _, a := range answers {
			ip, ok := addrFromIP(a.IP)
			if !ok {
				return nil, &BlockedError{Reason: "resolver returned an invalid address for " + host}
			}
			ips = append(ips, ip.WithZone(a.Zone))
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", host)
		}
	}
	for _, ip := range ips {
		if bad, reason := isBlocked(ip); bad {
			return nil, &BlockedError{IP: net.IP(ip.AsSlice()), Reason: reason + " (" + host + " resolves to it)"}
		}
	}
	var errs []error
	for _, ip := range ips {
		conn, err := f.connect(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		var b *BlockedError
		if errors.As(err, &b) {
			return nil, b
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// dialPinned connects a pinned host to its route.
func (f *Fetcher) dialPinned(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	r, ok := f.routes[normalizeHost(host)]
	if !ok || r.err != nil {
		return nil, &BlockedError{Reason: "host " + host + " is not pinned"}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, r.addr)
}

// control checks, as the socket connects, the address it connects to: the
// last line of defence should any path hand the dialer an unchecked address.
func control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &BlockedError{Reason: "unparsable dial address " + address}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &BlockedError{Reason: "dial address is not an IP: " + address}
	}
	if bad, reason := isBlocked(ip); bad {
		return &BlockedError{IP: net.IP(ip.AsSlice()), Reason: reason}
	}
	return nil
}
