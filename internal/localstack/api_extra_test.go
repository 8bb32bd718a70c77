package localstack

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/store"
)

// One recruiter, two ads: the same WhatsApp number written two ways, on
// two platforms.
const (
	recruiterAdFacebook = "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15-25jt/bln, tanpa pengalaman, TANPA BIAYA tiket ditanggung, " +
		"berangkat minggu ini pakai visa turis, paspor dipegang perusahaan. Minat WA 0812-5550-4242"
	recruiterAdTikTok = "Kerja di Myanmar jadi CS online, gaji 20jt, tanpa biaya, visa turis saja, paspor disimpan kantor. " +
		"Berangkat cepat! WhatsApp +62 812 5550 4242"
	recruiterPhone = "+6281255504242"
)

// decode turns a generic JSON answer into v.
func decode(t testing.TB, in map[string]any, v any) {
	t.Helper()
	b, _ := json.Marshal(in)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
}

func TestRelatedCasesAndEntitiesAcrossPlatforms(t *testing.T) {
	f := startFlow(t, Config{})
	fb := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5554201/", recruiterAdFacebook)
	f.waitStatus(fb, store.StatusAwaitingApprove)
	tt := f.submit("https://www.tiktok.com/@kerjamyanmar/video/5554202", recruiterAdTikTok)
	f.waitStatus(tt, store.StatusAwaitingApprove)
	unrelated := f.submit("https://x.com/lokerlaos/status/5554203", scamAd) // another number
	f.waitStatus(unrelated, store.StatusAwaitingApprove)

	// The first case was verified before the second existed; the related
	// lookup is fresh, so it finds the later one through the phone.
	for _, role := range []string{auth.Auditor, auth.Approver, auth.Admin} {
		code, out := f.st.as(t, role).do("GET", "/cases/"+fb+"/related", nil, nil)
		if code != 200 {
			t.Fatalf("%s: related: %d %v", role, code, out)
		}
		var got audit.RelatedResponse
		decode(t, out, &got)
		if !got.Verified || len(got.Related) != 1 {
			t.Fatalf("%s: related of %s = %+v, want only %s", role, fb, got, tt)
		}
		r := got.Related[0]
		if r.CaseID != tt || r.Platform != "tiktok" || len(r.Via) != 1 || r.Via[0].Kind != "phone" || r.Via[0].Value != recruiterPhone {
			t.Fatalf("%s: related %+v, want %s on tiktok via phone %s", role, r, tt, recruiterPhone)
		}
	}
	code, out := f.st.as(t, auth.Auditor).do("GET", "/cases/"+tt+"/related", nil, nil)
	var back audit.RelatedResponse
	decode(t, out, &back)
	if code != 200 || len(back.Related) != 1 || back.Related[0].CaseID != fb || back.Related[0].Platform != "facebook" {
		t.Fatalf("related of %s: %d %+v", tt, code, back)
	}

	// The number as people write it finds both cases, and only them.
	for _, spelling := range []string{"0812-5550-4242", "+62 812 5550 4242", recruiterPhone, "6281255504242"} {
		code, out := f.st.as(t, auth.Auditor).do("GET", "/entities/phone/"+url.PathEscape(spelling), nil, nil)
		var got audit.EntityResponse
		decode(t, out, &got)
		ids := map[string]string{}
		for _, c := range got.Cases {
			ids[c.CaseID] = c.Platform
		}
		if code != 200 || got.Value != recruiterPhone || len(ids) != 2 || ids[fb] != "facebook" || ids[tt] != "tiktok" {
			t.Fatalf("entities/phone/%s: %d %+v, want %s and %s", spelling, code, out, fb, tt)
		}
	}

	tests := []struct {
		name  string
		role  string
		path  string
		want  int
		field string
	}{
		{"reporter may not see related cases", auth.Reporter, "/cases/" + fb + "/related", 403, ""},
		{"reporter may not look up entities", auth.Reporter, "/entities/phone/081255504242", 403, ""},
		{"reporter may not read figures", auth.Reporter, "/stats/compliance", 403, ""},
		{"approver may not read figures", auth.Approver, "/stats/compliance", 403, ""},
		{"anonymous", "", "/cases/" + fb + "/related", 401, ""},
		{"unknown case", auth.Auditor, "/cases/c_01jdzzzzzzzzzzzzzzzzzzzzzz/related", 404, ""},
		{"unknown kind", auth.Auditor, "/entities/pager/12345", 400, "kind"},
		{"unparseable number", auth.Auditor, "/entities/phone/not-a-number", 400, "value"},
		{"bad bank account", auth.Auditor, "/entities/bank/BRI%2012", 400, "value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client{t: t, base: f.st.APIURL}
			if tc.role != "" {
				c = f.st.as(t, tc.role)
			}
			code, out := c.do("GET", tc.path, nil, nil)
			if code != tc.want {
				t.Fatalf("GET %s = %d %v, want %d", tc.path, code, out, tc.want)
			}
			if e, _ := out["error"].(map[string]any); tc.field != "" && e["field"] != tc.field {
				t.Fatalf("error %v does not name field %s", out, tc.field)
			}
		})
	}
}

// stats reads one platform's figures from GET /stats/compliance once they
// hold what ok wants (they are counted from the stream, a moment after
// the history event): bounded, then the last figures are shown.
func (f *flow) stats(platform string, ok func(audit.PlatformStats) bool) audit.PlatformStats {
	f.t.Helper()
	var last audit.PlatformStats
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, out := f.st.as(f.t, auth.Auditor).do("GET", "/stats/compliance?platform="+platform, nil, nil)
		if code != 200 {
			f.t.Fatalf("stats: %d %v", code, out)
		}
		var got audit.ComplianceResponse
		decode(f.t, out, &got)
		if len(got.Platforms) != 1 || got.Platforms[0].Platform != platform {
			f.t.Fatalf("stats for %s: %+v", platform, got)
		}
		if last = got.Platforms[0]; ok(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("figures of %s after a minute: %+v", platform, last)
	return last
}

func TestComplianceFiguresAfterInTimeAndLateRemovals(t *testing.T) {
	f := startFlow(t, Config{Platforms: map[string]platformsim.Behavior{"tiktok": {Mode: platformsim.Late, Delay: 10 * time.Hour}}})
	prompt := f.submit("https://www.facebook.com/groups/lokerluarnegeri/posts/5554301/", scamAd)
	late := f.submit("https://www.tiktok.com/@lokerkamboja/video/5554302", scamAd)
	for _, id := range []string{prompt, late} {
		f.waitStatus(id, store.StatusAwaitingApprove)
		f.approveFirstLink(id, "approve")
		f.waitStatus(id, store.StatusTakedownSent)
	}
	f.stats("tiktok", func(s audit.PlatformStats) bool {
		return s.Cases == 1 && s.RequestsSent == 1 && s.StillLive == 1 && s.Overdue == 0 && s.MedianSecondsToRemoval == nil
	})

	f.advance(4*time.Hour + time.Minute) // first deadline: facebook removed, tiktok still up
	f.waitStatus(prompt, store.StatusRemovedInTime)
	f.waitStatus(late, store.StatusEscalated)
	f.stats("tiktok", func(s audit.PlatformStats) bool {
		return s.StillLive == 1 && s.RemovedLate == 0 && s.Escalations == 1
	})

	f.advance(24 * time.Hour) // warning 1 deadline: tiktok removed 10 h after the request
	f.waitStatus(late, store.StatusRemovedLate)

	tests := []struct {
		platform                        string
		sent, inTime, removedLate, live int
		median                          int64
	}{
		{"facebook", 1, 1, 0, 0, 0}, // the simulator removes at once
		{"tiktok", 1, 0, 1, 0, 36000},
	}
	for _, tc := range tests {
		t.Run(tc.platform, func(t *testing.T) {
			s := f.stats(tc.platform, func(s audit.PlatformStats) bool { return s.RemovalsMeasured == 1 && s.StillLive == tc.live })
			if s.RequestsSent != tc.sent || s.RemovedInTime != tc.inTime || s.RemovedLate != tc.removedLate || s.NonCompliant != 0 {
				t.Fatalf("%+v", s)
			}
			// The histogram's buckets are within ±9% of the times in them.
			if m := s.MedianSecondsToRemoval; m == nil || float64(*m) < float64(tc.median)*0.91 || float64(*m) > float64(tc.median)*1.09 || *s.P90SecondsToRemoval != *m {
				t.Fatalf("time to removal: median %v p90 %v; want both about %d", s.MedianSecondsToRemoval, s.P90SecondsToRemoval, tc.median)
			}
		})
	}

	// All platforms: the two cases and nothing else.
	code, out := f.st.as(t, auth.Admin).do("GET", "/stats/compliance?from=2026-11-01T00:00:00Z", nil, nil)
	var all audit.ComplianceResponse
	decode(t, out, &all)
	if code != 200 || all.Total.RequestsSent != 2 || all.Total.RemovedInTime != 1 || all.Total.RemovedLate != 1 || len(all.Platforms) < 7 {
		t.Fatalf("all platforms: %d %+v", code, all)
	}
	// A period before the cases holds none of them.
	_, out = f.st.as(t, auth.Auditor).do("GET", "/stats/compliance?to=2026-01-01T00:00:00Z", nil, nil)
	decode(t, out, &all)
	if all.Total.Cases != 0 {
		t.Fatalf("period before the cases: %+v", all.Total)
	}
}

// An ad removed after its takedown that is live again and reported again
// opens a new case (a new workflow run) linked to the old one; the approver
// reads that its text is the earlier case's, approved and removed. The same
// text posted elsewhere by another account says so too.
func TestRemovedAdReappearsAndRepostsAreLinked(t *testing.T) {
	f := startFlow(t, Config{})
	const adURL = "https://www.facebook.com/groups/lokerluarnegeri/posts/5557701/"
	first := f.submit(adURL, scamAd)
	f.waitStatus(first, store.StatusAwaitingApprove)
	f.approveFirstLink(first, "approve")
	f.waitStatus(first, store.StatusTakedownSent)
	f.advance(4*time.Hour + time.Minute)
	f.waitStatus(first, store.StatusRemovedInTime)

	// The ad is back, and reported again.
	if err := f.st.Sim.Seed(adURL, scamAd); err != nil {
		t.Fatal(err)
	}
	code, out := f.st.as(t, auth.Reporter).do("POST", "/reports", map[string]any{"url": adURL, "text": scamAd}, nil)
	again, _ := out["case_id"].(string)
	if code != 202 || again == first || out["reopens"] != first || out["duplicate"] != false {
		t.Fatalf("report after removal: %d %v, want a new case reopening %s", code, out, first)
	}
	c := f.waitStatus(again, store.StatusAwaitingApprove)
	if c.Reopens != first {
		t.Fatalf("new case %+v does not name %s", c, first)
	}
	found := false
	for _, e := range f.events(again) {
		if e.Type != history.Verified {
			continue
		}
		var v history.VerifiedData
		if err := e.Decode(&v); err != nil {
			t.Fatal(err)
		}
		found = v.Repost != nil && v.Repost.CaseID == first && strings.Contains(v.Repost.Sentence, "Same text as "+first+", approved and removed")
	}
	if !found {
		t.Fatalf("the reopened case's verification does not link %s as the same text:\n%s", first, f.history(again))
	}
}
