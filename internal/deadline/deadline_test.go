package deadline

import (
	"context"
	"testing"
	"time"
)

func TestReserveKeepsCallsInsideTheFunctionTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout, limit time.Duration
		wantAtMost     time.Duration
	}{
		{30 * time.Second, 0, 24 * time.Second},                // a fifth kept back
		{90 * time.Second, 0, 80 * time.Second},                // at most MaxReserve back
		{3 * time.Second, 0, 1500 * time.Millisecond},          // never more than half
		{30 * time.Second, 10 * time.Second, 10 * time.Second}, // the call's own limit
	} {
		ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
		cctx, ccancel := Call(ctx, tc.limit)
		d, ok := cctx.Deadline()
		ccancel()
		cancel()
		if !ok {
			t.Fatalf("timeout %v: no deadline", tc.timeout)
		}
		if left := time.Until(d); left > tc.wantAtMost || left < tc.wantAtMost-time.Second {
			t.Errorf("timeout %v limit %v: call has %v, want about %v", tc.timeout, tc.limit, left, tc.wantAtMost)
		}
	}
	cctx, cancel := Call(context.Background(), 5*time.Second)
	defer cancel()
	if d, ok := cctx.Deadline(); !ok || time.Until(d) > 5*time.Second {
		t.Errorf("without a function deadline the call's limit applies: %v %v", d, ok)
	}
}
