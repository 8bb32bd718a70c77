package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

// lockedBuffer collects logs written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// rawGet answers GET path on the API with the client's token, body as text.
func rawGet(t testing.TB, c client, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	return doRaw(t, req)
}

func doRaw(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// simPage fetches an ad's page from the simulator as the platform's host
// serves it.
func (f *flow) simPage(host, pathQuery string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.st.PlatformURL+pathQuery, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Host = host
	return doRaw(f.t, req)
}

// tableItems returns every item of the stack's table and of the engine's
// tables (executions, history), as JSON text.
func (f *flow) tableItems() map[string]string {
	f.t.Helper()
	ctx := context.Background()
	db := f.st.Table.DB
	out := map[string]string{}
	var names []string
	var start *string
	for {
		lt, err := db.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: start})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, n := range lt.TableNames {
			if n == f.st.Table.Name || strings.HasPrefix(n, f.st.Table.Name+"-") {
				names = append(names, n)
			}
		}
		if start = lt.LastEvaluatedTableName; start == nil {
			break
		}
	}
	for _, name := range names {
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(name)})
		var items []map[string]any
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				f.t.Fatal(err)
			}
			var got []map[string]any
			if err := attributevalue.UnmarshalListOfMaps(page.Items, &got); err != nil {
				f.t.Fatal(err)
			}
			items = append(items, got...)
		}
		b, _ := json.Marshal(items)
		out["table "+name] = string(b)
	}
	return out
}

// TestCredentialsInAReportedURLAreNeverKept reports an ad by a URL with a
// user name and password in it and follows it to the takedown: the 202
// answer warns, and neither the password nor the user name is anywhere a
// person or a platform could read it: the case, its history, the mails and
// Slack messages, the notices the platform received, the table, the files
// of the stack and its logs.
func TestCredentialsInAReportedURLAreNeverKept(t *testing.T) {
	const (
		user     = "pelapor.rahasia"
		password = "Sandi-9f3kQ27x"
		path     = "/groups/lokerluarnegeri/posts/5559101/?mibextid=abc"
	)
	reported := "https://" + user + ":" + password + "@m.facebook.com" + path
	canonical := "https://facebook.com/groups/lokerluarnegeri/posts/5559101"

	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(logger) // the handlers log through the default logger
	t.Cleanup(func() { slog.SetDefault(prev) })
	f := startFlow(t, Config{Log: logger})
	reporter := f.st.as(t, auth.Reporter)

	checkWarning := func(what string, out map[string]any) {
		t.Helper()
		ws, _ := out["warnings"].([]any)
		if len(ws) != 1 {
			t.Fatalf("%s: warnings %v, want one", what, out["warnings"])
		}
		w, _ := ws[0].(map[string]any)
		msg, _ := w["message"].(string)
		if w["field"] != "url" || w["code"] != "credentials_removed" || !strings.Contains(msg, "kata sandi") || !strings.Contains(msg, "password") {
			t.Fatalf("%s: warning %v", what, w)
		}
	}
	key := map[string]string{"Idempotency-Key": "crawler-run-9-item-1"}
	code, first := reporter.do("POST", "/reports", map[string]any{"url": reported, "text": scamAd}, key)
	if code != 202 {
		t.Fatalf("submit: %d %v", code, first)
	}
	checkWarning("first answer", first)
	// A retry with the same key gets the stored answer: with the warning.
	code, again := reporter.do("POST", "/reports", map[string]any{"url": reported, "text": scamAd}, key)
	if code != 202 || again["case_id"] != first["case_id"] || again["report_id"] != first["report_id"] {
		t.Fatalf("retry: %d %v, want the first answer %v", code, again, first)
	}
	checkWarning("replayed answer", again)
	id := first["case_id"].(string)
	// The same ad with a user name alone joins the case, also warned.
	code, dup := reporter.do("POST", "/reports", map[string]any{"url": "https://" + user + "@www.facebook.com/groups/lokerluarnegeri/posts/5559101", "text": scamAd}, nil)
	if code != 202 || dup["case_id"] != id || dup["duplicate"] != true {
		t.Fatalf("second report: %d %v", code, dup)
	}
	checkWarning("duplicate's answer", dup)
	// A report without credentials has no warnings at all.
	code, plain := reporter.do("POST", "/reports", map[string]any{"url": "https://x.com/lokerkamboja/status/5559102", "text": scamAd}, nil)
	if _, ok := plain["warnings"]; code != 202 || ok {
		t.Fatalf("report without credentials: %d %v", code, plain)
	}

	f.waitStatus(id, store.StatusAwaitingApprove) // approval mail and Slack message sent
	waitFor(t, func() bool {
		c, err := f.st.Table.GetCase(context.Background(), id)
		return err == nil && c.ReportCount == 2
	})
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent) // the platform got its notice

	auditor := f.st.as(t, auth.Auditor)
	code, caseBody := rawGet(t, auditor, "/cases/"+id)
	var cs store.Case
	if err := json.Unmarshal([]byte(caseBody), &cs); code != 200 || err != nil {
		t.Fatalf("GET case: %d %s", code, caseBody)
	}
	if cs.URL != "https://m.facebook.com"+path || cs.CanonicalURL != canonical {
		t.Fatalf("case url %q canonical %q", cs.URL, cs.CanonicalURL)
	}
	places := f.tableItems()
	places["GET /cases/{id}"] = caseBody
	code, places["GET /cases/{id}/events"] = rawGet(t, auditor, "/cases/"+id+"/events")
	if code != 200 || !strings.Contains(places["GET /cases/{id}/events"], `"valid":true`) {
		t.Fatalf("events: %d %s", code, places["GET /cases/{id}/events"])
	}
	simReq, _ := http.NewRequest("GET", f.st.PlatformURL+"/_sim/requests?format=json", nil)
	code, places["simulator /_sim/requests"] = doRaw(t, simReq)
	if code != 200 || !strings.Contains(places["simulator /_sim/requests"], id) {
		t.Fatalf("simulator requests: %d %s", code, places["simulator /_sim/requests"])
	}
	indexReq, _ := http.NewRequest("GET", f.st.PlatformURL+"/", nil)
	_, places["simulator index page"] = doRaw(t, indexReq)
	// Every file of the stack: outbox (mails decoded), evidence, keys, state.
	dataDir := filepath.Dir(f.st.Outbox.Dir)
	mails := 0
	err := filepath.WalkDir(dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		places["file "+p] = string(b)
		if strings.HasSuffix(p, ".eml") {
			places["mail "+p] = mailText(t, b)
			mails++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if mails == 0 {
		t.Fatal("no mail in the outbox")
	}
	places["logs"] = logs.String()
	for where, text := range places {
		for _, secret := range []string{password, user} {
			if strings.Contains(text, secret) {
				i := strings.Index(text, secret)
				t.Errorf("%s holds %q: …%s…", where, secret, text[max(0, i-80):min(len(text), i+80)])
			}
		}
	}

	// The simulated platform took the ad down once, in every form: the
	// form that was reported is gone like the canonical one.
	var sim struct {
		Ads []struct {
			URL     string `json:"url"`
			Removed bool   `json:"removed"`
		} `json:"ads"`
	}
	if err := json.Unmarshal([]byte(places["simulator /_sim/requests"]), &sim); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range sim.Ads {
		if strings.Contains(a.URL, "5559101") {
			n++
			if a.URL != canonical || !a.Removed {
				t.Errorf("simulator ad %+v, want %s removed", a, canonical)
			}
		}
	}
	if n != 1 {
		t.Errorf("simulator lists the ad %d times: %+v", n, sim.Ads)
	}
	for _, form := range [][2]string{{"m.facebook.com", path}, {"facebook.com", "/groups/lokerluarnegeri/posts/5559101"}, {"www.facebook.com", "/groups/lokerluarnegeri/posts/5559101/?fbclid=x"}} {
		code, page := f.simPage(form[0], form[1])
		if code != 200 || !strings.Contains(page, "This content isn&#39;t available") || strings.Contains(page, "KAMBOJA") {
			t.Errorf("%s%s after the takedown: %d %s", form[0], form[1], code, page)
		}
	}
}
