package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// Cases are spread over these statuses, platforms, urgencies, categories
// and deciders; each listing below reads one of their partitions, which
// grows with the table.
var (
	benchStatuses   = []string{store.StatusTakedownSent, store.StatusAwaitingApprove, store.StatusEscalated, store.StatusRemovedInTime, store.StatusLegitimate}
	benchPlatforms  = []string{"facebook", "tiktok", "x"}
	benchCategories = []string{"scam_compound", "domestic_work", "factory"}
	benchApprovers  = []string{"dewi@kp2mi.go.id", "budi@kp2mi.go.id", "rina@komdigi.go.id", "agus@komdigi.go.id"}
)

// benchListings are the listings measured, one per selection auditors have.
var benchListings = []struct {
	name  string
	query map[string]string
}{
	{"status", map[string]string{"status": store.StatusTakedownSent}},
	{"platform", map[string]string{"platform": "tiktok"}},
	{"status+platform", map[string]string{"status": store.StatusTakedownSent, "platform": "facebook"}},
	{"urgency", map[string]string{"urgency": "urgent"}},
	{"category", map[string]string{"category": "scam_compound"}},
	{"agency", map[string]string{"agency": "kp2mi"}},
	{"approver", map[string]string{"approver": "rina@komdigi.go.id"}},
	{"time range", map[string]string{"from": "2026-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"}},
}

// loadBudget is how long loading the largest size may take; beyond it the
// 100k size is skipped with a note (the machine may be small). A 2-core
// machine loads 100k cases in about 13 minutes. TANGKAL_BENCH_LOAD_BUDGET
// (a Go duration) sets another: 1m skips 100k, 40m waits for a slow one.
var loadBudget = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("TANGKAL_BENCH_LOAD_BUDGET")); err == nil && d > 0 {
		return d
	}
	return 20 * time.Minute
}()

// pageCost counts what the DynamoDB calls of a page consumed: capacity
// units (ReturnConsumedCapacity, set on every Query and BatchGetItem by a
// client middleware, so the handler's own code is what runs) and items read.
type pageCost struct {
	mu    sync.Mutex
	units float64
	items int
}

func (c *pageCost) take() (float64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, n := c.units, c.items
	c.units, c.items = 0, 0
	return u, n
}

func (c *pageCost) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchPageCost", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		switch p := in.Parameters.(type) {
		case *dynamodb.QueryInput:
			p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		case *dynamodb.BatchGetItemInput:
			p.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		}
		out, md, err := next.HandleInitialize(ctx, in)
		c.mu.Lock()
		defer c.mu.Unlock()
		switch o := out.Result.(type) {
		case *dynamodb.QueryOutput:
			c.items += int(o.ScannedCount)
			if o.ConsumedCapacity != nil && o.ConsumedCapacity.CapacityUnits != nil {
				c.units += *o.ConsumedCapacity.CapacityUnits
			}
		case *dynamodb.BatchGetItemOutput:
			for _, items := range o.Responses {
				c.items += len(items)
			}
			for _, cc := range o.ConsumedCapacity {
				if cc.CapacityUnits != nil {
					c.units += *cc.CapacityUnits
				}
			}
		}
		return out, md, err
	}), middleware.After)
}

// BenchmarkListCasesPage measures GET /cases, the first page of 50
// (Reader.List: one Query of an index, and for the keys-only ByFacet index
// one BatchGetItem of the page's cases, then the JSON answer), for every
// selection auditors have, as one table grows from 1k to 10k to 100k
// cases (DESIGN target: a page costs the same whatever the table's size).
// Besides ns/op it reports the capacity units and items a page read.
// Cases (with their facet and decision items) are loaded with
// BatchWriteItem, 25 items per call, from several goroutines, between the
// sizes; the 100k size runs only if the load rate measured so far says it
// fits in loadBudget. The cases go to a DynamoDB Local of its own (stopped
// at the end), so 100k cases do not weigh on the one the other benchmarks
// share.
func BenchmarkListCasesPage(b *testing.B) {
	ctx := context.Background()
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		b.Skipf("DynamoDB Local unavailable: %v", err)
	}
	b.Cleanup(func() { srv.Stop() })
	cost := &pageCost{}
	db := dynamodb.NewFromConfig(testenv.AWSConfig(srv.Endpoint), dynamodb.WithAPIOptions(cost.middleware))
	name := testenv.UniqueName(b, "bench-audit")
	if err := testenv.CreateTable(ctx, db, name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	tb := store.Table{DB: db, Name: name}
	r := Reader{Table: tb}
	request := func(q map[string]string) api.Request {
		return api.Request{
			QueryStringParameters: q,
			RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "bench-auditor", auth.GroupsClaim: "[" + auth.Auditor + "]"}},
			}},
		}
	}

	var lines []string
	loaded := 0
	var loadTime time.Duration
	for _, size := range []int{1_000, 10_000, 100_000} {
		if loaded > 0 {
			rate := float64(loaded) / loadTime.Seconds()
			if eta := time.Duration(float64(size-loaded) / rate * float64(time.Second)); eta > loadBudget {
				lines = append(lines, fmt.Sprintf("cases=%-7d skipped: loading %d more cases would take ~%s at the %.0f cases/s measured (budget %s)",
					size, size-loaded, eta.Round(time.Second), rate, loadBudget))
				continue
			}
		}
		start := time.Now()
		if err := loadCases(ctx, tb, loaded, size); err != nil {
			b.Fatal(err)
		}
		loadTime += time.Since(start)
		loaded = size
		for _, l := range benchListings {
			req := request(l.query)
			var line string
			b.Run(fmt.Sprintf("%s/cases=%d", l.name, size), func(b *testing.B) {
				var ds []time.Duration
				var units float64
				var items int
				cost.take()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					resp, err := r.List(ctx, req)
					ds = append(ds, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					u, n := cost.take()
					units, items = units+u, items+n
					if i == 0 {
						var page struct {
							Cases []ListedCase `json:"cases"`
							Next  string       `json:"next_cursor"`
						}
						if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || resp.StatusCode != 200 || len(page.Cases) != 50 || page.Next == "" {
							b.Fatalf("page: %d, %d cases, cursor %q, %v", resp.StatusCode, len(page.Cases), page.Next, err)
						}
					}
				}
				p50 := benchQuantile(ds, 0.5)
				b.ReportMetric(float64(p50)/1e3, "p50-µs")
				b.ReportMetric(units/float64(b.N), "RCU/page")
				b.ReportMetric(float64(items)/float64(b.N), "items-read/page")
				line = fmt.Sprintf("%-16s cases=%-7d page of 50: p50 %.2f ms, p90 %.2f ms, %.1f read units and %.0f items read per page (n=%d)",
					l.name, size, float64(p50)/1e6, float64(benchQuantile(ds, 0.9))/1e6, units/float64(b.N), float64(items)/float64(b.N), b.N)
			})
			lines = append(lines, line)
		}
	}
	// A benchmark with sub-benchmarks runs once, so this prints once.
	fmt.Printf("GET /cases, first page of 50, per selection as the table grows (loaded %d cases in %s, %.0f cases/s):\n",
		loaded, loadTime.Round(time.Millisecond), float64(loaded)/loadTime.Seconds())
	for _, l := range lines {
		fmt.Println("  " + l)
	}
}

// loadCases writes cases number from..to-1 as intake, verification and a
// decision leave them (META item, facet items, decision items), 25 items
// per BatchWriteItem, from several goroutines.
func loadCases(ctx context.Context, tb store.Table, from, to int) error {
	const workers = 4
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batches := make(chan []types.WriteRequest)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				if err := writeBatch(ctx, tb, batch); err != nil {
					errs <- err
					for range batches { // drain
					}
					return
				}
			}
		}()
	}
	var batch []types.WriteRequest
	var encErr error
	send := func(item map[string]types.AttributeValue) {
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(batch) == 25 {
			batches <- batch
			batch = nil
		}
	}
	for i := from; i < to && encErr == nil; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		id := ident.New("c_", at)
		status, platform := benchStatuses[i%len(benchStatuses)], benchPlatforms[i%len(benchPlatforms)]
		urgency, category := []string{"urgent", "normal"}[i%2], benchCategories[i%len(benchCategories)]
		c := store.Case{
			PK: store.CasePK(id), SK: store.SKMeta, ID: id, Status: status, Platform: platform,
			URL:          fmt.Sprintf("https://www.%s.com/groups/lokerluarnegeri/posts/%d/", platform, 5550000+i),
			CanonicalURL: fmt.Sprintf("https://%s.com/groups/lokerluarnegeri/posts/%d", platform, 5550000+i),
			Text:         "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15-25jt/bln, tanpa pengalaman, tiket ditanggung, visa turis, paspor dipegang perusahaan. WA 0812-5550-9911",
			Category:     category, Urgency: urgency, Score: 0.93, Label: "takedown", Verdict: "trafficking indicators",
			Indicators:  []string{"tourist_visa", "passport_held", "no_fee_lure"},
			ReportCount: 1 + i%3, CreatedAt: store.FormatTime(at), UpdatedAt: store.FormatTime(at.Add(time.Hour)),
			Deadline: store.FormatTime(at.Add(4 * time.Hour)), EventSeq: 5, LastHash: fmt.Sprintf("%064x", i),
			GSI1PK: store.StatusKey(status), GSI1SK: store.TimeKey(at, id), GSI2PK: store.PlatformKey(platform), GSI2SK: store.TimeKey(at, id),
			GSI4PK: store.StatusPlatformKey(status, platform),
		}
		av, err := attributevalue.MarshalMap(c)
		if err != nil {
			encErr = err
			break
		}
		send(av)
		ap := benchApprovers[i%len(benchApprovers)]
		facets := []types.TransactWriteItem{
			store.FacetPut(tb.Name, id, store.FacetAll, "", at),
			store.FacetPut(tb.Name, id, store.FacetUrgency, urgency, at),
			store.FacetPut(tb.Name, id, store.FacetCategory, category, at),
		}
		facets = append(facets, store.DecisionIndexItems(tb.Name, id, approverAgency[ap], ap, at.Add(time.Hour))...)
		for _, f := range facets {
			send(f.Put.Item)
		}
	}
	if len(batch) > 0 && encErr == nil {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	close(errs)
	return errors.Join(encErr, <-errs)
}

// writeBatch sends one BatchWriteItem and resends what DynamoDB left
// unprocessed.
func writeBatch(ctx context.Context, tb store.Table, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		out, err := tb.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tb.Name: reqs}})
		if err != nil {
			return fmt.Errorf("load cases: %w", err)
		}
		reqs = out.UnprocessedItems[tb.Name]
		if attempt > 20 {
			return fmt.Errorf("load cases: %d items still unprocessed", len(reqs))
		}
	}
	return nil
}

func benchQuantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}
