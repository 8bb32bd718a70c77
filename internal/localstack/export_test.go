package localstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/bundle"
	"github.com/tangkal/tangkal/internal/store"
)

// get fetches path with a token of role ("" for none) and returns the raw body.
func (f *flow) get(role, path string) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.st.APIURL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if role != "" {
		tok, err := f.st.Token(role+"-user", role)
		if err != nil {
			f.t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// submitAs reports an ad with the reporter's name and contact.
func (f *flow) submitAs(adURL, text string, rep map[string]string) string {
	f.t.Helper()
	code, out := f.st.as(f.t, auth.Reporter).do("POST", "/reports", map[string]any{"url": adURL, "text": text, "reporter": rep}, nil)
	if code != 202 {
		f.t.Fatalf("submit: %d %v", code, out)
	}
	return out["case_id"].(string)
}

// The reporter of the exports' tests: none of this may appear in an export
// that excludes personal data.
var testReporter = map[string]string{"name": "Siti Rahayu Wulandari", "contact": "siti.rahayu@lsm-peduli.example / +62 811-7770-4321", "organization": "LSM Peduli Migran"}

var (
	emailRE   = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	phoneRE   = regexp.MustCompile(`(?:\+?62|\b0)8[\d\s.-]{7,14}\d`)
	accountRE = regexp.MustCompile(`\b\d{10,16}\b`)
)

// assertNoPersonalData fails when body holds an e-mail address, a phone
// number, an account number, or any of the reporter's details.
func assertNoPersonalData(t *testing.T, what string, body []byte) {
	t.Helper()
	s := string(body)
	for _, re := range []*regexp.Regexp{emailRE, phoneRE, accountRE} {
		if m := re.FindString(s); m != "" {
			t.Errorf("%s holds personal data %q", what, m)
		}
	}
	for _, v := range []string{testReporter["name"], "Siti", "siti.rahayu", "7770-4321", "6281177704321"} {
		if strings.Contains(s, v) {
			t.Errorf("%s holds the reporter's %q", what, v)
		}
	}
}

func TestEvidenceBundleIsSignedAndVerifiesOffline(t *testing.T) {
	f := startFlow(t, Config{})
	id := f.submitAs("https://x.com/lokerkamboja/status/5559901", scamAd, testReporter)
	f.waitStatus(id, store.StatusAwaitingApprove)
	f.approveFirstLink(id, "approve")
	f.waitStatus(id, store.StatusTakedownSent)
	f.advance(4*time.Hour + time.Minute)
	f.waitStatus(id, store.StatusRemovedInTime)
	n := len(f.events(id))
	f.verifyCase(id, func(r anchor.Report) bool { return r.Valid && r.Anchored == n })

	// Only auditors and admins get bundles.
	for _, role := range []string{"", auth.Reporter, auth.Approver} {
		if code, _ := f.get(role, "/cases/"+id+"/bundle"); code != 401 && code != 403 {
			t.Fatalf("%q gets a bundle: %d", role, code)
		}
	}
	code, doc := f.get(auth.Auditor, "/cases/"+id+"/bundle")
	if code != 200 {
		t.Fatalf("bundle: %d %s", code, doc)
	}
	code, keyDoc := f.get("", "/exports/bundle-key")
	if code != 200 {
		t.Fatalf("published key: %d %s", code, keyDoc)
	}
	var pub bundle.PublicKey
	if err := json.Unmarshal(keyDoc, &pub); err != nil {
		t.Fatal(err)
	}

	res, err := bundle.Check(doc, pub.PublicKey)
	if err != nil || !res.OK() || !res.AnchorValid || res.Events != n || res.AnchorRecords != n || res.KeyID != pub.KeyID {
		t.Fatalf("check: %v %+v", err, res)
	}
	var d bundle.Document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	var b bundle.Bundle
	if err := json.Unmarshal(d.Bundle, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Evidence) == 0 || b.Evidence[0].SHA256 == "" || !strings.Contains(b.Evidence[0].Link, "/evidence/"+b.Evidence[0].SHA256+"?") {
		t.Fatalf("evidence: %+v", b.Evidence)
	}
	// The bundled policy needs KP2MI and Komdigi: one decision from each.
	agencies := map[string]bool{}
	for _, d := range b.Decisions {
		if d.Decision != "approve" {
			t.Fatalf("decision %+v", d)
		}
		agencies[d.Agency] = true
	}
	if len(b.Decisions) != 2 || !agencies["kp2mi"] || !agencies["komdigi"] {
		t.Fatalf("decisions: %+v", b.Decisions)
	}
	if len(b.Notices) != 1 || b.Notices[0].Kind == "" || len(b.Notices[0].Replies) != 1 || !b.Notices[0].Replies[0].Removed {
		t.Fatalf("notices: %+v", b.Notices)
	}
	// The evidence link opens the stored copy.
	if resp, err := http.Get(b.Evidence[0].Link); err != nil || resp.StatusCode != 200 {
		t.Fatalf("evidence link: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	// No reporter's name or contact: reports are in the history by id only.
	for _, v := range []string{testReporter["name"], "siti.rahayu", "7770-4321"} {
		if bytes.Contains(doc, []byte(v)) {
			t.Fatalf("the bundle holds the reporter's %q", v)
		}
	}

	// Re-indented, it still verifies; any changed value does not.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if res, err := bundle.Check(pretty.Bytes(), pub.PublicKey); err != nil || !res.OK() {
		t.Fatalf("re-indented: %v %+v", err, res)
	}
	for name, tamper := range map[string]func([]byte) []byte{
		"outcome": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"removed_in_time"`), []byte(`"non_compliant"`), 1)
		},
		"decider": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"decision":"`), []byte(`"decision":"x`), 1)
		},
	} {
		res, err := bundle.Check(tamper(doc), pub.PublicKey)
		if err != nil || res.SignatureOK || res.OK() {
			t.Fatalf("%s changed: %v %+v", name, err, res)
		}
	}
	// Another key's signature is not the published key.
	other, _ := bundle.KeyFromSecret([]byte("some other secret, at least 32 bytes long"))
	if res, _ := bundle.Check(doc, other.Public().PublicKey); res.OK() || res.KeyMatches == nil || *res.KeyMatches {
		t.Fatalf("checked against another key: %+v", res)
	}
}

// waitFor polls path until ok holds (the counters come from the stream).
func (f *flow) waitFor(role, path string, ok func([]byte) bool) []byte {
	f.t.Helper()
	var body []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var code int
		code, body = f.get(role, path)
		if code == 200 && ok(body) {
			return body
		}
	}
	f.t.Fatalf("%s: %s", path, body)
	return nil
}

func TestExportsFromTheStreamsCounters(t *testing.T) {
	f := startFlow(t, Config{})
	// Two ads of one recruiter (the same WhatsApp number) on two
	// platforms, both reported by a named reporter, both removed in time.
	ids := []string{
		f.submitAs("https://www.facebook.com/groups/lokerluarnegeri/posts/5558801/", scamAd, testReporter),
		f.submitAs("https://www.tiktok.com/@lokerkamboja/video/5558802", scamAd, testReporter),
	}
	for _, id := range ids {
		f.waitStatus(id, store.StatusAwaitingApprove)
		f.approveFirstLink(id, "approve")
		f.waitStatus(id, store.StatusTakedownSent)
	}
	f.advance(4*time.Hour + time.Minute)
	for _, id := range ids {
		f.waitStatus(id, store.StatusRemovedInTime)
	}
	month := "2026-11" // the flow's clock: 26 November 2026, 16.00 WIB

	t.Run("transparency", func(t *testing.T) {
		var rep struct {
			Rows []struct {
				Platform               string
				Month                  string
				Requests               int64
				RemovedInTime          int64  `json:"removed_in_time"`
				StillLive              int64  `json:"still_live"`
				MedianSecondsToRemoval *int64 `json:"median_seconds_to_removal"`
				Destinations           []struct{ Key string }
			}
		}
		// Public: no token needed.
		body := f.waitFor("", "/exports/transparency?from="+month+"&to="+month, func(b []byte) bool {
			rep.Rows = nil
			_ = json.Unmarshal(b, &rep)
			done := 0
			for _, r := range rep.Rows {
				if r.RemovedInTime == 1 {
					done++
				}
			}
			return done == 2
		})
		for _, r := range rep.Rows {
			if r.Month != month || r.Requests != 1 || r.StillLive != 0 || r.MedianSecondsToRemoval == nil || len(r.Destinations) == 0 || r.Destinations[0].Key != "KH" {
				t.Fatalf("row %+v\n%s", r, body)
			}
		}
		assertNoPersonalData(t, "transparency (JSON)", body)
		for _, id := range ids {
			if bytes.Contains(body, []byte(id)) {
				t.Fatalf("the transparency report names case %s", id)
			}
		}
		code, csvBody := f.get("", "/exports/transparency?from="+month+"&to="+month+"&format=csv")
		if code != 200 || !bytes.HasPrefix(csvBody, []byte("platform,month,requests,removed_in_time")) || !bytes.Contains(csvBody, []byte("facebook,"+month+",1,1,0,0,0,0,")) {
			t.Fatalf("CSV: %d\n%s", code, csvBody)
		}
		assertNoPersonalData(t, "transparency (CSV)", csvBody)
		for _, q := range []string{"?from=November", "?format=xml", "?from=2026-12&to=2026-01"} {
			if code, b := f.get("", "/exports/transparency"+q); code != 400 || !bytes.Contains(b, []byte(`"field"`)) {
				t.Fatalf("%s: %d %s", q, code, b)
			}
		}
	})

	t.Run("awareness", func(t *testing.T) {
		var dig struct {
			Months []struct {
				Month         string
				RemovedAds    int64 `json:"removed_ads"`
				TopIndicators []struct {
					Key, Quote string
					NameID     string `json:"name_id"`
				} `json:"top_indicators"`
			}
		}
		body := f.waitFor("", "/exports/awareness?from="+month+"&to="+month, func(b []byte) bool {
			dig.Months = nil
			_ = json.Unmarshal(b, &dig)
			return len(dig.Months) == 1 && dig.Months[0].RemovedAds == 2
		})
		m := dig.Months[0]
		if len(m.TopIndicators) == 0 || m.TopIndicators[0].NameID == "" {
			t.Fatalf("indicators: %s", body)
		}
		quoted := 0
		for _, ind := range m.TopIndicators {
			if ind.Quote != "" {
				quoted++
			}
		}
		if quoted == 0 {
			t.Fatalf("no lure quoted: %s", body)
		}
		assertNoPersonalData(t, "awareness digest", body)
		if bytes.Contains(body, []byte("5550-9911")) || bytes.Contains(body, []byte("6281255509911")) {
			t.Fatalf("the digest quotes the recruiter's number: %s", body)
		}
	})

	t.Run("watchlist", func(t *testing.T) {
		for _, role := range []string{"", auth.Reporter, auth.Approver} {
			if code, _ := f.get(role, "/exports/watchlist"); code != 401 && code != 403 {
				t.Fatalf("%q reads the watchlist: %d", role, code)
			}
		}
		var wl struct {
			Entities []struct {
				Kind, Value   string
				TakedownCases int      `json:"takedown_cases"`
				CaseIDs       []string `json:"case_ids"`
				Platforms     []string
				FirstSeen     string `json:"first_seen"`
				LastSeen      string `json:"last_seen"`
			}
			NextCursor string `json:"next_cursor"`
		}
		body := f.waitFor(auth.Auditor, "/exports/watchlist?min=2", func(b []byte) bool {
			wl.Entities = nil
			_ = json.Unmarshal(b, &wl)
			return len(wl.Entities) > 0
		})
		e := wl.Entities[0]
		if e.Kind != "phone" || e.Value != "+6281255509911" || e.TakedownCases != 2 || len(e.CaseIDs) != 2 ||
			strings.Join(e.Platforms, ",") != "facebook,tiktok" || e.FirstSeen == "" || e.LastSeen < e.FirstSeen {
			t.Fatalf("watchlist: %s", body)
		}
		// No reporter in it: only recruiters.
		for _, v := range []string{testReporter["name"], "siti.rahayu", "7770-4321"} {
			if bytes.Contains(body, []byte(v)) {
				t.Fatalf("the watchlist holds the reporter's %q", v)
			}
		}
		// min=3: nobody; pages of one with a signed cursor.
		if _, b := f.get(auth.Auditor, "/exports/watchlist?min=3"); bytes.Contains(b, []byte("+6281255509911")) {
			t.Fatalf("min=3: %s", b)
		}
		_, b := f.get(auth.Admin, "/exports/watchlist?min=1&limit=1")
		_ = json.Unmarshal(b, &wl)
		if len(wl.Entities) != 1 || wl.NextCursor == "" {
			t.Fatalf("first page: %s", b)
		}
		if code, b := f.get(auth.Admin, "/exports/watchlist?min=2&limit=1&cursor="+wl.NextCursor); code != 400 {
			t.Fatalf("a cursor of min=1 pages min=2: %d %s", code, b)
		}
		if code, b := f.get(auth.Admin, "/exports/watchlist?min=1&limit=1&cursor="+wl.NextCursor); code != 200 {
			t.Fatalf("second page: %d %s", code, b)
		}
	})
}
