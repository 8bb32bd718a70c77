package audit

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/store"
)

func list(t *testing.T, r Reader, q map[string]string) (int, map[string]any) {
	t.Helper()
	return call(t, r, "GET /cases", nil, q, auth.Auditor)
}

func errField(out map[string]any) any {
	e, _ := out["error"].(map[string]any)
	return e["field"]
}

// firstCursor lists q with limit 1 and returns the next_cursor.
func firstCursor(t *testing.T, r Reader, q map[string]string) string {
	t.Helper()
	qq := map[string]string{"limit": "1"}
	for k, v := range q {
		qq[k] = v
	}
	code, out := list(t, r, qq)
	cur, _ := out["next_cursor"].(string)
	if code != 200 || cur == "" {
		t.Fatalf("list %v: %d %v, want a next_cursor", q, code, out)
	}
	return cur
}

func TestListRefusesEveryCursorItDidNotIssueForThatListing(t *testing.T) {
	r := newReader(t)
	r.CursorKey = []byte(strings.Repeat("c", 32))
	for i := range 3 {
		for _, p := range []string{"facebook", "tiktok"} {
			putCase(t, r.Table, store.Case{ID: fmt.Sprintf("c_%s%d", p, i), Platform: p, Status: store.StatusReceived}, t0.Add(time.Duration(i)*time.Minute))
		}
	}
	byStatus := map[string]string{"status": store.StatusReceived}
	byPlatform := map[string]string{"platform": "facebook"}
	statusCur := firstCursor(t, r, byStatus)
	platformCur := firstCursor(t, r, byPlatform)
	other := r
	other.CursorKey = []byte(strings.Repeat("o", 32))
	foreign := firstCursor(t, other, byStatus)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	parts := strings.Split(statusCur, ".")
	swapped := parts[0] + "." + b64(`{"GSI1PK":"STATUS#received","GSI1SK":"9999","PK":"CASE#c_x","SK":"META"}`) + "." + parts[2]

	tests := []struct {
		name   string
		query  map[string]string
		cursor string
	}{
		{"unsigned key by status", byStatus, b64(`{"PK":"x"}`)},
		{"unsigned key by platform", byPlatform, b64(`{"PK":"x"}`)},
		{"unsigned full key", byStatus, b64(`{"GSI1PK":"STATUS#received","GSI1SK":"x","PK":"CASE#c_x","SK":"META"}`)},
		{"garbage", byStatus, "%%%not-base64"},
		{"empty parts", byPlatform, ".."},
		{"altered key, same signature", byStatus, swapped},
		{"truncated signature", byStatus, statusCur[:len(statusCur)-2]},
		{"signed with another key", byStatus, foreign},
		{"status cursor on a platform listing", byPlatform, statusCur},
		{"platform cursor on a status listing", byStatus, platformCur},
		{"status cursor on another status", map[string]string{"status": store.StatusRejected}, statusCur},
		{"status cursor on the status with platform listing", map[string]string{"status": store.StatusReceived, "platform": "facebook"}, statusCur},
		{"platform cursor on another platform", map[string]string{"platform": "tiktok"}, platformCur},
		{"cursor with another time range", map[string]string{"status": store.StatusReceived, "from": "2026-01-01T00:00:00Z"}, statusCur},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := map[string]string{"cursor": tt.cursor}
			for k, v := range tt.query {
				q[k] = v
			}
			code, out := list(t, r, q)
			if code != 400 || errField(out) != "cursor" {
				t.Fatalf("%d %v, want 400 naming cursor", code, out)
			}
		})
	}
	// The cursors themselves page their own listings.
	for _, c := range []struct {
		q   map[string]string
		cur string
	}{{byStatus, statusCur}, {byPlatform, platformCur}} {
		q := map[string]string{"cursor": c.cur, "limit": "1"}
		for k, v := range c.q {
			q[k] = v
		}
		if code, out := list(t, r, q); code != 200 {
			t.Fatalf("own cursor %v: %d %v", c.q, code, out)
		}
	}
}

func TestFollowingCursorsListsEveryCaseOnce(t *testing.T) {
	r := newReader(t)
	r.CursorKey = []byte(strings.Repeat("c", 32))
	platforms := []string{"facebook", "tiktok", "x"}
	want := map[string]map[string]bool{} // listing → ids
	add := func(listing, id string) {
		if want[listing] == nil {
			want[listing] = map[string]bool{}
		}
		want[listing][id] = true
	}
	for i := range 37 {
		p := platforms[i%3]
		status := store.StatusReceived
		if i%4 == 0 {
			status = store.StatusRejected
		}
		id := fmt.Sprintf("c_%03d", i)
		// Several cases share a creation time: the id breaks the tie.
		putCase(t, r.Table, store.Case{ID: id, Platform: p, Status: status}, t0.Add(time.Duration(i/3)*time.Minute))
		add("status="+status, id)
		add("platform="+p, id)
		if status == store.StatusReceived && p == "facebook" {
			add("status=received&platform=facebook", id)
		}
	}
	listings := []struct {
		name string
		q    map[string]string
	}{
		{"status=received", map[string]string{"status": store.StatusReceived}},
		{"platform=facebook", map[string]string{"platform": "facebook"}},
		{"platform=x", map[string]string{"platform": "x"}},
		{"status=received&platform=facebook", map[string]string{"status": store.StatusReceived, "platform": "facebook"}},
	}
	for _, l := range listings {
		for _, limit := range []int{1, 4, 7, 200} {
			t.Run(fmt.Sprintf("%s/limit=%d", l.name, limit), func(t *testing.T) {
				seen := map[string]int{}
				var order []string
				cursor := ""
				for page := 0; ; page++ {
					if page > 100 {
						t.Fatal("more than 100 pages")
					}
					q := map[string]string{"limit": fmt.Sprint(limit)}
					for k, v := range l.q {
						q[k] = v
					}
					if cursor != "" {
						q["cursor"] = cursor
					}
					code, out := list(t, r, q)
					if code != 200 {
						t.Fatalf("page %d: %d %v", page, code, out)
					}
					cs, _ := out["cases"].([]any)
					if len(cs) > limit {
						t.Fatalf("page %d has %d cases, limit %d", page, len(cs), limit)
					}
					for _, c := range cs {
						id := c.(map[string]any)["case_id"].(string)
						seen[id]++
						order = append(order, id)
					}
					next, _ := out["next_cursor"].(string)
					if next == "" {
						break
					}
					cursor = next
				}
				for id, n := range seen {
					if n > 1 {
						t.Errorf("case %s listed %d times", id, n)
					}
					if !want[l.name][id] {
						t.Errorf("case %s does not belong to %s", id, l.name)
					}
				}
				for id := range want[l.name] {
					if seen[id] == 0 {
						t.Errorf("case %s missed", id)
					}
				}
				for i := 1; i < len(order); i++ { // newest first: ids grow with time here
					if order[i] > order[i-1] {
						t.Fatalf("not newest first: %s after %s", order[i], order[i-1])
					}
				}
			})
		}
	}
}

// A listing shows what the index holds, and nothing it would have to
// invent: the history's length, head hash and last update are not
// projected, so they are left out rather than shown as 0 and "".
func TestListedCasesShowNoFalseValues(t *testing.T) {
	r := newReader(t)
	c := store.Case{ID: ident.New("c_", t0), URL: "https://www.facebook.com/groups/1/posts/2/", CanonicalURL: "https://facebook.com/groups/1/posts/2",
		Platform: "facebook", Status: store.StatusAwaitingApprove, Category: "scam_compound", Text: "LOWONGAN ADMIN ONLINE",
		Urgency: "urgent", Score: 0.91, Label: "takedown", ReportCount: 3, EventSeq: 7, LastHash: strings.Repeat("ab", 32)}
	putCase(t, r.Table, c, t0)
	for _, q := range []map[string]string{{"status": c.Status}, {"platform": c.Platform}} {
		code, out := list(t, r, q)
		cs, _ := out["cases"].([]any)
		if code != 200 || len(cs) != 1 {
			t.Fatalf("list %v: %d %v", q, code, out)
		}
		got := cs[0].(map[string]any)
		for _, absent := range []string{"event_count", "last_hash", "updated_at", "text", "category"} {
			if v, ok := got[absent]; ok {
				t.Errorf("list %v: %s = %v shown, but the index does not hold it", q, absent, v)
			}
		}
		for k, want := range map[string]any{"case_id": c.ID, "url": c.URL, "canonical_url": c.CanonicalURL, "platform": "facebook",
			"status": c.Status, "urgency": "urgent", "label": "takedown", "score": 0.91, "report_count": 3.0, "created_at": store.FormatTime(t0)} {
			if got[k] != want {
				t.Errorf("list %v: %s = %v, want %v", q, k, got[k], want)
			}
		}
	}
	// The case itself still has them.
	code, out := call(t, r, "GET /cases/{id}", map[string]string{"id": c.ID}, nil, auth.Auditor)
	if code != 200 || out["event_count"] != 7.0 || out["last_hash"] != c.LastHash {
		t.Fatalf("GET /cases/{id}: %d %v", code, out)
	}
}

func TestCursorKeySources(t *testing.T) {
	if got := string(CursorKey("cursor-secret", "approval-secret")); got != "cursor-secret" {
		t.Fatalf("the cursor secret is not used first: %q", got)
	}
	derived := CursorKey("", "approval-secret")
	if len(derived) != 32 || string(derived) == "approval-secret" || string(derived) != string(CursorKey("", "approval-secret")) {
		t.Fatalf("derived key %x: want 32 stable bytes that differ from the approval secret", derived)
	}
	if CursorKey("", "") != nil {
		t.Fatal("a key from nothing")
	}
	// Two instances with the same configured key page each other's cursors.
	r := newReader(t)
	r.CursorKey = derived
	for i := range 3 {
		putCase(t, r.Table, store.Case{ID: fmt.Sprintf("c_%d", i), Platform: "facebook", Status: store.StatusReceived}, t0.Add(time.Duration(i)*time.Minute))
	}
	cur := firstCursor(t, r, map[string]string{"platform": "facebook"})
	other := Reader{Table: r.Table, CursorKey: CursorKey("", "approval-secret")}
	if code, out := list(t, other, map[string]string{"platform": "facebook", "cursor": cur}); code != 200 {
		t.Fatalf("another instance with the same key: %d %v", code, out)
	}
}
