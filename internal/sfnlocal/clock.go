package sfnlocal

import (
	"sync"
	"time"
)

// Clock is the engine's source of time. Wait states, task timeouts,
// heartbeats, retry backoffs and execution timeouts are all measured on it.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d of this clock's time has
	// passed by itself (without Advance). A clock that never moves by itself
	// returns nil.
	After(d time.Duration) <-chan time.Time
	// Advanced returns a channel that is closed at the next Advance.
	Advanced() <-chan struct{}
}

// Advancer is a Clock that can be moved forward.
type Advancer interface {
	Clock
	Advance(d time.Duration) time.Time
}

// ManualClock stands still until advanced. Tests use it.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
	ch  chan struct{}
}

// NewManualClock returns a clock reading start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, ch: make(chan struct{})}
}

// Now implements Clock.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After implements Clock: a manual clock never moves by itself.
func (c *ManualClock) After(time.Duration) <-chan time.Time { return nil }

// Advanced implements Clock.
func (c *ManualClock) Advanced() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// Advance moves the clock forward by d and returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	close(c.ch)
	c.ch = make(chan struct{})
	return c.now
}

// OffsetClock is real time plus an offset that only grows. The engine
// persists the offset, so an advanced local stack stays advanced across
// restarts.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
	ch     chan struct{}
}

// NewOffsetClock returns a clock reading real time plus offset.
func NewOffsetClock(offset time.Duration) *OffsetClock {
	return &OffsetClock{offset: offset, ch: make(chan struct{})}
}

// Now implements Clock.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// After implements Clock.
func (c *OffsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Advanced implements Clock.
func (c *OffsetClock) Advanced() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// Advance adds d to the offset and returns the new time.
func (c *OffsetClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.offset += d
	}
	close(c.ch)
	c.ch = make(chan struct{})
	return time.Now().Add(c.offset)
}

// Offset returns the current offset from real time.
func (c *OffsetClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// SetOffset sets the offset (used when restoring a persisted offset; it
// never moves the clock backwards).
func (c *OffsetClock) SetOffset(d time.Duration) {
	c.mu.Lock()
	if d > c.offset {
		c.offset = d
	}
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}
