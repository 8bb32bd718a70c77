package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"gopkg.in/yaml.v3"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/sfnlocal"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// AWS list prices the cost benchmark multiplies by, all in one place:
// us-east-1, first pricing tier, as published on the AWS pricing pages
// (Step Functions, Lambda, DynamoDB, API Gateway). Other regions (e.g.
// ap-southeast-3, Jakarta) list somewhat higher prices.
const (
	// Step Functions Standard workflows: $0.025 per 1,000 state transitions.
	pricePerTransition = 0.025 / 1000
	// Lambda: $0.20 per 1M requests; arm64 duration $0.0000133334 per
	// GB-second (billed per 1 ms).
	pricePerLambdaRequest = 0.20 / 1e6
	pricePerGBSecondArm64 = 0.0000133334
	// DynamoDB on-demand: $1.25 per million write request units, $0.25 per
	// million read request units. (AWS halved on-demand throughput prices
	// on 1 Nov 2024 to $0.625 and $0.125 in us-east-1; the older figures
	// are kept so the DynamoDB lines are an upper bound.)
	pricePerWRU = 1.25 / 1e6
	pricePerRRU = 0.25 / 1e6
	// API Gateway HTTP API: $1.00 per million requests.
	pricePerAPIRequest = 1.00 / 1e6
)

// BenchmarkThousandReportsOfOneAd sends 1,000 reports of one ad at once
// (four spellings of its URL) through the local stack's HTTP API and checks
// what DESIGN asks: 1 case, 1 execution, 1,000 reports recorded (the
// case's report_count, its REPORT# items, one history event each, the
// hash chain intact), 0 lost or failed. Each iteration is a new ad; only
// the 1,000 requests are timed. The stack runs its own DynamoDB Local, so
// a storm of contending transactions cannot slow the benchmarks after it.
func BenchmarkThousandReportsOfOneAd(b *testing.B) {
	var summary string
	b.Run("reports=1000", func(b *testing.B) { summary = thousandReports(b) })
	// A benchmark with sub-benchmarks runs once, so this prints once.
	fmt.Print(summary)
}

func thousandReports(b *testing.B) string {
	const n = 1000
	st := benchStack(b, Config{}, "own")
	tok, err := st.Token("bench-reporter", auth.Reporter)
	if err != nil {
		b.Fatal(err)
	}
	errs := captureErrors(b)
	httpc := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}}
	sfnc := sfn.NewFromConfig(AWSConfig(st.SFNURL))
	ctx := context.Background()
	var walls, recordWalls []time.Duration
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		post := fmt.Sprintf("%d%03d", time.Now().Unix()%1e6, it)
		forms := []string{
			"https://www.facebook.com/groups/lokerkamboja/posts/" + post + "/",
			"http://m.facebook.com/groups/lokerkamboja/posts/" + post + "?fbclid=IwAR0abc",
			"https://web.facebook.com/groups/lokerkamboja/posts/" + post + "/?mibextid=Nif5oz",
			"https://FACEBOOK.com:443/groups/lokerkamboja/posts/" + post + "/#comments",
		}
		type result struct {
			code int
			rec  map[string]any
			err  error
		}
		results := make([]result, n)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-gate
				body, _ := json.Marshal(map[string]any{"url": forms[i%len(forms)], "text": fmt.Sprintf("%s (report %d)", scamAd, i)})
				results[i].code, results[i].rec, results[i].err = benchPost(httpc, st.APIURL+"/reports", tok, body)
			}(i)
		}
		start := time.Now()
		close(gate)
		wg.Wait()
		wall := time.Since(start)
		walls = append(walls, wall)
		b.StopTimer()

		cases, reports, firsts, failed := map[string]bool{}, map[string]bool{}, 0, 0
		for _, r := range results {
			if r.err != nil || r.code != 202 {
				if failed == 0 {
					b.Logf("first failure: %d %v %v", r.code, r.rec, r.err)
				}
				failed++
				continue
			}
			cases[fmt.Sprint(r.rec["case_id"])] = true
			reports[fmt.Sprint(r.rec["report_id"])] = true
			if r.rec["duplicate"] == false {
				firsts++
			}
		}
		if failed > 0 || len(cases) != 1 || len(reports) != n || firsts != 1 {
			b.Logf("errors logged by the handlers: %s", errs.top(3))
			b.Fatalf("after %.1f s: %d failed, %d cases, %d distinct reports, %d first reports; want 0, 1, %d, 1", wall.Seconds(), failed, len(cases), len(reports), firsts, n)
		}
		var id string
		for id = range cases {
		}
		// Every report was durable when acknowledged; the case's count and
		// history follow from the stream (RecordReports). Wait, bounded,
		// until they hold all of them, and report that time too.
		var c *store.Case
		var err error
		recordDeadline := time.Now().Add(3 * time.Minute)
		for {
			if c, err = st.Table.GetCase(ctx, id); err != nil {
				b.Fatal(err)
			}
			if c.ReportCount == n || time.Now().After(recordDeadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		recorded := time.Since(start)
		recordWalls = append(recordWalls, recorded)
		items, err := st.Table.DB.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(st.Table.Name), KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":pk": &ddbtypes.AttributeValueMemberS{Value: store.CasePK(id)}, ":r": &ddbtypes.AttributeValueMemberS{Value: store.PrefixReport}},
			Select: ddbtypes.SelectCount, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			b.Fatal(err)
		}
		evs, err := history.Log{Table: st.Table}.List(ctx, id, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if c.ReportCount != n || items.Count != n || len(evs) < n {
			b.Fatalf("case %s: report_count %d, %d REPORT# items, %d events; want %d each", id, c.ReportCount, items.Count, len(evs), n)
		}
		if err := history.Verify(evs, c.LastHash); err != nil {
			b.Fatalf("history chain: %v", err)
		}
		if execs := benchExecutions(b, sfnc, st.StateMachineARN, id); execs != 1 {
			b.Fatalf("case %s has %d executions, want 1", id, execs)
		}
		b.StartTimer()
	}
	b.StopTimer()
	w := benchQuantile(walls, 0.5)
	rw := benchQuantile(recordWalls, 0.5)
	b.ReportMetric(w.Seconds(), "wall-s/1000-reports")
	b.ReportMetric(float64(n)/w.Seconds(), "reports/s")
	b.ReportMetric(rw.Seconds(), "s-until-all-in-history")
	return fmt.Sprintf("1,000 concurrent reports of one ad over the local HTTP API: 1 case, 1 execution, 1,000 reports recorded, 0 lost; "+
		"all acknowledged in %.2f s (%.0f reports/s), all in the case's history after %.2f s (median of %d ads)\n", w.Seconds(), float64(n)/w.Seconds(), rw.Seconds(), len(walls))
}

// errorLog counts the errors the handlers log through slog's default
// logger, so a failed run says why.
type errorLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func captureErrors(b *testing.B) *errorLog {
	l := &errorLog{counts: map[string]int{}}
	prev := slog.Default()
	slog.SetDefault(slog.New(l))
	b.Cleanup(func() { slog.SetDefault(prev) })
	return l
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *errorLog) WithGroup(string) slog.Handler                 { return l }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.Key + "=" + a.Value.String()
		return true
	})
	l.mu.Lock()
	l.counts[msg]++
	l.mu.Unlock()
	return nil
}

func (l *errorLog) top(k int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var msgs []string
	for m := range l.counts {
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b string) int { return l.counts[b] - l.counts[a] })
	var out []string
	for _, m := range msgs[:min(k, len(msgs))] {
		out = append(out, fmt.Sprintf("%dx %q", l.counts[m], m))
	}
	return strings.Join(out, "; ")
}

// benchExecutions waits (bounded) until the case's execution exists, lets
// the engine settle, and counts the executions named after the case.
func benchExecutions(b *testing.B, c *sfn.Client, smARN, id string) int {
	b.Helper()
	ctx := context.Background()
	count := func() int {
		n := 0
		p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smARN), MaxResults: 1000})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range page.Executions {
				if aws.ToString(e.Name) == id {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for count() == 0 {
		if time.Now().After(deadline) {
			return 0
		}
		time.Sleep(50 * time.Millisecond) // polling the stream-started execution, not standing in for a result
	}
	return count()
}

// benchStack starts a local stack on the test DynamoDB Local, on endpoint
// (e.g. a metering proxy), or on a DynamoDB Local of its own ("own"), with
// a table of its own.
func benchStack(b *testing.B, cfg Config, endpoint string) *Stack {
	b.Helper()
	switch endpoint {
	case "":
		endpoint = testenv.Endpoint(b)
	case "own":
		endpoint = ""
	}
	cfg.DynamoDBEndpoint = endpoint
	if cfg.Table == "" {
		cfg.Table = testenv.UniqueName(b, "bench")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Start(ctx, cfg)
	if err != nil {
		b.Fatalf("start local stack: %v", err)
	}
	b.Cleanup(st.Close)
	return st
}

func benchPost(c *http.Client, url, token string, body []byte) (int, map[string]any, error) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, nil
}

// BenchmarkCostPerAd runs the happy path for real through the local stack,
// one ad at a time (submit → VerifyAd → approval e-mail → GET and POST of
// the mailed link → SendTakedown → deadline passes → CheckCompliance →
// removed_in_time), and counts what AWS would bill for each ad:
//
//   - state transitions: the *StateEntered events in the execution's
//     history (Standard workflows bill one per state entered);
//   - Lambda requests and durations: every invocation of every function,
//     whoever calls it (HTTP API, the table's stream, the state machine),
//     observed on the stack's function registry; GB-seconds use each
//     function's MemorySize from template.yaml and the handler's measured
//     run time here, rounded up to 1 ms as Lambda bills;
//   - DynamoDB request units: a proxy between the stack and DynamoDB Local
//     adds ReturnConsumedCapacity=INDEXES to every data-plane call on the
//     case table and sums what DynamoDB Local reports (table and GSIs, 2x
//     for transactions, by item size). The engine's own tables (AWS keeps
//     that state inside Step Functions), stream reads (free for Lambda
//     triggers) and the benchmark's own polling are not counted; requests
//     that fail (e.g. a cancelled transaction) report no capacity, so they
//     are missing — on the happy path there are none or few.
//   - API Gateway requests: the HTTP API calls among those invocations.
//
// It prints a table with the per-ad figures and the list price per 1,000
// ads (constants above).
func BenchmarkCostPerAd(b *testing.B) {
	var ads []adCost
	b.Run("happy_path", func(b *testing.B) { ads = costPerAd(b) })
	// A benchmark with sub-benchmarks runs once, so this prints once.
	printCost(ads)
}

func costPerAd(b *testing.B) []adCost {
	table := testenv.UniqueName(b, "bench-cost")
	meter := newCapacityMeter(b, testenv.Endpoint(b), table)
	clock := sfnlocal.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	st := benchStack(b, Config{Table: table, Clock: clock, Parameters: map[string]string{"ApprovalTimeoutSeconds": "3600", "ApprovalTiers": "2"}}, meter.url)
	mem, apiFunctions, err := functionMemory(st.Template)
	if err != nil {
		b.Fatal(err)
	}
	lambdas := newLambdaMeter(mem)
	st.Functions.Observe(lambdas.observe)
	defer st.Functions.Observe(nil)

	// The flow helpers read the case while they wait; they read through a
	// client that bypasses the meter.
	view := *st
	view.Table.DB = dynamodb.NewFromConfig(AWSConfig(testenv.Endpoint(b)))
	f := &flow{t: b, st: &view, clock: clock}
	sfnc := sfn.NewFromConfig(AWSConfig(st.SFNURL))
	ctx := context.Background()

	var ads []adCost
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lambdas.reset()
		meter.reset()
		id := f.submit(fmt.Sprintf("https://www.facebook.com/groups/lokerluarnegeri/posts/%d%04d/", time.Now().Unix()%1e6, i), scamAd)
		f.waitStatus(id, store.StatusAwaitingApprove)
		f.approveFirstLink(id, "approve")
		f.waitStatus(id, store.StatusTakedownSent)
		f.advance(4*time.Hour + time.Minute)
		f.waitStatus(id, store.StatusRemovedInTime)
		arn := strings.Replace(st.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + id
		transitions, tasks := benchHistory(b, sfnc, arn)
		_ = f.st.Engine.WaitIdle(ctx)
		ad := adCost{transitions: transitions, stepTasks: tasks}
		ad.invocations, ad.gbSeconds, ad.byFunction, ad.took, ad.failed = lambdas.snapshot()
		for fn, n := range ad.byFunction {
			if apiFunctions[fn] {
				ad.apiRequests += n
			}
		}
		ad.wru, ad.rru, ad.wruGSI, ad.rruGSI = meter.snapshot()
		ads = append(ads, ad)
	}
	b.StopTimer()
	m := sumCost(ads)
	n := float64(len(ads))
	b.ReportMetric(float64(m.transitions)/n, "transitions/ad")
	b.ReportMetric(float64(m.invocations)/n, "lambda-requests/ad")
	b.ReportMetric((m.wru+m.wruGSI)/n, "WRU/ad")
	b.ReportMetric((m.rru+m.rruGSI)/n, "RRU/ad")
	b.ReportMetric(m.perThousand(n), "$/1k-ads")
	return ads
}

type adCost struct {
	transitions, stepTasks, invocations, apiRequests, failed int
	gbSeconds                                                float64
	byFunction                                               map[string]int
	took                                                     map[string]time.Duration
	wru, rru, wruGSI, rruGSI                                 float64
}

func (a adCost) dollars() (sfn, lambda, ddb, apigw float64) {
	return float64(a.transitions) * pricePerTransition,
		float64(a.invocations)*pricePerLambdaRequest + a.gbSeconds*pricePerGBSecondArm64,
		(a.wru+a.wruGSI)*pricePerWRU + (a.rru+a.rruGSI)*pricePerRRU,
		float64(a.apiRequests) * pricePerAPIRequest
}

func (a adCost) perThousand(ads float64) float64 {
	s, l, d, g := a.dollars()
	return (s + l + d + g) / ads * 1000
}

func sumCost(ads []adCost) adCost {
	var m adCost
	m.byFunction, m.took = map[string]int{}, map[string]time.Duration{}
	for _, a := range ads {
		m.transitions += a.transitions
		m.stepTasks += a.stepTasks
		m.invocations += a.invocations
		m.apiRequests += a.apiRequests
		m.failed += a.failed
		m.gbSeconds += a.gbSeconds
		m.wru += a.wru
		m.rru += a.rru
		m.wruGSI += a.wruGSI
		m.rruGSI += a.rruGSI
		for k, v := range a.byFunction {
			m.byFunction[k] += v
			m.took[k] += a.took[k]
		}
	}
	return m
}

func printCost(ads []adCost) {
	if len(ads) == 0 {
		return
	}
	m := sumCost(ads)
	n := float64(len(ads))
	per := func(v float64) float64 { return v / n }
	sfnD, _, _, apiD := m.dollars()
	total := m.perThousand(n)

	var sb strings.Builder
	fmt.Fprintf(&sb, "cost per ad, happy path (submit → verify → approve by mailed link → takedown → removed in time), mean of %d ads:\n", len(ads))
	fmt.Fprintf(&sb, "  %-15s %-34s %10s %14s\n", "service", "what is billed", "per ad", "$ per 1k ads")
	fmt.Fprintf(&sb, "  %-15s %-34s %10.1f %14.4f\n", "Step Functions", "state transitions", per(float64(m.transitions)), sfnD/n*1000)
	fmt.Fprintf(&sb, "  %-15s %-34s %10.1f %14.4f\n", "Lambda", "requests", per(float64(m.invocations)), per(float64(m.invocations))*pricePerLambdaRequest*1000)
	fmt.Fprintf(&sb, "  %-15s %-34s %10.4f %14.4f\n", "", "GB-seconds (arm64)", per(m.gbSeconds), per(m.gbSeconds)*pricePerGBSecondArm64*1000)
	fmt.Fprintf(&sb, "  %-15s %-34s %10.1f %14.4f\n", "DynamoDB", fmt.Sprintf("write request units (GSIs %.1f)", per(m.wruGSI)), per(m.wru+m.wruGSI), per(m.wru+m.wruGSI)*pricePerWRU*1000)
	fmt.Fprintf(&sb, "  %-15s %-34s %10.1f %14.4f\n", "", fmt.Sprintf("read request units (GSIs %.1f)", per(m.rruGSI)), per(m.rru+m.rruGSI), per(m.rru+m.rruGSI)*pricePerRRU*1000)
	fmt.Fprintf(&sb, "  %-15s %-34s %10.1f %14.4f\n", "API Gateway", "HTTP API requests", per(float64(m.apiRequests)), apiD/n*1000)
	fmt.Fprintf(&sb, "  %-15s %-34s %10s %14.4f\n", "total", "", "", total)
	var fns []string
	for k, v := range m.byFunction {
		fns = append(fns, fmt.Sprintf("%s %.1f (%.1f ms)", strings.TrimSuffix(k, "Function"), per(float64(v)), float64(m.took[k])/float64(v)/1e6))
	}
	slices.Sort(fns)
	fmt.Fprintf(&sb, "  Lambda requests per ad by function (mean handler time here): %s (of which Step Functions tasks %.1f; handler errors %d)\n",
		strings.Join(fns, ", "), per(float64(m.stepTasks)), m.failed)
	fmt.Fprintln(&sb, "  not included: CloudWatch Logs, X-Ray, S3 evidence, SES e-mail, data transfer, free tiers")
	fmt.Print(sb.String())
}

// benchHistory waits (bounded) for the execution to finish and counts its
// states entered and its Lambda task invocations.
func benchHistory(b *testing.B, c *sfn.Client, arn string) (transitions, tasks int) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			b.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				b.Fatalf("execution %s ended %s", arn, d.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("execution %s still running after 60 s", arn)
		}
		time.Sleep(20 * time.Millisecond) // polling the engine, not standing in for a result
	}
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range page.Events {
			t := string(e.Type)
			switch {
			case strings.HasSuffix(t, "StateEntered"):
				transitions++
			case t == "LambdaFunctionScheduled", t == "TaskScheduled":
				tasks++
			}
		}
	}
	return transitions, tasks
}

// functionMemory reads each function's MemorySize (MB) from template.yaml
// (Globals, then the function's own), and which functions serve the HTTP
// API.
func functionMemory(t *samtemplate.Template) (map[string]int, map[string]bool, error) {
	path, err := samtemplate.Find(".")
	if err != nil {
		return nil, nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Globals struct {
			Function struct {
				MemorySize int `yaml:"MemorySize"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Properties struct {
				MemorySize int `yaml:"MemorySize"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("template.yaml: %w", err)
	}
	mem, api := map[string]int{}, map[string]bool{}
	for _, f := range t.Functions() {
		m := doc.Resources[f.LogicalID].Properties.MemorySize
		if m == 0 {
			m = doc.Globals.Function.MemorySize
		}
		if m == 0 {
			m = 128 // Lambda's default
		}
		mem[f.LogicalID] = m
		for _, e := range f.Events {
			if e.Type == "HttpApi" {
				api[f.LogicalID] = true
			}
		}
	}
	return mem, api, nil
}

// lambdaMeter counts invocations and billed GB-seconds.
type lambdaMeter struct {
	mem        map[string]int
	mu         sync.Mutex
	byFunction map[string]int
	took       map[string]time.Duration
	gbSeconds  float64
	failed     int
}

func newLambdaMeter(mem map[string]int) *lambdaMeter {
	return &lambdaMeter{mem: mem, byFunction: map[string]int{}, took: map[string]time.Duration{}}
}

func (m *lambdaMeter) observe(name string, took time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byFunction[name]++
	m.took[name] += took
	billedMs := math.Ceil(float64(took) / float64(time.Millisecond))
	m.gbSeconds += billedMs / 1000 * float64(m.mem[name]) / 1024
	if err != nil {
		m.failed++
	}
}

func (m *lambdaMeter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byFunction, m.took, m.gbSeconds, m.failed = map[string]int{}, map[string]time.Duration{}, 0, 0
}

func (m *lambdaMeter) snapshot() (invocations int, gbSeconds float64, byFunction map[string]int, took map[string]time.Duration, failed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byFunction, took = map[string]int{}, map[string]time.Duration{}
	for k, v := range m.byFunction {
		byFunction[k] = v
		took[k] = m.took[k]
		invocations += v
	}
	return invocations, m.gbSeconds, byFunction, took, m.failed
}

// capacityMeter is an HTTP proxy in front of DynamoDB Local that asks for
// and sums the consumed capacity of every data-plane call on one table.
type capacityMeter struct {
	url, upstream string
	table         string
	mu            sync.Mutex
	wru, rru      float64 // table
	wruGSI        float64
	rruGSI        float64
}

var (
	meteredWrites = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}
	meteredReads  = map[string]bool{"GetItem": true, "Query": true, "Scan": true, "BatchGetItem": true, "TransactGetItems": true}
)

func newCapacityMeter(b *testing.B, upstream, table string) *capacityMeter {
	m := &capacityMeter{upstream: strings.TrimRight(upstream, "/"), table: table}
	srv := httptest.NewServer(m)
	b.Cleanup(srv.Close)
	m.url = srv.URL
	return m
}

type consumed struct {
	TableName     string
	CapacityUnits float64
	Table         *struct{ CapacityUnits float64 }
	Indexes       map[string]struct{ CapacityUnits float64 } `json:"GlobalSecondaryIndexes"`
	LocalIndexes  map[string]struct{ CapacityUnits float64 } `json:"LocalSecondaryIndexes"`
}

func (m *capacityMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	metered := strings.HasPrefix(target, "DynamoDB_20120810.") && (meteredWrites[op] || meteredReads[op])
	if metered {
		var req map[string]json.RawMessage
		if json.Unmarshal(body, &req) == nil {
			req["ReturnConsumedCapacity"] = json.RawMessage(`"INDEXES"`)
			body, _ = json.Marshal(req)
		}
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, m.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Content-Length")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if metered && resp.StatusCode == 200 {
		m.add(meteredWrites[op], respBody)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

func (m *capacityMeter) add(write bool, respBody []byte) {
	var resp struct{ ConsumedCapacity json.RawMessage }
	if json.Unmarshal(respBody, &resp) != nil || len(resp.ConsumedCapacity) == 0 {
		return
	}
	var list []consumed
	if resp.ConsumedCapacity[0] == '[' {
		_ = json.Unmarshal(resp.ConsumedCapacity, &list)
	} else {
		var one consumed
		if json.Unmarshal(resp.ConsumedCapacity, &one) == nil {
			list = append(list, one)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range list {
		if c.TableName != m.table {
			continue
		}
		table, idx := c.CapacityUnits, 0.0
		for _, i := range c.Indexes {
			idx += i.CapacityUnits
		}
		for _, i := range c.LocalIndexes {
			idx += i.CapacityUnits
		}
		if c.Table != nil {
			table = c.Table.CapacityUnits
		}
		if write {
			m.wru, m.wruGSI = m.wru+table, m.wruGSI+idx
		} else {
			m.rru, m.rruGSI = m.rru+table, m.rruGSI+idx
		}
	}
}

func (m *capacityMeter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wru, m.rru, m.wruGSI, m.rruGSI = 0, 0, 0, 0
}

func (m *capacityMeter) snapshot() (wru, rru, wruGSI, rruGSI float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.wru, m.rru, m.wruGSI, m.rruGSI
}

func benchQuantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// BenchmarkSubmitOverHTTPVsBareWrites is BenchmarkIntakeVsBareWrites (in
// package report) through the whole local HTTP API: POST /reports with a
// token (JWT check, API Gateway v2 event, handler, JSON answer) against the
// bare TransactWriteItems with the same items sent straight to DynamoDB
// Local, and against the intake called in this process on the same stack
// (so the HTTP layer's share and the intake's own are told apart), in
// rotating order, medians compared. The bare items are keyed BARE#…
// instead of CASE#… (same sizes and conditions) so that they do not start
// workflows of their own. The new cases do start executions; each
// iteration waits, untimed, until the stack is at rest (Stack.Settle: the
// stream readers caught up, no workflow running), so that no side is
// timed while the work of earlier iterations competes with it for the
// CPU and for DynamoDB Local (on a 2-core machine it doubled the ratio).
func BenchmarkSubmitOverHTTPVsBareWrites(b *testing.B) {
	st := benchStack(b, Config{}, "")
	tok, err := st.Token("bench-reporter", auth.Reporter)
	if err != nil {
		b.Fatal(err)
	}
	httpc := &http.Client{Timeout: time.Minute}
	ctx := context.Background()
	seq := time.Now().Unix() % 1e6 * 1e4
	adBody := func(n int64) []byte {
		return fmt.Appendf(nil, `{"url":"https://www.facebook.com/groups/lokerkamboja/posts/%d/?mibextid=abc","text":%q}`, n, scamAd)
	}
	post := func(body []byte, wantDup bool) error {
		code, rec, err := benchPost(httpc, st.APIURL+"/reports", tok, body)
		if err == nil && (code != 202 || rec["duplicate"] != wantDup) {
			err = fmt.Errorf("POST /reports: %d %v", code, rec)
		}
		return err
	}
	in := report.Intake{Table: st.Table, Claims: report.NewClaimCache()} // as wiring builds it
	who := auth.Principal{Subject: "bench-reporter", Roles: []string{auth.Reporter}}
	direct := func(body []byte, wantDup bool) error {
		s, c, err := report.Parse(body, time.Now())
		if err != nil {
			return err
		}
		r, err := in.Submit(ctx, who, s, c, body, "")
		if err == nil && r.Duplicate != wantDup {
			err = fmt.Errorf("intake answered %+v", r)
		}
		return err
	}
	lines := map[string]string{}
	// settle waits, untimed, until nothing started by earlier iterations
	// is still running (Stack.Settle: the stream readers and the
	// functions they invoke, the workflows) and, for the duplicates of
	// one case, until the case counts every report.
	settle := func(b *testing.B, caseID string, reports int) {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := st.Settle(wctx); err != nil {
			b.Fatal(err)
		}
		for caseID != "" {
			c, err := st.Table.GetCase(wctx, caseID)
			if err != nil {
				b.Fatal(err)
			}
			if c.ReportCount >= reports {
				return
			}
			select {
			case <-wctx.Done():
				b.Fatalf("case %s counts %d reports after a minute, want %d", caseID, c.ReportCount, reports)
			case <-time.After(5 * time.Millisecond): // polling the stream's work, not standing in for it
			}
		}
	}
	dupCase, dupReports := "", 0
	run := func(b *testing.B, intake, inProcess func() error, bare func() (func() error, error)) {
		var th, ti, tw []time.Duration
		for i := 0; i < b.N; i++ {
			// Untimed: let the workflows earlier iterations started settle
			// (in AWS they run on other machines, not on the API's).
			b.StopTimer()
			settle(b, dupCase, dupReports)
			op, err := bare()
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			// Rotate which goes first, so drift hits all alike.
			fns, times := []func() error{intake, inProcess, op}, []*[]time.Duration{&th, &ti, &tw}
			for j := range fns {
				k := (i + j) % len(fns)
				start := time.Now()
				if err := fns[k](); err != nil {
					b.Fatal(err)
				}
				*times[k] = append(*times[k], time.Since(start))
			}
		}
		mh, mi, mw := benchQuantile(th, 0.5), benchQuantile(ti, 0.5), benchQuantile(tw, 0.5)
		b.ReportMetric(float64(mh)/1e3, "http-p50-µs")
		b.ReportMetric(float64(mi)/1e3, "intake-p50-µs")
		b.ReportMetric(float64(mw)/1e3, "bare-p50-µs")
		b.ReportMetric(float64(mh)/float64(mw), "ratio")
		lines[b.Name()] = fmt.Sprintf("%-10s POST /reports p50 %.2f ms, intake alone %.2f ms, bare writes %.2f ms: ratio %.2fx (intake alone %.2fx; target ≤ 1.5x) (n=%d)",
			b.Name()[strings.LastIndex(b.Name(), "/")+1:], float64(mh)/1e6, float64(mi)/1e6, float64(mw)/1e6, float64(mh)/float64(mw), float64(mi)/float64(mw), b.N)
	}
	b.Run("new_case", func(b *testing.B) {
		run(b, func() error { seq++; return post(adBody(seq), false) }, func() error { seq++; return direct(adBody(seq), false) }, func() (func() error, error) {
			seq++
			return bareNewCase(ctx, st.Table, seq)
		})
	})
	b.Run("duplicate", func(b *testing.B) {
		seq++
		body := adBody(seq)
		code, rec, err := benchPost(httpc, st.APIURL+"/reports", tok, body)
		if err != nil || code != 202 {
			b.Fatalf("POST /reports: %d %v %v", code, rec, err)
		}
		dupCase, dupReports = fmt.Sprint(rec["case_id"]), 1
		count := func(f func() error) func() error {
			return func() error { dupReports++; return f() }
		}
		caseID := fmt.Sprintf("c_bench%d", seq)
		if _, err := st.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table.Name), Item: benchItem(map[string]any{
			"PK": barePK(caseID), "SK": store.SKMeta, "case_id": caseID, "status": store.StatusReceived, "event_seq": 1, "last_hash": history.Genesis, "report_count": 1,
		})}); err != nil {
			b.Fatal(err)
		}
		run(b, count(func() error { return post(body, true) }), count(func() error { return direct(body, true) }), func() (func() error, error) {
			// A duplicate is its own items (report.Intake.join): the report,
			// a check that the case is there and open, the reporter's own
			// record of it. Its history event follows from the stream.
			rep := benchReport(caseID, seq)
			items := []ddbtypes.TransactWriteItem{benchPut(st.Table.Name, rep), {ConditionCheck: &ddbtypes.ConditionCheck{
				TableName: aws.String(st.Table.Name), Key: store.Key(barePK(caseID), store.SKMeta),
				ConditionExpression:       aws.String("attribute_exists(PK) AND NOT (#s IN (:rit, :rl))"),
				ExpressionAttributeNames:  map[string]string{"#s": "status"},
				ExpressionAttributeValues: benchItem(map[string]any{":rit": store.StatusRemovedInTime, ":rl": store.StatusRemovedLate}),
			}}, benchPut(st.Table.Name, bareReporterItem(caseID, rep))}
			return func() error {
				_, err := st.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				return err
			}, nil
		})
	})
	// A benchmark with sub-benchmarks runs once, so this prints once.
	fmt.Println("POST /reports through the local HTTP API vs the bare DynamoDB writes it needs:")
	for _, k := range slices.Sorted(maps.Keys(lines)) {
		fmt.Println("  " + lines[k])
	}
}

// bareNewCase builds the puts of a new case, shaped as report.Intake.open
// writes them: the URL's claim, the case (on the status, platform and
// status-with-platform indexes), the report, the first event, the
// reporter's own record of the report and the case's facet for listings.
func bareNewCase(ctx context.Context, tb store.Table, n int64) (func() error, error) {
	now := time.Now()
	caseID := fmt.Sprintf("c_bare%d", n)
	canon := fmt.Sprintf("https://facebook.com/groups/lokerkamboja/posts/%d", n)
	ev, err := history.New(caseID, 1, history.Genesis, "case_opened", "reporter:bench", now, map[string]any{"report_id": "r_x", "url": canon, "canonical_url": canon, "platform": "facebook"})
	if err != nil {
		return nil, err
	}
	evPut, err := bareEvent(tb.Name, ev)
	if err != nil {
		return nil, err
	}
	evPut.Put.Item[history.AttrStatusTo] = &ddbtypes.AttributeValueMemberS{Value: store.StatusReceived}
	cs, err := attributevalue.MarshalMap(store.Case{PK: barePK(caseID), SK: store.SKMeta, ID: caseID, URL: canon + "/?mibextid=abc", CanonicalURL: canon,
		Platform: "facebook", Status: store.StatusReceived, Text: scamAd, ReportCount: 1, CreatedAt: store.FormatTime(now), UpdatedAt: store.FormatTime(now),
		EventSeq: 1, LastHash: ev.Hash, GSI1PK: store.StatusKey(store.StatusReceived), GSI1SK: store.TimeKey(now, caseID),
		GSI2PK: store.PlatformKey("facebook"), GSI2SK: store.TimeKey(now, caseID), GSI4PK: store.StatusPlatformKey(store.StatusReceived, "facebook")})
	if err != nil {
		return nil, err
	}
	rep := benchReport(caseID, n)
	facet := store.FacetPut(tb.Name, caseID, store.FacetAll, "", now)
	facet.Put.Item["PK"] = &ddbtypes.AttributeValueMemberS{Value: barePK(caseID)}
	items := []ddbtypes.TransactWriteItem{
		benchPut(tb.Name, map[string]any{"PK": store.ClaimPK(caseID), "SK": store.SKClaim, "case_id": caseID, "canonical_url": canon}),
		{Put: &ddbtypes.Put{TableName: aws.String(tb.Name), Item: cs, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		benchPut(tb.Name, rep),
		evPut,
		benchPut(tb.Name, bareReporterItem(caseID, rep)),
		facet,
	}
	return func() error {
		_, err := tb.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}, nil
}

// bareReporterItem is the reporter's own record of a report
// (MYREPORTS#<pseudonym>), as the intake writes it with every report.
func bareReporterItem(caseID string, rep map[string]any) map[string]any {
	return map[string]any{"PK": store.MyReportsPK("bare-" + caseID), "SK": store.ReporterReportSK(time.Now(), rep["report_id"].(string)),
		"case_id": caseID, "report_id": rep["report_id"], "url": rep["url"], "received_at": rep["received_at"], "duplicate": false, "reporter_sub": "bench-reporter"}
}

func benchReport(caseID string, n int64) map[string]any {
	id := fmt.Sprintf("r_bare%d_%d", n, time.Now().UnixNano())
	return map[string]any{"PK": barePK(caseID), "SK": store.ReportSK(id), "report_id": id, "case_id": caseID,
		"url": "https://www.facebook.com/groups/lokerkamboja/posts/1/?mibextid=abc", "platform": "facebook", "text": scamAd,
		"reporter_sub": "bench-reporter", "received_at": store.FormatTime(time.Now()), "duplicate": false, "reporter_pseudonym": "reporter-0123456789ab"}
}

// barePK keys the bare items: as long as CASE#<id>, but outside the
// stream filter that starts workflows.
func barePK(caseID string) string { return "BARE#" + caseID }

// bareEvent is history.Put's item under barePK.
func bareEvent(table string, ev history.Event) (ddbtypes.TransactWriteItem, error) {
	put, err := history.Put(table, ev)
	if err != nil {
		return put, err
	}
	put.Put.Item["PK"] = &ddbtypes.AttributeValueMemberS{Value: barePK(ev.CaseID)}
	return put, nil
}

func benchItem(m map[string]any) map[string]ddbtypes.AttributeValue {
	av, _ := attributevalue.MarshalMap(m) // strings and numbers only: cannot fail
	return av
}

func benchPut(table string, m map[string]any) ddbtypes.TransactWriteItem {
	return ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{TableName: aws.String(table), Item: benchItem(m), ConditionExpression: aws.String("attribute_not_exists(PK)")}}
}
