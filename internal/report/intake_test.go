package report

import (
	"context"
	"sync/atomic"
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
	// claim, case, report, event, the reporter's report, the case's facet
	// of all cases, idempotency record
	if after := count(t, tb); after != before+7 {
		t.Fatalf("a new case wrote %d items, want 7", after-before)
	}
}

// A report of an ad whose case closed as removed opens a new case (a new
// workflow run, named after the new case id) linked to the old one, once
// however many such reports arrive together; reports of a case still open,
// or closed otherwise, join it. So too when the reports reach several
// Lambda instances that each remember the claim they saw (the old case's).
func TestReportAfterRemovalReopens(t *testing.T) {
	for _, tc := range []struct {
		name      string
		instances int
		remember  bool
	}{{"one instance reading every claim", 1, false}, {"three instances remembering claims", 3, true}} {
		t.Run(tc.name, func(t *testing.T) { reopenScenario(t, tc.instances, tc.remember) })
	}
}

func reopenScenario(t *testing.T, instances int, remember bool) {
	tb := newTable(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var ins []Intake
	for range instances {
		in := Intake{Table: tb, Now: func() time.Time { return now }}
		if remember {
			in.Claims = NewClaimCache()
		}
		ins = append(ins, in)
	}
	who := auth.Principal{Subject: "r1", Roles: []string{auth.Reporter}}
	var next atomic.Int64
	submit := func(url string) Receipt {
		t.Helper()
		s, c, err := Parse([]byte(`{"url":"`+url+`"}`), now)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ins[int(next.Add(1))%len(ins)].Submit(ctx, who, s, c, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	setStatus := func(id, status string) { t.Helper(); setCaseStatus(t, tb, id, status) }
	const url = "https://www.facebook.com/groups/loker/posts/8801"
	first := submit(url)
	for _, st := range []string{store.StatusTakedownSent, store.StatusRejected, store.StatusNonCompliant} {
		setStatus(first.CaseID, st)
		if r := submit(url); r.CaseID != first.CaseID || !r.Duplicate || r.Reopens != "" {
			t.Fatalf("report of a %s case: %+v, want it to join %s", st, r, first.CaseID)
		}
	}
	setStatus(first.CaseID, store.StatusRemovedInTime)
	// Reported again, several times at once.
	got := make(chan Receipt, 5)
	for range 5 {
		go func() { got <- submit(url) }()
	}
	var reopened string
	for range 5 {
		r := <-got
		switch {
		case r.CaseID == first.CaseID:
			t.Fatalf("report after removal joined the closed case: %+v", r)
		case !r.Duplicate:
			if reopened != "" || r.Reopens != first.CaseID {
				t.Fatalf("second new case or no link: %+v (reopened %q)", r, reopened)
			}
			reopened = r.CaseID
		}
	}
	if reopened == "" {
		t.Fatal("no report opened a new case")
	}
	c, err := tb.GetCase(ctx, reopened)
	if err != nil || c.Reopens != first.CaseID || c.Status != store.StatusReceived {
		t.Fatalf("new case %+v %v, want status received reopening %s", c, err, first.CaseID)
	}
	// Later reports join the new case, whichever instance takes them.
	for range 2 * len(ins) {
		if r := submit(url); r.CaseID != reopened || !r.Duplicate {
			t.Fatalf("later report %+v, want it to join %s", r, reopened)
		}
	}
}

// setCaseStatus moves a case to status, as the workflow would.
func setCaseStatus(t *testing.T, tb store.Table, id, status string) {
	t.Helper()
	if _, err := tb.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(tb.Name), Key: store.Key(store.CasePK(id), store.SKMeta),
		UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: status}},
	}); err != nil {
		t.Fatal(err)
	}
}

// A duplicate's receipt names the status its case has, read at most
// StatusTTL before: a burst of reports of one ad reads the status once a
// second, and a report after the case moved on says where it is now.
func TestDuplicateReceiptNamesTheCaseStatus(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	cacheNow := now
	cc := NewClaimCache()
	cc.now = func() time.Time { return cacheNow }
	in := Intake{Table: tb, Now: func() time.Time { return now }, Claims: cc}
	who := auth.Principal{Subject: "r1", Roles: []string{auth.Reporter}}
	submit := func(key string) Receipt {
		t.Helper()
		body := []byte(`{"url":"https://www.facebook.com/groups/loker/posts/9901"}`)
		s, c, err := Parse(body, now)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Submit(ctx, who, s, c, body, key)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := submit("")
	for _, step := range []struct {
		status  string
		after   time.Duration
		key     string
		want    string
		because string
	}{
		{store.StatusAwaitingApprove, 0, "", store.StatusAwaitingApprove, "first duplicate reads the status"},
		{store.StatusTakedownSent, StatusTTL / 2, "", store.StatusAwaitingApprove, "within StatusTTL the status read is reused"},
		{store.StatusTakedownSent, StatusTTL, "", store.StatusTakedownSent, "after StatusTTL the status is read again"},
		{store.StatusNonCompliant, 2 * StatusTTL, "k-1", store.StatusNonCompliant, "an idempotent report stores the status it read"},
	} {
		setCaseStatus(t, tb, first.CaseID, step.status)
		cacheNow = cacheNow.Add(step.after)
		r := submit(step.key)
		if !r.Duplicate || r.CaseID != first.CaseID || r.Status != step.want {
			t.Fatalf("%s: receipt %+v, want a duplicate of %s with status %s", step.because, r, first.CaseID, step.want)
		}
		if step.key != "" {
			if again := submit(step.key); again.Status != step.want || again.ReportID != r.ReportID {
				t.Fatalf("%s: replay %+v, want %+v", step.because, again, r)
			}
		}
	}
}
