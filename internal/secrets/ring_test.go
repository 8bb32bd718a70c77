package secrets_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/secrets"
	"github.com/tangkal/tangkal/internal/secretsim"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	oldKey = "old-approval-key-0123456789abcdef0123456789abcdef"
	newKey = "new-approval-key-fedcba9876543210fedcba9876543210"
)

// A rotation in Secrets Manager reaches a running function within the
// ring's TTL: new links carry the new key's id, links signed before it
// still verify with AWSPREVIOUS for the grace period, and not after.
func TestRotationKeepsEarlierLinksValidForTheGracePeriod(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	sm := secretsim.New(nil)
	sm.Now = c.Now
	sm.Put("approval", oldKey)
	sm.Put("evidence", oldKey)
	srv := httptest.NewServer(sm)
	client := secretsmanager.NewFromConfig(aws.Config{Region: "ap-southeast-3", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx := context.Background()
	ring := func(id string) *secrets.Ring {
		r, err := secrets.NewRing(ctx, client, id)
		if err != nil {
			t.Fatal(err)
		}
		r.Now, r.TTL, r.Grace = c.Now, time.Minute, 7*24*time.Hour
		if err := r.Refresh(ctx); err != nil { // read on the test's clock
			t.Fatal(err)
		}
		return r
	}
	signer, err := approval.NewRingSigner(ring("approval"), "https://api.example")
	if err != nil {
		t.Fatal(err)
	}
	links, err := evidence.NewRingLinks(ring("evidence"), "https://api.example", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("ab", 32)
	approvalSig := func(link string) (exp, sig string) {
		u, _ := url.Parse(link)
		return u.Query().Get("exp"), u.Query().Get("sig")
	}
	exp := c.Now().Add(30 * 24 * time.Hour)
	oldExp, oldSig := approvalSig(signer.Link("ap_1", "approver@kp2mi.go.id", exp))
	oldEvExp, oldEvSig := approvalSig(mustLink(links.Link(hash, c.Now())))
	if kid, _, _ := strings.Cut(oldSig, "."); kid != secrets.KeyID([]byte(oldKey)) {
		t.Fatalf("link sig %q does not carry the key id %s", oldSig, secrets.KeyID([]byte(oldKey)))
	}

	c.Advance(time.Hour)
	sm.Put("approval", newKey) // the rotation: the old version becomes AWSPREVIOUS
	sm.Put("evidence", newKey)
	c.Advance(2 * time.Minute) // past the TTL: the next use reads it again

	_, newSig := approvalSig(signer.Link("ap_1", "approver@kp2mi.go.id", exp))
	if kid, _, _ := strings.Cut(newSig, "."); kid != secrets.KeyID([]byte(newKey)) {
		t.Fatalf("after the rotation, links are signed with key %s, want the new %s", kid, secrets.KeyID([]byte(newKey)))
	}
	for _, tc := range []struct {
		name       string
		after      time.Duration
		sig, evSig string
		want       error
	}{
		{"new link", 0, newSig, "", nil},
		{"link signed before the rotation, within the grace period", 0, oldSig, oldEvSig, nil},
		{"an unknown key id", 0, "deadbeef." + strings.SplitN(oldSig, ".", 2)[1], "deadbeef." + strings.SplitN(oldEvSig, ".", 2)[1], approval.ErrForged},
		{"link signed before the rotation, after the grace period", 8 * 24 * time.Hour, oldSig, oldEvSig, approval.ErrForged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Advance(tc.after)
			if err := signer.Verify("ap_1", "approver@kp2mi.go.id", oldExp, tc.sig, c.Now()); !errors.Is(err, tc.want) {
				t.Errorf("approval link: %v, want %v", err, tc.want)
			}
			if tc.evSig == "" {
				return
			}
			want := error(nil)
			if tc.want != nil {
				want = evidence.ErrForged
			}
			// The evidence links' own grace is at least their lifetime
			// (wiring sets it); here the ring's 7 days apply.
			if err := links.Verify(hash, oldEvExp, tc.evSig, c.Now()); !errors.Is(err, want) {
				t.Errorf("evidence link: %v, want %v", err, want)
			}
		})
	}

	// Secrets Manager unreachable: the versions read last stay in use.
	srv.Close()
	c.Advance(time.Hour)
	_, sig := approvalSig(signer.Link("ap_2", "approver@kp2mi.go.id", exp))
	if kid, _, _ := strings.Cut(sig, "."); kid != secrets.KeyID([]byte(newKey)) {
		t.Errorf("with Secrets Manager down, links are signed with %s, want the last read %s", kid, secrets.KeyID([]byte(newKey)))
	}
}

func mustLink(link string, _ time.Time) string { return link }

// A secret that cannot be read fails at start, naming it, not at first use.
func TestNewRingFailsForAMissingSecret(t *testing.T) {
	srv := httptest.NewServer(secretsim.New(nil))
	defer srv.Close()
	client := secretsmanager.NewFromConfig(aws.Config{Region: "ap-southeast-3", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	_, err := secrets.NewRing(context.Background(), client, "arn:aws:secretsmanager:ap-southeast-3:000000000000:secret:Nope")
	if err == nil || !strings.Contains(err.Error(), "secret:Nope") {
		t.Fatalf("err %v, want one naming the secret", err)
	}
}
