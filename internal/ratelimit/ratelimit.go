// Package ratelimit limits requests per reporter and per address with
// buckets kept in the table, so the limit holds across any number of
// concurrent Lambda instances. Each bucket is a GCRA token bucket: one
// number, the theoretical arrival time (tat) of the next request, moved
// forward by conditional writes only; a request is refused when accepting
// it would put tat more than the burst ahead of now.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/store"
)

// Limit is a rate and the burst allowed on top of it.
type Limit struct {
	// Per is the time one request's token takes to refill.
	Per time.Duration
	// Burst is how many requests may come at once after a quiet spell.
	Burst int
}

// Classes maps a reporter class ("reporter", "crawler", "trusted", "public"
// …) to its limit.
type Classes map[string]Limit

// Class names every deployment has.
const (
	// ClassReporter is a reporter's class unless an admin set another.
	ClassReporter = "reporter"
	ClassCrawler  = "crawler"
	ClassTrusted  = "trusted"
	// ClassPublic limits each address on the public channel.
	ClassPublic = "public"
)

// DefaultSpec is the limits unless configured (template parameter
// ReporterRateLimits, TANGKAL_RATE_LIMITS): class=COUNT/UNIT:BURST, UNIT
// one of s, m, h, d.
const DefaultSpec = "reporter=600/m:1000,crawler=6000/m:5000,trusted=3000/m:3000,public=20/h:10"

// Parse reads a spec like DefaultSpec. Classes it does not name keep their
// default.
func Parse(spec string) (Classes, error) {
	c := Classes{}
	if err := c.parse(DefaultSpec); err != nil {
		return nil, err
	}
	if err := c.parse(spec); err != nil {
		return nil, err
	}
	return c, nil
}

func (c Classes) parse(spec string) error {
	for _, part := range strings.Split(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, rest, ok := strings.Cut(part, "=")
		rate, burst, ok2 := strings.Cut(rest, ":")
		count, unit, ok3 := strings.Cut(rate, "/")
		n, err1 := strconv.Atoi(strings.TrimSpace(count))
		b, err2 := strconv.Atoi(strings.TrimSpace(burst))
		u := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[strings.TrimSpace(unit)]
		if !ok || !ok2 || !ok3 || err1 != nil || err2 != nil || n <= 0 || b <= 0 || u == 0 || strings.TrimSpace(name) == "" {
			return fmt.Errorf("rate limits: %q is not class=COUNT/UNIT:BURST (UNIT s, m, h or d)", part)
		}
		c[strings.TrimSpace(name)] = Limit{Per: u / time.Duration(n), Burst: b}
	}
	return nil
}

// For is the limit of a class, the reporter class's for an unknown one.
func (c Classes) For(class string) Limit {
	if l, ok := c[class]; ok {
		return l
	}
	return c[ClassReporter]
}

// String writes the classes back as a spec.
func (c Classes) String() string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		l := c[n]
		parts = append(parts, fmt.Sprintf("%s=%d/m:%d", n, int(time.Minute/l.Per), l.Burst))
	}
	return strings.Join(parts, ",")
}

// Limiter takes tokens from buckets in the table.
type Limiter struct {
	Table store.Table
	Now   func() time.Time

	mu sync.Mutex
	// tats remembers each bucket's last known tat, to try first the write
	// that will most likely succeed (one call per request).
	tats map[string]int64
	// leases are tokens this instance took ahead from a bucket with a
	// large burst (LeaseSize), spent one request at a time until
	// LeaseFor ends; unspent ones are forfeited, so a lease never lets
	// more through than the bucket allows.
	leases map[string]lease
}

type lease struct {
	left  int
	until time.Time
}

// LeaseFor is how long leased tokens may be spent.
const LeaseFor = 10 * time.Second

// LeaseSize is how many tokens one table write takes for single requests:
// a hundredth of the burst, at most 10 (1, exact, for small bursts such as
// the public channel's per address).
func LeaseSize(lim Limit) int { return max(1, min(10, lim.Burst/100)) }

// Decision is the answer of Take.
type Decision struct {
	Allowed bool
	// RetryAfter is when the request would be accepted (whole seconds, at
	// least 1) when it is not.
	RetryAfter time.Duration
	// TooMany is true when n exceeds the burst: it will never fit at once.
	TooMany bool
}

// Key makes a bucket's key from a scope ("reporter", "address") and
// whom it limits (hashed: addresses and subjects are not kept in clear).
func Key(scope, who string) string {
	sum := sha256.Sum256([]byte(scope + "\x00" + who))
	return store.RatePK(scope, hex.EncodeToString(sum[:16]))
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Take takes n tokens from the bucket key under lim. A single token may
// come from this instance's lease (see LeaseSize).
func (l *Limiter) Take(ctx context.Context, key string, lim Limit, n int) (Decision, error) {
	size := LeaseSize(lim)
	if n != 1 || size == 1 {
		return l.take(ctx, key, lim, n)
	}
	if l.spendLease(key) {
		return Decision{Allowed: true}, nil
	}
	d, err := l.take(ctx, key, lim, size)
	if err != nil || !d.Allowed {
		// Fewer than a lease left: one token, exactly.
		return l.take(ctx, key, lim, 1)
	}
	l.mu.Lock()
	if l.leases == nil || len(l.leases) > 10000 {
		l.leases = map[string]lease{}
	}
	l.leases[key] = lease{left: size - 1, until: time.Now().Add(LeaseFor)}
	l.mu.Unlock()
	return d, nil
}

func (l *Limiter) spendLease(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls, ok := l.leases[key]
	if !ok || ls.left <= 0 || !time.Now().Before(ls.until) {
		return false
	}
	ls.left--
	l.leases[key] = ls
	return true
}

func (l *Limiter) take(ctx context.Context, key string, lim Limit, n int) (Decision, error) {
	if n > lim.Burst {
		return Decision{TooMany: true, RetryAfter: time.Duration(n) * lim.Per}, nil
	}
	inc := int64(n) * lim.Per.Microseconds()
	tau := int64(lim.Burst) * lim.Per.Microseconds()
	first := true
	active := false
	for attempt := 0; attempt < 8; attempt++ {
		now := l.now().UnixMicro()
		if first {
			active, first = l.lastTat(key) >= now, false
		}
		var old *int64
		var ok bool
		var err error
		if active {
			ok, old, err = l.advance(ctx, key, now, inc, tau)
		} else {
			ok, old, err = l.start(ctx, key, now, inc, tau)
		}
		if err != nil {
			return Decision{}, err
		}
		if ok {
			return Decision{Allowed: true}, nil
		}
		switch {
		case old == nil || *old < now:
			active = false
		case *old > now+tau-inc:
			l.remember(key, *old)
			wait := time.Duration(*old-(now+tau-inc)) * time.Microsecond
			return Decision{RetryAfter: wait}, nil
		default:
			active = true
		}
	}
	return Decision{}, fmt.Errorf("rate limit %s: too much contention", key)
}

// advance moves a busy bucket's tat forward by inc.
func (l *Limiter) advance(ctx context.Context, key string, now, inc, tau int64) (bool, *int64, error) {
	return l.update(ctx, key, "SET tat = tat + :inc, expires_at = :exp", "tat >= :now AND tat <= :max", map[string]types.AttributeValue{
		":inc": num(inc), ":now": num(now), ":max": num(now + tau - inc), ":exp": num(expiry(now + tau)),
	})
}

// start sets an idle (or new) bucket's tat to now + inc.
func (l *Limiter) start(ctx context.Context, key string, now, inc, tau int64) (bool, *int64, error) {
	return l.update(ctx, key, "SET tat = :tat, expires_at = :exp", "attribute_not_exists(tat) OR tat < :now", map[string]types.AttributeValue{
		":tat": num(now + inc), ":now": num(now), ":exp": num(expiry(now + tau)),
	})
}

func (l *Limiter) update(ctx context.Context, key, expr, cond string, vals map[string]types.AttributeValue) (bool, *int64, error) {
	out, err := l.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.Table.Name), Key: store.Key(key, store.SKBucket),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		if v, ok := out.Attributes["tat"].(*types.AttributeValueMemberN); ok {
			if t, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
				l.remember(key, t)
			}
		}
		return true, nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return false, nil, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if v, ok := ccf.Item["tat"].(*types.AttributeValueMemberN); ok {
		if t, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			return false, &t, nil
		}
	}
	if ccf.Item == nil {
		return false, nil, nil
	}
	return false, nil, fmt.Errorf("rate limit %s: bucket without a readable tat", key)
}

// expiry is when the bucket item may go (TTL, in seconds): a minute after
// its tat has passed, when it is full again anyway.
func expiry(tatMicros int64) int64 { return int64(math.Ceil(float64(tatMicros)/1e6)) + 60 }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// lastTat is the bucket's tat as this instance last saw it (0: unknown).
func (l *Limiter) lastTat(key string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tats[key]
}

func (l *Limiter) remember(key string, tat int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tats == nil || len(l.tats) > 10000 {
		l.tats = map[string]int64{}
	}
	l.tats[key] = tat
}

// Refuse is the 429 of a refused decision, with its Retry-After header
// (whole seconds).
func Refuse(d Decision) *api.Error {
	if d.TooMany {
		return api.Errorf(413, "too_many_items", "body", "more items than your limit allows at once (Retry-After would never be enough); send fewer in each request")
	}
	s := secs(d.RetryAfter)
	e := api.Errorf(429, "rate_limited", "", "terlalu banyak permintaan; coba lagi setelah %d detik / too many requests; retry after %d s", s, s)
	e.Headers = map[string]string{"Retry-After": strconv.Itoa(s)}
	return e
}

func secs(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }
