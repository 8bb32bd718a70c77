package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/asl"
)

// Execution statuses.
const (
	statusRunning   = "RUNNING"
	statusSucceeded = "SUCCEEDED"
	statusFailed    = "FAILED"
	statusTimedOut  = "TIMED_OUT"
	statusAborted   = "ABORTED"
)

// Thread phases.
const (
	phaseEnter    = "enter"    // about to enter State with Input
	phaseRun      = "run"      // a task is scheduled and must be invoked
	phaseCallback = "callback" // a task waits for its token
	phaseRetry    = "retry"    // a failed state is retried at WakeAt
	phaseWait     = "wait"     // a Wait state ends at WakeAt
	phaseChildren = "children" // a Parallel or Map state waits for its children
	phaseDone     = "done"     // a branch or iteration succeeded with Output
	phaseFailed   = "failed"   // a branch or iteration failed with Error and Cause
)

// scopeStep leads from a definition to one of its states' sub-definitions:
// Branches[Branch], or the ItemProcessor when Branch is -1.
type scopeStep struct {
	State  string `json:"s"`
	Branch int    `json:"b"`
}

// thread is one line of control: the execution's root, a Parallel branch or
// a Map iteration. It is persisted as JSON after every transition.
type thread struct {
	ID        string          `json:"id"`
	Parent    string          `json:"parent,omitempty"`
	Path      []scopeStep     `json:"path,omitempty"`
	Index     int             `json:"index"`
	State     string          `json:"state"`
	Phase     string          `json:"phase"`
	Input     json.RawMessage `json:"input"`
	Entered   time.Time       `json:"entered"`
	Attempts  []int           `json:"attempts,omitempty"`
	Retries   int             `json:"retries,omitempty"`
	Gen       int             `json:"gen"`
	Round     int             `json:"round,omitempty"`
	WakeAt    time.Time       `json:"wakeAt,omitzero"`
	Deadline  time.Time       `json:"deadline,omitzero"`
	HBAt      time.Time       `json:"hbAt,omitzero"`
	HB        time.Duration   `json:"hb,omitempty"`
	Token     string          `json:"token,omitempty"`
	Call      *taskCall       `json:"call,omitempty"`
	LastEvent int64           `json:"lastEvent"`
	Eff       json.RawMessage `json:"eff,omitempty"`
	Total     int             `json:"total,omitempty"`
	Launched  int             `json:"launched,omitempty"`
	Finished  int             `json:"finished,omitempty"`
	Failures  int             `json:"failures,omitempty"`
	MaxConc   int             `json:"maxConc,omitempty"`
	TolPct    float64         `json:"tolPct,omitempty"`
	TolCount  int             `json:"tolCount,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
	Error     string          `json:"error,omitempty"`
	Cause     string          `json:"cause,omitempty"`
	// Early holds a callback that arrived while the task's own invocation
	// was still running (a function may complete its token itself); it is
	// applied when the invocation returns, by the thread's driver.
	Early *earlyCallback `json:"early,omitempty"`

	parent   *thread // for the previousEventId of a child's first event
	items    []any   // Map items, decoded from Eff
	more     bool    // a Map has more iterations to launch now
	again    bool    // advance stopped to let a long run of states be persisted
	children []*thread
}

// earlyCallback is a SendTaskSuccess or SendTaskFailure received during
// the invocation of a .waitForTaskToken task.
type earlyCallback struct {
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
	Failed bool            `json:"failed,omitempty"`
}

// execution is a running execution held in memory. Every field is guarded
// by mu; DynamoDB writes happen under mu, so transitions persist in order.
type execution struct {
	e        *Engine
	mu       sync.Mutex
	arn      string
	name     string
	smArn    string
	smName   string
	roleArn  string
	start    time.Time
	input    any
	defHash  string
	def      *asl.Definition
	deadline time.Time
	status   string

	threads   map[string]*thread
	nextEvent int64
	seq       int // transitions persisted so far

	// pending writes, flushed in one transaction
	events  []*event
	dirty   map[string]*thread
	deleted map[string]bool
	meta    map[string]types.AttributeValue
	extra   []types.TransactWriteItem

	spawns  []*thread
	timers  []timer
	cancels map[string]context.CancelFunc
}

func newExecution(e *Engine) *execution {
	return &execution{e: e, threads: map[string]*thread{}, dirty: map[string]*thread{},
		deleted: map[string]bool{}, cancels: map[string]context.CancelFunc{}, status: statusRunning}
}

func (ex *execution) now() time.Time { return ex.e.clock.Now().UTC() }

func (ex *execution) touch(th *thread) { ex.dirty[th.ID] = th }

func (ex *execution) addThread(th *thread) {
	if ex.status != statusRunning {
		return // the execution ended (the history limit) while this state ran
	}
	ex.threads[th.ID] = th
	delete(ex.deleted, th.ID)
	ex.touch(th)
}

func (ex *execution) removeThread(th *thread) {
	for _, c := range th.children {
		ex.removeThread(c)
	}
	th.children = nil
	th.Gen++
	if cancel := ex.cancels[th.ID]; cancel != nil {
		cancel()
		delete(ex.cancels, th.ID)
	}
	delete(ex.threads, th.ID)
	delete(ex.dirty, th.ID)
	ex.deleted[th.ID] = true
}

// maxHistoryEvents is Step Functions' hard quota on a Standard execution's
// history. AWS documents what happens at the limit: the execution waits
// for event 25,000; if that event is ExecutionSucceeded, the execution
// succeeds, otherwise event 25,000 is an ExecutionFailed (error
// States.Runtime) and the execution fails. Event 24,999 is the last event
// the machine itself produced.
const maxHistoryEvents = 25000

var historyLimitCause = fmt.Sprintf("The execution reached the maximum number of history events (%d).", maxHistoryEvents)

// emit appends an event to the pending transition. An execution that has
// ended emits nothing more.
func (ex *execution) emit(th *thread, typ, detailKey string, details map[string]any) {
	if ex.status != statusRunning {
		return
	}
	if id := ex.nextEvent + int64(len(ex.events)); id >= maxHistoryEvents && typ != "ExecutionSucceeded" {
		ex.events = append(ex.events, &event{Time: ex.now(), Type: "ExecutionFailed", DetailKey: "executionFailedEventDetails",
			Details: map[string]any{"error": asl.ErrRuntime, "cause": historyLimitCause}, afterPrevious: true})
		ex.close(statusFailed, "", asl.ErrRuntime, historyLimitCause)
		return
	}
	ex.events = append(ex.events, &event{Time: ex.now(), Type: typ, DetailKey: detailKey, Details: details, th: th})
}

// scope returns the definition a thread runs in.
func (ex *execution) scope(th *thread) *asl.Definition {
	d := ex.def
	for _, s := range th.Path {
		st := d.States[s.State]
		if st == nil {
			return nil
		}
		if s.Branch < 0 {
			d = st.ItemProcessor
		} else if s.Branch < len(st.Branches) {
			d = st.Branches[s.Branch]
		} else {
			return nil
		}
		if d == nil {
			return nil
		}
	}
	return d
}

func (ex *execution) stateOf(th *thread) *asl.State {
	d := ex.scope(th)
	if d == nil {
		return nil
	}
	return d.States[th.State]
}

const timeLayout = "2006-01-02T15:04:05.000Z"

// ctxObj builds the "$$" context object.
func (ex *execution) ctxObj(th *thread, token string) map[string]any {
	c := map[string]any{
		"Execution": map[string]any{
			"Id": ex.arn, "Input": ex.input, "Name": ex.name, "RoleArn": ex.roleArn,
			"StartTime": ex.start.UTC().Format(timeLayout), "RedriveCount": json.Number("0"),
		},
		"State": map[string]any{
			"EnteredTime": th.Entered.UTC().Format(timeLayout), "Name": th.State,
			"RetryCount": json.Number(fmt.Sprint(th.Retries)),
		},
		"StateMachine": map[string]any{"Id": ex.smArn, "Name": ex.smName},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	return c
}

func marshal(v any) json.RawMessage {
	b, err := asl.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(v)
	}
	return b
}

func decode(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	v, err := asl.Decode(b)
	if err != nil {
		return nil
	}
	return v
}

// errParts splits an error into an ASL error name and cause.
func errParts(err error) (string, string) {
	var se *asl.StatesError
	if errors.As(err, &se) {
		return se.Name, se.Cause
	}
	return asl.ErrRuntime, err.Error()
}

// invocation is a task call to run outside the execution's lock.
type invocation struct {
	th    *thread
	gen   int
	call  taskCall
	token string
}

// advance moves a thread through states that need no outside work, and
// returns the task to invoke next, if any. It runs under ex.mu.
func (ex *execution) advance(th *thread) *invocation {
	for i := 0; ex.status == statusRunning && ex.threads[th.ID] == th; i++ {
		if th.Phase == phaseEnter && len(ex.events) >= maxEventsPerFlush {
			// A long run of states without outside work (a Choice loop):
			// persist what it did so far, then go on (th.again).
			th.again = true
			return nil
		}
		switch th.Phase {
		case phaseEnter:
			ex.enter(th)
		case phaseRun:
			if ex.checkTaskTimeouts(th) {
				continue
			}
			ex.taskTimers(th)
			return &invocation{th: th, gen: th.Gen, call: *th.Call, token: th.Token}
		case phaseRetry:
			if !ex.due(th, th.WakeAt) {
				return nil
			}
			st := ex.stateOf(th)
			th.Gen++
			ex.touch(th)
			ex.runState(th, st)
		case phaseWait:
			if !ex.due(th, th.WakeAt) {
				return nil
			}
			st := ex.stateOf(th)
			out, err := st.Output(decode(th.Input), decode(th.Eff), ex.ctxObj(th, ""))
			th.Eff = nil
			if err != nil {
				ex.stateFailed(th, st, err)
				continue
			}
			ex.exitState(th, st, st.Next, out)
		case phaseCallback:
			if ex.checkTaskTimeouts(th) {
				continue
			}
			ex.taskTimers(th)
			return nil
		case phaseChildren:
			if ex.stateOf(th).Type == asl.TypeMap {
				ex.launchMore(th)
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// due reports whether t has come, else sets a timer for it.
func (ex *execution) due(th *thread, t time.Time) bool {
	if !ex.now().Before(t) {
		return true
	}
	ex.timers = append(ex.timers, timer{at: t, exec: ex.arn, thread: th.ID, gen: th.Gen})
	return false
}

func (ex *execution) taskTimers(th *thread) {
	for _, t := range []time.Time{th.Deadline, th.HBAt} {
		if !t.IsZero() {
			ex.timers = append(ex.timers, timer{at: t, exec: ex.arn, thread: th.ID, gen: th.Gen})
		}
	}
}

// checkTaskTimeouts times a task out if its timeout or heartbeat passed.
func (ex *execution) checkTaskTimeouts(th *thread) bool {
	now := ex.now()
	switch {
	case !th.HBAt.IsZero() && !now.Before(th.HBAt):
		ex.taskTimedOut(th, asl.ErrHeartbeatTimeout)
	case !th.Deadline.IsZero() && !now.Before(th.Deadline):
		ex.taskTimedOut(th, asl.ErrTimeout)
	default:
		return false
	}
	return true
}

func (ex *execution) taskTimedOut(th *thread, name string) {
	st := ex.stateOf(th)
	typ, key := "TaskTimedOut", "taskTimedOutEventDetails"
	d := map[string]any{"error": name, "cause": ""}
	if th.Call != nil && th.Call.Kind == kindLambdaARN {
		typ, key = "LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails"
	} else if th.Call != nil {
		d["resourceType"], d["resource"] = th.Call.resourceType(), th.Call.resourceName()
	}
	ex.emit(th, typ, key, d)
	ex.endTask(th)
	ex.handleError(th, st, name, "")
}

// endTask forgets a task's token, deadlines and any call in flight.
func (ex *execution) endTask(th *thread) {
	th.Gen++
	if cancel := ex.cancels[th.ID]; cancel != nil {
		cancel()
		delete(ex.cancels, th.ID)
	}
	th.Token, th.Call, th.Deadline, th.HBAt, th.HB = "", nil, time.Time{}, time.Time{}, 0
	ex.touch(th)
}

func (ex *execution) enter(th *thread) {
	st := ex.stateOf(th)
	if st == nil {
		ex.failThread(th, asl.ErrRuntime, fmt.Sprintf("state %q does not exist", th.State))
		return
	}
	th.Entered = ex.now()
	th.Attempts, th.Retries = nil, 0
	th.Gen++
	ex.touch(th)
	ex.emit(th, st.Type+"StateEntered", "stateEnteredEventDetails", detailsInput(st.Name, string(th.Input)))
	ex.runState(th, st)
}

// runState performs a state's work after it was entered (again after a retry).
func (ex *execution) runState(th *thread, st *asl.State) {
	raw := decode(th.Input)
	ctx := ex.ctxObj(th, "")
	switch st.Type {
	case asl.TypePass:
		eff, err := st.Input(raw, ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		out, err := st.Output(raw, st.PassResult(eff), ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		ex.exitState(th, st, st.Next, out)
	case asl.TypeChoice:
		eff, err := st.Input(raw, ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		next, err := st.ChooseNextWithContext(eff, ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		out, err := st.Output(raw, eff, ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		ex.exitState(th, st, next, out)
	case asl.TypeWait:
		eff, err := st.Input(raw, ctx)
		if err == nil {
			th.WakeAt, err = st.WaitUntil(eff, th.Entered)
		}
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		th.Eff = marshal(eff)
		th.Phase = phaseWait
		ex.touch(th)
	case asl.TypeSucceed:
		eff, err := st.Input(raw, ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		out, err := st.Output(raw, eff, ctx)
		if err != nil {
			ex.stateFailed(th, st, err)
			return
		}
		b := marshal(out)
		ex.emit(th, "SucceedStateExited", "stateExitedEventDetails", detailsOutput(st.Name, string(b)))
		ex.finishThread(th, b)
	case asl.TypeFail:
		name, cause, err := st.FailInfo(raw)
		if err != nil {
			name, cause = errParts(err)
		}
		ex.failThread(th, name, cause)
	case asl.TypeTask:
		ex.scheduleTask(th, st)
	case asl.TypeParallel:
		ex.startParallel(th, st)
	case asl.TypeMap:
		ex.startMap(th, st)
	default:
		ex.failThread(th, asl.ErrRuntime, fmt.Sprintf("state %q has unsupported type %q", st.Name, st.Type))
	}
}

// exitState records a state's output and moves to next (or ends the thread).
func (ex *execution) exitState(th *thread, st *asl.State, next string, out any) {
	if err := asl.CheckPayloadSize(out); err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	b := marshal(out)
	ex.emit(th, st.Type+"StateExited", "stateExitedEventDetails", detailsOutput(st.Name, string(b)))
	th.Eff = nil
	ex.touch(th)
	if next == "" || (st.End && st.Type != asl.TypeChoice) {
		ex.finishThread(th, b)
		return
	}
	th.State, th.Input, th.Phase = next, b, phaseEnter
}

// stateResult finishes a Task, Parallel or Map state with its result.
func (ex *execution) stateResult(th *thread, st *asl.State, result any) {
	ctx := ex.ctxObj(th, "")
	res, err := st.SelectResult(result, ctx)
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	out, err := st.Output(decode(th.Input), res, ctx)
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	ex.exitState(th, st, st.Next, out)
}

func (ex *execution) stateFailed(th *thread, st *asl.State, err error) {
	name, cause := errParts(err)
	ex.handleError(th, st, name, cause)
}

// handleError applies a state's Retry and Catch to an error.
func (ex *execution) handleError(th *thread, st *asl.State, name, cause string) {
	ex.touch(th)
	th.Gen++
	if st != nil {
		if idx, delay, ok := st.Retry(name, th.Attempts); ok {
			for len(th.Attempts) <= idx {
				th.Attempts = append(th.Attempts, 0)
			}
			th.Attempts[idx]++
			th.Retries++
			th.Phase = phaseRetry
			th.WakeAt = ex.now().Add(delay)
			return
		}
		if c, ok := st.Catch(name); ok {
			out, err := c.Output(decode(th.Input), asl.ErrorOutput(name, cause))
			if err != nil {
				n, c := errParts(err)
				ex.failThread(th, n, c)
				return
			}
			th.Eff = nil
			th.State, th.Input, th.Phase = c.Next, marshal(out), phaseEnter
			return
		}
	}
	ex.failThread(th, name, cause)
}

// finishThread ends a thread successfully.
func (ex *execution) finishThread(th *thread, out json.RawMessage) {
	if th.Parent == "" {
		ex.emit(th, "ExecutionSucceeded", "executionSucceededEventDetails",
			map[string]any{"output": string(out), "outputDetails": notTruncated})
		ex.close(statusSucceeded, string(out), "", "")
		return
	}
	th.Phase, th.Output = phaseDone, out
	ex.touch(th)
	ex.childFinished(th)
}

// failThread ends a thread with an error.
func (ex *execution) failThread(th *thread, name, cause string) {
	if th.Parent == "" {
		ex.emit(th, "ExecutionFailed", "executionFailedEventDetails", map[string]any{"error": name, "cause": cause})
		ex.close(statusFailed, "", name, cause)
		return
	}
	th.Phase, th.Error, th.Cause = phaseFailed, name, cause
	ex.touch(th)
	ex.childFinished(th)
}

// close ends the execution with a status (once: an execution failed by
// the history limit stays failed while the state that hit it unwinds).
func (ex *execution) close(status, output, errName, cause string) {
	if ex.status != statusRunning {
		return
	}
	ex.status = status
	for _, th := range ex.threads {
		if th.Parent == "" {
			ex.removeThread(th)
		}
	}
	for _, th := range ex.threads { // orphans, if any
		ex.removeThread(th)
	}
	now := ex.now()
	ex.meta = map[string]types.AttributeValue{":st": str(status), ":stop": num(now.UnixMilli()),
		":out": str(output), ":err": str(errName), ":cause": str(cause)}
}

// abort stops an execution from outside (StopExecution, execution timeout).
func (ex *execution) abort(status, typ, key, errName, cause string) {
	var root *thread
	for _, th := range ex.threads {
		if th.Parent == "" {
			root = th
		}
	}
	d := map[string]any{}
	if errName != "" {
		d["error"] = errName
	}
	if cause != "" {
		d["cause"] = cause
	}
	if root == nil {
		root = &thread{}
	}
	ex.emit(root, typ, key, d)
	ex.close(status, "", errName, cause)
}

// Parallel.

func (ex *execution) startParallel(th *thread, st *asl.State) {
	raw := decode(th.Input)
	eff, err := st.Input(raw, ex.ctxObj(th, ""))
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	ex.emit(th, "ParallelStateStarted", "", nil)
	th.Round++
	th.Phase, th.Total, th.Finished, th.Launched, th.Failures = phaseChildren, len(st.Branches), 0, len(st.Branches), 0
	th.children = nil
	ex.touch(th)
	in := marshal(eff)
	for i, b := range st.Branches {
		c := &thread{
			ID: fmt.Sprintf("%s.%d.%d", th.ID, th.Round, i), Parent: th.ID, Index: i,
			Path:  append(append([]scopeStep{}, th.Path...), scopeStep{State: st.Name, Branch: i}),
			State: b.StartAt, Phase: phaseEnter, Input: in, parent: th,
		}
		th.children = append(th.children, c)
		ex.addThread(c)
		ex.spawns = append(ex.spawns, c)
	}
	if len(st.Branches) == 0 {
		ex.emit(th, "ParallelStateSucceeded", "", nil)
		th.Phase = phaseRun
		ex.stateResult(th, st, []any{})
	}
}

// Map.

const maxLaunchPerFlush = 40

// maxEventsPerFlush bounds the events of one transition that passes
// through states needing no outside work, so that each stays one small
// write (a DynamoDB transaction carries at most 4 MB).
const maxEventsPerFlush = 250

func (ex *execution) startMap(th *thread, st *asl.State) {
	raw := decode(th.Input)
	ctx := ex.ctxObj(th, "")
	eff, err := st.Input(raw, ctx)
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	items, err := st.Items(eff)
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	maxc, pct, count, err := st.MapLimits(eff)
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	ex.emit(th, "MapStateStarted", "mapStateStartedEventDetails", map[string]any{"length": len(items)})
	th.Round++
	th.Phase, th.Total, th.Finished, th.Launched, th.Failures = phaseChildren, len(items), 0, 0, 0
	th.MaxConc, th.TolPct, th.TolCount = maxc, pct, count
	th.Eff, th.items, th.children = marshal(eff), items, nil
	ex.touch(th)
	if len(items) == 0 {
		ex.emit(th, "MapStateSucceeded", "", nil)
		th.Phase = phaseRun
		th.Eff = nil
		ex.stateResult(th, st, []any{})
		return
	}
	ex.launchMore(th)
}

// launchMore starts Map iterations up to MaxConcurrency, a bounded number
// per transaction (th.more asks the driver to come back after the flush).
func (ex *execution) launchMore(th *thread) {
	st := ex.stateOf(th)
	th.more = false
	if th.items == nil && th.Launched < th.Total {
		eff := decode(th.Eff)
		items, err := st.Items(eff)
		if err != nil {
			ex.abortChildren(th)
			ex.stateFailed(th, st, err)
			return
		}
		th.items = items
	}
	eff := decode(th.Eff)
	for n := 0; th.Launched < th.Total && (th.MaxConc <= 0 || th.Launched-th.Finished < th.MaxConc); n++ {
		if n == maxLaunchPerFlush {
			th.more = true
			return
		}
		i := th.Launched
		in, err := st.ItemInput(th.items[i], i, eff, ex.ctxObj(th, ""))
		if err != nil {
			ex.abortChildren(th)
			ex.stateFailed(th, st, err)
			return
		}
		c := &thread{
			ID: fmt.Sprintf("%s.%d.%d", th.ID, th.Round, i), Parent: th.ID, Index: i,
			Path:  append(append([]scopeStep{}, th.Path...), scopeStep{State: st.Name, Branch: -1}),
			State: st.ItemProcessor.StartAt, Phase: phaseEnter, Input: marshal(in), parent: th,
		}
		ex.emit(th, "MapIterationStarted", "mapIterationStartedEventDetails", map[string]any{"name": st.Name, "index": i})
		th.children = append(th.children, c)
		th.Launched++
		ex.touch(th)
		ex.addThread(c)
		ex.spawns = append(ex.spawns, c)
	}
}

func (ex *execution) abortChildren(th *thread) {
	for _, c := range th.children {
		ex.removeThread(c)
	}
	th.children = nil
	th.items = nil
}

// childFinished updates a Parallel or Map state when a child ends.
func (ex *execution) childFinished(c *thread) {
	p := ex.threads[c.Parent]
	if p == nil || p.Phase != phaseChildren {
		return
	}
	st := ex.stateOf(p)
	defer func() {
		if p.Phase != phaseChildren || p.more {
			ex.spawns = append(ex.spawns, p)
		}
	}()
	ex.touch(p)
	if st.Type == asl.TypeParallel {
		if c.Phase == phaseFailed {
			ex.emit(p, "ParallelStateFailed", "", nil)
			ex.abortChildren(p)
			ex.handleError(p, st, c.Error, c.Cause)
			return
		}
		p.Finished++
		if p.Finished < p.Total {
			return
		}
		results := ex.childResults(p)
		ex.emit(p, "ParallelStateSucceeded", "", nil)
		ex.abortChildren(p)
		p.Phase = phaseRun
		ex.stateResult(p, st, results)
		return
	}
	d := map[string]any{"name": st.Name, "index": c.Index}
	p.Finished++
	if c.Phase == phaseFailed {
		ex.emit(p, "MapIterationFailed", "mapIterationFailedEventDetails", d)
		p.Failures++
		tolerant := p.TolCount >= 0 || p.TolPct > 0
		ok := (p.TolCount >= 0 && p.Failures <= p.TolCount) ||
			(p.TolPct > 0 && float64(p.Failures)*100/float64(p.Total) <= p.TolPct)
		if !ok {
			name, cause := c.Error, c.Cause
			if tolerant {
				name, cause = asl.ErrExceedToleratedFailure, "The specified tolerated failure threshold was exceeded"
			}
			ex.emit(p, "MapStateFailed", "", nil)
			ex.abortChildren(p)
			p.Eff = nil
			ex.handleError(p, st, name, cause)
			return
		}
	} else {
		ex.emit(p, "MapIterationSucceeded", "mapIterationSucceededEventDetails", d)
	}
	if p.Finished < p.Total {
		ex.launchMore(p)
		return
	}
	results := ex.childResults(p)
	ex.emit(p, "MapStateSucceeded", "", nil)
	ex.abortChildren(p)
	p.Phase = phaseRun
	p.Eff = nil
	ex.stateResult(p, st, results)
}

func (ex *execution) childResults(p *thread) []any {
	results := make([]any, p.Total)
	for _, c := range p.children {
		if c.Index < 0 || c.Index >= len(results) {
			continue
		}
		if c.Phase == phaseFailed {
			results[c.Index] = asl.ErrorOutput(c.Error, c.Cause)
		} else {
			results[c.Index] = decode(c.Output)
		}
	}
	return results
}

// Tasks.

func (ex *execution) scheduleTask(th *thread, st *asl.State) {
	call, err := parseResource(st.Resource)
	if err != nil {
		ex.handleError(th, st, asl.ErrRuntime, err.Error())
		return
	}
	token := ""
	if call.Token {
		token = ex.newToken(th)
	}
	raw := decode(th.Input)
	eff, err := st.Input(raw, ex.ctxObj(th, token))
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	timeout, hb, err := st.TaskTimeouts(raw)
	if err != nil {
		ex.stateFailed(th, st, err)
		return
	}
	call.Params = marshal(eff)
	now := ex.now()
	th.Gen++
	th.Phase, th.Token, th.Call, th.HB = phaseRun, token, call, hb
	th.Deadline, th.HBAt = time.Time{}, time.Time{}
	if timeout > 0 {
		th.Deadline = now.Add(timeout)
	}
	if hb > 0 && !call.Token {
		th.HBAt = now.Add(hb)
	}
	ex.touch(th)
	if call.Kind == kindLambdaARN {
		d := map[string]any{"resource": st.Resource, "input": string(call.Params), "inputDetails": notTruncated}
		if timeout > 0 {
			d["timeoutInSeconds"] = int64(timeout / time.Second)
		}
		ex.emit(th, "LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", d)
		ex.emit(th, "LambdaFunctionStarted", "", nil)
		return
	}
	d := map[string]any{"resourceType": call.resourceType(), "resource": call.resourceName(),
		"region": ex.e.region, "parameters": string(call.Params)}
	if timeout > 0 {
		d["timeoutInSeconds"] = int64(timeout / time.Second)
	}
	if hb > 0 {
		d["heartbeatInSeconds"] = int64(hb / time.Second)
	}
	ex.emit(th, "TaskScheduled", "taskScheduledEventDetails", d)
	ex.emit(th, "TaskStarted", "taskStartedEventDetails", map[string]any{"resourceType": call.resourceType(), "resource": call.resourceName()})
}

// taskDone applies an invocation's outcome, unless the task moved on.
func (ex *execution) taskDone(inv *invocation, res taskResult) bool {
	th := inv.th
	delete(ex.cancels, th.ID)
	if ex.status != statusRunning || ex.threads[th.ID] != th || th.Gen != inv.gen || th.Phase != phaseRun {
		return false
	}
	st := ex.stateOf(th)
	call := th.Call
	if res.failed {
		ex.taskFailed(th, res.errName, res.cause)
		return true
	}
	if call.Token {
		ex.emit(th, "TaskSubmitted", "taskSubmittedEventDetails", map[string]any{"resourceType": call.resourceType(),
			"resource": call.resourceName(), "output": string(res.output), "outputDetails": notTruncated})
		if early := th.Early; early != nil {
			th.Early = nil
			if early.Failed {
				ex.taskFailed(th, early.Error, early.Cause)
			} else {
				ex.taskSucceeded(th, st, early.Output)
			}
			return true
		}
		th.Phase = phaseCallback
		if th.HB > 0 {
			th.HBAt = ex.now().Add(th.HB)
		}
		ex.touch(th)
		return true
	}
	ex.taskSucceeded(th, st, res.output)
	return true
}

func (ex *execution) taskFailed(th *thread, name, cause string) {
	st := ex.stateOf(th)
	if th.Call != nil && th.Call.Kind == kindLambdaARN {
		ex.emit(th, "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", map[string]any{"error": name, "cause": cause})
	} else {
		d := map[string]any{"error": name, "cause": cause}
		if th.Call != nil {
			d["resourceType"], d["resource"] = th.Call.resourceType(), th.Call.resourceName()
		}
		ex.emit(th, "TaskFailed", "taskFailedEventDetails", d)
	}
	ex.endTask(th)
	ex.handleError(th, st, name, cause)
}

func (ex *execution) taskSucceeded(th *thread, st *asl.State, output json.RawMessage) {
	call := th.Call
	if call != nil && call.Kind == kindLambdaARN {
		ex.emit(th, "LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails", map[string]any{"output": string(output), "outputDetails": notTruncated})
	} else {
		d := map[string]any{"output": string(output), "outputDetails": notTruncated}
		if call != nil {
			d["resourceType"], d["resource"] = call.resourceType(), call.resourceName()
		}
		ex.emit(th, "TaskSucceeded", "taskSucceededEventDetails", d)
	}
	ex.endTask(th)
	if len(output) > asl.MaxPayloadSize {
		ex.handleError(th, st, asl.ErrDataLimitExceeded, fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", st.Name))
		return
	}
	result, err := asl.Decode(output)
	if err != nil {
		ex.handleError(th, st, asl.ErrRuntime, "task output is not JSON: "+err.Error())
		return
	}
	ex.stateResult(th, st, result)
}
