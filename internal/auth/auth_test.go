package auth

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestParseGroups(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"[auditor]", "auditor"},
		{"[auditor admin]", "auditor,admin"},
		{`["auditor","admin"]`, "auditor,admin"},
		{"reporter,approver", "reporter,approver"},
	}
	for _, tt := range tests {
		if got := strings.Join(ParseGroups(tt.in), ","); got != tt.want {
			t.Errorf("ParseGroups(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSignerRoundTripThroughAuthorizerClaims(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	s := Signer{Key: []byte(strings.Repeat("k", 32)), Now: func() time.Time { return now }}
	tok, err := s.Issue("analyst-7", []string{Auditor, Admin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: AuthorizerClaims(claims)},
	}
	p, ok := FromRequest(req)
	if !ok || p.Subject != "analyst-7" || !p.HasAny(Admin) || p.HasAny(Reporter) {
		t.Fatalf("principal = %+v, ok=%v", p, ok)
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	s := Signer{Key: []byte(strings.Repeat("k", 32)), Now: func() time.Time { return now }}
	other := Signer{Key: []byte(strings.Repeat("x", 32)), Now: s.Now}
	good, _ := s.Issue("a", []string{Reporter}, time.Hour)
	forged, _ := other.Issue("a", []string{Admin}, time.Hour)
	expired, _ := s.Issue("a", []string{Reporter}, -time.Minute)
	parts := strings.Split(good, ".")
	none := b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	for name, tok := range map[string]string{"forged": forged, "expired": expired, "alg none": none, "garbage": "abc", "empty": ""} {
		if _, err := s.Verify(tok); err == nil {
			t.Errorf("%s token verified", name)
		}
	}
	if _, err := s.Issue("a", []string{"root"}, time.Hour); err == nil {
		t.Error("issued a token with an unknown role")
	}
}

func TestLoadOrCreateKeyKeepsTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "auth", "signing.key")
	k1, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(p)
	if err != nil || string(k1) != string(k2) || len(k1) != 32 {
		t.Fatalf("key changed or short: %v", err)
	}
}

func TestPlatformTokensNameTheirPlatform(t *testing.T) {
	s := Signer{Key: []byte(strings.Repeat("k", 32))}
	for _, tc := range []struct {
		name     string
		issue    func() (string, error)
		platform string
	}{
		{"a platform's token", func() (string, error) { return s.IssuePlatform("facebook", time.Hour) }, "facebook"},
		{"the role alone names no platform", func() (string, error) { return s.Issue("facebook", []string{Platform}, time.Hour) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.issue()
			if err != nil {
				t.Fatal(err)
			}
			claims, err := s.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: AuthorizerClaims(claims)},
			}
			p, ok := FromRequest(req)
			if !ok || !p.HasAny(Platform) || p.HasAny(Auditor, Approver, Reporter, Admin) || p.Platform != tc.platform {
				t.Fatalf("principal = %+v, ok=%v; want role platform, platform %q", p, ok, tc.platform)
			}
		})
	}
}
