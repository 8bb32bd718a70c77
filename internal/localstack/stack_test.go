package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// startStack runs a local stack on free ports against the test DynamoDB
// Local, with a table of its own.
func startStack(t *testing.T) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Start(ctx, Config{DynamoDBEndpoint: testenv.Endpoint(t), Table: testenv.UniqueName(t, "stack")})
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

type client struct {
	t     testing.TB
	base  string
	token string
}

func (c client) do(method, path string, body any, hdr map[string]string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = bytes.NewBufferString(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

func (st *Stack) as(t testing.TB, role string) client {
	t.Helper()
	tok, err := st.Token("test-"+role, role)
	if err != nil {
		t.Fatal(err)
	}
	return client{t: t, base: st.APIURL, token: tok}
}

func TestRolesAndAuthenticationThroughTheLocalAPI(t *testing.T) {
	st := startStack(t)
	reporter, auditor, approver, admin := st.as(t, auth.Reporter), st.as(t, auth.Auditor), st.as(t, auth.Approver), st.as(t, auth.Admin)
	anon := client{t: t, base: st.APIURL}
	forged := client{t: t, base: st.APIURL, token: func() string {
		tok, _ := auth.Signer{Key: bytes.Repeat([]byte("x"), 32)}.Issue("mallory", []string{auth.Admin}, time.Hour)
		return tok
	}()}

	ad := map[string]any{"url": "https://www.facebook.com/groups/lokerluarnegeri/posts/5550001/?mibextid=abc", "text": "Dicari admin online Kamboja, visa turis"}
	code, rec := reporter.do("POST", "/reports", ad, nil)
	if code != 202 || rec["duplicate"] != false || rec["status"] != "received" {
		t.Fatalf("reporter submit: %d %v", code, rec)
	}
	id := rec["case_id"].(string)

	tests := []struct {
		name   string
		c      client
		method string
		path   string
		want   int
	}{
		{"no token", anon, "POST", "/reports", 401},
		{"forged token", forged, "GET", "/cases/" + id, 401},
		{"auditor cannot report", auditor, "POST", "/reports", 403},
		{"approver cannot report", approver, "POST", "/reports", 403},
		{"admin may report", admin, "POST", "/reports", 202},
		{"auditor reads case", auditor, "GET", "/cases/" + id, 200},
		{"admin reads events", admin, "GET", "/cases/" + id + "/events", 200},
		{"reporter cannot read events", reporter, "GET", "/cases/" + id + "/events", 403},
		{"approver cannot read events", approver, "GET", "/cases/" + id + "/events", 403},
		{"unknown case", auditor, "GET", "/cases/c_01jdzzzzzzzzzzzzzzzzzzzzzz", 404},
		{"malformed id", auditor, "GET", "/cases/..%2f..%2fetc", 404},
		{"unknown route", auditor, "GET", "/nope", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = ad
			}
			code, out := tt.c.do(tt.method, tt.path, body, nil)
			if code != tt.want {
				t.Fatalf("%s %s = %d %v, want %d", tt.method, tt.path, code, out, tt.want)
			}
		})
	}

	// A reporter sees only the status of its own case.
	code, got := reporter.do("GET", "/cases/"+id, nil, nil)
	if code != 200 || got["status"] != "received" || got["url"] != nil {
		t.Fatalf("reporter reading own case: %d %v", code, got)
	}
	other := client{t: t, base: st.APIURL, token: func() string { tok, _ := st.Token("someone-else", auth.Reporter); return tok }()}
	if code, _ := other.do("GET", "/cases/"+id, nil, nil); code != 404 {
		t.Fatalf("another reporter reading the case: %d, want 404", code)
	}
	// Bad input: a clear 400 naming the field.
	code, out := reporter.do("POST", "/reports", `{"url":"gopher://x"}`, nil)
	if e, _ := out["error"].(map[string]any); code != 400 || e["field"] != "url" {
		t.Fatalf("bad url: %d %v", code, out)
	}
}

func TestConcurrentReportsOfOneAdMakeOneCase(t *testing.T) {
	st := startStack(t)
	reporter := st.as(t, auth.Reporter)
	forms := []string{
		"https://www.facebook.com/groups/lokerkamboja/posts/5550777/",
		"http://m.facebook.com/groups/lokerkamboja/posts/5550777?fbclid=IwAR0abc",
		"https://web.facebook.com/groups/lokerkamboja/posts/5550777/?mibextid=Nif5oz",
		"https://FACEBOOK.com:443/groups/lokerkamboja/posts/5550777/#comments",
	}
	const n = 100
	var wg sync.WaitGroup
	type result struct {
		code int
		body map[string]any
	}
	results := make([]result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, body := reporter.do("POST", "/reports", map[string]any{"url": forms[i%len(forms)], "text": fmt.Sprintf("report %d", i)}, nil)
			results[i] = result{code, body}
		}(i)
	}
	wg.Wait()
	cases := map[string]bool{}
	reports := map[string]bool{}
	firsts := 0
	for i, r := range results {
		if r.code != 202 {
			t.Fatalf("report %d: %d %v", i, r.code, r.body)
		}
		cases[r.body["case_id"].(string)] = true
		reports[r.body["report_id"].(string)] = true
		if r.body["duplicate"] == false {
			firsts++
		}
	}
	if len(cases) != 1 || len(reports) != n || firsts != 1 {
		t.Fatalf("%d cases, %d reports, %d first reports; want 1, %d, 1", len(cases), len(reports), firsts, n)
	}
	var id string
	for id = range cases {
	}
	// Every report is durable at once (its own item); the case's count and
	// history follow from the stream, one event per report, none lost.
	if got := countReports(t, st, id); got != n {
		t.Fatalf("%d report items, want %d", got, n)
	}
	var c *store.Case
	var evs []history.Event
	reportEvents := 0
	waitFor(t, func() bool {
		var err error
		if c, err = st.Table.GetCase(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if evs, err = (history.Log{Table: st.Table}).List(context.Background(), id, 0, 0); err != nil {
			t.Fatal(err)
		}
		reportEvents = 0
		for _, e := range evs {
			if e.Type == "case_opened" || e.Type == "report_received" {
				reportEvents++
			}
		}
		return c.ReportCount == n && reportEvents == n
	})
	if err := history.Verify(evs, c.LastHash); err != nil {
		t.Fatalf("history chain: %v", err)
	}
	code, out := st.as(t, auth.Auditor).do("GET", "/cases/"+id+"/events", nil, nil)
	if chain, _ := out["chain"].(map[string]any); code != 200 || chain["valid"] != true || chain["length"].(float64) < float64(n) {
		t.Fatalf("events API: %d chain=%v", code, out["chain"])
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	st := startStack(t)
	reporter := st.as(t, auth.Reporter)
	ad := map[string]any{"url": "https://x.com/lokerluar/status/5550123", "text": "gaji 20jt"}
	hdr := map[string]string{"Idempotency-Key": "crawler-run-7-item-3"}
	c1, first := reporter.do("POST", "/reports", ad, hdr)
	c2, again := reporter.do("POST", "/reports", ad, hdr)
	if c1 != 202 || c2 != 202 || first["report_id"] != again["report_id"] || first["case_id"] != again["case_id"] {
		t.Fatalf("retry answered differently: %v / %v", first, again)
	}
	if got := countReports(t, st, first["case_id"].(string)); got != 1 {
		t.Fatalf("the retry wrote a report: %d report items", got)
	}
	// The same key with another body is refused; a new key is a new report.
	ad["text"] = "changed"
	if code, out := reporter.do("POST", "/reports", ad, hdr); code != 422 {
		t.Fatalf("reused key with another body: %d %v", code, out)
	}
	code, dup := reporter.do("POST", "/reports", ad, map[string]string{"Idempotency-Key": "crawler-run-7-item-4"})
	if code != 202 || dup["duplicate"] != true {
		t.Fatalf("second report: %d %v", code, dup)
	}
}

// countReports counts a case's REPORT# items.
func countReports(t testing.TB, st *Stack, id string) int {
	t.Helper()
	out, err := st.Table.DB.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(st.Table.Name),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.CasePK(id)}, ":r": &types.AttributeValueMemberS{Value: store.PrefixReport},
		},
		Select: types.SelectCount, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// Settle returns once the stack is at rest: a report's stream record has
// started its workflow, the workflow has run to its first wait (the
// agencies' approval) and the stream readers have handed over what it
// wrote (the tally counts the new case). Benchmarks time requests against
// a stack at rest with it.
func TestSettleWaitsForTheStreamsAndTheWorkflows(t *testing.T) {
	st := startStack(t)
	code, rec := st.as(t, auth.Reporter).do("POST", "/reports", map[string]any{"url": "https://www.facebook.com/groups/lokerluarnegeri/posts/5550777/", "text": scamAd}, nil)
	if code != 202 {
		t.Fatalf("report: %d %v", code, rec)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := st.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := st.Table.GetCase(ctx, rec["case_id"].(string))
	if err != nil || c.Status != store.StatusAwaitingApprove {
		t.Fatalf("after Settle the case is %+v (%v), want it awaiting approval", c, err)
	}
	code, stats := st.as(t, auth.Auditor).do("GET", "/stats/compliance", nil, nil)
	if total, _ := stats["total"].(map[string]any); code != 200 || total["cases"] != 1.0 {
		t.Fatalf("after Settle the figures are %d %v, want the new case counted", code, stats)
	}
}
