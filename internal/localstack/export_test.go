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
	if len(b.Decisions) != 1 || b.Decisions[0].Decision != "approve" && b.Decisions[0].Decision != "approved" {
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
