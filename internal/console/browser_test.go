package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/sfnlocal"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// An ad with strong trafficking signs (urgent: 4 h deadline).
const scamAd = "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15-25jt/bln, tanpa pengalaman, TANPA BIAYA tiket ditanggung, " +
	"berangkat minggu ini pakai visa turis, paspor dipegang perusahaan. Minat WA 0812-5550-9911"

// chromium finds headless Chromium: skipped when missing, except under
// CI=true, where a missing browser fails the run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: install Debian's package with `apt-get install -y chromium` (`make test` does it as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	root  string
	axe   string
	shots string
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func value[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
}

func (b *browser) text(sel string) string {
	return value(b, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) body() string { return b.text("main") }

// check screenshots the page at desktop and phone width and runs axe-core:
// no serious or critical violation.
func (b *browser) check(name string) {
	b.t.Helper()
	for _, size := range []struct {
		suffix string
		w, h   int64
	}{{"desktop", 1280, 900}, {"390", 390, 844}} {
		b.run(chromedp.EmulateViewport(size.w, size.h))
		if w := value(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > size.w {
			b.t.Errorf("%s at %d px: the page is %d px wide (scrolls sideways)", name, size.w, w)
		}
		png := value(b, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(b.shots, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.run(chromedp.EmulateViewport(1280, 900))
	value(b, chromedp.Evaluate[any](b.axe))
	out := value(b, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
			r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise))
	var vs []map[string]any
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("axe on %s: %v (%s)", name, err, out)
	}
	for _, v := range vs {
		b.t.Errorf("axe on %s: %v %v: %v at %v", name, v["impact"], v["id"], v["help"], v["nodes"])
	}
}

// download clicks the link at sel and waits for the browser to save the
// file: its name (from Content-Disposition) and content.
func (b *browser) download(sel string) (string, []byte) {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	on := true
	if _, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &on}); err != nil {
		b.t.Fatalf("download behaviour: %v", err)
	}
	b.run(chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download from %s: %v", sel, err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			b.t.Fatalf("download from %s canceled", sel)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			break
		}
	}
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 1 {
		b.t.Fatalf("download from %s: %v files (%v)", sel, len(files), err)
	}
	data, err := os.ReadFile(filepath.Join(dir, files[0].Name()))
	if err != nil {
		b.t.Fatal(err)
	}
	return files[0].Name(), data
}

func (b *browser) signIn(member string) {
	b.t.Helper()
	b.open("/console/signin")
	b.run(chromedp.Click(chromedp.CSS(`button[value="`+member+`"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/console/signout"]`)))
}

func (b *browser) signOut() {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.CSS(`form[action="/console/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/console/signin"]`)))
}

func waitStatus(t *testing.T, st *localstack.Stack, id, status string) *store.Case {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		if c, err := st.Table.GetCase(context.Background(), id); err == nil {
			if c.Status == status {
				return c
			}
			last = c.Status
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("case %s: status %q after 60 s, want %q", id, last, status)
	return nil
}

func startStack(t *testing.T) (*localstack.Stack, *sfnlocal.ManualClock) {
	t.Helper()
	clock := sfnlocal.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localstack.Start(ctx, localstack.Config{DynamoDBEndpoint: testenv.Endpoint(t), Table: testenv.UniqueName(t, "console"),
		Clock: clock, Parameters: map[string]string{"ApprovalTimeoutSeconds": "3600", "ApprovalTiers": "2"}})
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st, clock
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromium(t)
	tpl, err := samtemplate.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(tpl)
	axe, err := os.ReadFile(filepath.Join(root, "infra", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v (run npm ci --prefix infra)", err)
	}
	shots := filepath.Join(root, "build", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "id-ID"), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: strings.TrimSuffix(base, "/"), root: root, axe: string(axe), shots: shots}
	// The first call starts the browser: without a timeout, which would stop it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// TestConsoleStory is the whole job in a browser: a reporter submits an
// ad, the KP2MI and Komdigi approvers find it in their inboxes and
// approve, the takedown is sent, the clock moves, an auditor finds the
// case closed in time with its chain valid against the external copy and
// downloads the signed bundle. Every page is screenshot (desktop and 390
// px) and checked with axe-core.
func TestConsoleStory(t *testing.T) {
	st, clock := startStack(t)
	b := newBrowser(t, strings.TrimSuffix(st.APIURL, "/"))

	b.open("/console/")
	if !strings.Contains(b.body(), "Hanya lokal") {
		t.Fatalf("sign-in page does not say it is local only: %q", b.body())
	}
	b.check("signin")

	// Reporter: a bad URL is refused next to its field, then the ad goes in.
	b.signIn("ngo-sari")
	b.check("home-reporter")
	b.open("/console/report")
	b.run(chromedp.SetValue(chromedp.CSS("#url"), "ftp://example.com/x"), chromedp.Submit(chromedp.CSS("#url")),
		chromedp.WaitVisible(chromedp.CSS("#url-error")))
	if msg := b.text("#url-error"); !strings.Contains(msg, "Tidak dapat dipakai") {
		t.Errorf("url error %q", msg)
	}
	b.check("report-invalid")
	b.run(chromedp.SetValue(chromedp.CSS("#url"), "https://m.facebook.com/groups/lokerluarnegeri/posts/5550201/?mibextid=abc"),
		chromedp.SetValue(chromedp.CSS("#text"), scamAd), chromedp.SetValue(chromedp.CSS("#organization"), "LSM Migran"),
		chromedp.Submit(chromedp.CSS("#url")), chromedp.WaitVisible(chromedp.CSS(".alert.ok")))
	caseID := b.text(".alert.ok strong")
	if !strings.HasPrefix(caseID, "c_") {
		t.Fatalf("no case id after submitting: %q", b.body())
	}
	waitStatus(t, st, caseID, store.StatusAwaitingApprove)
	b.open("/console/reports")
	if !strings.Contains(b.body(), caseID) || !strings.Contains(b.body(), "menunggu persetujuan") {
		t.Errorf("my reports does not show the case awaiting approval: %q", b.body())
	}
	b.check("myreports")
	b.signOut()

	// KP2MI's approver: the inbox, the case page, approve.
	b.signIn("kp2mi-approver")
	b.open("/console/inbox")
	if inbox := b.body(); !strings.Contains(inbox, caseID) || !strings.Contains(inbox, "sisa") || !strings.Contains(inbox, "0 dari 2 persetujuan") {
		t.Fatalf("inbox does not list %s with its countdown and what it needs: %q", caseID, inbox)
	}
	b.check("inbox")
	b.run(chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+caseID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#yours")))
	page := b.body()
	for _, want := range []string{"paspor dipegang", "Indikator risiko", "Salinan bukti", "Kasus terkait", "takedown-urgent", "Menunggu 2 persetujuan lagi dari KP2MI, Komdigi"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	b.check("case-approver")
	// A rejection needs a reason: refused next to the field, nothing recorded.
	b.run(chromedp.Click(chromedp.CSS(`button[value="reject"]`)), chromedp.WaitVisible(chromedp.CSS("#reason-error")))
	if msg := b.text("#reason-error"); !strings.Contains(msg, "alasan") {
		t.Errorf("reject without a reason: %q", msg)
	}
	b.check("case-reason-missing")
	b.run(chromedp.SetValue(chromedp.CSS("#reason"), "indikator terkonfirmasi"),
		chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(".alert.ok")))
	if got := b.text("#needs"); !strings.Contains(got, "Menunggu 1 persetujuan lagi dari Komdigi") {
		t.Errorf("after KP2MI's approval the policy needs %q", got)
	}
	b.signOut()

	// Polri's mailed link (it may hold): the confirm page, in the console's
	// look, shows KP2MI's decision and offers the hold; opening it decides
	// nothing.
	cs, err := st.Table.GetCase(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(st.Links.Link(cs.ApprovalID, "investigator@polri.local", clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	b.run(chromedp.Navigate(b.base+link.RequestURI()), chromedp.WaitVisible(chromedp.CSS(`button[value="hold"]`)))
	if page := b.body(); !strings.Contains(page, "KP2MI") || !strings.Contains(page, "indikator terkonfirmasi") {
		t.Errorf("the approval link's page lacks KP2MI's decision: %q", page)
	}
	if n := value(b, chromedp.Evaluate[int64](`document.styleSheets.length`)); n != 1 {
		t.Errorf("the approval link's page has %d stylesheets, want the console's", n)
	}
	b.check("approval-link")

	// The policy needs Komdigi too: its approver finds the case in the
	// inbox, sees KP2MI's decision and approves.
	b.signIn("komdigi-approver")
	b.open("/console/inbox")
	if inbox := b.body(); !strings.Contains(inbox, caseID) || !strings.Contains(inbox, "1 dari 2 persetujuan; menunggu Komdigi") {
		t.Fatalf("Komdigi's inbox: %q", inbox)
	}
	b.run(chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+caseID+`"]`)), chromedp.WaitVisible(chromedp.CSS("#yours")))
	if got := b.text("#agencies"); !strings.Contains(got, "KP2MI") || !strings.Contains(got, "indikator terkonfirmasi") || !strings.Contains(got, "ditunggu") {
		t.Errorf("Komdigi does not see KP2MI's decision and its own awaited: %q", got)
	}
	b.check("case-komdigi")
	b.run(chromedp.SetValue(chromedp.CSS("#reason"), "perintah penurunan disetujui"),
		chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(".alert")))
	if !strings.Contains(b.body(), "dicatat") {
		t.Fatalf("Komdigi's decision: %q", b.body())
	}
	b.check("case-approved")
	waitStatus(t, st, caseID, store.StatusTakedownSent)
	b.signOut()

	// The platform removes the ad; the deadline passes.
	clock.Advance(5 * time.Hour)
	waitStatus(t, st, caseID, store.StatusRemovedInTime)

	// Auditor: the search finds it closed in time, the chain is valid
	// against the external copy, the bundle downloads signed.
	b.signIn("auditor-1")
	b.open("/console/cases?status=removed_in_time")
	if !strings.Contains(b.body(), caseID) {
		t.Fatalf("search does not find %s: %q", caseID, b.body())
	}
	b.check("cases")
	// Searched by the agency that decided, and by the approver: the same case.
	for _, q := range []string{"agency=komdigi", "approver=approver%40kp2mi.local"} {
		b.open("/console/cases?" + q)
		if !strings.Contains(b.body(), caseID) {
			t.Fatalf("search %s does not find %s: %q", q, caseID, b.body())
		}
	}
	// Two selections at once are refused with the API's reason, on the page.
	b.open("/console/cases?urgency=urgent&category=scam_compound")
	if got := b.body(); !strings.Contains(got, "Pencarian tidak dapat dijalankan (category)") {
		t.Errorf("two selections: no error shown: %q", got)
	}
	b.open("/console/cases/" + caseID + "/history")
	if got := b.text("#chain"); !strings.Contains(got, "utuh") {
		t.Errorf("chain badge %q, want valid", got)
	}
	if got := b.text("#anchor"); !strings.Contains(got, "Cocok dengan salinan eksternal") {
		t.Errorf("external anchor %q, want a match", got)
	}
	if !strings.Contains(b.body(), "rp-") || strings.Contains(b.body(), "ngo-sari") { // keyed pseudonyms
		t.Errorf("history does not show the report pseudonymously")
	}
	if !strings.Contains(b.body(), "Komdigi") {
		t.Errorf("the timeline does not say which agency decided")
	}
	b.check("history")
	name, file := b.download("#bundle")
	var doc struct {
		Bundle struct {
			CaseID    string            `json:"case_id"`
			Decisions []json.RawMessage `json:"decisions"`
			Chain     struct {
				Valid bool `json:"valid"`
			} `json:"chain"`
		} `json:"bundle"`
		Signature struct {
			Value string `json:"value"`
		} `json:"signature"`
	}
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatalf("bundle %s: %v", name, err)
	}
	if name != "bundle-"+caseID+".json" || doc.Bundle.CaseID != caseID || doc.Signature.Value == "" || len(doc.Bundle.Decisions) != 2 || !doc.Bundle.Chain.Valid {
		t.Errorf("bundle download %s: case %s, %d decisions, chain valid %v, signed %v", name, doc.Bundle.CaseID,
			len(doc.Bundle.Decisions), doc.Bundle.Chain.Valid, doc.Signature.Value != "")
	}
	// Approval time per agency, from the stream's counters (tallied a
	// moment after the decisions).
	var pipe string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		b.open("/console/figures")
		if pipe = value(b, chromedp.Evaluate[string](`(document.querySelector("#pipe") || {}).parentElement?.textContent || ""`)); pipe != "" {
			break
		}
	}
	if !strings.Contains(pipe, "Waktu persetujuan per instansi") || !strings.Contains(pipe, "KP2MI") || !strings.Contains(pipe, "Komdigi") {
		t.Errorf("figures lack the approval time of KP2MI and Komdigi: %q", pipe)
	}
	// One row (label and value) per agency; the manual clock did not move
	// while they decided, so the bars are empty.
	if n := value(b, chromedp.Evaluate[int64](`document.querySelectorAll("#pipe ~ svg.chart text").length`)); n != 4 {
		t.Errorf("the approval-time chart has %d labels, want 2 agencies' label and value", n)
	}
	// On a phone the charts' names and figures stay readable: no text
	// under 11 px as drawn (the SVG scales with the screen's width).
	b.run(chromedp.EmulateViewport(390, 844))
	if px := value(b, chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("svg.chart text")].map(e =>
			parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a))`)); px < 11 {
		t.Errorf("at 390 px the smallest chart text is drawn %.1f px high, want at least 11", px)
	}
	b.check("figures")
	b.open("/console/exports")
	b.check("exports")
	if name, csv := b.download(`a[href^="/console/exports/transparansi.csv"]`); !strings.HasPrefix(name, "transparansi-") ||
		!strings.HasPrefix(string(csv), "platform,month,requests") || !strings.Contains(string(csv), "facebook,") {
		t.Errorf("transparency CSV %s: %q", name, csv)
	}
	// English on the switch.
	b.run(chromedp.Click(chromedp.CSS(`a[href^="/console/lang"]`)), chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)))
	if h := b.text("main h1"); h != "Export downloads" {
		t.Errorf("after the switch the title is %q", h)
	}
	b.open("/console/figures")
	b.check("figures-en")
	b.run(chromedp.Click(chromedp.CSS(`a[href^="/console/lang"]`)), chromedp.WaitReady(chromedp.CSS(`html[lang="id"]`)))
	b.signOut()

	b.signIn("admin-1")
	b.open("/console/admin")
	if page := b.body(); !strings.Contains(page, "takedown-urgent") || !strings.Contains(page, "Kementerian Komunikasi dan Digital") {
		t.Errorf("admin page lacks the agencies and policies: %q", page)
	}
	// The policy's trusted-flagger window and the public reports' reviewer.
	if page := b.body(); !strings.Contains(page, "Pelapor tepercaya") || !strings.Contains(page, "KP2MI · supervisor") {
		t.Errorf("admin page lacks the trusted-flagger window or the extra review: %q", page)
	}
	b.check("admin")
	// The reporter's pseudonym, as auditors see it, resolved with a
	// reason: a reason too short is refused next to its field, nothing
	// disclosed; then the account shows and the case records it.
	pseudonym := reportPseudonym(t, st, caseID)
	// (the browser's own minlength check is lifted: the server's is tested)
	value(b, chromedp.Evaluate[any](`document.querySelector("#resolve-reason").removeAttribute("minlength")`))
	b.run(chromedp.SetValue(chromedp.CSS("#pseudonym"), pseudonym), chromedp.SetValue(chromedp.CSS("#resolve-reason"), "x"),
		chromedp.Submit(chromedp.CSS("#pseudonym")), chromedp.WaitVisible(chromedp.CSS("#resolve-reason-error")))
	if page := b.body(); !strings.Contains(page, "Alasan wajib diisi") || strings.Contains(page, "ngo-sari") {
		t.Errorf("a resolution without a real reason: %q", page)
	}
	b.run(chromedp.SetValue(chromedp.CSS("#resolve-reason"), "Permintaan penyidik Polri untuk menghubungi pelapor"),
		chromedp.Submit(chromedp.CSS("#pseudonym")), chromedp.WaitVisible(chromedp.CSS("#resolution")))
	if got := b.text("#resolution"); !strings.Contains(got, "ngo-sari") || !strings.Contains(got, caseID) {
		t.Errorf("the resolution does not name the account and its case: %q", got)
	}
	b.check("admin-resolved")
	b.open("/console/cases/" + caseID + "/history")
	if page := b.body(); !strings.Contains(page, "pseudonim pelapor diungkap · ") || !strings.Contains(page, "admin:admin-1") {
		t.Errorf("the case's history does not record the resolution: %q", page)
	}
	b.open("/console/cases/c_nonexistent")
	if page := b.body(); !strings.Contains(page, "404") || !strings.Contains(page, "tidak ada") {
		t.Errorf("an unknown case: %q", page)
	}
	b.check("error")
	fmt.Fprintln(os.Stderr, "screenshots in", b.shots)
}

// reportPseudonym is the pseudonym recorded on a case's first report.
func reportPseudonym(t *testing.T, st *localstack.Stack, caseID string) string {
	t.Helper()
	out, err := st.Table.DB.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(st.Table.Name), KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.CasePK(caseID)}, ":r": &types.AttributeValueMemberS{Value: store.PrefixReport},
		},
	})
	if err != nil || len(out.Items) == 0 {
		t.Fatalf("reports of %s: %v", caseID, err)
	}
	p, _ := out.Items[0]["reporter_pseudonym"].(*types.AttributeValueMemberS)
	if p == nil || !strings.HasPrefix(p.Value, "rp-") {
		t.Fatalf("report of %s has no keyed pseudonym: %v", caseID, out.Items[0])
	}
	return p.Value
}
