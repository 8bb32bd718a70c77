package sfnlocal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// drive runs a thread until it blocks, persisting before every side effect.
// first, if not nil, runs under the lock before the first step and reports
// whether the thread should be driven at all.
func (e *Engine) drive(ex *execution, th *thread, first func() bool) {
	var inv *invocation
	var res taskResult
	for {
		ex.mu.Lock()
		if first != nil {
			if !first() {
				err := ex.flush(e.ctx)
				ex.mu.Unlock()
				e.afterFlush(ex, err)
				return
			}
			first = nil
		}
		if inv != nil {
			if !ex.taskDone(inv, res) {
				// Someone else (a timeout, a callback, a stop) owns the thread now.
				err := ex.flush(e.ctx)
				ex.mu.Unlock()
				e.afterFlush(ex, err)
				return
			}
			inv = nil
		}
		inv = ex.advance(th)
		more := th.more && th.Phase == phaseChildren || th.again
		th.again = false
		var ictx context.Context
		var cancel context.CancelFunc
		if inv != nil {
			ictx, cancel = context.WithCancel(e.ctx)
			ex.cancels[th.ID] = cancel
		}
		err := ex.flush(e.ctx)
		ex.mu.Unlock()
		if !e.afterFlush(ex, err) {
			if cancel != nil {
				cancel()
			}
			return
		}
		if inv == nil {
			if more {
				continue
			}
			return
		}
		res = e.runTask(ictx, &inv.call, inv.token)
		cancel()
		if e.ctx.Err() != nil {
			return
		}
	}
}

// afterFlush spawns the children and timers a flush released, or drops the
// execution from memory if it could not be persisted (it resumes from its
// last persisted transition at the next Start). It reports success.
func (e *Engine) afterFlush(ex *execution, err error) bool {
	ex.mu.Lock()
	spawns, timers := ex.spawns, ex.timers
	ex.spawns, ex.timers = nil, nil
	done := ex.status != statusRunning
	ex.mu.Unlock()
	if err != nil {
		if e.ctx.Err() == nil {
			e.log.Error("persist execution transition", "execution", ex.arn, "error", err)
		}
		e.mu.Lock()
		if e.execs[ex.arn] == ex {
			delete(e.execs, ex.arn)
		}
		e.mu.Unlock()
		ex.mu.Lock()
		for _, c := range ex.cancels {
			c()
		}
		ex.status = "DROPPED"
		ex.mu.Unlock()
		return false
	}
	if done {
		e.mu.Lock()
		if e.execs[ex.arn] == ex {
			delete(e.execs, ex.arn)
		}
		e.mu.Unlock()
	}
	for _, c := range spawns {
		e.spawn(func() { e.drive(ex, c, nil) })
	}
	e.addTimers(timers)
	return true
}

// poke handles a timer for a thread.
func (e *Engine) poke(ex *execution, id string, gen int) {
	ex.mu.Lock()
	th := ex.threads[id]
	ex.mu.Unlock()
	if th == nil {
		return
	}
	e.drive(ex, th, func() bool {
		if ex.status != statusRunning || ex.threads[id] != th || th.Gen != gen {
			return false
		}
		switch th.Phase {
		case phaseRun, phaseCallback:
			// Only a timeout takes the thread from its current driver.
			return ex.checkTaskTimeouts(th)
		case phaseRetry, phaseWait:
			return true
		}
		return false
	})
}

func (e *Engine) checkExecTimeout(ex *execution) {
	ex.mu.Lock()
	if ex.status != statusRunning || ex.deadline.IsZero() || ex.now().Before(ex.deadline) {
		ex.mu.Unlock()
		return
	}
	ex.abort(statusTimedOut, "ExecutionTimedOut", "executionTimedOutEventDetails", "States.Timeout", "")
	err := ex.flush(e.ctx)
	ex.mu.Unlock()
	e.afterFlush(ex, err)
}

// journal is one persisted transition: the events it added and the threads
// it changed. An execution's journal records (pk "EV#<arn>", in sort key
// order) replayed in order give its history and its current threads, so a
// transition costs one item write, however many events it has.
type journal struct {
	Events  []json.RawMessage `json:"e,omitempty"`
	Threads []*thread         `json:"t,omitempty"`
	Deleted []string          `json:"d,omitempty"`
}

// maxJournalPart keeps each journal item well under DynamoDB's 400 KB.
const maxJournalPart = 300 * 1024

// flush persists the pending transition atomically: one journal item (or
// its parts, in one transaction), plus the execution summary when it ends.
// It runs under ex.mu.
func (ex *execution) flush(ctx context.Context) error {
	if len(ex.events) == 0 && len(ex.dirty) == 0 && len(ex.deleted) == 0 && ex.meta == nil {
		return nil
	}
	e := ex.e
	first := ex.nextEvent
	var rec journal
	for _, ev := range ex.events {
		ev.ID = ex.nextEvent
		ex.nextEvent++
		if ev.afterPrevious {
			ev.Prev = ev.ID - 1
		} else if ev.th != nil {
			prev := ev.th.LastEvent
			if prev == 0 && ev.th.parent != nil {
				prev = ev.th.parent.LastEvent
			}
			ev.Prev = prev
			ev.th.LastEvent = ev.ID
			if _, ok := ex.threads[ev.th.ID]; ok {
				ex.touch(ev.th)
			}
		}
		b, err := json.Marshal(ev)
		if err != nil {
			ex.nextEvent = first
			return fmt.Errorf("encode event: %w", err)
		}
		rec.Events = append(rec.Events, b)
	}
	ids := make([]string, 0, len(ex.dirty))
	for id := range ex.dirty {
		if !ex.deleted[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		rec.Threads = append(rec.Threads, ex.dirty[id])
	}
	for id := range ex.deleted {
		rec.Deleted = append(rec.Deleted, id)
	}
	sort.Strings(rec.Deleted)
	body, err := json.Marshal(rec)
	if err != nil {
		ex.nextEvent = first
		return fmt.Errorf("encode transition: %w", err)
	}
	base := fmt.Sprintf("%012d.%06d", first, ex.seq)
	items := append([]types.TransactWriteItem(nil), ex.extra...)
	parts := (len(body) + maxJournalPart - 1) / maxJournalPart
	for p := 0; p < parts; p++ {
		chunk := body[p*maxJournalPart : min(len(body), (p+1)*maxJournalPart)]
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(e.table), Item: map[string]types.AttributeValue{
			"pk": str(prefixEvents + ex.arn), "sk": str(fmt.Sprintf("%s/%03d", base, p)), "j": str(string(chunk)), "parts": num(int64(parts)),
		}}})
	}
	if ex.meta != nil {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(e.table), Key: key(prefixExecs+ex.smArn, ex.name),
			UpdateExpression:          aws.String("SET #s = :st, stopDate = :stop, #o = :out, #e = :err, #c = :cause"),
			ExpressionAttributeNames:  map[string]string{"#s": "status", "#o": "output", "#e": "error", "#c": "cause"},
			ExpressionAttributeValues: ex.meta,
		}})
	}
	if len(items) == 1 && items[0].Put != nil && items[0].Put.ConditionExpression == nil {
		err = e.groupPut(ctx, items[0].Put.Item)
	} else {
		err = e.transact(ctx, items)
	}
	if err != nil {
		ex.nextEvent = first
		return err
	}
	ex.seq++
	ex.events = ex.events[:0]
	clear(ex.dirty)
	clear(ex.deleted)
	ex.meta = nil
	return nil
}

// putReq is one item waiting for a group commit.
type putReq struct {
	item map[string]types.AttributeValue
	done chan error
}

// groupPut writes one item through the group committer: items from
// concurrent executions share BatchWriteItem calls (each item is still
// written whole, so each transition stays atomic).
func (e *Engine) groupPut(ctx context.Context, item map[string]types.AttributeValue) error {
	r := putReq{item: item, done: make(chan error, 1)}
	select {
	case e.puts <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) commit() {
	defer e.wg.Done()
	for {
		var batch []putReq
		select {
		case r := <-e.puts:
			batch = append(batch, r)
		case <-e.ctx.Done():
			return
		}
	drain:
		for len(batch) < 25 {
			select {
			case r := <-e.puts:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		err := e.batchPut(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (e *Engine) batchPut(batch []putReq) error {
	if len(batch) == 1 {
		_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: batch[0].item})
		return err
	}
	reqs := make([]types.WriteRequest, 0, len(batch))
	for _, r := range batch {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: r.item}})
	}
	pending := map[string][]types.WriteRequest{e.table: reqs}
	for attempt := 0; len(pending[e.table]) > 0; attempt++ {
		res, err := e.db.BatchWriteItem(e.ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("persist transitions: %w", err)
		}
		pending = res.UnprocessedItems
		if attempt > 50 {
			return errors.New("persist transitions: items left unprocessed")
		}
	}
	return nil
}

// loadJournal reads an execution's journal: its events in order, its
// threads as of the last transition, and the number of transitions.
func (e *Engine) loadJournal(ctx context.Context, arn string) ([]json.RawMessage, map[string]*thread, int, error) {
	items, err := queryAll(ctx, e.db, e.table, prefixEvents+arn)
	if err != nil {
		return nil, nil, 0, err
	}
	var events []json.RawMessage
	threads := map[string]*thread{}
	seq := 0
	var buf strings.Builder
	for _, it := range items {
		sk := getS(it, "sk")
		buf.WriteString(getS(it, "j"))
		var part, parts int64
		if i := strings.LastIndexByte(sk, '/'); i >= 0 {
			part, _ = strconv.ParseInt(sk[i+1:], 10, 64)
		}
		parts = getN(it, "parts")
		if part+1 < parts {
			continue
		}
		var rec journal
		if err := json.Unmarshal([]byte(buf.String()), &rec); err != nil {
			return nil, nil, 0, fmt.Errorf("decode transition %s: %w", sk, err)
		}
		buf.Reset()
		seq++
		events = append(events, rec.Events...)
		for _, th := range rec.Threads {
			threads[th.ID] = th
		}
		for _, id := range rec.Deleted {
			delete(threads, id)
		}
	}
	return events, threads, seq, nil
}

// transact writes items atomically, in chunks of 100 if there are more.
func (e *Engine) transact(ctx context.Context, items []types.TransactWriteItem) error {
	for len(items) > 0 {
		n := min(100, len(items))
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if n == 1 {
				err = e.single(ctx, items[0])
			} else {
				_, err = e.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items[:n]})
			}
			var tce *types.TransactionCanceledException
			if err == nil || ctx.Err() != nil || errors.As(err, &tce) && !conflict(tce) {
				break
			}
			select {
			case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		if err != nil {
			return fmt.Errorf("persist transition: %w", err)
		}
		items = items[n:]
	}
	return nil
}

// conflict reports whether a cancelled transaction may succeed if retried.
func conflict(tce *types.TransactionCanceledException) bool {
	for _, r := range tce.CancellationReasons {
		if c := aws.ToString(r.Code); c != "" && c != "None" && c != "TransactionConflict" {
			return false
		}
	}
	return true
}

func (e *Engine) single(ctx context.Context, it types.TransactWriteItem) error {
	var err error
	switch {
	case it.Put != nil:
		_, err = e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: it.Put.TableName, Item: it.Put.Item, ConditionExpression: it.Put.ConditionExpression})
	case it.Delete != nil:
		_, err = e.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: it.Delete.TableName, Key: it.Delete.Key})
	case it.Update != nil:
		_, err = e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: it.Update.TableName, Key: it.Update.Key,
			UpdateExpression: it.Update.UpdateExpression, ExpressionAttributeNames: it.Update.ExpressionAttributeNames,
			ExpressionAttributeValues: it.Update.ExpressionAttributeValues})
	}
	return err
}

// Task tokens carry the execution and thread they belong to, plus a random
// nonce, so a token can be checked without a lookup table.
type tokenBody struct {
	Exec   string `json:"e"`
	Thread string `json:"t"`
	Nonce  string `json:"n"`
}

func (ex *execution) newToken(th *thread) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	body, _ := json.Marshal(tokenBody{Exec: ex.arn, Thread: th.ID, Nonce: base64.RawURLEncoding.EncodeToString(b[:])})
	return "AQ" + base64.RawURLEncoding.EncodeToString(body)
}

func parseToken(tok string) (tokenBody, bool) {
	var tb tokenBody
	if !strings.HasPrefix(tok, "AQ") {
		return tb, false
	}
	b, err := base64.RawURLEncoding.DecodeString(tok[2:])
	if err != nil || json.Unmarshal(b, &tb) != nil || tb.Exec == "" || tb.Thread == "" || tb.Nonce == "" {
		return tb, false
	}
	return tb, true
}

// Resume.

func (e *Engine) resumeAll(ctx context.Context) error {
	var start map[string]types.AttributeValue
	for {
		res, err := e.db.Scan(ctx, &dynamodb.ScanInput{
			TableName:                 aws.String(e.table),
			FilterExpression:          aws.String("begins_with(pk, :p) AND #status = :r"),
			ExpressionAttributeNames:  map[string]string{"#status": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(prefixExecs), ":r": str(statusRunning)},
			ExclusiveStartKey:         start,
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return fmt.Errorf("scan running executions: %w", err)
		}
		for _, item := range res.Items {
			if err := e.resume(ctx, item); err != nil {
				e.log.Error("resume execution", "execution", getS(item, "arn"), "error", err)
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return nil
		}
		start = res.LastEvaluatedKey
	}
}

func (e *Engine) resume(ctx context.Context, meta map[string]types.AttributeValue) error {
	ex, err := e.execFromMeta(ctx, meta)
	if err != nil {
		return err
	}
	events, threads, seq, err := e.loadJournal(ctx, ex.arn)
	if err != nil {
		return err
	}
	ex.threads, ex.seq, ex.nextEvent = threads, seq, int64(len(events))+1
	if len(events) > 0 {
		var last struct {
			Type    string         `json:"type"`
			Details map[string]any `json:"-"`
		}
		raw := events[len(events)-1]
		_ = json.Unmarshal(raw, &last)
		if status, ok := terminalStatus[last.Type]; ok {
			// The process stopped between the final transition and the
			// summary update: finish the summary.
			return e.repairSummary(ctx, ex, status, raw)
		}
	}
	// Link children to parents; drop threads whose parent moved on.
	ids := make([]string, 0, len(ex.threads))
	for id := range ex.threads {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) < len(ids[j]) || len(ids[i]) == len(ids[j]) && ids[i] < ids[j] })
	for _, id := range ids {
		th := ex.threads[id]
		if th.Parent == "" {
			continue
		}
		p := ex.threads[th.Parent]
		if p == nil || p.Phase != phaseChildren || !strings.HasPrefix(th.ID, fmt.Sprintf("%s.%d.", p.ID, p.Round)) {
			delete(ex.threads, id) // a child whose parent moved on
			continue
		}
		th.parent = p
		p.children = append(p.children, th)
	}
	e.mu.Lock()
	e.execs[ex.arn] = ex
	e.mu.Unlock()
	e.log.Info("resume execution", "execution", ex.arn, "threads", len(ex.threads))
	var timers []timer
	if !ex.deadline.IsZero() {
		timers = append(timers, timer{at: ex.deadline, exec: ex.arn})
	}
	// Decide everything before starting any thread: a started thread
	// changes ex.threads.
	var run []*thread
	for _, th := range ex.threads {
		switch th.Phase {
		case phaseEnter, phaseRun, phaseChildren:
			run = append(run, th)
		case phaseRetry, phaseWait:
			timers = append(timers, timer{at: th.WakeAt, exec: ex.arn, thread: th.ID, gen: th.Gen})
		case phaseCallback:
			for _, t := range []time.Time{th.Deadline, th.HBAt} {
				if !t.IsZero() {
					timers = append(timers, timer{at: t, exec: ex.arn, thread: th.ID, gen: th.Gen})
				}
			}
		}
	}
	for _, th := range run {
		e.spawn(func() { e.drive(ex, th, nil) })
	}
	e.addTimers(timers)
	return nil
}

var terminalStatus = map[string]string{
	"ExecutionSucceeded": statusSucceeded, "ExecutionFailed": statusFailed,
	"ExecutionTimedOut": statusTimedOut, "ExecutionAborted": statusAborted,
}

// repairSummary writes an ended execution's status from its last event.
func (e *Engine) repairSummary(ctx context.Context, ex *execution, status string, raw json.RawMessage) error {
	var ev map[string]any
	_ = json.Unmarshal(raw, &ev)
	var output, errName, cause string
	for k, v := range ev {
		if d, ok := v.(map[string]any); ok && strings.HasSuffix(k, "EventDetails") {
			output, _ = d["output"].(string)
			errName, _ = d["error"].(string)
			cause, _ = d["cause"].(string)
		}
	}
	ts, _ := ev["timestamp"].(float64)
	_, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(e.table), Key: key(prefixExecs+ex.smArn, ex.name),
		UpdateExpression:         aws.String("SET #s = :st, stopDate = :stop, #o = :out, #e = :err, #c = :cause"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#o": "output", "#e": "error", "#c": "cause"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":st": str(status), ":stop": num(int64(ts * 1000)),
			":out": str(output), ":err": str(errName), ":cause": str(cause)},
	})
	if err != nil {
		return fmt.Errorf("repair execution summary: %w", err)
	}
	return nil
}
