package report

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

func newTable(t *testing.T) store.Table {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "intake")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return store.Table{DB: db, Name: name}
}

func count(t *testing.T, tb store.Table) int {
	t.Helper()
	out, err := tb.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(tb.Name), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// A transaction cancelled by one failing condition leaves nothing behind:
// no claim, no case, no report, no event, no idempotency record.
func TestCancelledOpenLeavesNothingBehind(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	// Something already sits where the new case's report would go.
	if _, err := tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: store.Key(store.CasePK("c_fixed"), store.ReportSK("r_fixed"))}); err != nil {
		t.Fatal(err)
	}
	before := count(t, tb)
	in := Intake{Table: tb, Now: func() time.Time { return now }, NewID: func(p string, _ time.Time) string { return p + "fixed" }}
	s, c, err := Parse([]byte(`{"url":"https://t.me/lokerkamboja/5550"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Submit(ctx, auth.Principal{Subject: "r1", Roles: []string{auth.Reporter}}, s, c, nil, "key-1"); err == nil {
		t.Fatal("submit succeeded although its transaction could not")
	}
	if after := count(t, tb); after != before {
		t.Fatalf("cancelled transaction left %d items behind", after-before)
	}
	// The same report with working ids goes through afterwards.
	in.NewID = nil
	r, err := in.Submit(ctx, auth.Principal{Subject: "r1", Roles: []string{auth.Reporter}}, s, c, nil, "key-1")
	if err != nil || r.Duplicate {
		t.Fatalf("retry: %+v %v", r, err)
	}
	if after := count(t, tb); after != before+5 { // claim, case, report, event, idempotency record
		t.Fatalf("a new case wrote %d items, want 5", after-before)
	}
}
