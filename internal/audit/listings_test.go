package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// follow pages through a listing with limit, failing on a short page that
// is not the last; it returns the ids in the order listed.
func follow(t *testing.T, r Reader, q map[string]string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatal("more than 200 pages")
		}
		qq := map[string]string{"limit": fmt.Sprint(limit)}
		for k, v := range q {
			qq[k] = v
		}
		if cursor != "" {
			qq["cursor"] = cursor
		}
		code, out := list(t, r, qq)
		if code != 200 {
			t.Fatalf("%v page %d: %d %v", q, page, code, out)
		}
		cs, _ := out["cases"].([]any)
		next, _ := out["next_cursor"].(string)
		if next != "" && len(cs) < limit {
			t.Fatalf("%v page %d: %d cases of %d, and a next page (a short page)", q, page, len(cs), limit)
		}
		for _, c := range cs {
			ids = append(ids, c.(map[string]any)["case_id"].(string))
		}
		if next == "" {
			return ids
		}
		cursor = next
	}
}

// Every listing auditors have is served whole, in full pages, newest first,
// each case once, whatever else the other cases are: statuses, platforms,
// urgencies, categories and deciders are mixed so that a filter would
// leave pages short.
func TestEveryListingPagesFullPagesOfItsCasesOnly(t *testing.T) {
	r := newReader(t)
	r.CursorKey = []byte(strings.Repeat("k", 32))
	ctx := context.Background()
	statuses := []string{store.StatusReceived, store.StatusAwaitingApprove, store.StatusTakedownSent, store.StatusRemovedInTime, store.StatusRejected}
	platforms := []string{"facebook", "tiktok", "x"}
	categories := []string{"scam_compound", "domestic_work", ""}
	approvers := []string{"dewi@kp2mi.go.id", "budi@kp2mi.go.id", "rina@komdigi.go.id"}
	want := map[string][]string{} // listing → ids, oldest first
	add := func(listing, id string) { want[listing] = append(want[listing], id) }
	const n = 120
	for i := range n {
		id := fmt.Sprintf("c_%04d", i)
		created := t0.Add(time.Duration(i) * time.Minute)
		c := store.Case{ID: id, Status: statuses[i%5], Platform: platforms[i%3], Category: categories[i%7%3]}
		if i%4 != 3 {
			c.Urgency = []string{"urgent", "normal"}[i%2]
		}
		putCase(t, r.Table, c, created)
		add("all", id)
		add("status="+c.Status, id)
		add("platform="+c.Platform, id)
		add("status="+c.Status+"&platform="+c.Platform, id)
		if c.Urgency != "" {
			add("urgency="+c.Urgency, id)
		}
		if c.Category != "" {
			add("category="+c.Category, id)
		}
		if i%3 != 0 { // decided, in creation order; some by two agencies
			ap := approvers[(i/3)%len(approvers)]
			items := store.DecisionIndexItems(r.Table.Name, id, approverAgency[ap], ap, created.Add(time.Hour))
			add("agency="+approverAgency[ap], id)
			add("approver="+ap, id)
			if i%5 == 0 && approverAgency[ap] == "kp2mi" {
				items = append(items, store.DecisionIndexItems(r.Table.Name, id, "komdigi", "rina@komdigi.go.id", created.Add(time.Hour))...)
				add("agency=komdigi", id)
				add("approver=rina@komdigi.go.id", id)
			}
			if _, err := r.Table.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ranges := map[string]string{"from": store.FormatTime(t0.Add(30 * time.Minute)), "to": store.FormatTime(t0.Add(89 * time.Minute))}
	for i := 30; i < 90; i++ {
		add("all in range", fmt.Sprintf("c_%04d", i))
	}
	tests := []struct {
		listing string
		q       map[string]string
	}{
		{"all", nil},
		{"all in range", ranges},
		{"status=" + store.StatusTakedownSent, map[string]string{"status": store.StatusTakedownSent}},
		{"platform=tiktok", map[string]string{"platform": "tiktok"}},
		{"status=received&platform=facebook", map[string]string{"status": store.StatusReceived, "platform": "facebook"}},
		{"status=rejected&platform=x", map[string]string{"status": store.StatusRejected, "platform": "x"}},
		{"urgency=urgent", map[string]string{"urgency": "urgent"}},
		{"urgency=normal", map[string]string{"urgency": "normal"}},
		{"category=scam_compound", map[string]string{"category": "scam_compound"}},
		{"agency=kp2mi", map[string]string{"agency": "kp2mi"}},
		{"agency=komdigi", map[string]string{"agency": "KOMDIGI"}},
		{"approver=dewi@kp2mi.go.id", map[string]string{"approver": "Dewi@KP2MI.go.id"}},
		{"approver=rina@komdigi.go.id", map[string]string{"approver": "rina@komdigi.go.id"}},
	}
	for _, tt := range tests {
		for _, limit := range []int{7, 50} {
			t.Run(fmt.Sprintf("%s/limit=%d", tt.listing, limit), func(t *testing.T) {
				exp := want[tt.listing]
				if len(exp) <= limit && limit == 7 {
					t.Fatalf("only %d cases: too few to page", len(exp))
				}
				got := follow(t, r, tt.q, limit)
				if len(got) != len(exp) {
					t.Fatalf("%d cases listed, want %d", len(got), len(exp))
				}
				for i, id := range got { // newest first
					if w := exp[len(exp)-1-i]; id != w {
						t.Fatalf("case %d is %s, want %s", i, id, w)
					}
				}
			})
		}
	}
	// A listed case is the case as it stands now.
	code, out := list(t, r, map[string]string{"agency": "kp2mi", "limit": "1"})
	cs, _ := out["cases"].([]any)
	if code != 200 || len(cs) != 1 {
		t.Fatalf("%d %v", code, out)
	}
	if c := cs[0].(map[string]any); c["status"] == nil || c["platform"] == nil || c["created_at"] == nil {
		t.Fatalf("a listed case without its status, platform or creation: %v", c)
	}
}

// approverAgency is each test approver's agency, as the agencies file
// would name it (the approval store records it with every decision).
var approverAgency = map[string]string{"dewi@kp2mi.go.id": "kp2mi", "budi@kp2mi.go.id": "kp2mi",
	"rina@komdigi.go.id": "komdigi", "agus@komdigi.go.id": "komdigi"}

func TestListRefusesSelectionsItCannotServe(t *testing.T) {
	r := newReader(t)
	tests := []struct {
		q     map[string]string
		field string
	}{
		{map[string]string{"urgency": "maybe"}, "urgency"},
		{map[string]string{"status": store.StatusReceived, "urgency": "urgent"}, "urgency"},
		{map[string]string{"platform": "x", "category": "scam"}, "category"},
		{map[string]string{"agency": "kp2mi", "approver": "a@kp2mi.go.id"}, "approver"},
		{map[string]string{"category": "a#b"}, "category"},
		{map[string]string{"from": "yesterday"}, "from"},
		{map[string]string{"limit": "500"}, "limit"},
	}
	for _, tt := range tests {
		code, out := list(t, r, tt.q)
		if code != 400 || errField(out) != tt.field {
			t.Errorf("%v: %d %v, want 400 naming %s", tt.q, code, out, tt.field)
		}
	}
}

// Each agency's decision lists the case under that agency (the one the
// approval records for the member, not the address's domain) and under
// the approver, and the history says which agency decided.
func TestEachAgencyDecisionListsTheCaseUnderItsAgencyAndApprover(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	id := "c_decided"
	putCase(t, r.Table, store.Case{ID: id, Platform: "facebook", Status: store.StatusAwaitingApprove}, t0)
	log := history.Log{Table: r.Table, Now: func() time.Time { return t0.Add(time.Hour) }}
	st := &approval.Store{Table: r.Table, Log: &log, Now: log.Now}
	policy := agency.Policy{Name: "both", Require: []string{"kp2mi", "komdigi"},
		Tiers: []agency.Tier{{Role: agency.RoleApprover, WindowSeconds: 3600}}}
	a, err := st.Create(ctx, approval.Approval{CaseID: id, TaskToken: "token", Policy: policy,
		Members:   map[string]string{"Dewi@Kemnaker.example": "kp2mi", "budi@mail.example": "komdigi"},
		ExpiresAt: t0.Add(5 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"dewi@kemnaker.example", "budi@mail.example"} {
		if _, err := st.Act(ctx, a.ID, approval.Action{Decision: approval.Approve, Identity: who, Channel: approval.ChannelAPI}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []map[string]string{{"agency": "kp2mi"}, {"agency": "komdigi"}, {"approver": "dewi@kemnaker.example"}, {"approver": "budi@mail.example"}} {
		if ids := follow(t, r, q, 10); len(ids) != 1 || ids[0] != id {
			t.Errorf("%v lists %v, want [%s]", q, ids, id)
		}
	}
	for _, q := range []map[string]string{{"agency": "kemnaker"}, {"agency": "polri"}} {
		if ids := follow(t, r, q, 10); len(ids) != 0 {
			t.Errorf("%v lists %v, want none", q, ids)
		}
	}
	evs, err := log.List(ctx, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	agencies := map[string]string{}
	for _, e := range evs {
		if e.Type != approval.EventDecided {
			continue
		}
		var d history.ApprovalDecidedData
		if err := e.Decode(&d); err != nil {
			t.Fatal(err)
		}
		agencies[e.Actor] = d.Agency
	}
	if agencies["dewi@kemnaker.example"] != "kp2mi" || agencies["budi@mail.example"] != "komdigi" {
		t.Fatalf("decision events name agencies %v", agencies)
	}
}
