package history

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

func newCase(t *testing.T) (Log, string) {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "history")
	ctx := context.Background()
	if err := testenv.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	tb := store.Table{DB: db, Name: name}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	first, err := New("c_1", 1, Genesis, "case_opened", "test", now, map[string]any{"url": "https://x.com/a/status/1"})
	if err != nil {
		t.Fatal(err)
	}
	c := store.Case{PK: store.CasePK("c_1"), SK: store.SKMeta, ID: "c_1", Status: store.StatusReceived, EventSeq: 1, LastHash: first.Hash,
		GSI1PK: "x", GSI1SK: "x", GSI2PK: "x", GSI2SK: "x"}
	av, _ := attributevalue.MarshalMap(c)
	put, _ := Put(name, first)
	meta := types.TransactWriteItem{Put: &types.Put{TableName: aws.String(name), Item: av}}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{meta, put}}); err != nil {
		t.Fatal(err)
	}
	return Log{Table: tb, Now: func() time.Time { return now }}, "c_1"
}

func TestAppendChainsAndVerifies(t *testing.T) {
	l, id := newCase(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := l.Append(ctx, id, "note", "tester", map[string]any{"i": i}, Change{Add: map[string]int{"report_count": 1}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	evs, err := l.List(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := l.Table.GetCase(ctx, id)
	if len(evs) != 21 || c.ReportCount != 20 || c.EventSeq != 21 {
		t.Fatalf("%d events, report_count %d, seq %d", len(evs), c.ReportCount, c.EventSeq)
	}
	if err := Verify(evs, c.LastHash); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	l, id := newCase(t)
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		if _, err := l.Append(ctx, id, "note", "tester", map[string]any{"i": i}, Change{}); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := l.List(ctx, id, 0, 0)
	c, _ := l.Table.GetCase(ctx, id)
	tests := map[string]func([]Event) ([]Event, string){
		"altered data":   func(e []Event) ([]Event, string) { e[2].Data = json.RawMessage(`{"i":99}`); return e, c.LastHash },
		"altered actor":  func(e []Event) ([]Event, string) { e[1].Actor = "someone else"; return e, c.LastHash },
		"removed middle": func(e []Event) ([]Event, string) { return append(e[:2:2], e[3:]...), c.LastHash },
		"removed last":   func(e []Event) ([]Event, string) { return e[:len(e)-1], c.LastHash },
		"reordered":      func(e []Event) ([]Event, string) { e[1], e[2] = e[2], e[1]; return e, c.LastHash },
		"rehashed forged": func(e []Event) ([]Event, string) {
			e[4].Type = "x"
			e[4].Hash = ComputeHash(e[4])
			return e, c.LastHash
		},
	}
	for name, tamper := range tests {
		t.Run(name, func(t *testing.T) {
			cp := append([]Event(nil), evs...)
			got, head := tamper(cp)
			if err := Verify(got, head); err == nil {
				t.Fatal("tampering not detected")
			}
		})
	}
	if err := Verify(evs, c.LastHash); err != nil {
		t.Fatalf("untouched history fails: %v", err)
	}
}

func TestOnceRecordsAStepOnce(t *testing.T) {
	l, id := newCase(t)
	ctx := context.Background()
	ch := Change{Once: "takedown:0", Set: map[string]any{"status": store.StatusTakedownSent}}
	if _, err := l.Append(ctx, id, "takedown_requested", "workflow", nil, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, id, "takedown_requested", "workflow", nil, ch); !errors.Is(err, ErrAlreadyRecorded) {
		t.Fatalf("second append: %v, want ErrAlreadyRecorded", err)
	}
	c, _ := l.Table.GetCase(ctx, id)
	if c.EventSeq != 2 || c.Status != store.StatusTakedownSent || c.GSI1PK != store.StatusKey(store.StatusTakedownSent) {
		t.Fatalf("case = seq %d status %s gsi %s", c.EventSeq, c.Status, c.GSI1PK)
	}
}

func TestConditionFailureWritesNothing(t *testing.T) {
	l, id := newCase(t)
	ctx := context.Background()
	_, err := l.Append(ctx, id, "closed", "workflow", nil, Change{
		Condition: "#st = :want", Names: map[string]string{"#st": "status"}, Values: map[string]any{":want": "approved"},
	})
	if !errors.Is(err, ErrConditionFailed) {
		t.Fatalf("err = %v", err)
	}
	if c, _ := l.Table.GetCase(ctx, id); c.EventSeq != 1 {
		t.Fatalf("event written despite failed condition: seq %d", c.EventSeq)
	}
}
