package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/testenv"
)

func startReporterStack(t *testing.T) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Start(ctx, Config{DynamoDBEndpoint: testenv.Endpoint(t), Table: testenv.UniqueName(t, "rep"),
		Parameters: map[string]string{"ReporterRateLimits": "slow=6/m:3"}})
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

func postRaw(t *testing.T, url, token, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// 1,000 reports in two batches (a JSON array and NDJSON), each ad twice
// under two spellings of its URL, the two copies racing inside one batch:
// one case per ad, every report kept.
func TestBatchOfDuplicatesIsOneCasePerAd(t *testing.T) {
	st := startReporterStack(t)
	tok, _ := st.Token("crawler-batch", auth.Reporter)
	const ads = 500
	item := func(i int, variant bool) map[string]any {
		u := fmt.Sprintf("https://www.facebook.com/groups/jualbeli/posts/77%05d/", i)
		if variant {
			u = fmt.Sprintf("http://m.facebook.com/groups/jualbeli/posts/77%05d?utm_source=crawler", i)
		}
		return map[string]any{"url": u, "text": "Dijual sepeda lipat bekas, mulus", "idempotency_key": fmt.Sprintf("run-1-%d-%v", i, variant)}
	}
	caseOf := map[int]string{}
	firsts := map[int]int{}
	// post sends items as one batch and answers one result per item,
	// sending again what the batch had no time for, as a crawler would.
	var post func(items []map[string]any, ndjson bool) []report.BatchResult
	post = func(items []map[string]any, ndjson bool) []report.BatchResult {
		var body bytes.Buffer
		ct := "application/json"
		if ndjson {
			ct = "application/x-ndjson"
			for _, it := range items {
				b, _ := json.Marshal(it)
				body.Write(append(b, '\n'))
			}
		} else {
			b, _ := json.Marshal(items)
			body.Write(b)
		}
		code, _, raw := postRaw(t, st.APIURL+"/reports/batch", tok, ct, body.Bytes())
		var ans report.BatchAnswer
		if err := json.Unmarshal(raw, &ans); code != 200 || err != nil {
			t.Fatalf("batch: %d %s", code, raw)
		}
		if ans.Accepted+ans.NotProcessed != len(items) || ans.Rejected != 0 || len(ans.Results) != len(items) {
			first := ""
			for _, r := range ans.Results {
				if r.Status != 202 {
					first = fmt.Sprintf("%+v", r)
					break
				}
			}
			t.Fatalf("batch: accepted %d rejected %d not processed %d of %d; first refused: %s", ans.Accepted, ans.Rejected, ans.NotProcessed, len(items), first)
		}
		if ans.NotProcessed == 0 {
			return ans.Results
		}
		var rest []map[string]any
		var at []int
		for k, r := range ans.Results {
			if r.Status == 503 && r.Error != nil && r.Error.Code == "not_processed" {
				rest, at = append(rest, items[k]), append(at, k)
			}
		}
		t.Logf("%d of %d items not processed in time: sending them again", len(rest), len(items))
		for j, r := range post(rest, ndjson) {
			r.Index = at[j]
			ans.Results[at[j]] = r
		}
		return ans.Results
	}
	send := func(from, to int, ndjson bool) {
		var items []map[string]any
		for i := from; i < to; i++ {
			items = append(items, item(i, false), item(i, true))
		}
		for k, r := range post(items, ndjson) {
			ad := from + k/2
			if r.Index != k || r.Status != 202 || r.Receipt == nil {
				t.Fatalf("item %d: %+v", k, r)
			}
			if c, ok := caseOf[ad]; ok && c != r.CaseID {
				t.Fatalf("ad %d in two cases: %s and %s", ad, c, r.CaseID)
			}
			caseOf[ad] = r.CaseID
			if !r.Duplicate {
				firsts[ad]++
			}
		}
	}
	send(0, ads/2, false)
	send(ads/2, ads, true)
	cases := map[string]bool{}
	for ad := 0; ad < ads; ad++ {
		cases[caseOf[ad]] = true
		if firsts[ad] != 1 {
			t.Fatalf("ad %d opened %d cases", ad, firsts[ad])
		}
	}
	if len(cases) != ads {
		t.Fatalf("%d cases for %d ads", len(cases), ads)
	}
	if n := countItems(t, st, "CASE#", "REPORT#"); n != 2*ads {
		t.Fatalf("%d reports in the table, want %d", n, 2*ads)
	}
	// Each is also kept under the crawler's pseudonym ("my reports").
	if n := countItems(t, st, "MYREPORTS#", "REPORT#"); n != 2*ads {
		t.Fatalf("%d reports under the reporter's pseudonym, want %d", n, 2*ads)
	}
	// A retry of the whole first batch replays each answer and writes nothing.
	var again []map[string]any
	for i := 0; i < 3; i++ {
		again = append(again, item(i, false))
	}
	b, _ := json.Marshal(again)
	_, _, raw := postRaw(t, st.APIURL+"/reports/batch", tok, "application/json", b)
	var ans report.BatchAnswer
	_ = json.Unmarshal(raw, &ans)
	for i, r := range ans.Results {
		if r.Receipt == nil || r.CaseID != caseOf[i] {
			t.Fatalf("replay %d: %s", i, raw)
		}
	}
	if n := countItems(t, st, "CASE#", "REPORT#"); n != 2*ads {
		t.Fatalf("a replayed batch wrote reports: %d", n)
	}
}

// countItems counts the items whose keys start with pkPrefix and skPrefix.
func countItems(t *testing.T, st *Stack, pkPrefix, skPrefix string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(st.Table.DB, &dynamodb.ScanInput{
		TableName: aws.String(st.Table.Name), Select: types.SelectCount, ConsistentRead: aws.Bool(true),
		FilterExpression: aws.String("begins_with(PK, :k) AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": &types.AttributeValueMemberS{Value: pkPrefix}, ":p": &types.AttributeValueMemberS{Value: skPrefix},
		},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += int(out.Count)
	}
	return n
}

// Bad items get their own field error; the others are recorded. Limits of
// the body are answered as a whole.
func TestBatchBadItemsAndLimits(t *testing.T) {
	st := startReporterStack(t)
	tok, _ := st.Token("ngo-batch", auth.Reporter)
	body := `[{"url":"https://twitter.com/lokerkamboja/status/990001"},
	 {"url":"ftp://x.example/ad"},
	 {"url":"https://twitter.com/lokerkamboja/status/990002","colour":"red"},
	 {"text":"no url"},
	 {"url":"https://twitter.com/lokerkamboja/status/990003","idempotency_key":"bad key with spaces"},
	 "not an object",
	 {"url":"https://twitter.com/lokerkamboja/status/990004","category":"scam_compound"}]`
	code, _, raw := postRaw(t, st.APIURL+"/reports/batch", tok, "application/json", []byte(body))
	var ans report.BatchAnswer
	if err := json.Unmarshal(raw, &ans); code != 200 || err != nil {
		t.Fatalf("%d %s", code, raw)
	}
	wantField := []string{"", "url", "colour", "url", "idempotency_key", "body", ""}
	for i, r := range ans.Results {
		switch {
		case wantField[i] == "" && (r.Status != 202 || r.Receipt == nil):
			t.Errorf("item %d: %+v, want 202", i, r)
		case wantField[i] != "" && (r.Status != 400 || r.Error == nil || r.Error.Field != wantField[i]):
			t.Errorf("item %d: %+v, want 400 naming %s", i, r, wantField[i])
		}
	}
	if ans.Accepted != 2 || ans.Rejected != 5 {
		t.Errorf("accepted %d rejected %d", ans.Accepted, ans.Rejected)
	}
	var many strings.Builder
	for i := 0; i < report.MaxBatchItems+1; i++ {
		fmt.Fprintf(&many, "{\"url\":\"https://twitter.com/a/status/%d\"}\n", i)
	}
	for _, tc := range []struct {
		name, ct, body string
		want           int
		field          string
	}{
		{"too many items", "application/x-ndjson", many.String(), 413, "body"},
		{"empty", "application/json", "  ", 400, "body"},
		{"not an array", "application/json", `[{"url":1}`, 400, "body"},
		{"too large", "application/json", "[" + strings.Repeat(" ", report.MaxBatchBytes) + "]", 413, "body"},
	} {
		code, _, raw := postRaw(t, st.APIURL+"/reports/batch", tok, tc.ct, []byte(tc.body))
		if code != tc.want || !strings.Contains(string(raw), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s", tc.name, code, raw)
		}
	}
	if code, _, _ := postRaw(t, st.APIURL+"/reports/batch", "", "application/json", []byte(`[]`)); code != 401 {
		t.Errorf("no token: %d", code)
	}
	aud, _ := st.Token("aud", auth.Auditor)
	if code, _, _ := postRaw(t, st.APIURL+"/reports/batch", aud, "application/json", []byte(`[{"url":"https://x.com/a/status/1"}]`)); code != 403 {
		t.Errorf("auditor: %d", code)
	}
}

// An admin puts a reporter in a class; its limit then holds, with a 429 and
// Retry-After, and a batch larger than its burst is refused whole.
// GET /reporters/me shows the reporter its own record.
func TestRateLimitPerReporterClass(t *testing.T) {
	st := startReporterStack(t)
	admin, reporter := st.as(t, auth.Admin), client{t: t, base: st.APIURL}
	reporter.token, _ = st.Token("slow-reporter", auth.Reporter)
	if code, out := reporter.do("PUT", "/reporters/slow-reporter", map[string]any{"class": "slow"}, nil); code != 403 {
		t.Fatalf("a reporter set its own class: %d %v", code, out)
	}
	if code, out := admin.do("PUT", "/reporters/slow-reporter", map[string]any{"class": "nope"}, nil); code != 400 || !strings.Contains(fmt.Sprint(out), "class") {
		t.Fatalf("unknown class: %d %v", code, out)
	}
	if code, out := admin.do("PUT", "/reporters/slow-reporter", map[string]any{"class": "slow"}, nil); code != 200 || out["class"] != "slow" {
		t.Fatalf("set class: %d %v", code, out)
	}
	code, out := reporter.do("GET", "/reporters/me", nil, nil)
	rl, _ := out["rate_limit"].(map[string]any)
	if code != 200 || out["reporter"] != "slow-reporter" || rl["class"] != "slow" || rl["per_minute"] != 6.0 || rl["burst"] != 3.0 || out["trusted_flagger"] != false {
		t.Fatalf("me: %d %v", code, out)
	}
	if strings.Contains(fmt.Sprint(out), "test-admin") {
		t.Fatalf("me names the admin: %v", out)
	}
	b, _ := json.Marshal([]map[string]any{{"url": "https://x.com/a/status/1"}, {"url": "https://x.com/a/status/2"}, {"url": "https://x.com/a/status/3"}, {"url": "https://x.com/a/status/4"}})
	if code, _, raw := postRaw(t, st.APIURL+"/reports/batch", reporter.token, "application/json", b); code != 413 {
		t.Fatalf("batch over the burst: %d %s", code, raw)
	}
	for i := 0; i < 3; i++ {
		if code, out := reporter.do("POST", "/reports", map[string]any{"url": fmt.Sprintf("https://x.com/slow/status/%d", i)}, nil); code != 202 {
			t.Fatalf("report %d: %d %v", i, code, out)
		}
	}
	req, _ := http.NewRequest("POST", st.APIURL+"/reports", strings.NewReader(`{"url":"https://x.com/slow/status/9"}`))
	req.Header.Set("Authorization", "Bearer "+reporter.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(raw), "rate_limited") {
		t.Fatalf("4th report: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	// Other reporters keep their own bucket.
	if code, _ := st.as(t, auth.Reporter).do("POST", "/reports", map[string]any{"url": "https://x.com/fast/status/1"}, nil); code != 202 {
		t.Fatalf("another reporter: %d", code)
	}
}

// An admin grants trusted-flagger status: the case such a reporter opens,
// and a case it reports again, carry trusted_flagger for approvers'
// inboxes; GET /reporters/me shows the status.
func TestTrustedFlaggerMarksItsCases(t *testing.T) {
	st := startReporterStack(t)
	admin, auditor := st.as(t, auth.Admin), st.as(t, auth.Auditor)
	trusted, plain := client{t: t, base: st.APIURL}, st.as(t, auth.Reporter)
	trusted.token, _ = st.Token("agency-desk", auth.Reporter)
	if code, out := admin.do("PUT", "/reporters/agency-desk", map[string]any{"trusted_flagger": true}, nil); code != 200 || out["trusted_flagger"] != true || out["trusted_since"] == nil {
		t.Fatalf("grant: %d %v", code, out)
	}
	if _, me := trusted.do("GET", "/reporters/me", nil, nil); me["trusted_flagger"] != true || me["rate_limit"].(map[string]any)["class"] != "trusted" {
		t.Fatalf("me: %v", me)
	}
	_, own := trusted.do("POST", "/reports", map[string]any{"url": "https://x.com/loker/status/4401"}, nil)
	_, other := plain.do("POST", "/reports", map[string]any{"url": "https://x.com/loker/status/4402"}, nil)
	_, again := trusted.do("POST", "/reports", map[string]any{"url": "https://twitter.com/loker/status/4402"}, nil)
	if again["case_id"] != other["case_id"] || again["duplicate"] != true {
		t.Fatalf("join: %v %v", other, again)
	}
	flag := func(id any) bool {
		_, c := auditor.do("GET", "/cases/"+id.(string), nil, nil)
		return c["trusted_flagger"] == true
	}
	if !flag(own["case_id"]) {
		t.Fatal("the trusted flagger's own case is not marked")
	}
	waitFor(t, func() bool { return flag(other["case_id"]) })
	if code, out := admin.do("PUT", "/reporters/agency-desk", map[string]any{"trusted_flagger": false}, nil); code != 200 || out["trusted_flagger"] != false || out["trusted_since"] != nil {
		t.Fatalf("withdraw: %d %v", code, out)
	}
}
