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
// the intake then reads the claim from the table. A nil *ClaimCache
// remembers nothing.
type ClaimCache struct {
	mu sync.Mutex
	m  map[string]cachedClaim
}

type cachedClaim struct {
	caseID string
	until  time.Time
}

// Claim cache bounds: an entry is trusted for ClaimTTL, and the cache is
// emptied when it holds MaxClaims (a few MB at most).
const (
	ClaimTTL  = 10 * time.Minute
	MaxClaims = 20000
)

// NewClaimCache returns an empty cache.
func NewClaimCache() *ClaimCache { return &ClaimCache{m: map[string]cachedClaim{}} }

func (cc *ClaimCache) get(url string) (string, bool) {
	if cc == nil {
		return "", false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[url]
	if !ok || time.Now().After(e.until) {
		return "", false
	}
	return e.caseID, true
}

func (cc *ClaimCache) put(url, caseID string) {
	if cc == nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.m) >= MaxClaims {
		clear(cc.m)
	}
	cc.m[url] = cachedClaim{caseID: caseID, until: time.Now().Add(ClaimTTL)}
}
