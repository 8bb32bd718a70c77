package localstack

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// verifyCase waits (bounded) until every event of the case has its
// external copy, and returns the last verification.
func (f *flow) verifyCase(id string, want func(anchor.Report) bool) anchor.Report {
	f.t.Helper()
	var rep anchor.Report
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, out := f.st.as(f.t, auth.Auditor).do("GET", "/cases/"+id+"/verify", nil, nil)
		if code != 200 {
			f.t.Fatalf("verify %s: %d %v", id, code, out)
		}
		rep = anchor.Report{}
		decode(f.t, out, &rep)
		if want(rep) {
			return rep
		}
	}
	f.t.Fatalf("verify %s: %+v", id, rep)
	return rep
}

func TestHistoryIsAnchoredOutsideTheTableAndRewritesAreSeen(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://x.com/lokerkamboja/status/5557701", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	n := len(f.events(id))
	rep := f.verifyCase(id, func(r anchor.Report) bool { return r.Valid && r.Anchored == n })
	if rep.Length != n || rep.AnchoredHead == "" {
		t.Fatalf("anchored %+v", rep)
	}
	// Only auditors and admins verify.
	if code, _ := f.st.as(t, auth.Reporter).do("GET", "/cases/"+id+"/verify", nil, nil); code != 403 {
		t.Fatalf("a reporter verifies: %d", code)
	}

	// Someone with write access to the table rewrites the first event and
	// recomputes every hash and the head: the table's own chain holds...
	ctx := context.Background()
	evs := f.events(id)
	prev := history.Genesis
	for i := range evs {
		if i == 0 {
			evs[0].Data = []byte(`{"url":"https://x.com/someone-else/status/1"}`)
		}
		evs[i].PrevHash = prev
		evs[i].Hash = history.ComputeHash(evs[i])
		prev = evs[i].Hash
		put, _ := history.Put(f.st.Table.Name, evs[i])
		if _, err := f.st.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.st.Table.Name), Item: put.Put.Item}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(f.st.Table.Name), Key: store.Key(store.CasePK(id), store.SKMeta),
		UpdateExpression:          aws.String("SET last_hash = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: prev}},
	}); err != nil {
		t.Fatal(err)
	}
	if code, out := f.st.as(t, auth.Auditor).do("GET", "/cases/"+id+"/events", nil, nil); code != 200 || out["chain"].(map[string]any)["valid"] != true {
		t.Fatalf("the unanchored check: %d %v", code, out["chain"])
	}
	// ...but the external copy does not: event 1 is altered, and the
	// stream saw every event changed.
	rep = f.verifyCase(id, func(r anchor.Report) bool { return !r.Valid })
	if rep.First == nil || rep.First.Seq != 1 || rep.First.Kind != anchor.Altered {
		t.Fatalf("after the rewrite: %+v", rep)
	}
	rep = f.verifyCase(id, func(r anchor.Report) bool {
		seen := 0
		for _, p := range r.Problems {
			if p.Kind == anchor.Tampering {
				seen++
			}
		}
		return seen >= n
	})
}
