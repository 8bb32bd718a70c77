package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

func newTable(t *testing.T) store.Table {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "rate")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return store.Table{DB: db, Name: name}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Many instances (each its own Limiter, as concurrent Lambdas are) share a
// bucket: exactly the burst gets through at once, then the rate refills it.
func TestBucketHoldsAcrossInstances(t *testing.T) {
	tb := newTable(t)
	clk := &clock{t: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	lim := Limit{Per: 6 * time.Second, Burst: 20}
	key := Key("reporter", "crawler-7")
	var allowed, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &Limiter{Table: tb, Now: clk.now}
			for j := 0; j < 5; j++ {
				d, err := l.Take(context.Background(), key, lim, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				} else {
					refused.Add(1)
					if d.RetryAfter <= 0 || d.RetryAfter > 6*time.Second {
						t.Errorf("retry after %v, want within one token (6 s)", d.RetryAfter)
					}
				}
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 20 || refused.Load() != 40 {
		t.Fatalf("allowed %d, refused %d; want 20 and 40", allowed.Load(), refused.Load())
	}
	l := &Limiter{Table: tb, Now: clk.now}
	clk.add(13 * time.Second) // two tokens back
	for i, want := range []bool{true, true, false} {
		d, err := l.Take(context.Background(), key, lim, 1)
		if err != nil || d.Allowed != want {
			t.Fatalf("after 13 s, request %d: %+v %v, want allowed %v", i, d, err, want)
		}
	}
	clk.add(time.Hour) // idle: full again, and a batch takes many at once
	if d, _ := l.Take(context.Background(), key, lim, 20); !d.Allowed {
		t.Fatalf("a full bucket refused 20: %+v", d)
	}
	if d, _ := l.Take(context.Background(), key, lim, 21); !d.TooMany {
		t.Fatalf("21 tokens of a burst of 20: %+v, want TooMany", d)
	}
	other := Key("reporter", "ngo-sari")
	if d, _ := l.Take(context.Background(), other, lim, 1); !d.Allowed {
		t.Fatal("another reporter's bucket is separate")
	}
}

func TestParse(t *testing.T) {
	c, err := Parse("crawler=120/s:50, slow=6/m:3")
	if err != nil {
		t.Fatal(err)
	}
	if c["slow"] != (Limit{Per: 10 * time.Second, Burst: 3}) || c["crawler"].Burst != 50 || c[ClassPublic].Burst != 10 {
		t.Fatalf("%v", c)
	}
	if c.For("nobody") != c[ClassReporter] {
		t.Fatal("an unknown class has the reporter's limit")
	}
	for _, bad := range []string{"x", "a=1/m", "a=0/m:1", "a=1/w:1", "=1/m:1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// With a large burst, single requests spend a lease of tokens taken in one
// write; a lease never lets more through than the bucket holds.
func TestLeasesNeverExceedTheBucket(t *testing.T) {
	tb := newTable(t)
	clk := &clock{t: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	lim := Limit{Per: time.Hour, Burst: 1000} // leases of 10
	key := Key("reporter", "crawler-lease")
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &Limiter{Table: tb, Now: clk.now}
			for j := 0; j < 150; j++ {
				if d, err := l.Take(context.Background(), key, lim, 1); err == nil && d.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n > 1000 || n < 990 {
		t.Fatalf("%d allowed of a burst of 1000", n)
	}
}
