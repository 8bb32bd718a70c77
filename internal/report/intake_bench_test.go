package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
	"github.com/tangkal/tangkal/internal/urlcanon"
)

// BenchmarkIntakeVsBareWrites compares the intake path with the bare
// DynamoDB writes it needs, side by side on DynamoDB Local (DESIGN target:
// within 1.5x). Every iteration runs one intake call and one bare
// TransactWriteItems carrying the same items, alternating which goes first
// so drift and warm-up hit both equally, and times each call on its own;
// the medians and their ratio are reported (ns/op is the sum of both).
//
//   - new_case: Parse + Submit of a URL never seen before, against one
//     transaction putting claim, case META, report and first event;
//   - new_case_with_key: the same with an Idempotency-Key (Submit first
//     reads the key; the transaction adds the idempotency record);
//   - duplicate: a report of an ad that already has a case, against one
//     transaction putting the report and the reporter's own record of it
//     with a check that the case is there and open (the case's event and
//     report count follow from the stream). The intake remembers claims
//     and statuses as wiring builds it (ClaimCache); "bare+reads" adds the
//     reads a join without that memory makes (the claim, to find the
//     case; the status, for the receipt).
func BenchmarkIntakeVsBareWrites(b *testing.B) {
	tb := benchTable(b)
	ctx := context.Background()
	who := auth.Principal{Subject: "bench-reporter", Roles: []string{auth.Reporter}}
	in := Intake{Table: tb, Claims: NewClaimCache()} // as wiring builds it
	ad := func(n int) []byte {
		return fmt.Appendf(nil, `{"url":"https://www.facebook.com/groups/lokerkamboja/posts/%d/?mibextid=abc","text":"Dicari admin online Kamboja, gaji 15jt, visa turis, tiket ditanggung. WA 0812-5550-9911","category":"scam"}`, n)
	}
	seq := time.Now().UnixNano() % 1e9 * 1000
	next := func() int { seq++; return int(seq) }

	// The figures of each sub-benchmark's last (largest) run, printed
	// together at the end.
	summary := map[string]string{}
	run := func(b *testing.B, intake func() error, bare func() (func() error, error), bareReads func() error) {
		var ti, tw, tr []time.Duration
		for i := 0; i < b.N; i++ {
			op, err := bare() // items built before the clock starts: bare = the DynamoDB call only
			if err != nil {
				b.Fatal(err)
			}
			timed := func(f func() error, into *[]time.Duration) {
				start := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				*into = append(*into, time.Since(start))
			}
			if i%2 == 0 {
				timed(intake, &ti)
				timed(op, &tw)
			} else {
				timed(op, &tw)
				timed(intake, &ti)
			}
			if bareReads != nil {
				op, err := bare()
				if err != nil {
					b.Fatal(err)
				}
				timed(func() error {
					if err := bareReads(); err != nil {
						return err
					}
					return op()
				}, &tr)
			}
		}
		mi, mw := benchMedian(ti), benchMedian(tw)
		b.ReportMetric(benchMicros(mi), "intake-p50-µs")
		b.ReportMetric(benchMicros(mw), "bare-p50-µs")
		b.ReportMetric(float64(mi)/float64(mw), "ratio")
		line := fmt.Sprintf("%-18s intake p50 %.2f ms (p90 %.2f), bare writes p50 %.2f ms (p90 %.2f), ratio %.2fx (target ≤ 1.5x), n=%d",
			b.Name()[len("BenchmarkIntakeVsBareWrites/"):], benchMillis(mi), benchMillis(benchP90(ti)), benchMillis(mw), benchMillis(benchP90(tw)), float64(mi)/float64(mw), b.N)
		if tr != nil {
			mr := benchMedian(tr)
			b.ReportMetric(benchMicros(mr), "bare+reads-p50-µs")
			line += fmt.Sprintf("; bare+reads p50 %.2f ms, intake/(bare+reads) %.2fx", benchMillis(mr), float64(mi)/float64(mr))
		}
		summary[b.Name()] = line
	}

	b.Run("new_case", func(b *testing.B) {
		run(b, func() error {
			_, err := benchSubmit(ctx, in, who, ad(next()), "")
			return err
		}, func() (func() error, error) {
			return benchNewCaseItems(ctx, tb, next(), false)
		}, nil)
	})
	b.Run("new_case_with_key", func(b *testing.B) {
		run(b, func() error {
			n := next()
			_, err := benchSubmit(ctx, in, who, ad(n), fmt.Sprintf("bench-%d", n))
			return err
		}, func() (func() error, error) {
			return benchNewCaseItems(ctx, tb, next(), true)
		}, nil)
	})
	b.Run("duplicate", func(b *testing.B) {
		body := ad(next())
		first, err := benchSubmit(ctx, in, who, body, "")
		if err != nil {
			b.Fatal(err)
		}
		// The bare side reports to a case of its own, the same shape.
		bareCase := ident.New("c_", time.Now())
		if err := benchPutCase(ctx, tb, bareCase); err != nil {
			b.Fatal(err)
		}
		claimKey := store.Key(store.ClaimPK(urlcanon.Key("https://bench.example/"+bareCase)), store.SKClaim)
		run(b, func() error {
			r, err := benchSubmit(ctx, in, who, body, "")
			if err == nil && (!r.Duplicate || r.CaseID != first.CaseID) {
				err = fmt.Errorf("duplicate report answered %+v", r)
			}
			return err
		}, func() (func() error, error) {
			return benchJoinItems(ctx, tb, bareCase)
		}, func() error {
			if _, err := tb.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb.Name), Key: claimKey, ConsistentRead: aws.Bool(true)}); err != nil {
				return err
			}
			_, err := Intake{Table: tb}.status(ctx, bareCase)
			return err
		})
	})
	// A benchmark with sub-benchmarks runs once, so this prints once.
	fmt.Println("submit path vs the bare DynamoDB writes it needs (DynamoDB Local; p50/p90 per call):")
	for _, k := range slices.Sorted(maps.Keys(summary)) {
		fmt.Println("  " + summary[k])
	}
}

func benchTable(b *testing.B) store.Table {
	b.Helper()
	db := testenv.DynamoDB(b)
	name := testenv.UniqueName(b, "bench-intake")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return store.Table{DB: db, Name: name}
}

// benchSubmit is what POST /reports does after authentication.
func benchSubmit(ctx context.Context, in Intake, who auth.Principal, body []byte, key string) (Receipt, error) {
	s, c, err := Parse(body, in.now())
	if err != nil {
		return Receipt{}, err
	}
	return in.Submit(ctx, who, s, c, body, key)
}

// benchNewCaseItems builds, untimed, the transaction a new case needs (claim,
// META, report, first event, the reporter's report, the case's facets and
// optionally the idempotency record), with
// the same item shapes Submit writes, and returns the call that sends it.
func benchNewCaseItems(ctx context.Context, tb store.Table, n int, withKey bool) (func() error, error) {
	in := Intake{Table: tb}
	now := time.Now()
	s, c, err := Parse(fmt.Appendf(nil, `{"url":"https://www.facebook.com/groups/lokerkamboja/posts/%d/","text":"Dicari admin online Kamboja, gaji 15jt, visa turis, tiket ditanggung. WA 0812-5550-9911","category":"scam"}`, n), now)
	if err != nil {
		return nil, err
	}
	caseID, reportID := ident.New("c_", now), ident.New("r_", now)
	ps := Pseudonym(nil, "bench-reporter")
	ev, err := history.New(caseID, 1, history.Genesis, "case_opened", "reporter:"+ps, now, map[string]any{
		"report_id": reportID, "url": s.URL, "canonical_url": c.URL, "platform": c.Platform,
	})
	if err != nil {
		return nil, err
	}
	cs := store.Case{
		PK: store.CasePK(caseID), SK: store.SKMeta, ID: caseID, URL: s.URL, CanonicalURL: c.URL, Platform: c.Platform,
		Status: store.StatusReceived, Category: s.Category, Text: s.Text, ReportCount: 1,
		CreatedAt: store.FormatTime(now), UpdatedAt: store.FormatTime(now), EventSeq: 1, LastHash: ev.Hash,
		GSI1PK: store.StatusKey(store.StatusReceived), GSI1SK: store.TimeKey(now, caseID),
		GSI2PK: store.PlatformKey(c.Platform), GSI2SK: store.TimeKey(now, caseID),
		GSI4PK: store.StatusPlatformKey(store.StatusReceived, c.Platform),
	}
	rep := reportItem{PK: store.CasePK(caseID), SK: store.ReportSK(reportID), ReportID: reportID, CaseID: caseID, URL: s.URL,
		Platform: c.Platform, Text: s.Text, Category: s.Category, ReporterSub: "bench-reporter", ReceivedAt: store.FormatTime(now), Pseudonym: ps}
	var items []types.TransactWriteItem
	for _, v := range []any{claimItem{PK: claimPK(c), SK: store.SKClaim, CaseID: caseID, URL: c.URL}, cs, rep} {
		p, err := in.put(v)
		if err != nil {
			return nil, err
		}
		items = append(items, p)
	}
	evPut, err := history.Put(tb.Name, ev)
	if err != nil {
		return nil, err
	}
	items = append(items, evPut)
	mine, err := in.reporterItems(rep, s, now)
	if err != nil {
		return nil, err
	}
	items = append(items, mine...)
	items = append(items, store.FacetPut(tb.Name, caseID, store.FacetAll, "", now), store.FacetPut(tb.Name, caseID, store.FacetCategory, s.Category, now))
	if withKey {
		p, err := in.idemPut(&idemItem{PK: idemKey("bench-reporter", fmt.Sprint(n)), SK: store.SKIdem, BodyHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			ExpiresAt: now.Add(IdempotencyTTL).Unix()}, Receipt{CaseID: caseID, ReportID: reportID, Status: store.StatusReceived})
		if err != nil {
			return nil, err
		}
		items = append(items, p)
	}
	return func() error {
		_, err := tb.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}, nil
}

func benchPutCase(ctx context.Context, tb store.Table, id string) error {
	now := time.Now()
	av, err := attributevalue.MarshalMap(store.Case{PK: store.CasePK(id), SK: store.SKMeta, ID: id, URL: "https://bench.example/" + id,
		CanonicalURL: "https://bench.example/" + id, Platform: "website", Status: store.StatusReceived, ReportCount: 1,
		CreatedAt: store.FormatTime(now), UpdatedAt: store.FormatTime(now), EventSeq: 1, LastHash: history.Genesis,
		GSI1PK: store.StatusKey(store.StatusReceived), GSI1SK: store.TimeKey(now, id), GSI2PK: store.PlatformKey("website"), GSI2SK: store.TimeKey(now, id),
		GSI4PK: store.StatusPlatformKey(store.StatusReceived, "website")})
	if err != nil {
		return err
	}
	_, err = tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: av})
	return err
}

// benchJoinItems builds, untimed, the transaction a duplicate report needs
// (Intake.join): the report, a check that the case is there and not
// closed as removed, the reporter's own record of the report.
func benchJoinItems(ctx context.Context, tb store.Table, caseID string) (func() error, error) {
	in := Intake{Table: tb}
	now := time.Now()
	reportID := ident.New("r_", now)
	ri := reportItem{PK: store.CasePK(caseID), SK: store.ReportSK(reportID), ReportID: reportID, CaseID: caseID,
		URL: "https://bench.example/" + caseID, Text: "Dicari admin online Kamboja, gaji 15jt, visa turis, tiket ditanggung. WA 0812-5550-9911",
		Category: "scam", ReporterSub: "bench-reporter", ReceivedAt: store.FormatTime(now), Duplicate: true, Pseudonym: Pseudonym(nil, "bench-reporter")}
	rep, err := in.put(ri)
	if err != nil {
		return nil, err
	}
	mine, err := in.reporterItems(ri, Submission{}, now)
	if err != nil {
		return nil, err
	}
	check := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(tb.Name), Key: store.Key(store.CasePK(caseID), store.SKMeta),
		ConditionExpression:      aws.String("attribute_exists(PK) AND NOT (#s IN (:rit, :rl))"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rit": &types.AttributeValueMemberS{Value: store.StatusRemovedInTime},
			":rl":  &types.AttributeValueMemberS{Value: store.StatusRemovedLate},
		},
	}}
	items := append([]types.TransactWriteItem{rep, check}, mine...)
	return func() error {
		_, err := tb.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}, nil
}

func benchMedian(ds []time.Duration) time.Duration { return benchQuantile(ds, 0.5) }
func benchP90(ds []time.Duration) time.Duration    { return benchQuantile(ds, 0.9) }

func benchQuantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

func benchMicros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func benchMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
