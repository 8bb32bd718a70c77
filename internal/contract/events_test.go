package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tangkal/tangkal/internal/agency"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/bundle"
	"github.com/tangkal/tangkal/internal/console"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
	"github.com/tangkal/tangkal/internal/wiring"
	"github.com/tangkal/tangkal/internal/workflow"
)

// What the sample events in events/ were made with (events/env.json holds
// the same secrets for `sam local invoke --env-vars events/env.json`).
const (
	sampleCase           = "c_01kqexamp1ecase00000000000"
	sampleApproval       = "ap_0123456789abcdef0123456789"
	sampleSlackApproval  = "ap_fedcba9876543210fedcba9876"
	sampleTokenApproval  = "ap_00000000000000000000decide"
	sampleReport         = "r_01kqexamp1ereport000000000"
	sampleApprover       = "approver@kp2mi.local"
	sampleSlackUser      = "U0SAMPLEAPPROVER"
	sampleApprovalSecret = "sample-approval-signing-secret-for-local-invoke"
	sampleSlackSecret    = "sample-slack-signing-secret-for-local-invoke"
	sampleLinkExpiry     = 4102444800
	sampleEvidenceSecret = "sample-evidence-link-secret-for-local-invoke"
	sampleAnchorKey      = "sample-anchor-mac-key-for-local-invoke"
	sampleBundleSecret   = "sample-bundle-signing-secret-for-local-invoke"
	// samplePublicSecret signed the challenge the public report sample
	// solves (it expires 10 minutes after the samples' time).
	samplePublicSecret = "sample-public-challenge-secret-for-local-invoke"
	// sampleEvidenceBody is the stored copy events/evidence-get-evidence.json
	// names by its SHA-256 (its link expires at sampleLinkExpiry).
	sampleEvidenceBody = "<html><body>LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt, visa turis, paspor dipegang</body></html>"
)

var sampleNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// stepFunctions stands in for the Step Functions API at its wire protocol
// (AWS JSON 1.0): it records StartExecution and SendTaskSuccess calls.
type stepFunctions struct {
	mu    sync.Mutex
	calls []string // "<operation> <name or token>"
}

func (s *stepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch op {
	case "StartExecution":
		s.calls = append(s.calls, op+" "+in["name"].(string))
		json.NewEncoder(w).Encode(map[string]any{"executionArn": "arn:aws:states:ap-southeast-3:000000000000:execution:tangkal-takedown:" + in["name"].(string), "startDate": sampleNow.Unix()})
	case "SendTaskSuccess":
		s.calls = append(s.calls, op+" "+in["taskToken"].(string))
		io.WriteString(w, "{}")
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"UnknownOperationException","message":"not served by the test stand-in"}`)
	}
}

func (s *stepFunctions) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// toSim sends every request to the platform simulator, keeping the Host.
type toSim struct{ addr string }

func (p toSim) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme, r2.URL.Host = "http", p.addr
	return http.DefaultTransport.RoundTrip(r2)
}

type sampleEnv struct {
	deps     wiring.Deps
	handlers map[string]any
	sfn      *stepFunctions
	sim      *platformsim.Sim
	outbox   *outbox.Folder
	byDir    map[string]string // function folder name → logical id
}

func newSampleEnv(t *testing.T, tpl *samtemplate.Template) *sampleEnv {
	t.Helper()
	ctx := context.Background()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "events")
	if err := testenv.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	// As an operator does after a deployment (VerifyAd refuses an empty registry).
	if _, err := registry.Load(ctx, store.Table{DB: db, Name: name}, registry.Default()); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return sampleNow }
	e := &sampleEnv{sfn: &stepFunctions{}, byDir: map[string]string{}}
	sfnSrv := httptest.NewServer(e.sfn)
	t.Cleanup(sfnSrv.Close)

	pc, err := platform.Default()
	if err != nil {
		t.Fatal(err)
	}
	webhookSecret := []byte("sample-webhook-secret-0123456789abcdef")
	secrets := map[string][]byte{}
	for id := range pc.Platforms {
		secrets[id] = webhookSecret
	}
	if e.sim, err = platformsim.New(platformsim.Options{Config: pc, Secrets: secrets, Now: now}); err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(e.sim)
	t.Cleanup(simSrv.Close)
	simAddr := strings.TrimPrefix(simSrv.URL, "http://")
	routes := map[string]string{}
	for _, p := range pc.Platforms {
		for _, h := range p.Hosts {
			routes[h] = simSrv.URL
		}
	}
	if e.outbox, err = outbox.NewFolder(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.outbox.Now = now
	// The samples' dependencies come from the one composition root too.
	e.deps, err = wiring.Build(wiring.Settings{
		Table: name, StateMachineARN: "arn:aws:states:ap-southeast-3:000000000000:stateMachine:tangkal-takedown",
		Sender: "tangkal@kp2mi.local", PublicURL: "http://127.0.0.1:3000",
	}, wiring.Secrets{
		ApprovalKey: []byte(sampleApprovalSecret), WebhookKey: func(string) []byte { return webhookSecret },
		SlackSigningSecret: []byte(sampleSlackSecret), EvidenceLinkKey: []byte(sampleEvidenceSecret),
		AnchorKey: []byte(sampleAnchorKey), PseudonymKey: []byte("sample-pseudonym-key-for-local-invoke"), ConsoleKey: []byte(strings.Repeat("c", 32)),
		BundleSecret:       []byte(sampleBundleSecret),
		PublicChallengeKey: []byte(samplePublicSecret),
	}, wiring.Services{
		Anchor:   anchor.Folder{Dir: t.TempDir()},
		DynamoDB: db, SFN: sfn.NewFromConfig(aws.Config{Region: "ap-southeast-3", BaseEndpoint: aws.String(sfnSrv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}),
		Mailer: e.outbox, Evidence: evidence.Folder{Dir: t.TempDir()},
		Fetch:          safefetch.Options{Routes: routes, Clock: now},
		PlatformHTTP:   &http.Client{Timeout: 10 * time.Second, Transport: toSim{addr: simAddr}},
		ConsoleMembers: []console.Member{{Subject: "ngo-sari", Name: "Sari", Roles: []string{"reporter"}}},
		Now:            now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.deps.SlackNow = now // the sample click was signed at the samples' time
	e.handlers = wiring.Handlers(e.deps)
	for _, f := range tpl.Functions() {
		e.byDir[filepath.Base(f.Dir)] = f.LogicalID
	}
	return e
}

// function is the logical id a sample belongs to: its name up to the
// first '-' is the function's folder.
func (e *sampleEnv) function(t *testing.T, file string) string {
	t.Helper()
	dir, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(file), ".json"), "-")
	id, ok := e.byDir[dir]
	if !ok {
		t.Fatalf("%s: no function folder functions/%s in template.yaml", file, dir)
	}
	return id
}

// decode reads a sample strictly into the handler's event type.
func decode(t *testing.T, file string, typ reflect.Type) reflect.Value {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v := reflect.New(typ)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		t.Fatalf("%s does not decode into %s: %v", file, typ, err)
	}
	return v.Elem()
}

// invoke decodes a sample and calls the real handler with it, as the
// Lambda runtime would; mod may adjust the decoded event first.
func (e *sampleEnv) invoke(t *testing.T, file string, mod func(v any)) (any, error) {
	t.Helper()
	h := e.handlers[e.function(t, file)]
	in, _ := handlerTypes(t, h)
	ev := decode(t, file, in)
	if mod != nil {
		p := reflect.New(in)
		p.Elem().Set(ev)
		mod(p.Interface())
		ev = p.Elem()
	}
	out := reflect.ValueOf(h).Call([]reflect.Value{reflect.ValueOf(context.Background()), ev})
	err, _ := out[1].Interface().(error)
	return out[0].Interface(), err
}

func (e *sampleEnv) http(t *testing.T, file string, want int) map[string]any {
	t.Helper()
	out, err := e.invoke(t, file, nil)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	resp := out.(api.Response)
	if resp.StatusCode != want {
		t.Fatalf("%s answered %d %s, want %d", file, resp.StatusCode, resp.Body, want)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &m)
	if m == nil {
		m = map[string]any{"html": resp.Body}
	}
	return m
}

func TestSampleEventsDriveTheRealHandlers(t *testing.T) {
	tpl := loadTemplate(t)
	files, _ := filepath.Glob(filepath.Join(tpl.Dir, "events", "*.json"))
	sort.Strings(files)
	e := newSampleEnv(t, tpl)
	path := func(name string) string { return filepath.Join(tpl.Dir, "events", name) }
	used := map[string]bool{}
	use := func(name string) string { used[path(name)] = true; return path(name) }

	// Every sample decodes strictly into its handler's event type.
	covered := map[string]bool{}
	for _, f := range files {
		if filepath.Base(f) == "env.json" {
			continue
		}
		id := e.function(t, f)
		covered[id] = true
		in, _ := handlerTypes(t, e.handlers[id])
		decode(t, f, in)
	}
	for _, f := range tpl.Functions() {
		if !covered[f.LogicalID] {
			t.Errorf("no sample event for %s in events/", f.LogicalID)
		}
	}
	for _, f := range tpl.Functions() {
		for _, ev := range f.Events {
			if ev.Type != "HttpApi" {
				continue
			}
			found := false
			for _, file := range files {
				b, _ := os.ReadFile(file)
				found = found || strings.Contains(string(b), `"routeKey": "`+ev.Method+" "+ev.Path+`"`)
			}
			if !found {
				t.Errorf("no sample event for route %s %s", ev.Method, ev.Path)
			}
		}
	}

	// Before the case exists.
	e.http(t, use("casesapi-get-case.json"), 404)
	e.http(t, use("casesapi-get-related-cases.json"), 404)

	// The report opens the case (its id pinned to the samples' case id),
	// and the same request through the function's handler joins it.
	in, _ := handlerTypes(t, e.handlers["SubmitReportFunction"])
	req := decode(t, path("submitreport-post-reports.json"), in).Interface().(api.Request)
	pinned := report.Handler{Intake: report.Intake{Table: e.deps.Table, Now: e.deps.Now, PseudonymKey: e.deps.PseudonymKey, NewID: func(prefix string, now time.Time) string {
		if prefix == "c_" {
			return sampleCase
		}
		return ident.New(prefix, now)
	}}}
	resp, err := api.Handle(pinned.Submit)(context.Background(), req)
	if err != nil || resp.StatusCode != 202 || !strings.Contains(resp.Body, sampleCase) {
		t.Fatalf("open the sample case: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	if got := e.http(t, use("submitreport-post-reports.json"), 202); got["case_id"] != sampleCase {
		t.Fatalf("sample report: %v, want case %s", got, sampleCase)
	}
	// A further report of the ad, with the id the RecordReports sample
	// names: its stream record adds it to the case's history and count,
	// once however often the record is delivered.
	pinnedReport := report.Handler{Intake: report.Intake{Table: e.deps.Table, Now: e.deps.Now, PseudonymKey: e.deps.PseudonymKey, NewID: func(prefix string, now time.Time) string {
		if prefix == "r_" {
			return sampleReport
		}
		return ident.New(prefix, now)
	}}}
	again := req
	again.Headers = map[string]string{}
	for k, v := range req.Headers {
		if !strings.EqualFold(k, "Idempotency-Key") { // a new report, not a retry
			again.Headers[k] = v
		}
	}
	if resp, err := api.Handle(pinnedReport.Submit)(context.Background(), again); err != nil || resp.StatusCode != 202 || !strings.Contains(resp.Body, sampleReport) {
		t.Fatalf("the sample duplicate report: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	for i := 0; i < 2; i++ {
		out, err := e.invoke(t, use("recordreports-duplicate-report.json"), nil)
		if r := out.(events.DynamoDBEventResponse); err != nil || len(r.BatchItemFailures) != 0 {
			t.Fatalf("record reports: %+v %v", out, err)
		}
	}
	if c, err := e.deps.Table.GetCase(context.Background(), sampleCase); err != nil || c.ReportCount != 2 {
		t.Fatalf("after RecordReports: %+v %v, want report_count 2 (the opening report and the sample duplicate)", c, err)
	}

	// The stream record of the new case starts one execution named after it.
	out, err := e.invoke(t, use("startworkflow-new-case.json"), nil)
	if r := out.(events.DynamoDBEventResponse); err != nil || len(r.BatchItemFailures) != 0 {
		t.Fatalf("start workflow: %+v %v", out, err)
	}
	if calls := e.sfn.seen(); len(calls) != 1 || calls[0] != "StartExecution "+sampleCase {
		t.Fatalf("Step Functions calls %v", calls)
	}

	// A crawler's batch (NDJSON): two spellings of the ad join the case,
	// a bad item is answered on its own. An admin makes the
	// reporter a trusted flagger; the reporter sees its own record.
	var batch report.BatchAnswer
	if err := json.Unmarshal([]byte(toJSON(e.http(t, use("submitreport-post-reports-batch.json"), 200))), &batch); err != nil ||
		batch.Accepted != 2 || batch.Duplicates != 2 || batch.Rejected != 1 || batch.Results[1].CaseID != sampleCase || batch.Results[2].Error.Field != "url" {
		t.Fatalf("batch sample: %+v %v", batch, err)
	}
	if got := e.http(t, use("submitreport-put-reporter.json"), 200); got["trusted_flagger"] != true {
		t.Fatalf("grant trusted flagger: %v", got)
	}
	if got := e.http(t, use("submitreport-get-reporters-me.json"), 200); got["trusted_flagger"] != true || got["reporter"] != "9c4d5e6f-reporter-0001" {
		t.Fatalf("reporter's own record: %v", got)
	}
	if got := e.http(t, use("submitreport-put-reporters-me.json"), 200); got["notify_email"] != "analyst@ngo.example" {
		t.Fatalf("reporter's e-mail for feedback: %v", got)
	}

	// The workflow's steps, in order, on the sample case, whose ad is
	// online on the simulated platform.
	var ad struct{ URL, Text string }
	if err := json.Unmarshal([]byte(req.Body), &ad); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Seed(ad.URL, ad.Text); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		file  string
		check func(out any) bool
	}{
		{"verifyad.json", func(o any) bool { return o.(workflow.VerifyOutput).Route == workflow.RouteNeedsApproval }},
		{"requestapproval.json", func(o any) bool { return strings.HasPrefix(o.(workflow.ApprovalOutput).ApprovalID, approval.IDPrefix) }},
		{"sendtakedown.json", func(o any) bool {
			return o.(workflow.NoticeOutput).Deadline == store.FormatTime(sampleNow.Add(4*time.Hour))
		}},
		{"checkcompliance.json", func(o any) bool {
			c := o.(workflow.CheckOutput)
			return c.Removed && c.Outcome == store.StatusRemovedInTime
		}},
		{"escalate.json", func(o any) bool { return o.(workflow.NoticeOutput).Level == 1 }},
		{"closecase.json", func(any) bool { return true }},
	}
	for _, s := range steps {
		out, err := e.invoke(t, use(s.file), nil)
		if err != nil || !s.check(out) {
			t.Fatalf("%s: %+v %v", s.file, out, err)
		}
		if s.file == "sendtakedown.json" {
			// The platform lists the notice and answers it.
			if got := toJSON(e.http(t, use("platformapi-list-notices.json"), 200)); !strings.Contains(got, `"ref":"`+sampleCase+`"`) || strings.Contains(got, "reporter") {
				t.Fatalf("the platform's open notices: %s", got)
			}
			if got := e.http(t, use("platformapi-answer-notice.json"), 200); got["answer"] != "acknowledged" {
				t.Fatalf("the platform's answer: %v", got)
			}
		}
	}
	// No objection is pending: the agency's decision is refused, and an
	// objection task that lapsed records only that.
	e.http(t, use("platformapi-decide-objection.json"), 409)
	if out, err := e.invoke(t, use("requestobjectiondecision.json"), nil); err != nil || out.(workflow.ObjectionOutput).Decision != store.ObjectionLapsed {
		t.Fatalf("requestobjectiondecision.json: %+v %v", out, err)
	}
	c, err := e.deps.Table.GetCase(context.Background(), sampleCase)
	if err != nil || c.Status != store.StatusRemovedInTime || c.TakedownAt == "" {
		t.Fatalf("sample case after the steps: %+v %v", c, err)
	}
	if n := len(e.sim.Requests()); n != 1 {
		t.Fatalf("platform's webhook received %d takedown requests, want 1", n)
	}
	var mailed []string
	mails, _ := filepath.Glob(filepath.Join(e.outbox.Dir, "*.eml"))
	for _, m := range mails {
		b, _ := os.ReadFile(m)
		for _, to := range []string{sampleApprover, "trust-safety@facebook.example"} {
			if bytes.Contains(b, []byte("To: "+to)) || bytes.Contains(b, []byte("To: <"+to+">")) {
				mailed = append(mailed, to)
			}
		}
	}
	if sort.Strings(mailed); strings.Join(mailed, ",") != sampleApprover+",trust-safety@facebook.example" {
		t.Fatalf("mailed %v, want the approval request and warning 1", mailed)
	}
	// Warning 1 links the case's stored copy on the API, not where it is kept.
	hash, ok := evidence.HashOf(c.Evidence)
	if !ok {
		t.Fatalf("the sample case kept no evidence copy (%q)", c.Evidence)
	}
	for _, m := range mails {
		raw, _ := os.ReadFile(m)
		if !bytes.Contains(raw, []byte("trust-safety@facebook.example")) {
			continue
		}
		text, _, err := outbox.Bodies(raw)
		if err != nil || !strings.Contains(text, "http://127.0.0.1:3000/evidence/"+hash+"?exp=") || strings.Contains(text, "file://") {
			t.Fatalf("warning 1 does not link the evidence copy %s on the API (%v):\n%s", hash, err, text)
		}
	}

	// The read API on the finished case.
	if got := e.http(t, use("casesapi-get-case.json"), 200); got["case_id"] != sampleCase {
		t.Fatalf("get case: %v", got)
	}
	if chain, _ := e.http(t, use("casesapi-get-case-events.json"), 200)["chain"].(map[string]any); chain["valid"] != true {
		t.Fatalf("history chain: %v", chain)
	}
	if got := e.http(t, use("casesapi-get-related-cases.json"), 200); got["verified"] != true {
		t.Fatalf("related: %v", got)
	}
	if got := e.http(t, use("casesapi-get-entity.json"), 200); !strings.Contains(toJSON(got), sampleCase) {
		t.Fatalf("entity lookup does not list the sample case: %v", got)
	}
	e.http(t, use("casesapi-list-cases.json"), 200)
	// The history's external copy: the sample's event (of a case of its
	// own), then every event of the sample case, as the stream delivers them.
	if out, err := e.invoke(t, use("anchor-history-event.json"), nil); err != nil || len(out.(events.DynamoDBEventResponse).BatchItemFailures) != 0 {
		t.Fatalf("anchor sample: %+v %v", out, err)
	}
	evs, err := (&history.Log{Table: e.deps.Table}).List(context.Background(), sampleCase, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.invoke(t, path("anchor-history-event.json"), func(v any) { *v.(*events.DynamoDBEvent) = streamOf(evs) }); err != nil || len(out.(events.DynamoDBEventResponse).BatchItemFailures) != 0 {
		t.Fatalf("anchor the sample case: %+v %v", out, err)
	}
	// The counters of the exports: the sample's event, then the sample
	// case's events, as the stream delivers them (twice: counted once).
	if out, err := e.invoke(t, use("tally-history-event.json"), nil); err != nil || len(out.(events.DynamoDBEventResponse).BatchItemFailures) != 0 {
		t.Fatalf("tally sample: %+v %v", out, err)
	}
	for range 2 {
		if out, err := e.invoke(t, path("tally-history-event.json"), func(v any) { *v.(*events.DynamoDBEvent) = streamOf(evs) }); err != nil || len(out.(events.DynamoDBEventResponse).BatchItemFailures) != 0 {
			t.Fatalf("tally the sample case: %+v %v", out, err)
		}
	}
	if got := toJSON(e.http(t, use("casesapi-get-transparency-report.json"), 200)); !strings.Contains(got, `"requests":1,`) || !strings.Contains(got, `"removed_in_time":1,`) || strings.Contains(got, sampleCase) {
		t.Fatalf("transparency: %s", got)
	}
	if got := toJSON(e.http(t, use("casesapi-get-awareness-digest.json"), 200)); !strings.Contains(got, `"removed_ads":1`) || strings.Contains(got, "@") {
		t.Fatalf("awareness: %s", got)
	}
	if got := toJSON(e.http(t, use("casesapi-get-watchlist.json"), 200)); !strings.Contains(got, sampleCase) || !strings.Contains(got, `"takedown_cases":1`) {
		t.Fatalf("watchlist: %s", got)
	}
	// Reports in pseudonymous form only: the sample reporter's name and
	// contact never appear.
	if got := toJSON(e.http(t, use("casesapi-get-case-reports.json"), 200)); !strings.Contains(got, `"reporter":"rp-`) || !strings.Contains(got, "Migrant Care Watch") ||
		strings.Contains(got, "Sari") || strings.Contains(got, "@") || strings.Contains(got, "9c4d5e6f-reporter-0001") {
		t.Fatalf("reports: %s", got)
	}
	if got := e.http(t, use("casesapi-verify-case.json"), 200); got["valid"] != true || got["anchored"] != float64(len(evs)) {
		t.Fatalf("verify: %v", got)
	}
	if got := e.http(t, use("casesapi-get-anchor-digest.json"), 200); !strings.Contains(toJSON(got), sampleCase) || !strings.Contains(toJSON(got), "c_01kqexamp1eanch0r000000000") {
		t.Fatalf("digest: %v", got)
	}
	// The evidence bundle verifies offline against the published key.
	pub := e.http(t, use("casesapi-get-bundle-key.json"), 200)
	bout, err := e.invoke(t, use("casesapi-get-case-bundle.json"), nil)
	if err != nil || bout.(api.Response).StatusCode != 200 {
		t.Fatalf("bundle: %v %+v", err, bout)
	}
	if res, err := bundle.Check([]byte(bout.(api.Response).Body), fmt.Sprint(pub["public_key"])); err != nil || !res.OK() || res.CaseID != sampleCase || res.Events != len(evs) {
		t.Fatalf("bundle: %+v %v", res, err)
	}
	// From the counters: the sample case, and the case the tally sample
	// opens on x (its case_opened event).
	var stats audit.ComplianceResponse
	if err := json.Unmarshal([]byte(toJSON(e.http(t, use("casesapi-get-compliance-stats.json"), 200))), &stats); err != nil ||
		stats.Total.Cases != 2 || stats.Total.RequestsSent != 1 || stats.Total.RemovedInTime != 1 {
		t.Fatalf("stats: %+v %v", stats.Total, err)
	}
	if pipe := e.http(t, use("casesapi-get-pipeline-stats.json"), 200); pipe["cases_by_status"] == nil || pipe["approval_time_by_agency"] == nil {
		t.Fatalf("pipeline stats: %v", pipe)
	}
	// An admin resolves the sample reporter's pseudonym: the case records it.
	if res := e.http(t, use("submitreport-resolve-reporter.json"), 200); res["account"] != "9c4d5e6f-reporter-0001" || !strings.Contains(toJSON(res["cases"]), sampleCase) {
		t.Fatalf("resolve: %v", res)
	}

	// Approvals: the signed link and the signed Slack click of the samples.
	// KP2MI alone decides these samples' approvals; its member decides by
	// link in one and by Slack in the other.
	st := &approval.Store{Table: e.deps.Table, Now: e.deps.Now}
	policy := agency.Policy{Name: "sample", Require: []string{"kp2mi"}, Veto: true,
		Tiers: []agency.Tier{{Role: agency.RoleApprover, WindowSeconds: 3600, ReminderSeconds: 1800}}}
	for id, who := range map[string]string{sampleApproval: sampleApprover, sampleSlackApproval: approval.SlackApprover(sampleSlackUser), sampleTokenApproval: sampleApprover} {
		a, err := st.Create(context.Background(), approval.Approval{ID: id, CaseID: sampleCase, TaskToken: "token-of-" + id,
			Policy: policy, Members: map[string]string{who: "kp2mi"}, ExpiresAt: time.Unix(sampleLinkExpiry, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToInbox(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	// The approver's inbox lists what waits for KP2MI's approver.
	if got := toJSON(e.http(t, use("approvals-list-pending.json"), 200)); !strings.Contains(got, sampleTokenApproval) || !strings.Contains(got, sampleApproval) {
		t.Fatalf("inbox %s", got)
	}
	// A platform follows the sample's signed evidence link.
	if _, err := e.deps.Evidence.Put(context.Background(), []byte(sampleEvidenceBody), "text/html"); err != nil {
		t.Fatal(err)
	}
	if page := e.http(t, use("evidence-get-evidence.json"), 200)["html"].(string); page != sampleEvidenceBody {
		t.Fatalf("evidence sample served %q", page)
	}
	if page := e.http(t, use("approvals-get-approval.json"), 200)["html"].(string); !strings.Contains(page, "<form") {
		t.Fatalf("review page has no form: %s", page)
	}
	e.http(t, use("approvals-post-approval.json"), 200)
	// The click is acknowledged (processed at once here: these Deps hand
	// nothing to an asynchronous invocation).
	e.http(t, use("approvals-slack-interaction.json"), 200)
	calls := e.sfn.seen()
	if len(calls) != 3 || calls[1] != "SendTaskSuccess token-of-"+sampleApproval || calls[2] != "SendTaskSuccess token-of-"+sampleSlackApproval {
		t.Fatalf("Step Functions calls %v", calls)
	}
	// Replayed, the same POST is refused; it re-sends the recorded decision
	// on the same token (a crash may have kept it from the workflow), which
	// Step Functions refuses as already used: nothing changes.
	e.http(t, path("approvals-post-approval.json"), 409)
	// Replayed, the same POST is refused and sends nothing: the outcome
	// was delivered (and marked so) the first time.
	calls = e.sfn.seen()
	if len(calls) != 3 {
		t.Fatalf("after the replay, Step Functions calls %v", calls)
	}
	// A decision with the approver's token (behind the JWT authorizer).
	e.http(t, use("approvals-post-decision.json"), 200)
	if calls = e.sfn.seen(); len(calls) != 4 || calls[3] != "SendTaskSuccess token-of-"+sampleTokenApproval {
		t.Fatalf("after the decision with a token, Step Functions calls %v", calls)
	}

	// The console: its root sends the browser on, its sign-in page offers
	// the configured members in a form.
	e.http(t, use("console-get-root.json"), 303)
	if page := e.http(t, use("console-get-signin.json"), 200)["html"].(string); !strings.Contains(page, `value="ngo-sari"`) {
		t.Fatalf("console sign-in page: %s", page)
	}

	// The closed case's stream record: its reporter hears of the outcome
	// (by e-mail, the address it gave) and its record counts the case once.
	for range 2 {
		out, err := e.invoke(t, use("reporterfeedback-case-outcome.json"), nil)
		if r := out.(events.DynamoDBEventResponse); err != nil || len(r.BatchItemFailures) != 0 {
			t.Fatalf("reporter feedback: %+v %v", out, err)
		}
	}
	if got := e.http(t, use("submitreport-get-reporters-me.json"), 200); got["cases_closed"] != 1.0 || got["approved_takedowns"] != 1.0 {
		t.Fatalf("record after the outcome: %v", got)
	}

	// The public channel: a challenge, a report that solves the sample's,
	// and its private status link.
	if got := e.http(t, use("publicreports-get-challenge.json"), 200); got["difficulty_bits"] != 20.0 || got["challenge"] == "" {
		t.Fatalf("challenge: %v", got)
	}
	pub = e.http(t, use("publicreports-post-public-report.json"), 202)
	link, _ := pub["status_url"].(string)
	if !strings.HasPrefix(link, "https://abc123.execute-api.ap-southeast-3.amazonaws.com/public/reports/") {
		t.Fatalf("public report: %v", pub)
	}
	e.http(t, path("publicreports-post-public-report.json"), 409) // a challenge solves one report
	out, err = e.invoke(t, use("publicreports-get-public-report-status.json"), func(v any) {
		req := v.(*api.Request)
		req.PathParameters["token"] = link[strings.LastIndex(link, "/")+1:]
	})
	if resp, _ := out.(api.Response); err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"in_review"`) {
		t.Fatalf("status link: %+v %v", out, err)
	}
	e.http(t, path("publicreports-get-public-report-status.json"), 404) // the sample's own token was never issued

	for _, f := range files {
		if filepath.Base(f) != "env.json" && !used[f] {
			t.Errorf("%s is not exercised by this test", filepath.Base(f))
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// events/env.json holds what `sam local invoke --env-vars` needs, with the
// secrets the samples were signed with.
func TestSampleEnvironment(t *testing.T) {
	tpl := loadTemplate(t)
	b, err := os.ReadFile(filepath.Join(tpl.Dir, "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	for k := range env {
		if k != "Parameters" && tpl.Resources[k].Type != "AWS::Serverless::Function" {
			t.Errorf("env.json key %s is neither Parameters nor a function", k)
		}
	}
	p := env["Parameters"]
	if p[approval.SecretEnv] != sampleApprovalSecret || p[evidence.LinkSecretEnv] != sampleEvidenceSecret || p["TANGKAL_TABLE"] == "" {
		t.Fatalf("env.json Parameters %v do not match the samples' secrets", p)
	}
	if u, err := url.Parse(p["AWS_ENDPOINT_URL_DYNAMODB"]); err != nil || u.Scheme != "http" {
		t.Fatalf("AWS_ENDPOINT_URL_DYNAMODB %q", p["AWS_ENDPOINT_URL_DYNAMODB"])
	}
}

// streamOf is what the table's stream delivers for events written.
func streamOf(evs []history.Event) events.DynamoDBEvent {
	var out events.DynamoDBEvent
	for i, e := range evs {
		keys := map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute(store.CasePK(e.CaseID)), "SK": events.NewStringAttribute(store.EventSK(e.Seq))}
		img := map[string]events.DynamoDBAttributeValue{"PK": keys["PK"], "SK": keys["SK"],
			"case_id": events.NewStringAttribute(e.CaseID), "seq": events.NewNumberAttribute(fmt.Sprint(e.Seq)),
			"type": events.NewStringAttribute(e.Type), "actor": events.NewStringAttribute(e.Actor), "at": events.NewStringAttribute(e.At),
			"prev_hash": events.NewStringAttribute(e.PrevHash), "hash": events.NewStringAttribute(e.Hash)}
		if len(e.Data) > 0 {
			img["data"] = events.NewStringAttribute(string(e.Data))
		}
		out.Records = append(out.Records, events.DynamoDBEventRecord{EventName: "INSERT",
			Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: img, SequenceNumber: fmt.Sprint(1000 + i)}})
	}
	return out
}
