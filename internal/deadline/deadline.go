// Package deadline keeps outbound calls well inside a function's own
// timeout: Lambda gives each invocation a context whose deadline is the
// function's Timeout, and a call that runs to that deadline ends the
// function with Sandbox.Timedout instead of an error the workflow can
// classify. Calls made under Reserve give up earlier, leaving the function
// time to answer.
package deadline

import (
	"context"
	"time"
)

// Bounds of the time kept back from a function's deadline.
const (
	MinReserve = 2 * time.Second
	MaxReserve = 10 * time.Second
)

// ReserveFor is how much of remaining (the time left to a function) is
// kept back: a fifth, between MinReserve and MaxReserve, and never more
// than half of what is left.
func ReserveFor(remaining time.Duration) time.Duration {
	r := min(max(remaining/5, MinReserve), MaxReserve)
	return min(r, remaining/2)
}

// Reserve returns ctx with its deadline moved ReserveFor earlier; without a
// deadline ctx is returned as it is.
func Reserve(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, d.Add(-ReserveFor(time.Until(d))))
}

// Call bounds one outbound call: at most limit, and within the reserved
// part of ctx's deadline.
func Call(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		end := d.Add(-ReserveFor(time.Until(d)))
		if limit > 0 && time.Now().Add(limit).Before(end) {
			end = time.Now().Add(limit)
		}
		return context.WithDeadline(ctx, end)
	}
	if limit > 0 {
		return context.WithTimeout(ctx, limit)
	}
	return context.WithCancel(ctx)
}
