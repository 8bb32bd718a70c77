package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/store"
)

// Assessors gives VerifyAd an assessor that checks against the licensed
// recruiter registry as loaded in DynamoDB (`tangkal registry load`),
// re-read at most every TTL so a refresh reaches running functions.
type Assessors struct {
	Table store.Table
	Rules risk.Rules
	TTL   time.Duration

	mu      sync.Mutex
	cached  *risk.Assessor
	fetched time.Time
}

// ErrRegistryEmpty is VerifyAd's error while the table holds no licensed
// recruiter: an operator has not run `tangkal registry load` yet.
var ErrRegistryEmpty = errors.New("the licensed-recruiter registry in the table is empty: load it with `tangkal registry load --csv FILE --table NAME` (VerifyAd does not fall back to the bundled fictional registry)")

// Assessor returns the current assessor.
func (a *Assessors) Assessor(ctx context.Context) (*risk.Assessor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ttl := a.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	if a.cached != nil && time.Since(a.fetched) < ttl {
		return a.cached, nil
	}
	reg, err := registry.FromDynamoDB(ctx, a.Table)
	if err != nil {
		if a.cached != nil {
			slog.WarnContext(ctx, "registry refresh failed; using the last copy", "err", err)
			return a.cached, nil
		}
		return nil, fmt.Errorf("read the licensed-recruiter registry: %w", err)
	}
	if reg.Len() == 0 {
		// Never the bundled, fictional registry in its place: every
		// licensed recruiter would look unlicensed.
		return nil, ErrRegistryEmpty
	}
	a.cached, a.fetched = risk.NewAssessor(a.Rules, reg), time.Now()
	return a.cached, nil
}
