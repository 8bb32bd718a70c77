package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/entity"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

var t0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func newReader(t *testing.T) Reader {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "audit")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return Reader{Table: store.Table{DB: db, Name: name}, Platforms: []string{"facebook", "tiktok"},
		Now: func() time.Time { return t0.Add(48 * time.Hour) }}
}

// putCase writes a case's META item as the workflow leaves it.
func putCase(t *testing.T, tb store.Table, c store.Case, created time.Time) {
	t.Helper()
	c.PK, c.SK = store.CasePK(c.ID), store.SKMeta
	c.CreatedAt, c.UpdatedAt = store.FormatTime(created), store.FormatTime(created)
	c.GSI1PK, c.GSI1SK = store.StatusKey(c.Status), store.TimeKey(created, c.ID)
	c.GSI2PK, c.GSI2SK = store.PlatformKey(c.Platform), store.TimeKey(created, c.ID)
	c.GSI4PK = store.StatusPlatformKey(c.Status, c.Platform)
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		t.Fatal(err)
	}
	// The case and its facets, as intake and verification write them.
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(tb.Name), Item: item}},
		store.FacetPut(tb.Name, c.ID, store.FacetAll, "", created)}
	if c.Category != "" {
		items = append(items, store.FacetPut(tb.Name, c.ID, store.FacetCategory, c.Category, created))
	}
	if c.Urgency != "" {
		items = append(items, store.FacetPut(tb.Name, c.ID, store.FacetUrgency, c.Urgency, created))
	}
	if _, err := tb.DB.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}
}

func call(t *testing.T, r Reader, route string, path, query map[string]string, roles ...string) (int, map[string]any) {
	t.Helper()
	req := api.Request{RouteKey: route, PathParameters: path, QueryStringParameters: query}
	if len(roles) > 0 {
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "tester", auth.GroupsClaim: "[" + roles[0] + "]"},
			},
		}
	}
	resp, err := api.Handle(r.Route)(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("%s: body is not JSON: %s", route, resp.Body)
	}
	return resp.StatusCode, out
}

// outcomePlan is a case's life as the workflow records it, in minutes
// after its report: the takedown request, warnings, the check that saw it
// removed (or not), the close.
type outcomePlan struct {
	url      string
	takedown bool
	warnings int
	removed  time.Duration // after the request; 0: not seen removed
	closed   string        // the case_closed outcome; "": still open
	deadline time.Duration // of the open notice, after the request
}

// live runs a case through intake and the workflow's history events at
// report time at, as the workflow's functions record them.
func (p outcomePlan) live(t *testing.T, r Reader, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	now := at
	clock := func() time.Time { return now }
	s, c, err := report.Parse([]byte(fmt.Sprintf(`{"url":%q,"text":"LOWONGAN ADMIN ONLINE KAMBOJA"}`, p.url)), now)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := report.Intake{Table: r.Table, Now: clock}.Submit(ctx, auth.Principal{Subject: "ngo-sari", Roles: []string{auth.Reporter}}, s, c, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	log := history.Log{Table: r.Table, Now: clock}
	step := func(after time.Duration, typ, status string, data any, items ...types.TransactWriteItem) {
		t.Helper()
		now = at.Add(after)
		ch := history.Change{Set: map[string]any{}, Items: items}
		if status != "" {
			ch.Set["status"] = status
		}
		if typ == history.TakedownRequested {
			ch.Set["takedown_at"] = store.FormatTime(now)
		}
		if _, err := log.Append(ctx, rc.CaseID, typ, "workflow", data, ch); err != nil {
			t.Fatal(err)
		}
	}
	step(time.Minute, history.Verified, store.StatusVerifying, history.VerifiedData{Route: "needs_approval"})
	if !p.takedown {
		if p.closed != "" {
			step(time.Hour, history.CaseClosed, p.closed, history.CaseClosedData{Outcome: p.closed})
		}
		return rc.CaseID
	}
	sent := at.Add(time.Hour)
	opened, err := r.Table.GetCase(ctx, rc.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	platform := opened.Platform
	notice, err := r.Table.PutOpenNotice(store.OpenNotice{Ref: rc.CaseID, Platform: platform, Kind: "takedown_request",
		TakedownAt: store.FormatTime(sent), SentAt: store.FormatTime(sent), Deadline: store.FormatTime(sent.Add(p.deadline))})
	if err != nil {
		t.Fatal(err)
	}
	step(time.Hour, history.TakedownRequested, store.StatusTakedownSent, history.NoticeSentData{Kind: "takedown_request"}, notice)
	for l := 1; l <= p.warnings; l++ {
		step(time.Hour+time.Duration(l)*24*time.Hour, history.WarningSent, store.StatusEscalated, history.NoticeSentData{Kind: "warning", Level: l})
	}
	if p.removed > 0 {
		ttr := int64(p.removed.Seconds())
		step(time.Hour+p.removed, history.ComplianceChecked, "", history.ComplianceCheckedData{Removed: true, TimeToRemovalSeconds: &ttr})
	}
	if p.closed != "" {
		step(time.Hour+p.removed+time.Minute, history.CaseClosed, p.closed, history.CaseClosedData{Outcome: p.closed},
			r.Table.DeleteOpenNotice(platform, rc.CaseID))
	}
	return rc.CaseID
}

// The compliance figures come from the counters the stream keeps, by the
// month of the takedown request: every outcome, the open requests and
// those past their deadline, the time to removal, and a replayed stream
// counts nothing twice.
func TestComplianceStatsCountsEveryOutcome(t *testing.T) {
	r := newReader(t)
	fb := func(n int) string { return fmt.Sprintf("https://www.facebook.com/groups/loker/posts/%d/", 7000+n) }
	inTime := func(n int, after time.Duration) outcomePlan {
		return outcomePlan{url: fb(n), takedown: true, removed: after, closed: store.StatusRemovedInTime, deadline: 4 * time.Hour}
	}
	late := func(n int, after time.Duration) outcomePlan {
		return outcomePlan{url: fb(n), takedown: true, warnings: 1, removed: after, closed: store.StatusRemovedLate, deadline: 4 * time.Hour}
	}
	plans := []outcomePlan{
		inTime(1, 10*time.Minute), inTime(2, time.Hour), inTime(3, 2*time.Hour),
		late(4, 10*time.Hour), late(5, 30*time.Hour),
		{url: fb(6), takedown: true, deadline: 4 * time.Hour},                       // open, past its deadline at t0+48h
		{url: fb(7), takedown: true, warnings: 1, deadline: 72 * time.Hour},         // open, not yet due
		{url: fb(8), takedown: true, warnings: 3, closed: store.StatusNonCompliant}, // ladder exhausted
		{url: fb(9)}, // no request yet
		{url: fb(10), closed: store.StatusRejected}, // never sent
		{url: "https://www.tiktok.com/@lokerkamboja/video/7011", takedown: true, removed: time.Minute, closed: store.StatusRemovedInTime},
	}
	var ids []string
	for _, p := range plans {
		ids = append(ids, p.live(t, r, t0))
	}
	// A case of the month before the asked months.
	ids = append(ids, inTime(12, time.Minute).live(t, r, t0.Add(-30*24*time.Hour)))
	tally := stats.Tally{Table: r.Table, Now: func() time.Time { return t0 }}
	for range 2 { // the second time is a replay
		if resp, err := tally.Handle(context.Background(), streamOf(t, r.Table, ids...)); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("tally: %v %v", resp, err)
		}
	}

	for _, from := range []string{"2026-11", "2026-11-01T00:00:00Z"} {
		code, out := call(t, r, "GET /stats/compliance", nil, map[string]string{"from": from}, auth.Auditor)
		if code != 200 {
			t.Fatalf("stats: %d %v", code, out)
		}
		b, _ := json.Marshal(out)
		var got ComplianceResponse
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Platforms) != 2 || got.From != "2026-11" || got.To != "" {
			t.Fatalf("from=%s: %s, want facebook and tiktok from 2026-11", from, b)
		}
		fb := got.Platforms[0]
		want := PlatformStats{Platform: "facebook", Cases: 10, RequestsSent: 8, RemovedInTime: 3, RemovedLate: 2, StillLive: 2, Overdue: 1, NonCompliant: 1, RemovalsMeasured: 5, Escalations: 6}
		if fb.Platform != want.Platform || fb.Cases != want.Cases || fb.RequestsSent != want.RequestsSent || fb.RemovedInTime != want.RemovedInTime ||
			fb.RemovedLate != want.RemovedLate || fb.StillLive != want.StillLive || fb.Overdue != want.Overdue || fb.NonCompliant != want.NonCompliant ||
			fb.OtherClosed != 0 || fb.RemovalsMeasured != want.RemovalsMeasured || fb.Escalations != want.Escalations || fmt.Sprint(fb.EscalationsByLevel) != "[4 1 1]" {
			t.Fatalf("facebook = %+v\nwant       %+v and warnings [4 1 1]", fb, want)
		}
		// Removals after 10m, 1h, 2h, 10h, 30h: median 2h, p90 (nearest
		// rank) 30h, within the histogram's ±9%.
		near := func(what string, got *int64, want float64) {
			t.Helper()
			if got == nil || float64(*got) < want*0.91 || float64(*got) > want*1.09 {
				t.Errorf("%s = %v, want about %.0f s", what, got, want)
			}
		}
		near("median", fb.MedianSecondsToRemoval, 7200)
		near("p90", fb.P90SecondsToRemoval, 30*3600)
		if got.Total.Cases != 11 || got.Total.RequestsSent != 9 || got.Total.RemovedInTime != 4 || got.Total.RemovalsMeasured != 6 || got.Total.Overdue != 1 {
			t.Fatalf("total %+v", got.Total)
		}
	}
	// With no period, every month: the October case too.
	code, out := call(t, r, "GET /stats/compliance", nil, nil, auth.Auditor)
	if total, _ := out["total"].(map[string]any); code != 200 || total["requests_sent"] != 10.0 || total["cases"] != 12.0 {
		t.Fatalf("all months: %d %v", code, out)
	}
	// The month before holds only the October case.
	code, out = call(t, r, "GET /stats/compliance", nil, map[string]string{"to": "2026-10"}, auth.Auditor)
	if total, _ := out["total"].(map[string]any); code != 200 || total["requests_sent"] != 1.0 || total["removed_in_time"] != 1.0 {
		t.Fatalf("to=2026-10: %d %v", code, out)
	}

	// One platform only; unknown platforms and bad periods are 400 naming the field.
	code, out = call(t, r, "GET /stats/compliance", nil, map[string]string{"platform": "tiktok"}, auth.Admin)
	if ps, _ := out["platforms"].([]any); code != 200 || len(ps) != 1 {
		t.Fatalf("platform=tiktok: %d %v", code, out)
	}
	for _, tt := range []struct {
		name  string
		query map[string]string
		field string
	}{
		{"unknown platform", map[string]string{"platform": "myspace"}, "platform"},
		{"bad from", map[string]string{"from": "yesterday"}, "from"},
		{"bad to", map[string]string{"to": "2026-13"}, "to"},
		{"to before from", map[string]string{"from": "2026-11", "to": "2026-10-31T00:00:00Z"}, "to"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := call(t, r, "GET /stats/compliance", nil, tt.query, auth.Auditor)
			if e, _ := out["error"].(map[string]any); code != 400 || e["field"] != tt.field {
				t.Fatalf("%d %v, want 400 naming %s", code, out, tt.field)
			}
		})
	}
}

func TestEntityLookupAndRoles(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	set := entity.Extract("Minat WA 0812-5550-0371 atau t.me/lokerkamboja_admin")
	if err := entity.Index(ctx, r.Table, "c_one", "facebook", "https://facebook.com/a", set); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		kind   string
		value  string
		role   string
		want   int
		field  string
		nCases int
	}{
		{"local spelling", "phone", "0812-5550-0371", auth.Auditor, 200, "", 1},
		{"escaped plus", "phone", "%2B6281255500371", auth.Approver, 200, "", 1},
		{"whatsapp alias", "whatsapp", "+62 812 5550 0371", auth.Admin, 200, "", 1},
		{"telegram handle", "telegram", "@LokerKamboja_Admin", auth.Auditor, 200, "", 1},
		{"unknown number", "phone", "0813-0000-1111", auth.Auditor, 200, "", 0},
		{"unknown kind", "fax", "123", auth.Auditor, 400, "kind", 0},
		{"not a number", "phone", "call me", auth.Auditor, 400, "value", 0},
		{"reporter", "phone", "0812-5550-0371", auth.Reporter, 403, "", 0},
		{"anonymous", "phone", "0812-5550-0371", "", 401, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var roles []string
			if tt.role != "" {
				roles = []string{tt.role}
			}
			code, out := call(t, r, "GET /entities/{kind}/{value}", map[string]string{"kind": tt.kind, "value": tt.value}, nil, roles...)
			if code != tt.want {
				t.Fatalf("%d %v, want %d", code, out, tt.want)
			}
			if tt.field != "" {
				if e, _ := out["error"].(map[string]any); e["field"] != tt.field {
					t.Fatalf("error %v does not name %s", out, tt.field)
				}
			}
			if code == 200 {
				if cs, _ := out["cases"].([]any); len(cs) != tt.nCases {
					t.Fatalf("cases %v, want %d", out["cases"], tt.nCases)
				}
			}
		})
	}
}
