package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Defaults of a Ring.
const (
	// DefaultTTL is how long a read secret is used before it is read again,
	// so a rotation reaches running functions within minutes.
	DefaultTTL = 5 * time.Minute
	// DefaultGrace is how long after a rotation the previous version
	// (AWSPREVIOUS) still verifies what it signed: links mailed or sent
	// before the rotation keep working until they expire.
	DefaultGrace = 30 * 24 * time.Hour
)

// Key is one version of a secret. ID names it in what it signs (a link's
// sig, a webhook's header), so a verifier knows which version to use; it
// is derived from the value and reveals nothing of it.
type Key struct {
	ID    string
	Value []byte
}

// KeyID is the id of a key with that value.
func KeyID(value []byte) string {
	h := sha256.Sum256(append([]byte("tangkal key id\x00"), value...))
	return hex.EncodeToString(h[:4])
}

// Ring is one secret as its users see it: the current version, which
// signs, and the previous one, which still verifies for Grace after a
// rotation. It is read from Secrets Manager at run time and read again
// every TTL; when a read fails, the last versions read stay in use.
type Ring struct {
	sm    Getter
	id    string
	TTL   time.Duration
	Grace time.Duration
	// Now is real time (nil: time.Now): rotations happen in real time.
	Now func() time.Time

	mu        sync.Mutex
	cur       Key
	rotatedAt time.Time
	prev      *Key
	fetched   time.Time
}

// Static is a Ring holding one fixed key (tests, and keys given as
// values).
func Static(value []byte) *Ring {
	v := append([]byte(nil), value...)
	return &Ring{cur: Key{ID: KeyID(v), Value: v}, fetched: time.Now()}
}

// NewRing reads the secret id (name or ARN) from sm and returns its Ring;
// a secret that cannot be read is an error now, not at first use.
func NewRing(ctx context.Context, sm Getter, id string) (*Ring, error) {
	r := &Ring{sm: sm, id: id}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Ring) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Refresh reads AWSCURRENT and, when there is one, AWSPREVIOUS, now.
func (r *Ring) Refresh(ctx context.Context) error {
	cur, err := r.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.id)})
	if err != nil {
		return fmt.Errorf("read secret %s: %w", r.id, err)
	}
	v := valueOf(cur)
	if len(v) == 0 {
		return fmt.Errorf("read secret %s: it is empty", r.id)
	}
	var prev *Key
	out, err := r.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.id), VersionStage: aws.String("AWSPREVIOUS")})
	var nf *smtypes.ResourceNotFoundException
	switch {
	case err == nil && len(valueOf(out)) > 0 && aws.ToString(out.VersionId) != aws.ToString(cur.VersionId):
		pv := valueOf(out)
		prev = &Key{ID: KeyID(pv), Value: pv}
	case err != nil && !errors.As(err, &nf):
		// Not fatal: the current version signs and verifies.
		slog.WarnContext(ctx, "secret's previous version unreadable", "secret", r.id, "err", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur, r.prev, r.fetched = Key{ID: KeyID(v), Value: v}, prev, r.now()
	r.rotatedAt = aws.ToTime(cur.CreatedDate)
	return nil
}

func valueOf(out *secretsmanager.GetSecretValueOutput) []byte {
	if out.SecretString != nil {
		return []byte(*out.SecretString)
	}
	return out.SecretBinary
}

// maybeRefresh reads the secret again once TTL has passed since the last
// read; a failed read keeps the last versions (and is tried again later).
func (r *Ring) maybeRefresh() {
	if r.sm == nil {
		return
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	r.mu.Lock()
	due := r.now().Sub(r.fetched) >= ttl
	if due {
		// One reader refreshes; the others go on with what is cached.
		r.fetched = r.now()
	}
	r.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := r.Refresh(ctx); err != nil {
		slog.Warn("secret refresh failed; using the versions read before", "secret", r.id, "err", err)
	}
}

// Current is the version that signs.
func (r *Ring) Current() Key {
	r.maybeRefresh()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Accepted are the versions that verify now: the current one, and the
// previous one until Grace after the rotation to the current one.
func (r *Ring) Accepted() []Key {
	r.maybeRefresh()
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := []Key{r.cur}
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	if r.prev != nil && (r.rotatedAt.IsZero() || r.now().Before(r.rotatedAt.Add(grace))) {
		keys = append(keys, *r.prev)
	}
	return keys
}

// Lookup is the accepted version with that id; an empty id (what was
// signed before key ids) tries the accepted versions in turn, so it
// returns them all.
func (r *Ring) Lookup(id string) [][]byte {
	var out [][]byte
	for _, k := range r.Accepted() {
		if id == "" || k.ID == id {
			out = append(out, k.Value)
		}
	}
	return out
}
