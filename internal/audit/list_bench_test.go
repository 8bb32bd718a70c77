package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// Cases are spread over these statuses and platforms; the benchmark pages
// through one status, so the partition it reads grows with the table
// (a fifth of all cases).
var (
	benchStatuses  = []string{store.StatusTakedownSent, store.StatusAwaitingApprove, store.StatusEscalated, store.StatusRemovedInTime, store.StatusLegitimate}
	benchPlatforms = []string{"facebook", "instagram", "tiktok", "x", "telegram", "website"}
)

// loadBudget is how long loading the largest size may take; beyond it the
// 100k size is skipped with a note (the machine may be small).
const loadBudget = 2 * time.Minute

// BenchmarkListCasesPage measures GET /cases?status=…, the first page of
// 50 (Reader.List: one Query on the ByStatus index, JSON answer), as one
// table grows from 1k to 10k to 100k cases (DESIGN target: constant time
// per page). Cases are loaded with BatchWriteItem, 25 per call, from
// several goroutines, between the sizes; the 100k size runs only if the
// load rate measured so far says it fits in loadBudget. The cases go to a
// DynamoDB Local of its own (stopped at the end), so 100k items do not
// weigh on the one the other benchmarks share.
func BenchmarkListCasesPage(b *testing.B) {
	ctx := context.Background()
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		b.Skipf("DynamoDB Local unavailable: %v", err)
	}
	b.Cleanup(func() { srv.Stop() })
	db := dynamodb.NewFromConfig(testenv.AWSConfig(srv.Endpoint))
	name := testenv.UniqueName(b, "bench-audit")
	if err := testenv.CreateTable(ctx, db, name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	tb := store.Table{DB: db, Name: name}
	r := Reader{Table: tb}
	req := api.Request{
		QueryStringParameters: map[string]string{"status": benchStatuses[0]},
		RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "bench-auditor", auth.GroupsClaim: "[" + auth.Auditor + "]"}},
		}},
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
		var line string
		b.Run(fmt.Sprintf("cases=%d", size), func(b *testing.B) {
			var ds []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				resp, err := r.List(ctx, req)
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					var page struct {
						Cases []store.Case `json:"cases"`
						Next  string       `json:"next_cursor"`
					}
					if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || resp.StatusCode != 200 || len(page.Cases) != 50 || page.Next == "" {
						b.Fatalf("page: %d, %d cases, cursor %q, %v", resp.StatusCode, len(page.Cases), page.Next, err)
					}
				}
			}
			p50 := benchQuantile(ds, 0.5)
			b.ReportMetric(float64(p50)/1e3, "p50-µs")
			line = fmt.Sprintf("cases=%-7d page of 50: p50 %.2f ms, p90 %.2f ms (n=%d; %d cases in the queried status)",
				size, float64(p50)/1e6, float64(benchQuantile(ds, 0.9))/1e6, b.N, size/len(benchStatuses))
		})
		lines = append(lines, line)
	}
	// A benchmark with sub-benchmarks runs once, so this prints once.
	fmt.Printf("GET /cases?status=%s, first page of 50, as the table grows (loaded %d cases in %s, %.0f cases/s):\n",
		benchStatuses[0], loaded, loadTime.Round(time.Millisecond), float64(loaded)/loadTime.Seconds())
	for _, l := range lines {
		fmt.Println("  " + l)
	}
}

// loadCases writes cases number from..to-1 (META items as intake and the
// workflow leave them), 25 per BatchWriteItem, from several goroutines.
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
	for i := from; i < to && encErr == nil; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		id := ident.New("c_", at)
		status, platform := benchStatuses[i%len(benchStatuses)], benchPlatforms[i%len(benchPlatforms)]
		c := store.Case{
			PK: store.CasePK(id), SK: store.SKMeta, ID: id, Status: status, Platform: platform,
			URL:          fmt.Sprintf("https://www.%s.com/groups/lokerluarnegeri/posts/%d/", platform, 5550000+i),
			CanonicalURL: fmt.Sprintf("https://%s.com/groups/lokerluarnegeri/posts/%d", platform, 5550000+i),
			Text:         "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15-25jt/bln, tanpa pengalaman, tiket ditanggung, visa turis, paspor dipegang perusahaan. WA 0812-5550-9911",
			Category:     "scam", Urgency: "urgent", Score: 0.93, Label: "takedown", Verdict: "trafficking indicators",
			Indicators:  []string{"tourist_visa", "passport_held", "no_fee_lure"},
			ReportCount: 1 + i%3, CreatedAt: store.FormatTime(at), UpdatedAt: store.FormatTime(at.Add(time.Hour)),
			Deadline: store.FormatTime(at.Add(4 * time.Hour)), EventSeq: 5, LastHash: fmt.Sprintf("%064x", i),
			GSI1PK: store.StatusKey(status), GSI1SK: store.TimeKey(at, id), GSI2PK: store.PlatformKey(platform), GSI2SK: store.TimeKey(at, id),
		}
		av, err := attributevalue.MarshalMap(c)
		if err != nil {
			encErr = err
			break
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		if len(batch) == 25 || i == to-1 {
			batches <- batch
			batch = nil
		}
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
