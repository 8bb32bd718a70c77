package signedlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/secrets"
)

const key = "approval-key-0123456789abcdef0123456789abcdef"

// The signature format is what links already mailed or sent carry: it
// must not change under them. This is the MAC written out by hand.
func TestSignatureFormatIsStable(t *testing.T) {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("ap_1|dewi@agency.example|1772442000"))
	want := secrets.KeyID([]byte(key)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	s := New(secrets.Static([]byte(key)))
	if got := s.Sign(1772442000, "ap_1", "dewi@agency.example"); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	s := New(secrets.Static([]byte(key)))
	other := New(secrets.Static([]byte("other-key-0123456789abcdef0123456789abcdef")))
	now := time.Unix(1772438400, 0)
	const exp = "1772442000" // an hour after now
	sig := s.Sign(1772442000, "ap_1", "dewi@agency.example")
	_, mac, _ := strings.Cut(sig, ".")
	tests := []struct {
		name   string
		sig    string
		exp    string
		at     time.Time
		fields []string
		want   error
	}{
		{"as signed", sig, exp, now, []string{"ap_1", "dewi@agency.example"}, nil},
		{"without key id (signed before key ids)", mac, exp, now, []string{"ap_1", "dewi@agency.example"}, nil},
		{"a field changed", sig, exp, now, []string{"ap_2", "dewi@agency.example"}, ErrForged},
		{"a field missing", sig, exp, now, []string{"ap_1"}, ErrForged},
		{"the separator moved between fields", sig, exp, now, []string{"ap_1|dewi@agency.example"}, ErrForged},
		{"expiry extended", sig, "1872442000", now, []string{"ap_1", "dewi@agency.example"}, ErrForged},
		{"expiry not a number", sig, "soon", now, []string{"ap_1", "dewi@agency.example"}, ErrForged},
		{"no signature", "", exp, now, []string{"ap_1", "dewi@agency.example"}, ErrForged},
		{"truncated", sig[:20], exp, now, []string{"ap_1", "dewi@agency.example"}, ErrForged},
		{"unknown key id", "deadbeef." + mac, exp, now, []string{"ap_1", "dewi@agency.example"}, ErrForged},
		{"another secret's", other.Sign(1772442000, "ap_1", "dewi@agency.example"), exp, now, []string{"ap_1", "dewi@agency.example"}, ErrForged},
		{"at its expiry", sig, exp, time.Unix(1772442000, 0), []string{"ap_1", "dewi@agency.example"}, ErrExpired},
		{"forged and expired says forged", sig, exp, now.Add(2 * time.Hour), []string{"ap_1", "budi@agency.example"}, ErrForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Verify(tt.sig, tt.exp, tt.at, tt.fields...); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
