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

	mu       sync.Mutex
	m        map[string]cached // canonical URL → the case claiming it
	statuses map[string]cached // case id → its status
}

// cached is a remembered value: a claim's case id, or a case's status.
type cached struct {
	value string
	until time.Time
}

// Claim cache bounds: a claim is trusted for ClaimTTL, a status for
// StatusTTL, and each map is emptied when it holds MaxClaims (a few MB
// at most). StatusTTL is no longer than an eventually consistent read of
// the status (the read it saves) may lag behind the table.
const (
	ClaimTTL  = 10 * time.Minute
	StatusTTL = time.Second
	MaxClaims = 20000
)

// NewClaimCache returns an empty cache.
func NewClaimCache() *ClaimCache {
	return &ClaimCache{m: map[string]cached{}, statuses: map[string]cached{}}
}

func (cc *ClaimCache) clock() time.Time {
	if cc.now != nil {
		return cc.now()
	}
	return time.Now()
}

func lookup(m map[string]cached, key string, now time.Time) (string, bool) {
	e, ok := m[key]
	if !ok || now.After(e.until) {
		return "", false
	}
	return e.value, true
}

func remember(m map[string]cached, key, value string, until time.Time) {
	if len(m) >= MaxClaims {
		clear(m)
	}
	m[key] = cached{value: value, until: until}
}

func (cc *ClaimCache) get(url string) (string, bool) {
	if cc == nil {
		return "", false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return lookup(cc.m, url, cc.clock())
}

func (cc *ClaimCache) put(url, caseID string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	remember(cc.m, url, caseID, cc.clock().Add(ClaimTTL))
}

// status is a case's status as read less than StatusTTL ago.
func (cc *ClaimCache) status(caseID string) (string, bool) {
	if cc == nil {
		return "", false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return lookup(cc.statuses, caseID, cc.clock())
}

func (cc *ClaimCache) putStatus(caseID, status string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	remember(cc.statuses, caseID, status, cc.clock().Add(StatusTTL))
}
