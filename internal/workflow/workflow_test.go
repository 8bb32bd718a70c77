package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/logging"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// starter records StartExecution calls; fail names the case ids that fail.
type starter struct {
	mu      sync.Mutex
	started []string
	fail    map[string]error
}

func (s *starter) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := aws.ToString(in.Name)
	if err := s.fail[name]; err != nil {
		return nil, err
	}
	s.started = append(s.started, name)
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String("arn:aws:states:::execution:x:" + name)}, nil
}

func record(seq, pk, sk string) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		SequenceNumber: seq,
		Keys:           map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute(pk), "SK": events.NewStringAttribute(sk)},
	}}
}

func TestLauncherStartsOneExecutionPerNewCase(t *testing.T) {
	tests := []struct {
		name        string
		records     []events.DynamoDBEventRecord
		fail        map[string]error
		wantStarted []string
		wantFailed  []string
	}{
		{"new cases, in order", []events.DynamoDBEventRecord{record("1", "CASE#c_a", "META"), record("2", "CASE#c_b", "META")},
			nil, []string{"c_a", "c_b"}, nil},
		{"reports, events and other items start nothing", []events.DynamoDBEventRecord{
			record("1", "CASE#c_a", "REPORT#r_1"), record("2", "CASE#c_a", "EVENT#0000000002"), record("3", "URL#x", "CLAIM"), record("4", "CASE#", "META")},
			nil, nil, nil},
		{"a replayed record (execution exists) is done", []events.DynamoDBEventRecord{record("1", "CASE#c_a", "META")},
			map[string]error{"c_a": &sfntypes.ExecutionAlreadyExists{Message: aws.String("exists")}}, nil, nil},
		{"a failure retries that record only: other cases start", []events.DynamoDBEventRecord{
			record("1", "CASE#c_a", "META"), record("2", "CASE#c_b", "META"), record("3", "CASE#c_c", "META")},
			map[string]error{"c_b": errors.New("throttled")}, []string{"c_a", "c_c"}, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &starter{fail: tt.fail}
			resp, err := Launcher{SFN: s, StateMachineARN: "arn:sm"}.Start(context.Background(), events.DynamoDBEvent{Records: tt.records})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(s.started) != fmt.Sprint(tt.wantStarted) {
				t.Errorf("started %v, want %v", s.started, tt.wantStarted)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if fmt.Sprint(failed) != fmt.Sprint(tt.wantFailed) {
				t.Errorf("batch item failures %v, want %v", failed, tt.wantFailed)
			}
		})
	}
}

// pages serves fixed fetch results by URL.
type pages map[string]func() (*safefetch.Result, error)

func (p pages) Get(_ context.Context, u string) (*safefetch.Result, error) {
	if f, ok := p[u]; ok {
		return f()
	}
	return nil, fmt.Errorf("no page at %s", u)
}

type fixedAssessor struct{ a *risk.Assessor }

func (f fixedAssessor) Assessor(context.Context) (*risk.Assessor, error) { return f.a, nil }

func newSteps(t *testing.T, fetch pages) *Steps {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "workflow")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	rules, err := risk.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := platform.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &Steps{
		Table: store.Table{DB: db, Name: name}, Fetcher: fetch, Evidence: evidence.Folder{Dir: t.TempDir()},
		Assessors: fixedAssessor{risk.NewAssessor(rules, registry.Default())}, Platforms: &platform.Client{Config: pc},
	}
}

func openCase(t *testing.T, s *Steps, body string) string {
	t.Helper()
	sub, c, err := report.Parse([]byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Intake{Table: s.Table}.Submit(context.Background(), auth.Principal{Subject: "ngo-1", Roles: []string{auth.Reporter}}, sub, c, []byte(body), "")
	if err != nil {
		t.Fatal(err)
	}
	return r.CaseID
}

const scamText = "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang. WA 0812-5550-9911"

func TestVerifyAdRoutesAndRecordsOnce(t *testing.T) {
	const (
		live    = "https://www.facebook.com/groups/loker/posts/1"
		blocked = "https://www.facebook.com/groups/loker/posts/2"
	)
	s := newSteps(t, pages{
		live: func() (*safefetch.Result, error) {
			return &safefetch.Result{Status: 200, FinalURL: live, Body: []byte("<p>" + scamText + "</p>"), ContentType: "text/html", Excerpt: scamText, FetchedAt: time.Now()}, nil
		},
		blocked: func() (*safefetch.Result, error) {
			return nil, &safefetch.BlockedError{URL: blocked, Reason: "redirects to a private address"}
		},
	})
	tests := []struct {
		url, text string
		route     string
	}{
		{live, scamText, RouteNeedsApproval},
		{blocked, scamText, RouteNotActionable},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			id := openCase(t, s, fmt.Sprintf(`{"url":%q,"text":%q}`, tt.url, tt.text))
			in := CaseInput{CaseID: id, Task: Task{Execution: "arn:exec:" + id, State: "VerifyAd"}}
			first, err := s.VerifyAd(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if first.Route != tt.route {
				t.Fatalf("route %q, want %q", first.Route, tt.route)
			}
			// Step Functions may run a task twice: the same answer, one event.
			again, err := s.VerifyAd(context.Background(), in)
			if err != nil || again != first {
				t.Fatalf("second run %+v %v, want %+v", again, err, first)
			}
			evs, err := s.log().List(context.Background(), id, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range evs {
				if e.Type == history.Verified {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d verified events, want 1", n)
			}
			v, ok, err := history.LastVerified(evs)
			if err != nil || !ok || v.Route != tt.route {
				t.Fatalf("verified event %+v %v %v", v, ok, err)
			}
		})
	}
}

func TestTaskErrorsNameStepAndCase(t *testing.T) {
	s := newSteps(t, pages{})
	s.Fetcher = pages{} // every fetch fails: the ad is unreachable, not an error
	id := openCase(t, s, `{"url":"https://www.facebook.com/groups/loker/posts/3","text":"x"}`)
	s.Table.Name += "-missing" // the table is gone: a transient failure
	_, err := s.VerifyAd(context.Background(), CaseInput{CaseID: id})
	var te *TransientError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want a TransientError", err, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "verify "+id+": read case: ") {
		t.Fatalf("error %q does not say which step of which case failed, and at what", msg)
	}
	if _, err := s.VerifyAd(context.Background(), CaseInput{}); err == nil || !strings.Contains(err.Error(), "case_id") {
		t.Fatalf("no case id: %v", err)
	}
}

func TestVerifyAdLinksRepostToEarlierCase(t *testing.T) {
	s := newSteps(t, pages{}) // pages unreachable: the reported text is assessed
	ctx := context.Background()
	const ad = "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang kantor. Minat langsung WA 0812-5550-9911"
	first := openCase(t, s, fmt.Sprintf(`{"url":"https://www.facebook.com/groups/loker/posts/71","text":%q}`, ad))
	if _, err := s.VerifyAd(ctx, CaseInput{CaseID: first}); err != nil {
		t.Fatal(err)
	}
	// The first case was approved and the ad removed.
	removed := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	if _, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table.Name), Key: store.Key(store.CasePK(first), store.SKMeta),
		UpdateExpression:         aws.String("SET #s = :s, removed_at = :r"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": &types.AttributeValueMemberS{Value: store.StatusRemovedInTime},
			":r": &types.AttributeValueMemberS{Value: store.FormatTime(removed)},
		},
	}); err != nil {
		t.Fatal(err)
	}
	// Another account posts it again, with its own number and emoji.
	repost := "🔥 lowongan admin online kamboja gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang kantor. minat langsung WA 0857 5550 1234 🔥"
	second := openCase(t, s, fmt.Sprintf(`{"url":"https://twitter.com/lokerasia/status/72","text":%q}`, repost))
	if _, err := s.VerifyAd(ctx, CaseInput{CaseID: second}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.log().List(ctx, second, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := history.LastVerified(evs)
	if err != nil {
		t.Fatal(err)
	}
	if v.Repost == nil || v.Repost.CaseID != first || v.Repost.Status != store.StatusRemovedInTime {
		t.Fatalf("repost %+v, want a link to %s (removed_in_time)", v.Repost, first)
	}
	for _, want := range []string{"Teks sama dengan " + first + ", disetujui dan sudah diturunkan pada 20 November 2026 pukul 10.30 WIB", "Same text as " + first + ", approved and removed on 20 November 2026"} {
		if !strings.Contains(v.Repost.Sentence, want) {
			t.Errorf("sentence %q does not say %q", v.Repost.Sentence, want)
		}
	}
	// An unrelated ad links to nothing.
	other := openCase(t, s, `{"url":"https://www.facebook.com/groups/loker/posts/73","text":"Dicari operator chat di Myawaddy, gaji 20 jt, biaya tiket diganti potong gaji, paspor dititip ke bos. WA 0838 5550 9120"}`)
	if _, err := s.VerifyAd(ctx, CaseInput{CaseID: other}); err != nil {
		t.Fatal(err)
	}
	evs, _ = s.log().List(ctx, other, 0, 0)
	if v, _, _ := history.LastVerified(evs); v.Repost != nil {
		t.Errorf("unrelated ad linked as a repost of %+v", v.Repost)
	}
}

// The manual-queue alarm counts one log line per case moved there: a
// replayed CloseCase must not count it again, and a closed case never.
func TestCloseCaseLogsTheManualQueueOnce(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	prev := slog.Default()
	slog.SetDefault(logging.New(lockedWriter{&mu, &buf})) // the functions' logger
	t.Cleanup(func() { slog.SetDefault(prev) })
	s := newSteps(t, pages{})
	tests := []struct {
		outcome string
		want    int
	}{
		{store.StatusManualQueue, 1},
		{store.StatusRejected, 0},
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			id := openCase(t, s, fmt.Sprintf(`{"url":"https://www.facebook.com/groups/loker/posts/%s","text":%q}`, tt.outcome, scamText))
			for range 2 { // Step Functions may run a task twice
				if _, err := s.CloseCase(context.Background(), CloseInput{CaseID: id, Outcome: tt.outcome}); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			got := 0
			for _, line := range strings.Split(buf.String(), "\n") {
				if strings.Contains(line, `"msg":"`+ManualQueueLog+`"`) && strings.Contains(line, id) {
					got++
				}
			}
			if got != tt.want {
				t.Fatalf("%d lines %q for %s, want %d:\n%s", got, ManualQueueLog, id, tt.want, buf.String())
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
