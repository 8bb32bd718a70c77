package approval

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/tangkal/tangkal/internal/agency"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

const secret = "0123456789abcdef0123456789abcdef-test"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func newTable(t *testing.T) store.Table {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "approval")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return store.Table{DB: db, Name: name}
}

func summary() Summary {
	return Summary{CaseID: "c_1", URL: "https://www.tiktok.com/@agen/video/1", Platform: "tiktok", Urgency: "urgent",
		Score: 0.91, Excerpt: "Dicari TKW ke Malaysia, biaya Rp 15 juta, tanpa pelatihan",
		Indicators: []Indicator{{Code: "fee", Label: "Placement fee charged", Explanation: "Workers may not be charged placement fees (UU 18/2017)."}},
		Related:    []Related{{Kind: "whatsapp", Value: "+62 812-0000-1111", CaseIDs: []string{"c_2", "c_3", "c_4"}}}}
}

// testPolicy: KP2MI alone decides (one rejection rejects).
var testPolicy = agency.Policy{Name: "test", Require: []string{"kp2mi"}, Veto: true,
	Tiers: []agency.Tier{{Role: agency.RoleApprover, WindowSeconds: 3600, ReminderSeconds: 1800}}}

func testMembers() map[string]string {
	return map[string]string{"Dewi@Agency.example": "kp2mi", "budi@agency.example": "kp2mi", SlackApprover("U024BE7LH"): "kp2mi"}
}

func newStore(t *testing.T, c *clock) *Store {
	st := &Store{Table: newTable(t), Now: c.Now}
	st.Log = &history.Log{Table: st.Table, Now: c.Now}
	for _, id := range []string{"c_1", "c_9"} {
		item, _ := attributevalue.MarshalMap(store.Case{PK: store.CasePK(id), SK: store.SKMeta, ID: id,
			Status: store.StatusAwaitingApprove, LastHash: history.Genesis, CreatedAt: store.FormatTime(t0),
			GSI1PK: store.StatusKey(store.StatusAwaitingApprove), GSI1SK: store.TimeKey(t0, id),
			GSI2PK: store.PlatformKey("tiktok"), GSI2SK: store.TimeKey(t0, id)})
		if _, err := st.Table.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(st.Table.Name), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func create(t *testing.T, st *Store) Approval {
	t.Helper()
	a, err := st.Create(context.Background(), Approval{CaseID: "c_1", TaskToken: "TOKEN-secret-abc", Policy: testPolicy,
		Members: testMembers(), ExpiresAt: t0.Add(48 * time.Hour), Summary: summary()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCreateValidation(t *testing.T) {
	st := newStore(t, &clock{t: t0})
	good := Approval{CaseID: "c", TaskToken: "tok", Policy: testPolicy, Members: map[string]string{"a@x.example": "kp2mi"}, ExpiresAt: t0.Add(time.Hour)}
	tests := []struct {
		field string
		edit  func(*Approval)
	}{
		{"case_id", func(a *Approval) { a.CaseID = "" }},
		{"task_token", func(a *Approval) { a.TaskToken = "" }},
		{"members", func(a *Approval) { a.Members = nil }},
		{"members", func(a *Approval) { a.Members = map[string]string{"a|b@x.example": "kp2mi"} }},
		{"policy", func(a *Approval) { a.Policy = agency.Policy{} }},
		{"expires_at", func(a *Approval) { a.ExpiresAt = t0 }},
		{"id", func(a *Approval) { a.ID = "x|y" }},
	}
	for _, tt := range tests {
		a := good
		tt.edit(&a)
		if _, err := st.Create(context.Background(), a); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v", tt.field, err)
		}
	}
	a := create(t, st)
	got, err := st.Get(context.Background(), a.ID)
	if err != nil || got.Status != StatusPending || got.TaskToken != "TOKEN-secret-abc" || got.Summary.Related[0].Value != "+62 812-0000-1111" ||
		!got.ExpiresAt.Equal(t0.Add(48*time.Hour)) || !strings.HasPrefix(got.ID, IDPrefix) {
		t.Fatalf("%+v %v", got, err)
	}
	if strings.Join(got.Approvers(), ",") != "budi@agency.example,dewi@agency.example,slack:u024be7lh" {
		t.Errorf("approvers %v", got.Approvers())
	}
	if _, err := st.Create(context.Background(), Approval{ID: a.ID, CaseID: "c", TaskToken: "t", Policy: testPolicy, Members: map[string]string{"a@x.example": "kp2mi"}, ExpiresAt: t0.Add(time.Hour)}); err == nil {
		t.Error("id reused")
	}
	// The item does not carry the table's TTL attribute: the record outlives its links.
	out, _ := st.Table.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(st.Table.Name), Key: store.Key(store.ApprovalPK(a.ID), store.SKMeta)})
	var m map[string]any
	attributevalue.UnmarshalMap(out.Item, &m)
	if _, ok := m["expires_at"]; ok {
		t.Error("approval item has a TTL")
	}
}

func TestDecideOnceUnderConcurrency(t *testing.T) {
	for _, name := range []string{"with history"} {
		t.Run(name, func(t *testing.T) {
			c := &clock{t: t0}
			st := newStore(t, c)
			withLog := true
			a := create(t, st)
			const n = 20
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, already := 0, 0
			var winner Approval
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					decision := Approve
					if i%2 == 1 {
						decision = Reject
					}
					who := []string{"dewi@agency.example", "budi@agency.example"}[i%2]
					got, err := st.Decide(context.Background(), a.ID, decision, who, "reason "+who)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
						winner = got
					case errors.Is(err, ErrAlreadyDecided):
						already++
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if wins != 1 || already != n-1 {
				t.Fatalf("wins %d already %d", wins, already)
			}
			if winner.TaskToken != "TOKEN-secret-abc" || winner.DecidedAt.IsZero() {
				t.Fatalf("winner %+v", winner)
			}
			got, _ := st.Get(context.Background(), a.ID)
			if got.Status != map[string]string{Approve: StatusApproved, Reject: StatusRejected}[winner.Decision] || got.DecidedBy != winner.DecidedBy {
				t.Fatalf("stored %+v winner %+v", got, winner)
			}
			if withLog {
				evs, err := (&history.Log{Table: st.Table}).List(context.Background(), "c_1", 0, 0)
				if err != nil || len(evs) != 1 || evs[0].Type != EventDecided || evs[0].Actor != winner.DecidedBy {
					t.Fatalf("events %+v %v", evs, err)
				}
				if strings.Contains(string(evs[0].Data), "TOKEN") {
					t.Fatal("token in history")
				}
			}
		})
	}
}

func TestDecideRefusals(t *testing.T) {
	c := &clock{t: t0}
	st := newStore(t, c)
	a := create(t, st)
	tests := []struct {
		name          string
		at            time.Time
		id, who, what string
		want          error
	}{
		{"not an approver", t0, a.ID, "mallory@agency.example", Approve, ErrNotApprover},
		{"unknown id", t0, "ap_nope", "dewi@agency.example", Approve, ErrNotFound},
		{"expired", t0.Add(48 * time.Hour), a.ID, "dewi@agency.example", Approve, ErrExpired},
		{"bad decision", t0, a.ID, "dewi@agency.example", "maybe", nil},
		{"reject without a reason", t0, a.ID, "dewi@agency.example", Reject, ErrReasonRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Set(tt.at)
			_, err := st.Decide(context.Background(), tt.id, tt.what, tt.who, "")
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), "decision") {
					t.Fatalf("err %v", err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if got, _ := st.Get(context.Background(), a.ID); got.Status != StatusPending {
				t.Fatalf("status changed to %s", got.Status)
			}
		})
	}
	c.Set(t0)
	// Slack approver, case-insensitive.
	if got, err := st.Decide(context.Background(), a.ID, Reject, SlackApprover("U024BE7LH"), "licensed agency"); err != nil || got.Status != StatusRejected {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := st.Decide(context.Background(), a.ID, Approve, "dewi@agency.example", ""); !errors.Is(err, ErrAlreadyDecided) {
		t.Fatalf("decide after the decision: %v", err)
	}
}

func TestSigner(t *testing.T) {
	if _, err := NewSigner([]byte("short"), "https://api.example"); err == nil {
		t.Fatal("short secret accepted")
	}
	s, err := NewSigner([]byte(secret), "https://api.example/")
	if err != nil {
		t.Fatal(err)
	}
	link := s.Link("ap_1", "Dewi@Agency.example", t0.Add(time.Hour))
	u, _ := url.Parse(link)
	q := u.Query()
	if u.Path != "/approvals/ap_1" || q.Get("a") != "dewi@agency.example" || q.Get("exp") != "1772442000" || u.Host != "api.example" {
		t.Fatalf("link %s", link)
	}
	other, _ := NewSigner([]byte(strings.Repeat("x", 32)), "https://api.example")
	tests := []struct {
		name            string
		id, a, exp, sig string
		now             time.Time
		want            error
	}{
		{"valid", "ap_1", q.Get("a"), q.Get("exp"), q.Get("sig"), t0, nil},
		{"valid, approver case differs", "ap_1", "DEWI@agency.example", q.Get("exp"), q.Get("sig"), t0, nil},
		{"expired", "ap_1", q.Get("a"), q.Get("exp"), q.Get("sig"), t0.Add(time.Hour), ErrLinkExpired},
		{"tampered approver", "ap_1", "budi@agency.example", q.Get("exp"), q.Get("sig"), t0, ErrForged},
		{"tampered id", "ap_2", q.Get("a"), q.Get("exp"), q.Get("sig"), t0, ErrForged},
		{"extended expiry", "ap_1", q.Get("a"), "1872445600", q.Get("sig"), t0, ErrForged},
		{"other secret", "ap_1", q.Get("a"), q.Get("exp"), other.Sign("ap_1", q.Get("a"), 1772442000), t0, ErrForged},
		{"truncated sig", "ap_1", q.Get("a"), q.Get("exp"), q.Get("sig")[:20], t0, ErrForged},
		{"no sig", "ap_1", q.Get("a"), q.Get("exp"), "", t0, ErrForged},
		{"bad exp", "ap_1", q.Get("a"), "soon", q.Get("sig"), t0, ErrForged},
		{"forged and expired says forged", "ap_1", "budi@agency.example", q.Get("exp"), q.Get("sig"), t0.Add(2 * time.Hour), ErrForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Verify(tt.id, tt.a, tt.exp, tt.sig, tt.now); !errors.Is(err, tt.want) {
				t.Fatalf("got %v want %v", err, tt.want)
			}
		})
	}
}

type fixture struct {
	st      *Store
	h       *Handler
	c       *clock
	a       Approval
	signer  *Signer
	decided []Approval
	link    url.Values
	mu      sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{c: &clock{t: t0}}
	f.st = newStore(t, f.c)
	f.a = create(t, f.st)
	f.signer, _ = NewSigner([]byte(secret), "https://api.example")
	f.h = &Handler{Store: f.st, Signer: f.signer, Now: f.c.Now, Log: slog.New(slog.DiscardHandler), Decided: func(_ context.Context, r Result) error {
		if r.Deliver {
			f.mu.Lock()
			f.decided = append(f.decided, r.Approval)
			f.mu.Unlock()
		}
		return nil
	}}
	u, _ := url.Parse(f.signer.Link(f.a.ID, "dewi@agency.example", f.a.ExpiresAt))
	f.link = u.Query()
	return f
}

func getReq(id string, q url.Values, claims map[string]string) events.APIGatewayV2HTTPRequest {
	r := events.APIGatewayV2HTTPRequest{RawPath: "/approvals/" + id, RawQueryString: q.Encode(),
		PathParameters: map[string]string{"id": id}, Headers: map[string]string{}}
	r.RequestContext.HTTP.Method = "GET"
	if claims != nil {
		r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	return r
}

func postForm(id string, f url.Values) events.APIGatewayV2HTTPRequest {
	r := getReq(id, nil, nil)
	r.RequestContext.HTTP.Method = "POST"
	r.Headers["content-type"] = "application/x-www-form-urlencoded"
	r.Body = f.Encode()
	return r
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func TestGetShowsPageAndNeverDecides(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		req      events.APIGatewayV2HTTPRequest
		at       time.Time
		code     int
		contains []string
	}{
		{"valid link", getReq(f.a.ID, f.link, nil), t0, 200, []string{
			"https://www.tiktok.com/@agen/video/1", "tiktok", "urgent", "0.91", "Placement fee charged",
			"Workers may not be charged placement fees", "This WhatsApp number (&#43;62 812-0000-1111) appears in 3 other reported ads.",
			`<form method="post" action="/approvals/` + f.a.ID + `">`, `name="sig" value="` + f.link.Get("sig") + `"`,
			`value="approve"`, `value="reject"`}},
		{"forged", getReq(f.a.ID, with(f.link, "a", "budi@agency.example"), nil), t0, 403, []string{"not valid"}},
		{"expired", getReq(f.a.ID, f.link, nil), t0.Add(49 * time.Hour), 410, []string{"expired"}},
		{"no sig", getReq(f.a.ID, url.Values{}, nil), t0, 403, nil},
		{"unknown id", getReq("ap_x", url.Values{"a": {"dewi@agency.example"}, "exp": {f.link.Get("exp")}, "sig": {f.signer.Sign("ap_x", "dewi@agency.example", f.a.ExpiresAt.Unix())}}, nil), t0, 404, nil},
		{"approver role", getReq(f.a.ID, f.link, map[string]string{"sub": "u1", "cognito:groups": "[approver]"}), t0, 200, nil},
		{"admin role", getReq(f.a.ID, f.link, map[string]string{"sub": "u1", "cognito:groups": "[auditor admin]"}), t0, 200, nil},
		{"reporter role", getReq(f.a.ID, f.link, map[string]string{"sub": "u1", "cognito:groups": "[reporter]"}), t0, 403, []string{"role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.c.Set(tt.at)
			r := f.h.Handle(context.Background(), tt.req)
			if r.StatusCode != tt.code {
				t.Fatalf("status %d: %s", r.StatusCode, r.Body)
			}
			for _, want := range tt.contains {
				if !strings.Contains(r.Body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
			if strings.Contains(r.Body, "TOKEN-secret") {
				t.Fatal("task token in page")
			}
			for k, v := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
				if r.Headers[k] != v {
					t.Errorf("header %s = %q", k, r.Headers[k])
				}
			}
			if !strings.Contains(r.Headers["Content-Security-Policy"], "frame-ancestors 'none'") {
				t.Errorf("CSP %q", r.Headers["Content-Security-Policy"])
			}
		})
	}
	if got, _ := f.st.Get(context.Background(), f.a.ID); got.Status != StatusPending || len(f.decided) != 0 {
		t.Fatalf("GET changed state: %s, %d callbacks", got.Status, len(f.decided))
	}
}

func TestGetEscapesHTML(t *testing.T) {
	f := newFixture(t)
	s := summary()
	s.Excerpt = `<script>alert("x")</script>`
	s.Indicators[0].Label = `<img src=x onerror=alert(1)>`
	a, _ := f.st.Create(context.Background(), Approval{CaseID: "c_9", TaskToken: "t", Policy: testPolicy, Members: map[string]string{"dewi@agency.example": "kp2mi"},
		ExpiresAt: t0.Add(time.Hour), Summary: s})
	u, _ := url.Parse(f.signer.Link(a.ID, "dewi@agency.example", a.ExpiresAt))
	r := f.h.Handle(context.Background(), getReq(a.ID, u.Query(), nil))
	if r.StatusCode != 200 || strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<img src=x") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
}

func TestPostDecidesOnce(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		at   time.Time
		code int
		text string
	}{
		{"forged approver", postForm(f.a.ID, with(f.link, "decision", "approve", "a", "budi@agency.example")), t0, 403, "not valid"},
		{"tampered id", postForm("ap_other", with(f.link, "decision", "approve")), t0, 403, "not valid"},
		{"expired", postForm(f.a.ID, with(f.link, "decision", "approve")), t0.Add(48 * time.Hour), 410, "expired"},
		{"missing decision", postForm(f.a.ID, f.link), t0, 400, "decision"},
		{"bad decision", postForm(f.a.ID, with(f.link, "decision", "maybe")), t0, 400, "decision"},
		{"reject without reason", postForm(f.a.ID, with(f.link, "decision", "reject")), t0, 400, "reason"},
		{"reporter role", func() events.APIGatewayV2HTTPRequest {
			r := postForm(f.a.ID, with(f.link, "decision", "approve"))
			r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "u", "cognito:groups": "[reporter]"}}}
			return r
		}(), t0, 403, "role"},
		{"approve", postForm(f.a.ID, with(f.link, "decision", "approve", "reason", "clear trafficking indicators")), t0, 200, "approved"},
		{"second approve", postForm(f.a.ID, with(f.link, "decision", "approve")), t0, 409, "already decided"},
		{"then reject", postForm(f.a.ID, with(f.link, "decision", "reject", "reason", "changed my mind")), t0, 409, "already decided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.c.Set(tt.at)
			r := f.h.Handle(context.Background(), tt.req)
			if r.StatusCode != tt.code || !strings.Contains(r.Body, tt.text) {
				t.Fatalf("status %d: %s", r.StatusCode, r.Body)
			}
			if strings.Contains(r.Body, "TOKEN-secret") {
				t.Fatal("task token in response")
			}
		})
	}
	got, _ := f.st.Get(context.Background(), f.a.ID)
	if got.Status != StatusApproved || got.DecidedBy != "dewi@agency.example" || got.Reason != "clear trafficking indicators" {
		t.Fatalf("stored %+v", got)
	}
	// The decision went to the workflow; each refused replay re-sends the
	// same first decision (in case a crash kept it from arriving), never
	// the replay's own.
	if len(f.decided) != 3 {
		t.Fatalf("%d callbacks, want 3 (the decision and two re-deliveries)", len(f.decided))
	}
	for _, d := range f.decided {
		if d.TaskToken != "TOKEN-secret-abc" || d.Decision != Approve || d.Reason != "clear trafficking indicators" {
			t.Fatalf("callback %+v", d)
		}
	}
	// GET after the decision shows it and offers no form.
	r := f.h.Handle(context.Background(), getReq(f.a.ID, f.link, nil))
	if r.StatusCode != 200 || strings.Contains(r.Body, "<form") || !strings.Contains(r.Body, "Nothing left for you to decide") || !strings.Contains(r.Body, "Disetujui oleh dewi@agency.example (KP2MI)") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
}

func TestPostJSON(t *testing.T) {
	f := newFixture(t)
	body, _ := json.Marshal(map[string]string{"decision": "reject", "approver": "dewi@agency.example",
		"exp": f.link.Get("exp"), "sig": f.link.Get("sig"), "reason": "legitimate licensed agency"})
	r := postForm(f.a.ID, nil)
	r.Headers["content-type"] = "application/json"
	r.Body = string(body)
	resp := f.h.Handle(context.Background(), r)
	var v View
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &v) != nil || v.Status != StatusRejected || v.Reason != "legitimate licensed agency" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	resp = f.h.Handle(context.Background(), r)
	var e struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode != 409 || json.Unmarshal([]byte(resp.Body), &e) != nil || e.Error.Code != "already_decided" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	r.Body = "{"
	if resp := f.h.Handle(context.Background(), r); resp.StatusCode != 400 || !strings.Contains(resp.Body, `"field":"body"`) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
}

func TestPostCallbackFailure(t *testing.T) {
	f := newFixture(t)
	f.h.Decided = func(context.Context, Result) error { return errors.New("sfn down") }
	r := f.h.Handle(context.Background(), postForm(f.a.ID, with(f.link, "decision", "approve")))
	if r.StatusCode != 502 || !strings.Contains(r.Body, "recorded") {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
}

func TestComposeAndSlack(t *testing.T) {
	s := summary()
	s.Excerpt = "<b>bold</b>"
	s.Indicators[0].LabelID, s.Indicators[0].ExplanationID = "Biaya penempatan dipungut", "Pekerja tidak boleh dipungut biaya penempatan."
	link := "https://api.example/approvals/ap_1?a=dewi%40agency.example&exp=1&sig=abc"
	ag := agency.Agency{ID: "kp2mi", NameID: "Kementerian P2MI", NameEN: "Ministry P2MI"}
	m := Message{Summary: s, Agency: ag, Role: RoleDecide, Tier: 1, Deadline: time.Date(2026, 12, 1, 3, 42, 0, 0, time.UTC), Link: link,
		Policy: agency.Policy{Require: []string{"kp2mi", "komdigi"}}}
	subject, text, html := m.Compose()
	if !strings.HasPrefix(subject, "MENDESAK / URGENT: Persetujuan diperlukan / Approval needed") || !strings.Contains(subject, "(kasus c_1)") {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{link, "Biaya penempatan dipungut / Placement fee charged", "Pekerja tidak boleh dipungut biaya penempatan. / Workers may not",
		"muncul di 3 iklan lain", "appears in 3 other reported ads", "0.91", "Selasa, 1 Desember 2026 pukul 10.42 WIB", "KP2MI, Komdigi"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Index(text, "Sebuah iklan") > strings.Index(text, "A reported ad") {
		t.Error("English before Indonesian")
	}
	if !strings.Contains(html, `href="https://api.example/approvals/ap_1?a=dewi%40agency.example&amp;exp=1&amp;sig=abc"`) || strings.Contains(html, "<b>bold") {
		t.Errorf("html %s", html)
	}
	blocks, err := json.Marshal(m.SlackBlocks("ap_1"))
	if err != nil {
		t.Fatal(err)
	}
	var parsed []map[string]any
	if err := json.Unmarshal(blocks, &parsed); err != nil {
		t.Fatal(err)
	}
	actions := parsed[len(parsed)-1]["elements"].([]any)
	var ids []string
	for _, e := range actions {
		m := e.(map[string]any)
		ids = append(ids, m["action_id"].(string))
		if m["value"] != "ap_1" {
			t.Errorf("button value %v", m["value"])
		}
	}
	if strings.Join(ids, ",") != ActionApprove+","+ActionReject || strings.Contains(string(blocks), "TOKEN") || strings.Contains(string(blocks), "<b>") {
		t.Errorf("actions %v", ids)
	}
	tests := []struct {
		action, value, id, decision string
		ok                          bool
	}{
		{ActionApprove, "ap_1", "ap_1", Approve, true},
		{ActionReject, "ap_1", "ap_1", Reject, true},
		{ActionHold, "ap_1", "ap_1", Hold, true},
		{"tangkal_open", "ap_1", "", "", false},
		{ActionApprove, "", "", "", false},
		{ActionApprove, "c_1", "", "", false},
	}
	for _, tt := range tests {
		id, d, ok := ParseAction(tt.action, tt.value)
		if id != tt.id || d != tt.decision || ok != tt.ok {
			t.Errorf("ParseAction(%s,%s) = %s %s %v", tt.action, tt.value, id, d, ok)
		}
	}
}
