package safefetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var fixedNow = time.Date(2025, 7, 22, 9, 30, 0, 0, time.UTC)

// fakeResolver answers from a table; a name not in it fails the test, so a
// test proves which names were looked up.
type fakeResolver struct {
	t       *testing.T
	answers map[string][]string
	err     error
}

func (r fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if r.err != nil {
		return nil, r.err
	}
	ips, ok := r.answers[host]
	if !ok {
		r.t.Errorf("unexpected lookup of %q", host)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

// newFetcher returns a Fetcher whose public dials fail the test: every test
// stays on loopback, reached only through pins, and nothing may slip past the
// checks to another address.
func newFetcher(t *testing.T, opts Options) *Fetcher {
	t.Helper()
	if opts.Resolver == nil {
		opts.Resolver = fakeResolver{t: t}
	}
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return fixedNow }
	}
	f := New(opts)
	f.connect = func(_ context.Context, _, addr string) (net.Conn, error) {
		t.Errorf("dialed %s past the checks", addr)
		return nil, errors.New("test dialer: refused")
	}
	return f
}

func pin(srv *httptest.Server) string { return "http://" + srv.Listener.Addr().String() }

func srvPort(t *testing.T, srv *httptest.Server) int {
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantBlocked(t *testing.T, err error, reason string) *BlockedError {
	t.Helper()
	var b *BlockedError
	if !errors.As(err, &b) {
		t.Fatalf("err = %v (%T), want *BlockedError", err, err)
	}
	if !strings.Contains(b.Reason, reason) {
		t.Errorf("reason = %q, want it to mention %q", b.Reason, reason)
	}
	var fe *FetchError
	if errors.As(err, &fe) {
		t.Errorf("a refusal is also a retryable FetchError: %v", err)
	}
	return b
}

func TestRefusesBlockedURLs(t *testing.T) {
	tests := []struct{ url, reason string }{
		{"http://127.0.0.1/", "loopback"},
		{"http://127.255.255.254/", "loopback"},
		{"http://localhost/", "loopback host name"},
		{"http://api.localhost/", "loopback host name"},
		{"http://10.0.0.1/", "private"},
		{"http://172.16.5.4/", "private"},
		{"http://172.31.255.255/", "private"},
		{"http://192.168.1.1/", "private"},
		{"http://100.64.0.1/", "carrier-grade NAT"},
		{"http://100.100.100.200/", "carrier-grade NAT"},
		{"http://169.254.169.254/latest/meta-data/", "cloud metadata"},
		{"http://169.254.170.2/v2/credentials", "link-local"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://0.1.2.3/", "this-network"},
		{"http://255.255.255.255/", "broadcast"},
		{"http://224.0.0.1/", "multicast"},
		{"http://239.255.255.250/", "multicast"},
		{"http://240.0.0.1/", "reserved"},
		{"http://192.0.2.1/", "documentation"},
		{"http://198.51.100.1/", "documentation"},
		{"http://203.0.113.1/", "documentation"},
		{"http://198.18.0.1/", "benchmarking"},
		{"http://192.0.0.170/", "IETF"},
		{"http://192.88.99.1/", "6to4 relay"},
		// IPv4 spellings that inet_aton and browsers read as addresses.
		{"http://2130706433/", "loopback"},
		{"http://0x7f.1/", "loopback"},
		{"http://017700000001/", "loopback"},
		{"http://127.1/", "loopback"},
		{"http://0x7f000001/", "loopback"},
		{"http://0177.0.0.1/", "loopback"},
		{"http://127.0.0.1./", "loopback"},
		{"http://１２７.０.０.１/", "loopback"}, // full-width digits
		{"http://127。0。0。1/", "loopback"}, // ideographic full stops
		{"http://LOCALHOST./", "loopback host name"},
		{"http://0xA9FEA9FE/latest/meta-data/", "cloud metadata"},
		{"http://0251.0376.0251.0376/", "cloud metadata"},
		{"http://3232235777/", "private"},
		{"http://0x0a.0.0.1/", "private"},
		{"http://0/", "unspecified"},
		{"http://256.256.256.256/", "numeric host"},
		{"http://1.2.3.4.5/", "numeric host"},
		// IPv6 and IPv6 forms of IPv4 addresses.
		{"http://[::1]/", "loopback"},
		{"http://[::]/", "unspecified"},
		{"http://[::ffff:127.0.0.1]/", "IPv4-mapped IPv6 form of a loopback"},
		{"http://[::ffff:7f00:1]/", "IPv4-mapped IPv6 form of a loopback"},
		{"http://[::ffff:169.254.169.254]/", "cloud metadata"},
		{"http://[::ffff:10.1.2.3]/", "private"},
		{"http://[::127.0.0.1]/", "IPv4-compatible"},
		{"http://[64:ff9b::a00:1]/", "NAT64 form of a private"},
		{"http://[64:ff9b::7f00:1]/", "NAT64 form of a loopback"},
		{"http://[64:ff9b::a9fe:a9fe]/", "NAT64 form of a cloud metadata"},
		{"http://[64:ff9b:1::1]/", "local-use NAT64"},
		{"http://[2002:7f00:1::]/", "6to4 form of a loopback"},
		{"http://[2002:c0a8:101::1]/", "6to4 form of a private"},
		{"http://[2002:a9fe:a9fe::1]/", "6to4 form of a cloud metadata"},
		{"http://[fc00::1]/", "unique local"},
		{"http://[fd12:3456::1]/", "unique local"},
		{"http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"},
		{"http://[fe80::1]/", "link-local"},
		{"http://[fe80::1%25eth0]/", "scoped"},
		{"http://[fec0::1]/", "site-local"},
		{"http://[ff02::1]/", "multicast"},
		{"http://[2001:db8::1]/", "documentation"},
		{"http://[3fff::1]/", "documentation"},
		{"http://[2001::1]/", "Teredo"},
		{"http://[100::1]/", "discard-only"},
		{"http://[::ffff:0:7f00:1]/", "reserved IPv6"},
		// Confusing URL shapes.
		{"http://ads.example@127.0.0.1/", "loopback"},
		{"http://127.0.0.1#@ads.example/", "loopback"},
		{"HTTP://127.0.0.1/", "loopback"},
		// Schemes and ports.
		{"file:///etc/passwd", `scheme "file"`},
		{"gopher://127.0.0.1:70/_GET", `scheme "gopher"`},
		{"ftp://ads.example/", `scheme "ftp"`},
		{"dict://127.0.0.1:11211/stat", `scheme "dict"`},
		{"javascript:alert(1)", `scheme "javascript"`},
		{"/relative/path", `scheme ""`},
		{"http:///path", "no host"},
		{"http://ads.example:22/", "port 22"},
		{"https://ads.example:8443/", "port 8443"},
		{"http://ads.example:6379/", "port 6379"},
		{"http://ads.example:0/", "port 0"},
		{"http://ads.example:99999/", "port 99999"},
		{"http://ads.example%00.evil/", "invalid URL"},
	}
	f := newFetcher(t, Options{})
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			res, err := f.Get(context.Background(), tt.url)
			if res != nil {
				t.Errorf("got a result %+v", res)
			}
			wantBlocked(t, err, tt.reason)
		})
	}
}

func TestRefusesNamesResolvingToBlockedAddresses(t *testing.T) {
	tests := []struct {
		answers []string
		reason  string
	}{
		{[]string{"10.0.0.5"}, "private address (ads.example resolves to it)"},
		{[]string{"127.0.0.1"}, "loopback"},
		{[]string{"::1"}, "loopback"},
		{[]string{"169.254.169.254"}, "cloud metadata"},
		{[]string{"::ffff:169.254.169.254"}, "cloud metadata"},
		{[]string{"fd00:ec2::254"}, "cloud metadata"},
		{[]string{"0.0.0.0"}, "unspecified"},
		// One public and one private answer: the host is refused, and the public
		// address is not tried either (newFetcher fails any public dial).
		{[]string{"8.8.8.8", "192.168.1.10"}, "private"},
		{[]string{"2606:4700:4700::1111", "fe80::1"}, "link-local"},
		{[]string{"93.184.215.14", "64:ff9b::a00:1"}, "NAT64"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.answers, ","), func(t *testing.T) {
			f := newFetcher(t, Options{Resolver: fakeResolver{t: t, answers: map[string][]string{"ads.example": tt.answers}}})
			_, err := f.Get(context.Background(), "https://ads.example/lowongan")
			b := wantBlocked(t, err, tt.reason)
			if b.IP == nil {
				t.Error("BlockedError.IP is nil, want the refused address")
			}
			if b.URL != "https://ads.example/lowongan" {
				t.Errorf("BlockedError.URL = %q", b.URL)
			}
		})
	}
}

func TestResolverFailuresAreRetryable(t *testing.T) {
	for name, r := range map[string]Resolver{
		"no answer": fakeResolver{answers: map[string][]string{"ads.example": nil}},
		"dns error": fakeResolver{err: &net.DNSError{Err: "server misbehaving", Name: "ads.example", IsTemporary: true}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFetcher(t, Options{Resolver: r})
			_, err := f.Get(context.Background(), "https://ads.example/")
			var fe *FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FetchError", err)
			}
		})
	}
}

// TestLoopbackServerOnlyThroughItsPin: the local stack's way in, and nothing else.
func TestLoopbackServerOnlyThroughItsPin(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "<title>sim</title>")
	}))
	defer srv.Close()
	port := srvPort(t, srv)
	resolver := fakeResolver{t: t, answers: map[string][]string{
		"sim.example":      {"127.0.0.1"},
		"www.facebook.com": {"127.0.0.1"},
	}}
	f := newFetcher(t, Options{
		Resolver:     resolver,
		Routes:       map[string]string{"facebook.com": pin(srv)},
		AllowedPorts: []int{80, 443, port},
	})
	res, err := f.Get(context.Background(), "https://facebook.com/groups/1/posts/2")
	if err != nil || res.Status != 200 {
		t.Fatalf("pinned fetch: %+v, %v", res, err)
	}
	for _, u := range []string{
		srv.URL + "/", // the pinned address itself
		"http://sim.example:" + strconv.Itoa(port),  // a name resolving to it
		"https://www.facebook.com/groups/1/posts/2", // a host next to the pinned one
		"http://2130706433:" + strconv.Itoa(port) + "/",
	} {
		_, err := f.Get(context.Background(), u)
		wantBlocked(t, err, "loopback")
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server saw %d requests, want only the pinned one", n)
	}
}

func TestFetch(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:9") // must be ignored
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:9")
	var seen atomic.Pointer[http.Request]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r)
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "x"})
		switch r.URL.Path {
		case "/gone":
			http.Error(w, "Konten ini tidak tersedia", http.StatusNotFound)
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok":true}`)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html><head><title> Loker  Kamboja </title>
<script>var tracking = "do not show";</script><style>p{color:red}</style></head>
<body><h1>Dibutuhkan&nbsp;admin</h1><p>Gaji <b>1.500</b> USD &amp; tiket gratis.</p><p>WA 0812-5550-0371</p></body></html>`)
		}
	}))
	defer srv.Close()
	f := newFetcher(t, Options{Routes: map[string]string{"facebook.com": pin(srv)}})

	res, err := f.Get(context.Background(), "https://user:secret@facebook.com/groups/1/posts/2#comments")
	if err != nil {
		t.Fatal(err)
	}
	r := seen.Load()
	if got := r.Header.Get("User-Agent"); got != UserAgent {
		t.Errorf("User-Agent = %q", got)
	}
	if r.Host != "facebook.com" {
		t.Errorf("Host = %q, want facebook.com", r.Host)
	}
	if r.Header.Get("Authorization") != "" {
		t.Error("credentials from the URL were sent")
	}
	want := Result{
		Status:      200,
		FinalURL:    "https://facebook.com/groups/1/posts/2",
		ContentType: "text/html; charset=utf-8",
		FetchedAt:   fixedNow,
		Title:       "Loker Kamboja",
		Excerpt:     "Dibutuhkan admin Gaji 1.500 USD & tiket gratis. WA 0812-5550-0371",
	}
	sum := sha256.Sum256(res.Body)
	if res.Status != want.Status || res.FinalURL != want.FinalURL || res.ContentType != want.ContentType ||
		!res.FetchedAt.Equal(want.FetchedAt) || res.Title != want.Title || res.Truncated ||
		len(res.Redirects) != 0 || res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("result = %+v", res)
	}
	if res.Excerpt != want.Excerpt {
		t.Errorf("Excerpt = %q\nwant      %q", res.Excerpt, want.Excerpt)
	}

	// No cookie jar: the cookie set above is not sent back.
	res, err = f.Get(context.Background(), "https://facebook.com/gone")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusNotFound || !strings.Contains(res.Excerpt, "tidak tersedia") {
		t.Errorf("404 page: %+v", res)
	}
	if c := seen.Load().Header.Get("Cookie"); c != "" {
		t.Errorf("Cookie sent: %q", c)
	}

	res, err = f.Get(context.Background(), "https://facebook.com/json")
	if err != nil || res.Excerpt != "" || string(res.Body) != `{"ok":true}` {
		t.Errorf("non-text body: %+v, %v", res, err)
	}
}

func TestFetchPinnedTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<title>tls</title>")
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	f := newFetcher(t, Options{
		Routes:    map[string]string{"example.com": srv.Listener.Addr().String()},
		TLSConfig: &tls.Config{RootCAs: roots},
	})
	res, err := f.Get(context.Background(), "https://example.com/")
	if err != nil || res.Title != "tls" {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestBadRouteIsRefused(t *testing.T) {
	f := newFetcher(t, Options{Routes: map[string]string{"facebook.com": "127.0.0.1"}})
	_, err := f.Get(context.Background(), "https://facebook.com/")
	wantBlocked(t, err, "route")
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	var loops atomic.Int32
	mux.HandleFunc("/creds", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://user:secret@facebook.com/chain/0#top")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			fmt.Fprint(w, "<title>akhir</title>")
			return
		}
		http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		loops.Add(1)
		http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resolver := fakeResolver{t: t, answers: map[string][]string{"internal.example": {"10.1.2.3"}}}
	f := newFetcher(t, Options{
		Resolver: resolver,
		Routes:   map[string]string{"facebook.com": pin(srv), "fb.watch": pin(srv)},
	})

	blocked := []struct{ to, reason string }{
		{"http://127.0.0.1/", "loopback"},
		{"http://169.254.169.254/latest/meta-data/", "cloud metadata"},
		{"http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"},
		{"//127.0.0.1/admin", "loopback"},
		{"http://0x7f.1/", "loopback"},
		{"file:///etc/passwd", `scheme "file"`},
		{"gopher://127.0.0.1:6379/_FLUSHALL", `scheme "gopher"`},
		{"http://facebook.com:8080/", "port 8080"},
		{"http://internal.example/", "private"},
		{"http://" + srv.Listener.Addr().String() + "/", "port"},
	}
	for _, tt := range blocked {
		t.Run("to "+tt.to, func(t *testing.T) {
			_, err := f.Get(context.Background(), "https://fb.watch/to?u="+urlQueryEscape(tt.to))
			wantBlocked(t, err, tt.reason)
		})
	}

	t.Run("chain", func(t *testing.T) {
		res, err := f.Get(context.Background(), "https://fb.watch/chain/3")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"https://fb.watch/chain/2", "https://fb.watch/chain/1", "https://fb.watch/chain/0"}
		if fmt.Sprint(res.Redirects) != fmt.Sprint(want) || res.FinalURL != want[2] || res.Title != "akhir" {
			t.Errorf("Redirects %v FinalURL %s Title %q", res.Redirects, res.FinalURL, res.Title)
		}
	})
	t.Run("across pinned hosts", func(t *testing.T) {
		res, err := f.Get(context.Background(), "https://fb.watch/to?u="+urlQueryEscape("https://facebook.com/chain/0"))
		if err != nil || res.FinalURL != "https://facebook.com/chain/0" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("credentials and fragment in a redirect are dropped", func(t *testing.T) {
		res, err := f.Get(context.Background(), "https://fb.watch/creds")
		if err != nil || fmt.Sprint(res.Redirects) != "[http://facebook.com/chain/0]" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("five redirects are followed", func(t *testing.T) {
		res, err := f.Get(context.Background(), "https://fb.watch/chain/5")
		if err != nil || len(res.Redirects) != 5 {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("six are not", func(t *testing.T) {
		_, err := f.Get(context.Background(), "https://fb.watch/chain/6")
		if !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("err = %v, want ErrTooManyRedirects", err)
		}
	})
	t.Run("loop", func(t *testing.T) {
		_, err := f.Get(context.Background(), "https://fb.watch/loop")
		var fe *FetchError
		if !errors.As(err, &fe) || !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("err = %v, want a FetchError for too many redirects", err)
		}
		if n := loops.Load(); n != 6 {
			t.Errorf("server saw %d requests, want 6 (the first and 5 redirects)", n)
		}
	})
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23", "?", "%3F", " ", "%20").Replace(s)
}

func TestBodyLimit(t *testing.T) {
	page := strings.Repeat("lowongan ", 600) // 5400 bytes
	var zeros bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zeros, gzip.BestSpeed)
	zw.Write(make([]byte, 1<<20)) // 1 MiB of zeros, a few KiB compressed
	zw.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/long", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page) })
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page[:1024]) })
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/plain")
		w.Write(zeros.Bytes())
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := newFetcher(t, Options{Routes: map[string]string{"ads.example": pin(srv)}, MaxBodyBytes: 1024})

	tests := []struct {
		path      string
		truncated bool
		body      []byte
	}{
		{"/long", true, []byte(page[:1024])},
		{"/exact", false, []byte(page[:1024])},
		{"/bomb", true, make([]byte, 1024)}, // the limit counts decompressed bytes
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := f.Get(context.Background(), "http://ads.example"+tt.path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tt.body)
			if res.Truncated != tt.truncated || !bytes.Equal(res.Body, tt.body) || res.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("Truncated=%v len(Body)=%d", res.Truncated, len(res.Body))
			}
		})
	}
}

// TestTimeLimits: servers that never answer are cut off by the limits; the
// handlers block on a channel until the test ends.
func TestTimeLimits(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/no-headers", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<p>awal")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	routes := map[string]string{"ads.example": pin(srv)}

	tests := []struct {
		name, path string
		opts       Options
		msg        string
	}{
		{"total limit, no headers", "/no-headers", Options{Timeout: 100 * time.Millisecond}, "deadline exceeded"},
		{"total limit, body never ends", "/slow-body", Options{Timeout: 100 * time.Millisecond}, "read body"},
		{"header limit", "/no-headers", Options{Timeout: time.Minute, ResponseHeaderTimeout: 100 * time.Millisecond}, "timeout awaiting response headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Routes = routes
			f := newFetcher(t, tt.opts)
			_, err := f.Get(context.Background(), "http://ads.example"+tt.path)
			var fe *FetchError
			if !errors.As(err, &fe) || !fe.Timeout() || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want a timeout FetchError mentioning %q", err, tt.msg)
			}
		})
	}
	t.Run("caller cancels", func(t *testing.T) {
		f := newFetcher(t, Options{Routes: routes})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := f.Get(ctx, "http://ads.example/no-headers")
		var fe *FetchError
		if !errors.As(err, &fe) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a FetchError wrapping context.Canceled", err)
		}
	})
}

func TestIsBlockedIP(t *testing.T) {
	allowed := []string{"8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.15.255.255",
		"172.32.0.0", "192.167.255.255", "169.253.255.255", "223.255.255.255", "2606:4700:4700::1111",
		"2a03:2880:f10c:83:face:b00c:0:25de", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}
	for _, s := range allowed {
		if blocked, reason := IsBlockedIP(net.ParseIP(s)); blocked {
			t.Errorf("IsBlockedIP(%s) = blocked (%s), want allowed", s, reason)
		}
	}
	blocked := []string{"127.0.0.1", "10.255.255.255", "172.16.0.0", "192.168.255.255", "100.64.0.0",
		"169.254.169.254", "0.0.0.0", "255.255.255.255", "::1", "::", "::ffff:127.0.0.1", "fe80::1",
		"fd00:ec2::254", "fc00::", "ff02::1", "2002:a00:1::", "64:ff9b::c0a8:101", "4000::1"}
	for _, s := range blocked {
		if b, reason := IsBlockedIP(net.ParseIP(s)); !b || reason == "" {
			t.Errorf("IsBlockedIP(%s) = %v %q, want blocked with a reason", s, b, reason)
		}
	}
	if b, _ := IsBlockedIP(nil); !b {
		t.Error("IsBlockedIP(nil) allowed")
	}
}

// TestDialControl: the socket-level check refuses blocked addresses even if
// a path handed one to the dialer unchecked.
func TestDialControl(t *testing.T) {
	for addr, blocked := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:443": true, "169.254.169.254:80": true, "[::ffff:10.0.0.1]:80": true,
		"localhost:80": true, "8.8.8.8:443": false, "[2606:4700:4700::1111]:443": false,
	} {
		err := control("tcp", addr, nil)
		var b *BlockedError
		if got := errors.As(err, &b); got != blocked {
			t.Errorf("control(%s) = %v, want blocked=%v", addr, err, blocked)
		}
	}
}

type anyNameResolver []string

func (r anyNameResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	for _, s := range r {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

// FuzzNoBlockedAddressReachesTheDialer: whatever the URL, the dialer is only
// ever handed an allowed address (every name resolves to a public and a
// private address, so names must be refused and only public literals dialed).
func FuzzNoBlockedAddressReachesTheDialer(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1/", "http://0x7f.1/", "http://[::ffff:7f00:1]/", "http://8.8.8.8/",
		"http://[64:ff9b::a00:1]/", "http://ads.example/", "https://user@[2002:a00:1::]:443/", "http://017700000001/",
		"http://１２７.０.０.１/", "http://[fe80::1%25lo]/", "http://1.2.3/", "http://0xffffffff/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fetcher := New(Options{
			Resolver:     anyNameResolver{"8.8.8.8", "10.0.0.1"},
			Timeout:      time.Second,
			AllowedPorts: []int{80, 443, 8080},
		})
		fetcher.connect = func(_ context.Context, _, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if b, reason := IsBlockedIP(net.ParseIP(host)); b || net.ParseIP(host) == nil {
				t.Fatalf("Get(%q) dialed %s (%s)", raw, addr, reason)
			}
			return nil, errors.New("fuzz: no network")
		}
		res, err := fetcher.Get(context.Background(), raw)
		if err == nil || res != nil {
			t.Fatalf("Get(%q) = %+v, %v without a network", raw, res, err)
		}
	})
}
