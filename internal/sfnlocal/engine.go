// Package sfnlocal is a local AWS Step Functions: it executes Amazon States
// Language definitions (Standard workflows) durably on DynamoDB and serves
// the Step Functions API (AWS JSON 1.0), so the AWS SDK and CLI work against
// it unchanged. The language itself (paths, intrinsics, Choice rules,
// Retry/Catch matching) comes from package asl; this package drives
// executions, calls tasks, keeps time and persists every transition.
package sfnlocal

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/asl"
)

// Config configures an Engine.
type Config struct {
	// DynamoDB holds the engine's state (required).
	DynamoDB *dynamodb.Client
	// DynamoDBEndpoint is where dynamodb:* task resources are sent; empty
	// means the DynamoDB client's endpoint.
	DynamoDBEndpoint string
	// TablePrefix is prepended to the engine's table name ("sfnlocal").
	TablePrefix string
	// Clock defaults to an OffsetClock whose offset is persisted.
	Clock Clock
	// Invoker runs Lambda functions (required for lambda tasks).
	Invoker Invoker
	// Region and AccountID appear in ARNs (defaults us-east-1, 123456789012).
	Region, AccountID string
	Logger            *slog.Logger
}

// Engine runs state machines. Create it with New, then Start it.
type Engine struct {
	cfg    Config
	db     *dynamodb.Client
	table  string
	clock  Clock
	log    *slog.Logger
	region string
	acct   string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	execs   map[string]*execution // running executions by ARN
	timers  timerHeap
	work    int
	changed chan struct{} // closed and replaced whenever work or timers change
	closed  bool

	puts chan putReq // group commit of single-item transitions

	defMu sync.Mutex
	defs  map[string]*asl.Definition // parsed definitions by hash

	smMu sync.Mutex
	sms  map[string]*stateMachine // cache of state machines by ARN
}

// New checks the configuration and returns an engine that is not started.
func New(cfg Config) (*Engine, error) {
	if cfg.DynamoDB == nil {
		return nil, errors.New("sfnlocal: Config.DynamoDB is required")
	}
	if cfg.Region == "" {
		cfg.Region = cfg.DynamoDB.Options().Region
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = NewOffsetClock(0)
	}
	if cfg.DynamoDBEndpoint == "" {
		if ep := cfg.DynamoDB.Options().BaseEndpoint; ep != nil {
			cfg.DynamoDBEndpoint = *ep
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg: cfg, db: cfg.DynamoDB, table: cfg.TablePrefix + "sfnlocal", clock: cfg.Clock,
		log: cfg.Logger, region: cfg.Region, acct: cfg.AccountID,
		ctx: ctx, cancel: cancel,
		execs: map[string]*execution{}, changed: make(chan struct{}), puts: make(chan putReq),
		defs: map[string]*asl.Definition{}, sms: map[string]*stateMachine{},
	}, nil
}

// Clock returns the engine's clock.
func (e *Engine) Clock() Clock { return e.clock }

// Table returns the name of the engine's DynamoDB table.
func (e *Engine) Table() string { return e.table }

// Start creates the table if missing, restores the clock offset and resumes
// every running execution where it was.
func (e *Engine) Start(ctx context.Context) error {
	if err := ensureTable(ctx, e.db, e.table); err != nil {
		return fmt.Errorf("sfnlocal: %w", err)
	}
	if oc, ok := e.clock.(*OffsetClock); ok {
		res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key("CLOCK", "OFFSET"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("sfnlocal: read clock offset: %w", err)
		}
		if res.Item != nil {
			oc.SetOffset(time.Duration(getN(res.Item, "offset")))
		}
	}
	e.wg.Add(2)
	go e.commit()
	go e.commit()
	if err := e.resumeAll(ctx); err != nil {
		return fmt.Errorf("sfnlocal: resume: %w", err)
	}
	e.wg.Add(1)
	go e.schedule()
	return nil
}

// Close stops the engine. Running executions stay persisted and resume at
// the next Start.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
}

// Advance moves the clock forward (the clock must be an Advancer) and, for
// an OffsetClock, persists the new offset. It returns the new time.
func (e *Engine) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	a, ok := e.clock.(Advancer)
	if !ok {
		return time.Time{}, errors.New("the engine's clock cannot be advanced")
	}
	if d < 0 {
		return time.Time{}, errors.New("advance: duration must not be negative")
	}
	now := a.Advance(d)
	if oc, ok := e.clock.(*OffsetClock); ok {
		_, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
			"pk": str("CLOCK"), "sk": str("OFFSET"), "offset": num(int64(oc.Offset())),
		}})
		if err != nil {
			return now, fmt.Errorf("persist clock offset: %w", err)
		}
	}
	e.notify()
	return now, nil
}

// AdvanceBetweenTasks is Advance once the tasks running now have ended (it
// waits at most wait; then it advances anyway): a jump stands for hours
// passing between tasks, not during one. A task in flight at the jump
// would time out (TimeoutSeconds runs on this clock), and with a clock
// that stands still after the jump its retry would wait for ever. It
// reports whether the engine was idle when it advanced.
func (e *Engine) AdvanceBetweenTasks(ctx context.Context, d, wait time.Duration) (time.Time, bool, error) {
	idle, cancel := context.WithTimeout(ctx, wait)
	waited := e.WaitIdle(idle) == nil
	cancel()
	now, err := e.Advance(ctx, d)
	return now, waited, err
}

// WaitIdle returns once no work is running and no timer is due at the
// clock's current time (executions may still be waiting for callbacks or
// for future timers).
func (e *Engine) WaitIdle(ctx context.Context) error {
	for {
		e.mu.Lock()
		idle := e.work == 0 && (len(e.timers) == 0 || e.timers[0].at.After(e.clock.Now()))
		ch := e.changed
		e.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notify wakes WaitIdle callers and the scheduler. Callers hold no lock.
func (e *Engine) notify() {
	e.mu.Lock()
	e.notifyLocked()
	e.mu.Unlock()
}

func (e *Engine) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// spawn runs f as tracked work.
func (e *Engine) spawn(f func()) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.work++
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			e.work--
			e.notifyLocked()
			e.mu.Unlock()
		}()
		f()
	}()
}

// timer pokes a thread (or, with thread "", the execution) at a time.
type timer struct {
	at     time.Time
	exec   string
	thread string
	gen    int
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (e *Engine) addTimers(ts []timer) {
	if len(ts) == 0 {
		return
	}
	e.mu.Lock()
	for _, t := range ts {
		heap.Push(&e.timers, t)
	}
	e.notifyLocked()
	e.mu.Unlock()
}

// schedule fires due timers.
func (e *Engine) schedule() {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		now := e.clock.Now()
		var due []timer
		for len(e.timers) > 0 && !e.timers[0].at.After(now) {
			due = append(due, heap.Pop(&e.timers).(timer))
		}
		var wait <-chan time.Time
		if len(due) == 0 && len(e.timers) > 0 {
			wait = e.clock.After(e.timers[0].at.Sub(now))
		}
		changed := e.changed
		// Due timers become work before they leave the heap's view, so
		// WaitIdle never sees a gap.
		if len(due) > 0 {
			e.work++
		}
		e.mu.Unlock()
		if len(due) > 0 {
			for _, t := range due {
				e.fire(t)
			}
			e.mu.Lock()
			e.work--
			e.notifyLocked()
			e.mu.Unlock()
			continue
		}
		select {
		case <-e.ctx.Done():
			return
		case <-wait:
		case <-changed:
		case <-e.clock.Advanced():
		}
	}
}

func (e *Engine) fire(t timer) {
	e.mu.Lock()
	ex := e.execs[t.exec]
	e.mu.Unlock()
	if ex == nil {
		return
	}
	if t.thread == "" {
		e.spawn(func() { e.checkExecTimeout(ex) })
		return
	}
	e.spawn(func() { e.poke(ex, t.thread, t.gen) })
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ARNs.

func (e *Engine) smARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.region, e.acct, name)
}

func (e *Engine) execARN(smName, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.region, e.acct, smName, name)
}

// parseExecARN returns the state machine ARN and execution name.
func parseExecARN(arn string) (smArn, name string, ok bool) {
	p := strings.Split(arn, ":")
	if len(p) != 8 || p[0] != "arn" || p[2] != "states" || p[5] != "execution" || p[6] == "" || p[7] == "" {
		return "", "", false
	}
	return strings.Join([]string{p[0], p[1], p[2], p[3], p[4], "stateMachine", p[6]}, ":"), p[7], true
}

func parseSMARN(arn string) (name string, ok bool) {
	p := strings.Split(arn, ":")
	if len(p) != 7 || p[0] != "arn" || p[2] != "states" || p[5] != "stateMachine" || p[6] == "" {
		return "", false
	}
	return p[6], true
}
