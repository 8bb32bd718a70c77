package audit

import (
	"context"
	"encoding/json"
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

func TestComplianceStatsCountsEveryOutcome(t *testing.T) {
	r := newReader(t)
	at := func(d time.Duration) string { return store.FormatTime(t0.Add(d)) }
	removed := func(id string, outcome string, after time.Duration) store.Case {
		return store.Case{ID: id, Platform: "facebook", Status: outcome, Outcome: outcome,
			TakedownAt: at(0), Deadline: at(4 * time.Hour), RemovedAt: at(after)}
	}
	cases := []store.Case{
		removed("c_a", store.StatusRemovedInTime, 10*time.Minute),
		removed("c_b", store.StatusRemovedInTime, time.Hour),
		removed("c_c", store.StatusRemovedInTime, 2*time.Hour),
		removed("c_d", store.StatusRemovedLate, 10*time.Hour),
		// Removed, the outcome recorded, the case not closed yet.
		{ID: "c_e", Platform: "facebook", Status: store.StatusEscalated, Outcome: store.StatusRemovedLate, TakedownAt: at(0), RemovedAt: at(30 * time.Hour)},
		{ID: "c_f", Platform: "facebook", Status: store.StatusTakedownSent, TakedownAt: at(0), Deadline: at(4 * time.Hour)},       // overdue
		{ID: "c_g", Platform: "facebook", Status: store.StatusEscalated, TakedownAt: at(0), Deadline: at(72 * time.Hour)},         // live, not yet due
		{ID: "c_h", Platform: "facebook", Status: store.StatusNonCompliant, Outcome: store.StatusNonCompliant, TakedownAt: at(0)}, // ladder exhausted
		{ID: "c_i", Platform: "facebook", Status: store.StatusAwaitingApprove},                                                    // no request yet
		{ID: "c_j", Platform: "facebook", Status: store.StatusRejected, Outcome: store.StatusRejected},                            // never sent
		{ID: "c_k", Platform: "tiktok", Status: store.StatusRemovedInTime, Outcome: store.StatusRemovedInTime, TakedownAt: at(0), RemovedAt: at(time.Minute)},
	}
	for _, c := range cases {
		putCase(t, r.Table, c, t0)
	}
	// A case created outside the asked period.
	putCase(t, r.Table, removed("c_z", store.StatusRemovedInTime, time.Minute), t0.Add(-30*24*time.Hour))

	code, out := call(t, r, "GET /stats/compliance", nil, map[string]string{"from": "2026-11-01T00:00:00Z"}, auth.Auditor)
	if code != 200 {
		t.Fatalf("stats: %d %v", code, out)
	}
	b, _ := json.Marshal(out)
	var got ComplianceResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Platforms) != 2 {
		t.Fatalf("platforms %+v, want facebook and tiktok", got.Platforms)
	}
	fb := got.Platforms[0]
	want := PlatformStats{Platform: "facebook", Cases: 10, RequestsSent: 8, RemovedInTime: 3, RemovedLate: 2, StillLive: 2, Overdue: 1, NonCompliant: 1, RemovalsMeasured: 5}
	fb.MedianSecondsToRemoval, fb.P90SecondsToRemoval = nil, nil
	if fb.Platform != want.Platform || fb.Cases != want.Cases || fb.RequestsSent != want.RequestsSent || fb.RemovedInTime != want.RemovedInTime ||
		fb.RemovedLate != want.RemovedLate || fb.StillLive != want.StillLive || fb.Overdue != want.Overdue || fb.NonCompliant != want.NonCompliant ||
		fb.OtherClosed != 0 || fb.RemovalsMeasured != want.RemovalsMeasured {
		t.Fatalf("facebook = %+v\nwant       %+v", fb, want)
	}
	// Removals after 10m, 1h, 2h, 10h, 30h: median 2h, p90 (nearest rank) 30h.
	if m, p := got.Platforms[0].MedianSecondsToRemoval, got.Platforms[0].P90SecondsToRemoval; m == nil || *m != 7200 || p == nil || *p != 30*3600 {
		t.Fatalf("median %v p90 %v, want 7200 and 108000", m, p)
	}
	if got.Total.Cases != 11 || got.Total.RequestsSent != 9 || got.Total.RemovedInTime != 4 || got.Total.RemovalsMeasured != 6 {
		t.Fatalf("total %+v", got.Total)
	}

	// One platform only; unknown platforms and bad times are 400 naming the field.
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
		{"to before from", map[string]string{"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "to"},
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
