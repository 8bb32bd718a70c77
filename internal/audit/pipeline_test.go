package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/stats"
	"github.com/tangkal/tangkal/internal/store"
)

// streamOf is the table's stream as TallyFunction gets it: an INSERT of
// every event item of the cases, in order.
func streamOf(t *testing.T, tb store.Table, caseIDs ...string) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	for _, id := range caseIDs {
		out, err := tb.DB.Query(context.Background(), &dynamodb.QueryInput{
			TableName: aws.String(tb.Name), KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :e)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: store.CasePK(id)}, ":e": &types.AttributeValueMemberS{Value: store.PrefixEvent},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range out.Items {
			img := map[string]events.DynamoDBAttributeValue{}
			for k, v := range it {
				switch a := v.(type) {
				case *types.AttributeValueMemberS:
					img[k] = events.NewStringAttribute(a.Value)
				case *types.AttributeValueMemberN:
					img[k] = events.NewNumberAttribute(a.Value)
				}
			}
			ev.Records = append(ev.Records, events.DynamoDBEventRecord{EventName: "INSERT",
				Change: events.DynamoDBStreamRecord{NewImage: img, SequenceNumber: fmt.Sprintf("%s-%d", id, i)}})
		}
	}
	return ev
}

// The pipeline's figures come from the counters the stream keeps: cases
// by status, report to takedown request, approval time by agency. A
// replayed stream counts nothing twice.
func TestPipelineStatsFromTheStream(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	now := t0
	clock := func() time.Time { return now }
	r.Now = func() time.Time { return t0.Add(48 * time.Hour) }
	in := report.Intake{Table: r.Table, Now: clock}
	log := history.Log{Table: r.Table, Now: clock}
	approvals := &approval.Store{Table: r.Table, Log: &log, Now: clock}
	// case → approver, minutes to the decision, minutes to the request; the
	// last case is still waiting.
	plans := []struct {
		approver         string
		decide, takedown int
		waitsForApproval bool
	}{
		{"dewi@kp2mi.go.id", 30, 60, false},
		{"rina@komdigi.go.id", 90, 120, false},
		{"budi@kp2mi.go.id", 50, 70, false},
		{"", 0, 0, true},
	}
	var ids []string
	for i, p := range plans {
		now = t0.Add(time.Duration(i) * time.Hour)
		start := now
		s, c, err := report.Parse([]byte(fmt.Sprintf(`{"url":"https://www.facebook.com/groups/loker/posts/%d/","text":"LOWONGAN ADMIN ONLINE"}`, 100+i)), now)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := in.Submit(ctx, auth.Principal{Subject: "ngo-sari", Roles: []string{auth.Reporter}}, s, c, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rc.CaseID)
		step := func(min int, typ string, status string, data any) {
			now = start.Add(time.Duration(min) * time.Minute)
			ch := history.Change{}
			if status != "" {
				ch.Set = map[string]any{"status": status}
			}
			if typ == history.TakedownRequested { // as SendTakedown records it
				ch.Set["takedown_at"] = store.FormatTime(now)
			}
			if _, err := log.Append(ctx, rc.CaseID, typ, "workflow", data, ch); err != nil {
				t.Fatal(err)
			}
		}
		step(1, history.Verified, store.StatusVerifying, history.VerifiedData{Route: "needs_approval", Urgency: "urgent"})
		ag := approverAgency[p.approver]
		step(2, history.ApprovalRequested, store.StatusAwaitingApprove, history.ApprovalRequestedData{Tier: 1, Agencies: []string{ag}, Stage: approval.StageDecide})
		if p.waitsForApproval {
			continue
		}
		policy := agency.Policy{Name: "one", Require: []string{ag}, Tiers: []agency.Tier{{Role: agency.RoleApprover, WindowSeconds: 5 * 3600}}}
		a, err := approvals.Create(ctx, approval.Approval{CaseID: rc.CaseID, TaskToken: "tok" + rc.CaseID, Policy: policy,
			Members: map[string]string{p.approver: ag}, ExpiresAt: start.Add(5 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		now = start.Add(time.Duration(p.decide) * time.Minute)
		if _, err := approvals.Decide(ctx, a.ID, approval.Approve, p.approver, "indicators confirmed"); err != nil {
			t.Fatal(err)
		}
		step(p.takedown, history.TakedownRequested, store.StatusTakedownSent, history.NoticeSentData{Kind: "takedown_request", Level: 0})
		if i == 0 {
			step(p.takedown+300, history.WarningSent, store.StatusEscalated, history.NoticeSentData{Kind: "warning", Level: 1})
		}
	}
	tally := stats.Tally{Table: r.Table, Now: clock}
	for range 2 { // the second time is a replay
		resp, err := tally.Handle(ctx, streamOf(t, r.Table, ids...))
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("tally: %v %v", resp, err)
		}
	}
	code, out := call(t, r, "GET /stats/pipeline", nil, map[string]string{"from": "2026-11", "to": "2026-12"}, auth.Auditor)
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	byStatus := out["cases_by_status"].(map[string]any)
	want := map[string]any{store.StatusTakedownSent: 2.0, store.StatusEscalated: 1.0, store.StatusAwaitingApprove: 1.0}
	if fmt.Sprint(byStatus) != fmt.Sprint(want) {
		t.Errorf("cases by status %v, want %v", byStatus, want)
	}
	near := func(what string, got any, wantSeconds float64) {
		t.Helper()
		g, _ := got.(float64)
		if g < wantSeconds*0.9 || g > wantSeconds*1.1 {
			t.Errorf("%s = %v, want about %.0f s", what, got, wantSeconds)
		}
	}
	rtr := out["report_to_takedown_request"].(map[string]any)
	if rtr["count"] != 3.0 {
		t.Errorf("report to request counted %v times, want 3", rtr["count"])
	}
	near("median report to request", rtr["median_seconds"], 70*60)
	near("p90 report to request", rtr["p90_seconds"], 120*60)
	agencies := out["approval_time_by_agency"].([]any)
	if len(agencies) != 2 {
		t.Fatalf("agencies %v", agencies)
	}
	kp2mi, komdigi := agencies[1].(map[string]any), agencies[0].(map[string]any)
	if kp2mi["agency"] != "kp2mi" || kp2mi["count"] != 2.0 || komdigi["agency"] != "komdigi" || komdigi["count"] != 1.0 {
		t.Fatalf("agencies %v", agencies)
	}
	near("kp2mi median", kp2mi["median_seconds"], 28*60) // asked at minute 2
	near("kp2mi p90", kp2mi["p90_seconds"], 48*60)
	near("komdigi median", komdigi["median_seconds"], 88*60)

	// /stats/compliance adds the warnings by level from the same counters.
	code, out = call(t, r, "GET /stats/compliance", nil, map[string]string{"platform": "facebook"}, auth.Auditor)
	ps, _ := out["platforms"].([]any)
	if code != 200 || len(ps) != 1 {
		t.Fatalf("%d %v", code, out)
	}
	fb := ps[0].(map[string]any)
	if fb["escalations"] != 1.0 || fmt.Sprint(fb["escalations_by_level"]) != "[1 0 0]" {
		t.Errorf("escalations %v by level %v, want 1 and [1 0 0]", fb["escalations"], fb["escalations_by_level"])
	}
	total := out["total"].(map[string]any)
	if fmt.Sprint(total["escalations_by_level"]) != "[1 0 0]" {
		t.Errorf("total escalations by level %v", total["escalations_by_level"])
	}

	for _, tt := range []struct {
		role string
		q    map[string]string
		code int
		text string
	}{
		{auth.Reporter, nil, 403, ""},
		{auth.Approver, nil, 403, ""},
		{auth.Admin, nil, 200, ""},
		{auth.Auditor, map[string]string{"from": "November"}, 400, "from"},
		{auth.Auditor, map[string]string{"from": "2026-12", "to": "2026-11"}, 400, "to"},
	} {
		code, out := call(t, r, "GET /stats/pipeline", nil, tt.q, tt.role)
		if code != tt.code || (tt.text != "" && !strings.Contains(fmt.Sprint(errField(out)), tt.text)) {
			t.Errorf("%s %v: %d %v, want %d", tt.role, tt.q, code, out, tt.code)
		}
	}
}

// Approval time is each agency's own: from the first request that asked
// that agency (not the extra review's) to its decision; the extra review's
// decision is not an agency's approval.
func TestApprovalTimeIsEachAgencysFromItsOwnRequest(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	now := t0
	clock := func() time.Time { return now }
	r.Now = func() time.Time { return t0.Add(48 * time.Hour) }
	log := history.Log{Table: r.Table, Now: clock}
	id := "c_two"
	putCase(t, r.Table, store.Case{ID: id, Platform: "facebook", Status: store.StatusVerifying}, t0)
	at := func(min int) { now = t0.Add(time.Duration(min) * time.Minute) }
	request := func(min int, stage string, agencies ...string) {
		at(min)
		if _, err := log.Append(ctx, id, history.ApprovalRequested, "workflow", history.ApprovalRequestedData{Tier: 1, Agencies: agencies, Stage: stage},
			history.Change{Set: map[string]any{"status": store.StatusAwaitingApprove}}); err != nil {
			t.Fatal(err)
		}
	}
	decide := func(min int, stage, ag, who string) {
		at(min)
		if _, err := log.Append(ctx, id, history.ApprovalDecided, who, history.ApprovalDecidedData{Decision: approval.Approve, Agency: ag, Stage: stage},
			history.Change{}); err != nil {
			t.Fatal(err)
		}
	}
	request(0, approval.StageReview, "polri")
	decide(10, approval.StageReview, "polri", "penyidik@polri.example")
	request(20, approval.StageDecide, "kp2mi")
	decide(50, approval.StageDecide, "kp2mi", "dewi@kp2mi.go.id")
	request(60, approval.StageDecide, "komdigi")
	decide(75, approval.StageDecide, "komdigi", "rina@komdigi.go.id")
	tally := stats.Tally{Table: r.Table, Now: clock}
	if resp, err := tally.Handle(ctx, streamOf(t, r.Table, id)); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("tally: %v %v", resp, err)
	}
	code, out := call(t, r, "GET /stats/pipeline", nil, map[string]string{"from": "2026-11", "to": "2026-12"}, auth.Auditor)
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	got := map[string]float64{}
	for _, a := range out["approval_time_by_agency"].([]any) {
		m := a.(map[string]any)
		got[m["agency"].(string)], _ = m["median_seconds"].(float64)
	}
	want := map[string]float64{"kp2mi": 30 * 60, "komdigi": 15 * 60}
	if len(got) != len(want) {
		t.Fatalf("agencies %v, want kp2mi and komdigi alone", got)
	}
	for ag, w := range want {
		if got[ag] < w*0.9 || got[ag] > w*1.1 {
			t.Errorf("%s median %v s, want about %.0f s", ag, got[ag], w)
		}
	}
}
