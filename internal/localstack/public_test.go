package localstack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/publicreport"
	"github.com/tangkal/tangkal/internal/store"
)

func getJSON(t *testing.T, url string) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, resp.Header, out
}

func solvedChallenge(t *testing.T, api string) (string, string) {
	t.Helper()
	code, _, ch := getJSON(t, api+"/public/challenge")
	if code != 200 {
		t.Fatalf("challenge: %d %v", code, ch)
	}
	c := ch["challenge"].(string)
	return c, publicreport.Solve(c, int(ch["difficulty_bits"].(float64)))
}

// Anyone reports an ad without an account or personal data, solving a
// challenge; the private status link shows that report's status only, as
// the same verification and approval move the case on.
func TestPublicReportWithoutAnAccount(t *testing.T) {
	f := startFlow(t, Config{Parameters: map[string]string{
		"ApprovalTimeoutSeconds": "3600", "ApprovalTiers": "2",
		"PublicChallengeBits": "8", "ReporterRateLimits": "public=60/h:6",
	}})
	api := f.st.APIURL
	post := func(body map[string]any) (int, http.Header, map[string]any) {
		b, _ := json.Marshal(body)
		code, hdr, raw := postRaw(t, api+"/public/reports", "", "application/json", b)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return code, hdr, out
	}
	ad := "https://www.facebook.com/groups/lokerluarnegeri/posts/5559901/"
	c, nonce := solvedChallenge(t, api)
	code, _, rec := post(map[string]any{"url": ad, "text": scamAd, "challenge": c, "nonce": nonce})
	link, _ := rec["status_url"].(string)
	if code != 202 || !strings.HasPrefix(link, api+"/public/reports/") || rec["case_id"] != nil {
		t.Fatalf("public report: %d %v", code, rec)
	}
	// The same challenge again, a wrong nonce, a forged or missing
	// challenge, personal data, an oversized body: each refused, naming why.
	c2, n2 := solvedChallenge(t, api)
	wrong := "no"
	for i := 0; publicreport.LeadingZeroBits(c2, wrong) >= 8; i++ {
		wrong = fmt.Sprintf("no-%d", i)
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		want  int
		field string
	}{
		{"challenge reused", map[string]any{"url": ad, "challenge": c, "nonce": nonce}, 409, "challenge"},
		{"wrong nonce", map[string]any{"url": ad, "challenge": c2, "nonce": wrong}, 400, "nonce"},
		{"forged challenge", map[string]any{"url": ad, "challenge": strings.Replace(c2, ".8.", ".0.", 1), "nonce": "0"}, 400, "challenge"},
		{"no challenge", map[string]any{"url": ad}, 400, "challenge"},
		{"personal data", map[string]any{"url": ad, "challenge": c2, "nonce": n2, "reporter": map[string]any{"name": "Sari"}}, 400, "reporter"},
	} {
		code, _, out := post(tc.body)
		if e, _ := out["error"].(map[string]any); code != tc.want || e["field"] != tc.field {
			t.Errorf("%s: %d %v, want %d naming %s", tc.name, code, out, tc.want, tc.field)
		}
	}
	if code, _, _ := postRaw(t, api+"/public/reports", "", "application/json", []byte(`{"url":"`+ad+`","text":"`+strings.Repeat("a", publicreport.MaxBodyBytes)+`"}`)); code != 413 {
		t.Errorf("oversized public report: %d", code)
	}
	// The address's limit (6 at once) is spent by now: 429 with Retry-After.
	code, hdr, out := post(map[string]any{"url": ad})
	if code != 429 || hdr.Get("Retry-After") == "" {
		t.Errorf("over the address limit: %d %v %v", code, hdr, out)
	}
	// The link shows that report's status, nothing of the case's internals.
	token := link[strings.LastIndex(link, "/")+1:]
	waitFor(t, func() bool {
		_, _, st := getJSON(t, link)
		return st["status"] == "in_review"
	})
	cases := casesWithSource(t, f.st, "public")
	if len(cases) != 1 {
		t.Fatalf("public cases: %v", cases)
	}
	caseID := cases[0]
	f.waitStatus(caseID, store.StatusAwaitingApprove)
	cs, _ := f.st.Table.GetCase(t.Context(), caseID)
	if cs.Source != "public" || !cs.ExtraReview {
		t.Fatalf("case from the public channel: source %q extra_review %v", cs.Source, cs.ExtraReview)
	}
	_, _, st := getJSON(t, link)
	raw := fmt.Sprint(st)
	for _, secret := range []string{caseID, "approver@", "kp2mi", "reporter-", "facebook.example"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("status link reveals %q: %v", secret, st)
		}
	}
	if st["status"] != "in_review" || st["message_id"] == "" || st["message_en"] == "" {
		t.Fatalf("status: %v", st)
	}
	// By policy a public report's case is reviewed first (KP2MI's
	// supervisor), then the agencies decide.
	f.decideAs(caseID, "supervisor@kp2mi.local", "approve")
	waitFor(t, func() bool { return f.hasLink(caseID, "approver@komdigi.local") })
	f.approveFirstLink(caseID, "approve")
	f.waitStatus(caseID, store.StatusTakedownSent)
	if _, _, st := getJSON(t, link); st["status"] != "takedown_requested" {
		t.Fatalf("after approval: %v", st)
	}
	f.advance(5 * time.Hour)
	f.waitStatus(caseID, store.StatusRemovedInTime)
	if _, _, st := getJSON(t, link); st["status"] != "removed" || st["outcome"] != store.StatusRemovedInTime {
		t.Fatalf("after removal: %v", st)
	}
	// Another token, a truncated one: 404, the same as for anything unknown.
	for _, bad := range []string{strings.Repeat("A", len(token)), token[:20]} {
		if code, _, _ := getJSON(t, api+"/public/reports/"+bad); code != 404 {
			t.Errorf("token %q: %d", bad, code)
		}
	}
}

func casesWithSource(t *testing.T, st *Stack, source string) []string {
	t.Helper()
	var ids []string
	for _, status := range []string{store.StatusReceived, store.StatusVerifying, store.StatusAwaitingApprove} {
		code, out := st.as(t, "auditor").do("GET", "/cases?status="+status+"&limit=200", nil, nil)
		if code != 200 {
			t.Fatalf("list: %d %v", code, out)
		}
		items, _ := out["cases"].([]any)
		for _, it := range items {
			id := it.(map[string]any)["case_id"].(string)
			if c, err := st.Table.GetCase(t.Context(), id); err == nil && c.Source == source && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
