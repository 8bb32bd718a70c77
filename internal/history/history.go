// Package history keeps each case's append-only, tamper-evident history.
//
// Every event stores the SHA-256 of the previous event of its case, and its
// own hash covers its content and that link, so changing, removing or
// reordering any stored event breaks the chain from that point on (Verify).
// The case's META item holds the chain's head (event_seq, last_hash); an
// append moves the head and writes the event in one conditional transaction,
// together with whatever change of the case the event records, so the case
// and its history can never disagree.
package history

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/store"
)

// Genesis is the previous hash of a case's first event.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one entry of a case's history.
type Event struct {
	CaseID   string          `json:"case_id"`
	Seq      int             `json:"seq"`
	Type     string          `json:"type"`
	Actor    string          `json:"actor"`
	At       string          `json:"at"`
	Data     json.RawMessage `json:"data,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

type item struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	CaseID   string `dynamodbav:"case_id"`
	Seq      int    `dynamodbav:"seq"`
	Type     string `dynamodbav:"type"`
	Actor    string `dynamodbav:"actor"`
	At       string `dynamodbav:"at"`
	Data     string `dynamodbav:"data,omitempty"`
	PrevHash string `dynamodbav:"prev_hash"`
	Hash     string `dynamodbav:"hash"`
}

// ComputeHash returns the hash an event must carry: SHA-256 over its
// fields in a fixed order, the data as stored.
func ComputeHash(e Event) string {
	h := sha256.New()
	for _, f := range []string{e.CaseID, strconv.Itoa(e.Seq), e.Type, e.Actor, e.At, string(e.Data), e.PrevHash} {
		fmt.Fprintf(h, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// New builds the seq-th event of a case following prevHash, hash included.
func New(caseID string, seq int, prevHash, typ, actor string, at time.Time, data any) (Event, error) {
	e := Event{CaseID: caseID, Seq: seq, Type: typ, Actor: actor, At: store.FormatTime(at), PrevHash: prevHash}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Event{}, fmt.Errorf("encode %s event data: %w", typ, err)
		}
		if string(b) != "null" && string(b) != "{}" {
			e.Data = b
		}
	}
	e.Hash = ComputeHash(e)
	return e, nil
}

// Put returns the conditional write that stores e.
func Put(table string, e Event) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item{
		PK: store.CasePK(e.CaseID), SK: store.EventSK(e.Seq), CaseID: e.CaseID, Seq: e.Seq, Type: e.Type,
		Actor: e.Actor, At: e.At, Data: string(e.Data), PrevHash: e.PrevHash, Hash: e.Hash,
	})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode event: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}, nil
}

// AttrStatusFrom and AttrStatusTo are on the event item that moved its
// case from one status to another (not part of the event's hash: they
// repeat what the case change did).
const (
	AttrStatusFrom = "status_from"
	AttrStatusTo   = "status_to"
)

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Change is what an event does to its case, applied in the same transaction.
type Change struct {
	// Set assigns case attributes (e.g. "status"). A new status also moves
	// the case in the ByStatus index.
	Set map[string]any
	// Add increments numeric case attributes.
	Add map[string]int
	// Condition is an extra condition on the case (e.g. "#status = :s"),
	// with its names and values. Failing it returns ErrConditionFailed.
	Condition string
	Names     map[string]string
	Values    map[string]any
	// Items are further writes of the same transaction.
	Items []types.TransactWriteItem
	// Once names the step this event records. A step is recorded at most
	// once per case: appending it again returns ErrAlreadyRecorded and
	// writes nothing, so a task that Step Functions runs twice is harmless.
	Once string
}

// ErrAlreadyRecorded means the step named in Change.Once is already in the
// case's history.
var ErrAlreadyRecorded = errors.New("step already recorded")

// ErrConditionFailed means the case did not satisfy Change.Condition or one
// of Change.Items' conditions; nothing was written.
var ErrConditionFailed = errors.New("condition failed")

// Log appends events to case histories in DynamoDB.
type Log struct {
	Table store.Table
	Now   func() time.Time
}

func (l Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Append adds an event of type typ by actor to the case's history and
// applies ch to the case, atomically. Concurrent appends to one case are
// serialised by the chain head's condition and retried with jittered backoff.
func (l Log) Append(ctx context.Context, caseID, typ, actor string, data any, ch Change) (Event, error) {
	evs, err := l.AppendBatch(ctx, caseID, []Entry{{Type: typ, Actor: actor, Data: data}}, ch)
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// Entry is one event of a batch, with writes that belong to it alone.
type Entry struct {
	Type, Actor string
	Data        any
	Items       []types.TransactWriteItem
}

// MaxBatchItems is how many items one TransactWriteItems may hold; a batch
// needs one for the case, one per event, and each entry's Items.
const MaxBatchItems = 100

// AppendBatch adds several events, chained in order, with ch and every
// entry's Items, in one transaction.
func (l Log) AppendBatch(ctx context.Context, caseID string, entries []Entry, ch Change) ([]Event, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	typ := entries[0].Type
	n := 1 + len(ch.Items)
	for _, e := range entries {
		n += 1 + len(e.Items)
	}
	if n > MaxBatchItems {
		return nil, fmt.Errorf("append %d events to case %s: %d items, more than a transaction takes", len(entries), caseID, n)
	}
	backoff := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		c, err := l.Table.GetCase(ctx, caseID)
		if err != nil {
			return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, err)
		}
		if ch.Once != "" && contains(c.StepsDone, ch.Once) {
			return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, ErrAlreadyRecorded)
		}
		now := l.now()
		evs := make([]Event, 0, len(entries))
		seq, prev := c.EventSeq, c.LastHash
		var extra []types.TransactWriteItem
		for _, e := range entries {
			seq++
			ev, err := New(caseID, seq, prev, e.Type, e.Actor, now, e.Data)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
			prev = ev.Hash
			extra = append(extra, e.Items...)
		}
		items, err := l.transaction(c, evs, ch, extra)
		if err != nil {
			return nil, err
		}
		_, err = l.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return evs, nil
		}
		cancel, ok := store.Cancelled(err)
		if !ok {
			return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, err)
		}
		// Item 0 is the case (its head condition, and ch.Condition), then
		// one item per event, then the entries' and ch's own items.
		headMoved := cancel.ConditionFailed(0)
		retry := headMoved || cancel.Conflict()
		if headMoved && ch.Once != "" {
			if c2, err := l.Table.GetCase(ctx, caseID); err == nil && contains(c2.StepsDone, ch.Once) {
				return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, ErrAlreadyRecorded)
			}
		}
		if headMoved && ch.Condition != "" {
			// Either the head moved or the caller's condition failed: read
			// again and check the head; the next loop decides.
			if c2, err := l.Table.GetCase(ctx, caseID); err == nil && c2.EventSeq == c.EventSeq {
				return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, ErrConditionFailed)
			}
		}
		if !retry {
			if cancel.ConditionFailedAfter(1 + len(evs)) {
				return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, ErrConditionFailed)
			}
			return nil, fmt.Errorf("append %s to case %s: %w", typ, caseID, err)
		}
		if attempt > 200 {
			return nil, fmt.Errorf("append %s to case %s: too much contention: %w", typ, caseID, err)
		}
		sleep := time.Duration(rand.Int64N(int64(backoff))) + time.Millisecond
		if backoff < 200*time.Millisecond {
			backoff *= 2
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(sleep):
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (l Log) transaction(c *store.Case, evs []Event, ch Change, extra []types.TransactWriteItem) ([]types.TransactWriteItem, error) {
	ev := evs[len(evs)-1]
	names := map[string]string{"#seq": "event_seq", "#hash": "last_hash", "#upd": "updated_at"}
	values := map[string]any{":old": c.EventSeq, ":seq": ev.Seq, ":hash": ev.Hash, ":upd": ev.At}
	set := "SET #seq = :seq, #hash = :hash, #upd = :upd"
	i := 0
	for k, v := range ch.Set {
		i++
		n, p := fmt.Sprintf("#s%d", i), fmt.Sprintf(":s%d", i)
		names[n], values[p] = k, v
		set += fmt.Sprintf(", %s = %s", n, p)
	}
	idx := store.IndexAttributes(c, ch.Set)
	for _, k := range sortedKeys(idx) {
		i++
		n, p := fmt.Sprintf("#x%d", i), fmt.Sprintf(":x%d", i)
		names[n], values[p] = k, idx[k]
		set += fmt.Sprintf(", %s = %s", n, p)
	}
	expr := set
	if len(ch.Add) > 0 {
		add := ""
		for k, v := range ch.Add {
			i++
			n, p := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
			names[n], values[p] = k, v
			if add != "" {
				add += ", "
			}
			add += n + " " + p
		}
		expr += " ADD " + add
	}
	cond := "#seq = :old"
	if ch.Once != "" {
		names["#steps"] = "steps_done"
		values[":once"] = ch.Once
		cond += " AND NOT contains(#steps, :once)"
		if len(ch.Add) > 0 {
			expr += ", #steps :onceSet"
		} else {
			expr += " ADD #steps :onceSet"
		}
	}
	if ch.Condition != "" {
		cond += " AND (" + ch.Condition + ")"
		for k, v := range ch.Names {
			names[k] = v
		}
		for k, v := range ch.Values {
			values[k] = v
		}
	}
	av, err := attributevalue.MarshalMap(values)
	if err != nil {
		return nil, fmt.Errorf("encode case change: %w", err)
	}
	if ch.Once != "" {
		av[":onceSet"] = &types.AttributeValueMemberSS{Value: []string{ch.Once}}
	}
	upd := types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(l.Table.Name),
		Key:                       store.Key(store.CasePK(ev.CaseID), store.SKMeta),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: av,
	}}
	items := []types.TransactWriteItem{upd}
	for i, e := range evs {
		put, err := Put(l.Table.Name, e)
		if err != nil {
			return nil, err
		}
		if s, ok := ch.Set["status"].(string); ok && i == len(evs)-1 && s != c.Status {
			// Outside the hashed content: the status move this event
			// made, for the counters kept from the stream (package stats).
			put.Put.Item[AttrStatusFrom] = &types.AttributeValueMemberS{Value: c.Status}
			put.Put.Item[AttrStatusTo] = &types.AttributeValueMemberS{Value: s}
		}
		items = append(items, put)
	}
	items = append(items, extra...)
	return append(items, ch.Items...), nil
}

// List returns a case's events in order, starting after seq `after`, at
// most limit (0: all).
func (l Log) List(ctx context.Context, caseID string, after, limit int) ([]Event, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(l.Table.Name),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: store.CasePK(caseID)},
			":from": &types.AttributeValueMemberS{Value: store.EventSK(after + 1)},
			":to":   &types.AttributeValueMemberS{Value: store.SKLastEvent},
		},
		ConsistentRead: aws.Bool(true),
	}
	var out []Event
	p := dynamodb.NewQueryPaginator(l.Table.DB, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list events of case %s: %w", caseID, err)
		}
		for _, av := range page.Items {
			var it item
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("decode event of case %s: %w", caseID, err)
			}
			e := Event{CaseID: it.CaseID, Seq: it.Seq, Type: it.Type, Actor: it.Actor, At: it.At, PrevHash: it.PrevHash, Hash: it.Hash}
			if it.Data != "" {
				e.Data = json.RawMessage(it.Data)
			}
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// Verify checks a case's full history: sequence numbers 1..n without gaps,
// each event's hash, and each link to the previous event. It returns nil or
// an error naming the first broken event.
func Verify(events []Event, headHash string) error {
	prev := Genesis
	for i, e := range events {
		if e.Seq != i+1 {
			return fmt.Errorf("event %d: expected sequence %d (an event is missing or out of order)", e.Seq, i+1)
		}
		if e.PrevHash != prev {
			return fmt.Errorf("event %d: previous-hash link broken", e.Seq)
		}
		if ComputeHash(e) != e.Hash {
			return fmt.Errorf("event %d: content does not match its hash (altered)", e.Seq)
		}
		prev = e.Hash
	}
	if headHash != "" && headHash != prev {
		return fmt.Errorf("chain head %s does not match the last event (events removed from the end)", headHash)
	}
	return nil
}
