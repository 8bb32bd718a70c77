package anchor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

type fixture struct {
	tb  store.Table
	log history.Log
	w   Writer
	v   Verifier
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "anchor")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	tb := store.Table{DB: db, Name: name}
	now := func() time.Time { return t0 }
	st, mac := Folder{Dir: t.TempDir()}, HMAC{Key: []byte("anchor test key, 32 bytes long!!")}
	return fixture{tb: tb, log: history.Log{Table: tb, Now: now}, w: Writer{Store: st, MAC: mac, Now: now}, v: Verifier{Store: st, MAC: mac, Now: now}}
}

// openCase writes a case with n events and anchors them, as the stream does.
func (f fixture) openCase(t *testing.T, id string, n int) {
	t.Helper()
	ctx := context.Background()
	first, err := history.New(id, 1, history.Genesis, history.CaseOpened, "reporter:test", t0, history.CaseOpenedData{URL: "https://x.com/a/status/" + id})
	if err != nil {
		t.Fatal(err)
	}
	c := store.Case{PK: store.CasePK(id), SK: store.SKMeta, ID: id, Status: store.StatusReceived, EventSeq: 1, LastHash: first.Hash,
		GSI1PK: "x", GSI1SK: "x", GSI2PK: "x", GSI2SK: "x"}
	av, _ := attributevalue.MarshalMap(c)
	put, _ := history.Put(f.tb.Name, first)
	meta := types.TransactWriteItem{Put: &types.Put{TableName: aws.String(f.tb.Name), Item: av}}
	if _, err := f.tb.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{meta, put}}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= n; i++ {
		if _, err := f.log.Append(ctx, id, history.ComplianceChecked, "workflow", history.ComplianceCheckedData{Level: i}, history.Change{}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := f.log.List(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := f.w.Anchor(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func (f fixture) verify(t *testing.T, id string) Report {
	t.Helper()
	ctx := context.Background()
	c, err := f.tb.GetCase(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	head := ""
	if found {
		head = c.LastHash
	}
	evs, err := f.log.List(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.v.Verify(ctx, id, found, head, evs)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Tampering done directly in DynamoDB, as someone holding the table's
// write permission would.
func (f fixture) setData(t *testing.T, id string, seq int, data string) {
	t.Helper()
	_, err := f.tb.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(f.tb.Name), Key: store.Key(store.CasePK(id), store.EventSK(seq)),
		UpdateExpression:          aws.String("SET #d = :d"),
		ExpressionAttributeNames:  map[string]string{"#d": "data"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: data}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f fixture) deleteEvent(t *testing.T, id string, seq int) {
	t.Helper()
	if _, err := f.tb.DB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(f.tb.Name), Key: store.Key(store.CasePK(id), store.EventSK(seq))}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) setHead(t *testing.T, id string, seq int, hash string) {
	t.Helper()
	_, err := f.tb.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(f.tb.Name), Key: store.Key(store.CasePK(id), store.SKMeta),
		UpdateExpression: aws.String("SET event_seq = :s, last_hash = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": &types.AttributeValueMemberN{Value: strconv.Itoa(seq)}, ":h": &types.AttributeValueMemberS{Value: hash}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rewrite replaces event `from`'s data and recomputes every hash from
// there on, and the head: the table's own chain then verifies.
func (f fixture) rewrite(t *testing.T, id string, from int, data string) {
	t.Helper()
	ctx := context.Background()
	evs, err := f.log.List(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	prev := history.Genesis
	for _, e := range evs {
		if e.Seq >= from {
			if e.Seq == from {
				e.Data = []byte(data)
			}
			e.PrevHash = prev
			e.Hash = history.ComputeHash(e)
			put, _ := history.Put(f.tb.Name, e)
			put.Put.ConditionExpression = nil
			if _, err := f.tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.Put.TableName, Item: put.Put.Item}); err != nil {
				t.Fatal(err)
			}
		}
		prev = e.Hash
	}
	f.setHead(t, id, len(evs), prev)
	// The rewritten history passes the chain check alone.
	evs, _ = f.log.List(ctx, id, 0, 0)
	if err := history.Verify(evs, prev); err != nil {
		t.Fatalf("the rewrite should fool the unanchored check: %v", err)
	}
}

func (f fixture) hashOf(t *testing.T, id string, seq int) string {
	t.Helper()
	evs, err := f.log.List(context.Background(), id, seq-1, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("event %d: %v", seq, err)
	}
	return evs[0].Hash
}

func TestVerifySeesEveryTamperingOfTheTable(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name      string
		tamper    func(t *testing.T, id string)
		kind      string
		seq       int
		truncated bool
	}{
		{"untouched", func(*testing.T, string) {}, "", 0, false},
		{"event edited", func(t *testing.T, id string) { f.setData(t, id, 3, `{"level":9}`) }, Altered, 3, false},
		{"event rewritten, every hash and the head recomputed", func(t *testing.T, id string) { f.rewrite(t, id, 3, `{"level":9}`) }, Altered, 3, false},
		{"first event rewritten and rehashed", func(t *testing.T, id string) { f.rewrite(t, id, 1, `{"url":"https://elsewhere"}`) }, Altered, 1, false},
		{"event deleted from the middle", func(t *testing.T, id string) { f.deleteEvent(t, id, 4) }, Removed, 4, false},
		{"last events deleted, head moved back", func(t *testing.T, id string) {
			h := f.hashOf(t, id, 4)
			f.deleteEvent(t, id, 6)
			f.deleteEvent(t, id, 5)
			f.setHead(t, id, 4, h)
		}, Truncated, 5, true},
		{"last events deleted, head cleared", func(t *testing.T, id string) {
			f.deleteEvent(t, id, 6)
			f.deleteEvent(t, id, 5)
			f.setHead(t, id, 4, "")
		}, Truncated, 5, true},
		{"every event deleted", func(t *testing.T, id string) {
			for s := 1; s <= 6; s++ {
				f.deleteEvent(t, id, s)
			}
			f.setHead(t, id, 0, "")
		}, Truncated, 1, true},
		{"two events swapped", func(t *testing.T, id string) {
			ctx := context.Background()
			evs, _ := f.log.List(ctx, id, 0, 0)
			a, b := evs[1], evs[2]
			for _, pair := range [][2]history.Event{{a, b}, {b, a}} {
				e := pair[1]
				put, _ := history.Put(f.tb.Name, e)
				put.Put.Item["SK"] = &types.AttributeValueMemberS{Value: store.EventSK(pair[0].Seq)}
				if _, err := f.tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.Put.TableName, Item: put.Put.Item}); err != nil {
					t.Fatal(err)
				}
			}
		}, Reordered, 2, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("c_tamper%02d", i)
			f.openCase(t, id, 6)
			tc.tamper(t, id)
			rep := f.verify(t, id)
			if tc.kind == "" {
				if !rep.Valid || rep.Anchored != 6 || rep.Length != 6 {
					t.Fatalf("untouched case: %+v", rep)
				}
				return
			}
			if rep.Valid || rep.First == nil {
				t.Fatalf("tampering not seen: %+v", rep)
			}
			if rep.First.Kind != tc.kind || rep.First.Seq != tc.seq {
				t.Errorf("first problem %+v, want %s at event %d (all: %+v)", *rep.First, tc.kind, tc.seq, rep.Problems)
			}
			if tc.truncated != (rep.Truncation != nil) {
				t.Errorf("truncation %+v, want %v", rep.Truncation, tc.truncated)
			}
		})
	}
}

func TestVerifyRefusesCasesWithoutEventsOrHead(t *testing.T) {
	f := newFixture(t)
	// A case whose events were never anchored (written around the stream)
	// and whose history is then emptied: nothing external to compare
	// with, yet a case without events is never valid.
	f.openCase(t, "c_empty", 1)
	f.deleteEvent(t, "c_empty", 1)
	if rep := f.verify(t, "c_empty"); rep.Valid {
		t.Fatalf("a case without events verified: %+v", rep)
	}
	f.openCase(t, "c_nohead", 2)
	f.setHead(t, "c_nohead", 2, "")
	rep := f.verify(t, "c_nohead")
	if rep.Valid || rep.First.Kind != HeadMismatch {
		t.Fatalf("empty head with events: %+v", rep)
	}
	// The case item itself removed: the external copy still tells.
	f.openCase(t, "c_gone", 3)
	if _, err := f.tb.DB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(f.tb.Name), Key: store.Key(store.CasePK("c_gone"), store.SKMeta)}); err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t, "c_gone"); rep.Valid || rep.Anchored != 3 {
		t.Fatalf("a removed case: %+v", rep)
	}
}

func TestExternalCopyCannotBeReplacedOrForged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.openCase(t, "c_forge", 3)
	st := f.w.Store.(Folder)
	// The store never replaces a name.
	if err := st.Put(ctx, EventName("c_forge", 2), []byte(`{}`)); !errors.Is(err, ErrExists) {
		t.Fatalf("second write of a name: %v, want ErrExists", err)
	}
	if info, err := os.Stat(filepath.Join(st.Dir, filepath.FromSlash(EventName("c_forge", 2)))); err != nil || info.Mode().Perm()&0o222 != 0 {
		t.Fatalf("anchored file %v %v, want read-only", info.Mode(), err)
	}
	// A record made without the key (for an event appended to the table
	// around the stream) is refused.
	forged := fmt.Sprintf(`{"case_id":"c_forge","seq":4,"type":"note","at":"%s","prev_hash":"x","hash":"y","mac":"00"}`, store.FormatTime(t0))
	if err := st.Put(ctx, EventName("c_forge", 4), []byte(forged)); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t, "c_forge")
	if rep.Valid || rep.First.Kind != BadRecord || rep.First.Seq != 4 {
		t.Fatalf("forged record: %+v", rep)
	}
	// Anchoring a different event under an anchored seq keeps the first
	// record and raises an alarm.
	evs, _ := f.log.List(ctx, "c_forge", 0, 0)
	other := evs[1]
	other.Hash = "ff"
	if err := f.w.Anchor(ctx, other); err != nil {
		t.Fatal(err)
	}
	if recs, _, _ := f.v.Records(ctx, "c_forge"); recs[1].Hash != evs[1].Hash {
		t.Fatalf("anchored record replaced: %+v", recs[1])
	}
	if al, _ := f.v.Alarms(ctx, "c_forge"); len(al) != 1 || al[0].Change != "REPLACE" {
		t.Fatalf("alarms %+v", al)
	}
}

func TestStreamAnchorsInsertsAndRaisesAlarms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.openCase(t, "c_stream", 2)
	e, err := f.log.Append(ctx, "c_stream", history.ComplianceChecked, "workflow", history.ComplianceCheckedData{Level: 1}, history.Change{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute(store.CasePK("c_stream")), "SK": events.NewStringAttribute(store.EventSK(3))}
	img := map[string]events.DynamoDBAttributeValue{
		"PK": keys["PK"], "SK": keys["SK"], "case_id": events.NewStringAttribute(e.CaseID), "seq": events.NewNumberAttribute("3"),
		"type": events.NewStringAttribute(e.Type), "actor": events.NewStringAttribute(e.Actor), "at": events.NewStringAttribute(e.At),
		"data": events.NewStringAttribute(string(e.Data)), "prev_hash": events.NewStringAttribute(e.PrevHash), "hash": events.NewStringAttribute(e.Hash),
	}
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: img, SequenceNumber: "1"}},
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: img, SequenceNumber: "2"}}, // a replay
	}}
	if resp, err := f.w.Handle(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handle: %+v %v", resp, err)
	}
	if rep := f.verify(t, "c_stream"); !rep.Valid || rep.Anchored != 3 {
		t.Fatalf("after the stream: %+v", rep)
	}
	// A batch also keeps the day's digest, which covers the case.
	d, ok, err := LastDigest(ctx, f.w.Store)
	if err != nil || !ok {
		t.Fatalf("digest: %v %v", ok, err)
	}
	if good, err := CheckDigest(ctx, f.w.MAC, d); err != nil || !good {
		t.Fatalf("digest does not verify: %v", err)
	}
	d.Cases[0].Hash = "00"
	if good, _ := CheckDigest(ctx, f.w.MAC, d); good {
		t.Fatal("an altered digest verified")
	}
	// A change and a removal of an event on the stream are alarms.
	ev = events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: img, SequenceNumber: "3"}},
		{EventName: "REMOVE", Change: events.DynamoDBStreamRecord{Keys: keys, SequenceNumber: "4"}},
	}}
	if resp, err := f.w.Handle(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handle: %+v %v", resp, err)
	}
	rep := f.verify(t, "c_stream")
	if rep.Valid || rep.First.Kind != Tampering {
		t.Fatalf("after a change on the stream: %+v", rep)
	}
}
