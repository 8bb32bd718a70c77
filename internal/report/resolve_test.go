package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
)

// items returns every item of a partition, by sort key.
func items(t *testing.T, tb store.Table, pk string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out, err := tb.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(tb.Name), KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]map[string]types.AttributeValue{}
	for _, it := range out.Items {
		m[it["SK"].(*types.AttributeValueMemberS).Value] = it
	}
	return m
}

func str(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func resolveReq(pseudonym, body string, roles ...string) api.Request {
	req := api.Request{RouteKey: "POST /reporters/{sub}/resolve", PathParameters: map[string]string{"sub": pseudonym}, Body: body}
	if len(roles) > 0 {
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": "admin-ayu", auth.GroupsClaim: "[" + roles[0] + "]"}}}
	}
	return req
}

// A reporter's name and contact are kept apart from the case, under the
// pseudonym, and expire after the retention; the case's partition holds
// none of them. An admin resolves the pseudonym with a reason, and each of
// the reporter's cases records that in its history.
func TestContactsLiveApartExpireAndAreResolvedOnRecord(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("p", 32))
	in := Intake{Table: tb, Now: func() time.Time { return now }, PseudonymKey: key, ContactRetention: 30 * 24 * time.Hour}
	h := Handler{Intake: in}
	sari := auth.Principal{Subject: "ngo-sari", Roles: []string{auth.Reporter}}
	submit := func(who auth.Principal, body string) Receipt {
		t.Helper()
		s, c, err := Parse([]byte(body), now)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Submit(ctx, who, s, c, []byte(body), "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := submit(sari, `{"url":"https://t.me/lokerkamboja/5550","reporter":{"name":"Sari Wulandari","contact":"sari@lsm.example","organization":"LSM Peduli"}}`)
	now = now.Add(40 * 24 * time.Hour) // past the first report's retention
	again := submit(sari, `{"url":"https://t.me/lokerkamboja/5550?utm_source=wa","reporter":{"name":"Sari W.","contact":"+62 811 7770 4321"}}`)
	other := submit(sari, `{"url":"https://t.me/lokerkamboja/7777"}`)
	submit(auth.Principal{Subject: "someone-else", Roles: []string{auth.Reporter}}, `{"url":"https://t.me/lokerkamboja/7777","reporter":{"name":"Budi"}}`)
	if !again.Duplicate || first.CaseID != again.CaseID {
		t.Fatalf("receipts %+v %+v", first, again)
	}
	p := Pseudonym(key, "ngo-sari")

	// The case holds no name or contact.
	for _, id := range []string{first.CaseID, other.CaseID} {
		for sk, it := range items(t, tb, store.CasePK(id)) {
			b, _ := json.Marshal(it)
			for _, secret := range []string{"Sari", "sari@", "7770", "Budi"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("case item %s holds %q", sk, secret)
				}
			}
		}
	}
	// The contacts sit under the pseudonym, each with its expiry.
	mine := items(t, tb, store.MyReportsPK(p))
	c1 := mine[store.ContactSK(first.ReportID)]
	if str(c1, "name") != "Sari Wulandari" || c1["expires_at"] == nil {
		t.Fatalf("first contact %v", c1)
	}
	exp := c1["expires_at"].(*types.AttributeValueMemberN).Value
	if want := fmt.Sprint(now.Add(-40 * 24 * time.Hour).Add(30 * 24 * time.Hour).Unix()); exp != want {
		t.Errorf("first contact expires at %s, want %s (30 days after the report)", exp, want)
	}
	if _, ok := mine[store.ContactSK(other.ReportID)]; ok {
		t.Error("a contact item for a report that gave none")
	}

	bad := []struct {
		name string
		req  api.Request
		code int
		want string
	}{
		{"no token", resolveReq(p, `{"reason":"court order 12/2026"}`), 401, ""},
		{"auditor", resolveReq(p, `{"reason":"court order 12/2026"}`, auth.Auditor), 403, ""},
		{"reporter", resolveReq(p, `{"reason":"court order 12/2026"}`, auth.Reporter), 403, ""},
		{"no reason", resolveReq(p, `{}`, auth.Admin), 400, "reason"},
		{"short reason", resolveReq(p, `{"reason":"because"}`, auth.Admin), 400, "reason"},
		{"unknown field", resolveReq(p, `{"reason":"court order 12/2026","why":"x"}`, auth.Admin), 400, "why"},
		{"empty body", resolveReq(p, ``, auth.Admin), 400, "body"},
		{"malformed pseudonym", resolveReq("rp-../x", `{"reason":"court order 12/2026"}`, auth.Admin), 404, "pseudonym"},
		{"unknown pseudonym", resolveReq("rp-00000000000000000000", `{"reason":"court order 12/2026"}`, auth.Admin), 404, "pseudonym"},
	}
	for _, tt := range bad {
		resp, err := api.Handle(h.Route)(ctx, tt.req)
		if err != nil || resp.StatusCode != tt.code || !strings.Contains(resp.Body, tt.want) {
			t.Errorf("%s: %d %s %v, want %d naming %q", tt.name, resp.StatusCode, resp.Body, err, tt.code, tt.want)
		}
	}
	for _, id := range []string{first.CaseID, other.CaseID} { // refusals recorded nothing
		evs, _ := history.Log{Table: tb}.List(ctx, id, 0, 0)
		for _, e := range evs {
			if e.Type == history.PseudonymResolved {
				t.Fatalf("a refused resolution is in the history of %s", id)
			}
		}
	}

	reason := "Permintaan penyidik Polri No. B/123/XI/2026 (court order)"
	resp, err := api.Handle(h.Route)(ctx, resolveReq(p, `{"reason":"`+reason+`"}`, auth.Admin))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resolve: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	var res Resolution
	if err := json.Unmarshal([]byte(resp.Body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Account != "ngo-sari" || res.Reason != reason || res.ContactRetentionDays != 30 {
		t.Errorf("resolution %+v", res)
	}
	if want := []string{first.CaseID, other.CaseID}; fmt.Sprint(res.Cases) != fmt.Sprint(sortedPair(want)) {
		t.Errorf("cases %v, want %v", res.Cases, want)
	}
	// The expired contact is not shown even before TTL deletes it.
	if len(res.Contacts) != 1 || res.Contacts[0].Name != "Sari W." || res.Contacts[0].ReportID != again.ReportID {
		t.Errorf("contacts %+v, want only the second report's", res.Contacts)
	}
	for _, id := range res.Cases {
		evs, err := history.Log{Table: tb}.List(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		var d history.PseudonymResolvedData
		if err := last.Decode(&d); err != nil || last.Type != history.PseudonymResolved || last.Actor != "admin:admin-ayu" || d.Pseudonym != p || d.Reason != reason {
			t.Errorf("case %s: last event %s by %s %+v %v", id, last.Type, last.Actor, d, err)
		}
		if strings.Contains(string(last.Data), "Sari") || strings.Contains(string(last.Data), "ngo-sari") {
			t.Errorf("case %s: the resolution event names the reporter: %s", id, last.Data)
		}
		if err := history.Verify(evs, ""); err != nil {
			t.Errorf("case %s: %v", id, err)
		}
	}
}

func sortedPair(s []string) []string {
	if len(s) == 2 && s[0] > s[1] {
		return []string{s[1], s[0]}
	}
	return s
}

// Every intake path keeps the report under its reporter's pseudonym and
// the name and contact apart from the case: a single report, a batch
// item; the public channel keeps nothing under a reporter (no account, no
// name, no contact).
func TestEveryIntakePathKeepsContactsApart(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	in := Intake{Table: tb, Now: func() time.Time { return now }}
	h := Handler{Intake: in}
	const contact = `"reporter":{"name":"Rina Lestari","contact":"rina@lsm.example"}`
	single := func() Receipt {
		body := `{"url":"https://t.me/lokerkamboja/8101",` + contact + `}`
		s, c, err := Parse([]byte(body), now)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Submit(ctx, auth.Principal{Subject: "ngo-rina", Roles: []string{auth.Reporter}}, s, c, []byte(body), "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	batch := func() Receipt {
		req := batchRequest(0)
		req.Body = `[{"url":"https://t.me/lokerkamboja/8102",` + contact + `}]`
		long, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		resp, err := h.Batch(long, req)
		var ans BatchAnswer
		if err != nil || json.Unmarshal([]byte(resp.Body), &ans) != nil || ans.Accepted != 1 {
			t.Fatalf("batch: %v %s", err, resp.Body)
		}
		if ans.Results[0].Receipt == nil {
			t.Fatalf("batch item %+v", ans.Results[0])
		}
		return *ans.Results[0].Receipt
	}
	public := func() Receipt {
		body := `{"url":"https://t.me/lokerkamboja/8103"}`
		s, c, err := Parse([]byte(body), now)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.SubmitFrom(ctx, auth.Principal{Subject: "public"}, Origin{Source: SourcePublic}, s, c, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tt := range []struct {
		name     string
		submit   func() Receipt
		sub      string
		contacts int
	}{
		{"single report", single, "ngo-rina", 1},
		{"batch item", batch, "crawler-1", 1},
		{"public channel", public, "public", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.submit()
			for sk, it := range items(t, tb, store.CasePK(r.CaseID)) {
				if b, _ := json.Marshal(it); strings.Contains(string(b), "Rina") || strings.Contains(string(b), "rina@") {
					t.Errorf("case item %s holds the reporter's name or contact", sk)
				}
			}
			mine := items(t, tb, store.MyReportsPK(Pseudonym(nil, tt.sub)))
			reports := 0
			for sk := range mine {
				if strings.HasPrefix(sk, store.PrefixReport) {
					reports++
				}
			}
			c := mine[store.ContactSK(r.ReportID)]
			switch {
			case tt.contacts == 0 && len(mine) != 0:
				t.Errorf("%d items kept under the pseudonym of %s", len(mine), tt.sub)
			case tt.contacts > 0 && (reports != 1 || str(c, "name") != "Rina Lestari" || str(c, "contact") != "rina@lsm.example"):
				t.Errorf("under the pseudonym: %d reports, contact %v", reports, c)
			}
		})
	}
}
