package anchor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// Record is the external copy of one event: its place in the chain, its
// hash (which covers its content and the previous hash), and a MAC over
// them made with the anchor key.
type Record struct {
	CaseID     string `json:"case_id"`
	Seq        int    `json:"seq"`
	Type       string `json:"type"`
	At         string `json:"at"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
	AnchoredAt string `json:"anchored_at"`
	MAC        string `json:"mac"`
}

func (r Record) message() []byte {
	return []byte(strings.Join([]string{"tangkal anchor record v1", r.CaseID, strconv.Itoa(r.Seq), r.Type, r.At, r.PrevHash, r.Hash}, "\n"))
}

// Alarm is a change or removal of an event item seen on the table's
// stream: events are append-only, so every one is tampering (or a repair
// someone must account for).
type Alarm struct {
	CaseID string `json:"case_id"`
	Seq    int    `json:"seq"`
	Change string `json:"change"` // MODIFY or REMOVE
	// Hash is the event's hash after the change (MODIFY).
	Hash   string `json:"hash,omitempty"`
	SeenAt string `json:"seen_at"`
	MAC    string `json:"mac"`
}

func (a Alarm) message() []byte {
	return []byte(strings.Join([]string{"tangkal anchor alarm v1", a.CaseID, strconv.Itoa(a.Seq), a.Change, a.Hash, a.SeenAt}, "\n"))
}

// Writer is AnchorFunction: it copies every event written to the table
// to the append-only store, seconds after it is written, from the table's
// stream.
type Writer struct {
	Store Store
	MAC   MAC
	Now   func() time.Time
	// DigestEvery is how often a signed digest of all heads is stored
	// (0: daily); a batch of the stream writes one when the last is older.
	DigestEvery time.Duration
}

func (w Writer) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Anchor writes the record of one event. A replay (the same event again)
// is a no-op; a different event under an anchored seq is refused with
// an alarm, and the first record stays.
func (w Writer) Anchor(ctx context.Context, e history.Event) error {
	r := Record{CaseID: e.CaseID, Seq: e.Seq, Type: e.Type, At: e.At, PrevHash: e.PrevHash, Hash: e.Hash, AnchoredAt: store.FormatTime(w.now())}
	mac, err := w.MAC.Sum(ctx, r.message())
	if err != nil {
		return err
	}
	r.MAC = hexs(mac)
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	err = w.Store.Put(ctx, EventName(e.CaseID, e.Seq), body)
	if !errors.Is(err, ErrExists) {
		return err
	}
	old, err := w.read(ctx, e.CaseID, e.Seq)
	if err != nil {
		return err
	}
	if old.Hash == e.Hash {
		return nil
	}
	return w.alarm(ctx, Alarm{CaseID: e.CaseID, Seq: e.Seq, Change: "REPLACE", Hash: e.Hash})
}

func (w Writer) read(ctx context.Context, caseID string, seq int) (Record, error) {
	b, err := w.Store.Get(ctx, EventName(caseID, seq))
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("anchor: decode record %s/%d: %w", caseID, seq, err)
	}
	return r, nil
}

func (w Writer) alarm(ctx context.Context, a Alarm) error {
	a.SeenAt = store.FormatTime(w.now())
	mac, err := w.MAC.Sum(ctx, a.message())
	if err != nil {
		return err
	}
	a.MAC = hexs(mac)
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	slog.WarnContext(ctx, "history event changed or removed in the table", "case_id", a.CaseID, "seq", a.Seq, "change", a.Change)
	name := fmt.Sprintf("%s%s/%010d-%s.json", prefixAlarms, a.CaseID, a.Seq, strings.NewReplacer(":", "", ".", "").Replace(a.SeenAt))
	if err := w.Store.Put(ctx, name, body); err != nil && !errors.Is(err, ErrExists) {
		return err
	}
	return nil
}

// Handle is the stream handler: INSERTs of events are anchored, MODIFYs
// and REMOVEs of events raise alarms; other items are ignored (the
// template's FilterCriteria passes only events in AWS).
func (w Writer) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	// Only failed records (and later ones of the same case, in order)
	// are retried; other cases' events are anchored.
	resp := store.EachPerCase(ctx, ev.Records, func(ctx context.Context, rec events.DynamoDBEventRecord) error {
		err := w.record(ctx, rec)
		if err != nil {
			slog.ErrorContext(ctx, "anchor history event", "case_id", store.StreamCase(rec), "err", err)
		}
		return err
	})
	if len(ev.Records) > 0 {
		if err := w.digestIfDue(ctx); err != nil {
			// The events are anchored; the digest is tried again with the next batch.
			slog.ErrorContext(ctx, "anchor digest", "err", err)
		}
	}
	return resp, nil
}

func (w Writer) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	keys := rec.Change.Keys
	pk, sk := store.ImageString(keys, "PK"), store.ImageString(keys, "SK")
	caseID, ok := store.CaseIDOf(pk)
	seq, isEvent := store.EventSeqOf(sk)
	if !ok || !isEvent {
		return nil
	}
	switch events.DynamoDBOperationType(rec.EventName) {
	case events.DynamoDBOperationTypeInsert:
		e, err := eventOf(rec.Change.NewImage)
		if err != nil {
			return err
		}
		if e.CaseID != caseID || e.Seq != seq {
			// An item whose content does not match its key: anchor what
			// the key says, so the verifier sees the mismatch.
			e.CaseID, e.Seq = caseID, seq
		}
		return w.Anchor(ctx, e)
	case events.DynamoDBOperationTypeModify:
		return w.alarm(ctx, Alarm{CaseID: caseID, Seq: seq, Change: "MODIFY", Hash: store.ImageString(rec.Change.NewImage, "hash")})
	case events.DynamoDBOperationTypeRemove:
		return w.alarm(ctx, Alarm{CaseID: caseID, Seq: seq, Change: "REMOVE"})
	}
	return nil
}

// eventOf reads a stream image of an event item.
func eventOf(img map[string]events.DynamoDBAttributeValue) (history.Event, error) {
	e, err := history.FromStreamImage(img)
	if err != nil {
		return e, fmt.Errorf("anchor: %w", err)
	}
	return e, nil
}
