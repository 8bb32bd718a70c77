// Package localapi is the local stand-in for API Gateway's HTTP API: it
// reads the routes from template.yaml, verifies locally signed JWTs the way
// the Cognito JWT authorizer verifies Cognito's, and invokes the same Lambda
// handlers with real API Gateway v2 events, serialised as Lambda would.
package localapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/samtemplate"
)

// MaxPayload is API Gateway's request payload limit.
const MaxPayload = 10 << 20

// Invoker runs a Lambda function by name with a JSON payload.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Verifier checks a bearer token and returns its claims.
type Verifier interface {
	Verify(token string) (map[string]any, error)
}

// Route is one HttpApi event of a function.
type Route struct {
	Method, Path string
	Function     string
	Public       bool
	segments     []string
}

// Server is the local HTTP API.
type Server struct {
	routes   []Route
	invoker  Invoker
	verifier Verifier
	now      func() time.Time
	log      *slog.Logger
}

// New builds the server from the template's HttpApi events.
func New(t *samtemplate.Template, invoker Invoker, verifier Verifier, now func() time.Time, log *slog.Logger) (*Server, error) {
	s := &Server{invoker: invoker, verifier: verifier, now: now, log: log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, f := range t.Functions() {
		for _, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			if e.Method == "" || e.Path == "" {
				return nil, fmt.Errorf("function %s event %s: HttpApi event without Method and Path", f.LogicalID, e.Name)
			}
			s.routes = append(s.routes, Route{
				Method: strings.ToUpper(e.Method), Path: e.Path, Function: f.LogicalID, Public: e.Public,
				segments: strings.Split(strings.Trim(e.Path, "/"), "/"),
			})
		}
	}
	// Most specific first: fewer parameters win, as API Gateway matches.
	sort.SliceStable(s.routes, func(i, j int) bool { return params(s.routes[i]) < params(s.routes[j]) })
	return s, nil
}

func params(r Route) int {
	n := 0
	for _, s := range r.segments {
		if strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

// Routes lists the routes served.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

func (r Route) match(method, path string) (map[string]string, bool, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) != len(r.segments) {
		if n := len(r.segments); n > 0 && strings.HasSuffix(r.segments[n-1], "+}") && len(segs) >= n {
			segs = append(segs[:n-1], strings.Join(segs[n-1:], "/"))
		} else {
			return nil, false, false
		}
	}
	p := map[string]string{}
	for i, want := range r.segments {
		if strings.HasPrefix(want, "{") && strings.HasSuffix(want, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false, false
			}
			p[strings.TrimSuffix(strings.Trim(want, "{}"), "+")] = v
			continue
		}
		if want != segs[i] {
			return nil, false, false
		}
	}
	return p, true, r.Method == method || r.Method == "ANY"
}

func writeJSON(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var route *Route
	var pathParams map[string]string
	pathMatched := false
	for i := range s.routes {
		p, okPath, okMethod := s.routes[i].match(r.Method, r.URL.EscapedPath())
		if okPath {
			pathMatched = true
		}
		if okPath && okMethod {
			route, pathParams = &s.routes[i], p
			break
		}
	}
	if route == nil {
		if pathMatched && r.Method != http.MethodOptions {
			writeJSON(w, http.StatusNotFound, "Not Found") // API Gateway answers 404 for an unrouted method too
			return
		}
		writeJSON(w, http.StatusNotFound, "Not Found")
		return
	}
	var claims map[string]string
	if !route.Public {
		authz := r.Header.Get("Authorization")
		tok := strings.TrimSpace(strings.TrimPrefix(authz, "Bearer "))
		if tok == "" {
			writeJSON(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		c, err := s.verifier.Verify(tok)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		claims = auth.AuthorizerClaims(c)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayload {
		writeJSON(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := s.event(r, route, pathParams, claims, body)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	out, err := s.invoker.Invoke(r.Context(), route.Function, payload)
	if err != nil {
		s.log.Error("function failed", "function", route.Function, "route", ev.RouteKey, "err", err)
		writeJSON(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		s.log.Error("function returned a malformed response", "function", route.Function)
		writeJSON(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeJSON(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

func (s *Server) event(r *http.Request, route *Route, pathParams, claims map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := s.now()
	headers := map[string]string{}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	// API Gateway says how the client connected; the local API is plain HTTP.
	if _, ok := headers["x-forwarded-proto"]; !ok {
		headers["x-forwarded-proto"] = "http"
	}
	var query map[string]string
	if vals := r.URL.Query(); len(vals) > 0 {
		query = map[string]string{}
		for k, vs := range vals {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	reqID := newRequestID()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route.Method + " " + route.Path, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query, PathParameters: pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route.Method + " " + route.Path, AccountID: "000000000000", Stage: "$default", RequestID: reqID,
			APIID: "local", DomainName: r.Host, DomainPrefix: strings.Split(r.Host, ".")[0],
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: nil},
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) && isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

func isText(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") ||
		strings.Contains(ct, "x-www-form-urlencoded") || strings.Contains(ct, "xml")
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
