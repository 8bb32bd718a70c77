package report

import (
	"sync"
	"time"
)

// ClaimCache remembers, in one Lambda instance, which case claims a URL,
// so that the further reports of an ad (a crawler sends the same ads again
// and again) skip reading the claim. A claim moves only when its case
// closed as removed and the ad is reported again: the join's check that
// the case is there and open refuses a remembered claim that moved, and
// the intake then reads the claim from the table.
//
// It also remembers, for StatusTTL, the status a duplicate's receipt
// names, so that a burst of reports of one ad reads it once a second
// instead of once a report. A nil *ClaimCache remembers nothing.
type ClaimCache struct {
	// now is the cache's clock (nil: real time; never the local stack's
	// movable clock, which stands for time between tasks).
	now func() time.Time

	mu sync.Mutex
	m  [2]map[string]cached // by kind: canonical URL → its case; case id → its status
}

// kind is what a cache entry remembers.
type kind int

const (
	claimOf  kind = iota // the case claiming a canonical URL
	statusOf             // a case's status
)

// cached is a remembered value: a claim's case id, or a case's status.
type cached struct {
	value string
	until time.Time
}

// Claim cache bounds: a claim is trusted for ClaimTTL, a status for
// StatusTTL, and each kind is emptied when it holds MaxClaims (a few MB
// at most). StatusTTL is no longer than an eventually consistent read of
// the status (the read it saves) may lag behind the table.
const (
	ClaimTTL  = 10 * time.Minute
	StatusTTL = time.Second
	MaxClaims = 20000
)

var ttls = [...]time.Duration{claimOf: ClaimTTL, statusOf: StatusTTL}

// NewClaimCache returns an empty cache.
func NewClaimCache() *ClaimCache {
	return &ClaimCache{m: [2]map[string]cached{{}, {}}}
}

func (cc *ClaimCache) clock() time.Time {
	if cc.now != nil {
		return cc.now()
	}
	return time.Now()
}

// recall returns what is remembered of key, unless it is too old.
func (cc *ClaimCache) recall(k kind, key string) (string, bool) {
	if cc == nil {
		return "", false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[k][key]
	if !ok || cc.clock().After(e.until) {
		return "", false
	}
	return e.value, true
}

// keep remembers value for key, for its kind's TTL.
func (cc *ClaimCache) keep(k kind, key, value string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.m[k]) >= MaxClaims {
		clear(cc.m[k])
	}
	cc.m[k][key] = cached{value: value, until: cc.clock().Add(ttls[k])}
}
