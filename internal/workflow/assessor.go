package workflow

import (
	"context"
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
		slog.WarnContext(ctx, "the licensed-recruiter registry in DynamoDB is empty; using the bundled copy (run `tangkal registry load`)")
		reg = registry.Default()
	}
	a.cached, a.fetched = risk.NewAssessor(a.Rules, reg), time.Now()
	return a.cached, nil
}
