package localstack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/store"
)

func errorField(out map[string]any) any {
	e, _ := out["error"].(map[string]any)
	return e["field"]
}

// Listings page with cursors the API signed for that listing; anything
// else is a 400 naming cursor, never a 500. Following next_cursor lists
// every case once, and no listed case shows values the index lacks.
func TestCaseListingsThroughTheLocalAPI(t *testing.T) {
	st := startStack(t)
	reporter, auditor := st.as(t, auth.Reporter), st.as(t, auth.Auditor)
	var ids []string
	for i := range 7 {
		code, out := reporter.do("POST", "/reports", map[string]any{
			"url":  fmt.Sprintf("https://www.facebook.com/groups/lokerluarnegeri/posts/55570%02d/", i),
			"text": "Dicari admin online Kamboja, gaji 15jt, visa turis"}, nil)
		if code != 202 {
			t.Fatalf("submit %d: %d %v", i, code, out)
		}
		ids = append(ids, out["case_id"].(string))
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	t.Run("forged and foreign cursors", func(t *testing.T) {
		code, out := auditor.do("GET", "/cases?platform=facebook&limit=2", nil, nil)
		platformCur, _ := out["next_cursor"].(string)
		if code != 200 || platformCur == "" {
			t.Fatalf("first page: %d %v", code, out)
		}
		for _, tt := range []struct{ name, path string }{
			{"forged key by status", "/cases?status=received&cursor=" + b64(`{"PK":"x"}`)},
			{"forged key by platform", "/cases?platform=facebook&cursor=" + b64(`{"PK":"x"}`)},
			{"forged full key", "/cases?platform=facebook&cursor=" + b64(`{"GSI2PK":"PLATFORM#facebook","GSI2SK":"~","PK":"CASE#x","SK":"META"}`)},
			{"garbage", "/cases?status=received&cursor=" + url.QueryEscape("!!not a cursor!!")},
			{"platform cursor on a status listing", "/cases?status=received&cursor=" + platformCur},
			{"platform cursor on another platform", "/cases?platform=tiktok&cursor=" + platformCur},
			{"platform cursor with another range", "/cases?platform=facebook&to=2030-01-01T00:00:00Z&cursor=" + platformCur},
		} {
			code, out := auditor.do("GET", tt.path, nil, nil)
			if code != 400 || errorField(out) != "cursor" {
				t.Errorf("%s: %d %v, want 400 naming cursor", tt.name, code, out)
			}
		}
	})

	t.Run("every page, every case once", func(t *testing.T) {
		seen := map[string]int{}
		path := "/cases?platform=facebook&limit=2"
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("more than 10 pages of 2 for 7 cases")
			}
			code, out := auditor.do("GET", path, nil, nil)
			if code != 200 {
				t.Fatalf("page %d: %d %v", pages, code, out)
			}
			for _, c := range out["cases"].([]any) {
				seen[c.(map[string]any)["case_id"].(string)]++
			}
			next, _ := out["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/cases?platform=facebook&limit=2&cursor=" + next
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Errorf("case %s listed %d times", id, seen[id])
			}
		}
		if len(seen) != len(ids) {
			t.Errorf("listed %d cases, reported %d: %v", len(seen), len(ids), seen)
		}
	})

	t.Run("no false values", func(t *testing.T) {
		code, out := auditor.do("GET", "/cases?platform=facebook&limit=200", nil, nil)
		if code != 200 {
			t.Fatalf("list: %d %v", code, out)
		}
		for _, raw := range out["cases"].([]any) {
			item := raw.(map[string]any)
			for _, absent := range []string{"event_count", "last_hash", "updated_at"} {
				if v, ok := item[absent]; ok {
					t.Errorf("case %s lists %s = %#v, which the index does not hold", item["case_id"], absent, v)
				}
			}
			if item["platform"] != "facebook" || item["created_at"] == "" || item["report_count"] == nil {
				t.Errorf("listed case lacks what the index holds: %v", item)
			}
		}
		// The case itself has its history.
		code, c := auditor.do("GET", "/cases/"+ids[0], nil, nil)
		if n, _ := c["event_count"].(float64); code != 200 || n < 1 || c["last_hash"] == "" {
			t.Fatalf("case: %d %v", code, c)
		}
	})
}

// POST /reports reads a body exactly as sent, or refuses it naming what
// it refused.
func TestReportBodiesAreReadExactlyOrRefused(t *testing.T) {
	st := startStack(t)
	reporter := st.as(t, auth.Reporter)
	const u = `"https://www.facebook.com/groups/lokerluarnegeri/posts/5558001/"`
	tests := []struct{ name, body, field string }{
		{"trailing braces", `{"url":` + u + `}}}}`, "body"},
		{"trailing bracket", `{"url":` + u + `}]`, "body"},
		{"URL in capitals", `{"URL":` + u + `}`, "URL"},
		{"Url", `{"Url":` + u + `}`, "Url"},
		{"TEXT in capitals", `{"url":` + u + `,"TEXT":"loker"}`, "TEXT"},
		{"duplicate url", `{"url":` + u + `,"url":"https://www.facebook.com/groups/x/posts/1/"}`, "url"},
		{"invalid UTF-8", "{\"url\":" + u + ",\"text\":\"gaji 15jt \xff\"}", "text"},
		{"lone surrogate", `{"url":` + u + `,"text":"gaji 15jt \ud800"}`, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := reporter.do("POST", "/reports", tt.body, nil)
			if code != 400 || errorField(out) != tt.field {
				t.Fatalf("%d %v, want 400 naming %s", code, out, tt.field)
			}
		})
	}
	// Nothing was written: the ad is still new.
	code, out := reporter.do("POST", "/reports", `{"url":`+u+`}`, nil)
	if code != 202 || out["duplicate"] != false {
		t.Fatalf("the valid body: %d %v", code, out)
	}
}

// A decision that carries a bearer token is taken only if the token is
// valid and the link approver's own.
func TestApprovalDecisionWithATokenMustBeTheApprovers(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5559101/", scamAd)
	f.waitStatus(id, store.StatusAwaitingApprove)
	target, q := linkParts(t, f.linkFor(id, "approver@kp2mi.local"))
	approver := q.Get("a")
	form := url.Values{"a": {approver}, "exp": {q.Get("exp")}, "sig": {q.Get("sig")}, "decision": {"approve"}}.Encode()
	issue := func(s auth.Signer, sub, email string, ttl time.Duration, roles ...string) string {
		tok, err := s.IssueFor(sub, email, roles, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	stale := f.st.Signer
	stale.Now = func() time.Time { return f.clock.Now().Add(-48 * time.Hour) }
	other := auth.Signer{Key: []byte(strings.Repeat("m", 32))}
	own := issue(f.st.Signer, "appr-1", approver, time.Hour, auth.Approver)

	refusals := []struct {
		name  string
		authz string
		want  int
	}{
		{"garbage token", "Bearer not-a-token", 401},
		{"empty bearer", "Bearer ", 401},
		{"another scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), 401},
		{"expired token of the approver", "Bearer " + issue(stale, "appr-1", approver, time.Hour, auth.Approver), 401},
		{"token signed by another key", "Bearer " + issue(other, "appr-1", approver, time.Hour, auth.Approver), 401},
		{"altered token", "Bearer " + own[:len(own)-3] + "AAA", 401},
		{"reporter's token", "Bearer " + issue(f.st.Signer, "reporter-1", "", time.Hour, auth.Reporter), 403},
		{"reporter's token with the approver's e-mail", "Bearer " + issue(f.st.Signer, "reporter-2", approver, time.Hour, auth.Reporter), 403},
		{"auditor's token", "Bearer " + issue(f.st.Signer, "auditor-1", approver, time.Hour, auth.Auditor), 403},
		{"another approver's token", "Bearer " + issue(f.st.Signer, "appr-2", "supervisor@kp2mi.local", time.Hour, auth.Approver), 403},
		{"an approver's token without e-mail", "Bearer " + issue(f.st.Signer, "appr-3", "", time.Hour, auth.Approver), 403},
	}
	before := f.snapshot(id)
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			code, body := send(t, "POST", target, "application/x-www-form-urlencoded", form,
				map[string]string{"Authorization": r.authz, "Accept": "application/json"})
			var out map[string]any
			_ = json.Unmarshal([]byte(body), &out)
			if code != r.want || errorField(out) != "authorization" {
				t.Fatalf("%d %s, want %d naming authorization", code, body, r.want)
			}
			if got := f.snapshot(id); got != before {
				t.Fatalf("a refused decision changed the case: %+v, was %+v", got, before)
			}
		})
	}
	if n := f.decisions(id); n != 0 {
		t.Fatalf("the workflow received %d decisions from refused requests", n)
	}
	// The approver's own token (e-mail in another case) decides.
	code, body := send(t, "POST", target, "application/x-www-form-urlencoded", form,
		map[string]string{"Authorization": "Bearer " + issue(f.st.Signer, "appr-1", strings.ToUpper(approver), time.Hour, auth.Approver)})
	if code != 200 {
		t.Fatalf("the approver's own token: %d %s", code, body)
	}
	f.decideAs(id, "approver@komdigi.local", "approve") // the policy needs Komdigi too
	f.waitStatus(id, store.StatusTakedownSent)
}
