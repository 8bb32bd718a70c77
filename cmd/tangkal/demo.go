package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/store"
)

func init() {
	register("demo", "walk the README's story against a running local stack (make run): report, approve, takedown, warnings, sanctions", demoCmd)
}

// demoConfig says where the running local stack is.
type demoConfig struct {
	API, Outbox, Platforms, SFN string
	// Data is the stack's data folder (it holds the token signing key).
	Data string
	// Wait bounds every wait for a case, a mail or a notice.
	Wait time.Duration
}

// demoResult names the two cases the demo followed to their end.
type demoResult struct {
	RemovedInTime string // the first ad, closed removed_in_time
	NonCompliant  string // the second ad, closed non_compliant
}

func demoCmd(ctx context.Context, args []string) error {
	_, err := runDemo(ctx, args, os.Stdout)
	return err
}

// Defaults are the URLs `make run` prints (its port variables move them).
func demoFlags(fs *flag.FlagSet) *demoConfig {
	local := func(env string, port int) string { return fmt.Sprintf("http://127.0.0.1:%d", envInt(env, port)) }
	cfg := &demoConfig{}
	fs.StringVar(&cfg.API, "api", local("TANGKAL_API_PORT", 3000), "the HTTP API (make run's \"API:\" line)")
	fs.StringVar(&cfg.Outbox, "outbox", local("TANGKAL_OUTBOX_PORT", 8025), "the outbox (\"Outbox:\")")
	fs.StringVar(&cfg.Platforms, "platforms", local("TANGKAL_PLATFORM_PORT", 8084), "the simulated platforms (\"Platforms:\")")
	fs.StringVar(&cfg.SFN, "sfn", envOr("TANGKAL_SFN_ENDPOINT", local("TANGKAL_SFN_PORT", 8083)), "the local Step Functions endpoint (\"Step Functions:\")")
	fs.StringVar(&cfg.Data, "data", envOr("TANGKAL_DATA", ".local"), "the running stack's data folder (holds the token signing key)")
	fs.DurationVar(&cfg.Wait, "wait", time.Minute, "how long each step may take to reach its expected state")
	return cfg
}

// runDemo drives the README's walkthrough and prints every step, with the
// command a person would type and what came back, to w.
func runDemo(ctx context.Context, args []string, w io.Writer) (demoResult, error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg := demoFlags(fs)
	if err := fs.Parse(args); err != nil {
		return demoResult{}, err
	}
	if fs.NArg() > 0 {
		return demoResult{}, fmt.Errorf("unexpected argument %q (demo takes only flags; see tangkal demo -h)", fs.Arg(0))
	}
	if cfg.Wait <= 0 {
		return demoResult{}, errors.New("--wait must be positive, e.g. 60s")
	}
	for _, u := range []*string{&cfg.API, &cfg.Outbox, &cfg.Platforms, &cfg.SFN} {
		*u = strings.TrimRight(*u, "/")
	}
	d := &demo{cfg: *cfg, w: w, client: &http.Client{Timeout: 30 * time.Second}, defaults: demoFlags(flag.NewFlagSet("", flag.ContinueOnError))}
	return d.run(ctx)
}

type demo struct {
	cfg      demoConfig
	defaults *demoConfig // to leave default flags out of the printed commands
	w        io.Writer
	client   *http.Client
	reporter string // tokens; printed as $REPORTER and $AUDITOR, never in clear
	auditor  string
	step     int
}

// demoCase is what the demo reads of GET /cases/{id}.
type demoCase struct {
	ID           string  `json:"case_id"`
	Status       string  `json:"status"`
	Platform     string  `json:"platform"`
	CanonicalURL string  `json:"canonical_url"`
	Label        string  `json:"label"`
	Urgency      string  `json:"urgency"`
	Score        float64 `json:"score"`
	ReportCount  int     `json:"report_count"`
	Deadline     string  `json:"deadline"`
	Escalation   int     `json:"escalation"`
}

func (c demoCase) String() string {
	s := fmt.Sprintf("status=%s", c.Status)
	if c.Label != "" {
		s += fmt.Sprintf(" label=%s urgency=%s score=%.2f", c.Label, c.Urgency, c.Score)
	}
	s += fmt.Sprintf(" reports=%d", c.ReportCount)
	if c.Escalation > 0 {
		s += fmt.Sprintf(" warning=%d", c.Escalation)
	}
	if t, err := time.Parse(time.RFC3339, c.Deadline); err == nil && !store.IsClosed(c.Status) {
		s += " deadline=" + wib(t)
	}
	return s
}

func wib(t time.Time) string { return t.In(platform.Jakarta).Format("2006-01-02 15:04 MST") }

// The demo's ad: strong trafficking signs, so it is urgent (4 h deadline).
const demoAdText = "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang. WA 0812-5550-9911"

func (d *demo) run(ctx context.Context) (demoResult, error) {
	var res demoResult
	fmt.Fprintf(d.w, "tangkal demo: API %s, outbox %s, platforms %s, Step Functions %s, data %s\n",
		d.cfg.API, d.cfg.Outbox, d.cfg.Platforms, d.cfg.SFN, d.cfg.Data)
	// Fresh post ids each run: a URL already reported would join its old case.
	n1, n2 := demoPostID(), demoPostID()

	if err := d.begin("Token lokal", "Local tokens", d.tokens); err != nil {
		return res, err
	}

	// The first ad: reported twice, approved, removed by the platform in time.
	var c1 demoCase
	if err := d.begin("Laporkan iklan", "Report an ad", func() (err error) {
		c1.ID, err = d.report(ctx, "https://m.facebook.com/groups/lokerluarnegeri/posts/"+n1+"/?mibextid=abc", "demo-"+n1+"-1", "", 1)
		if err != nil {
			return err
		}
		c1, err = d.waitCase(ctx, c1.ID, store.StatusAwaitingApprove, func(c demoCase) bool { return c.Status == store.StatusAwaitingApprove })
		return err
	}); err != nil {
		return res, err
	}
	if err := d.begin("Laporkan iklan yang sama lagi (bentuk URL lain)", "Report the same ad again (another URL form)", func() error {
		_, err := d.report(ctx, "http://www.facebook.com/groups/lokerluarnegeri/posts/"+n1+"?utm_source=whatsapp&fbclid=IwAR0demo", "", c1.ID, 2)
		if err != nil {
			return err
		}
		_, err = d.waitCase(ctx, c1.ID, "report_count 2", func(c demoCase) bool { return c.ReportCount >= 2 })
		return err
	}); err != nil {
		return res, err
	}
	if err := d.approve(ctx, c1.ID); err != nil {
		return res, err
	}
	if err := d.begin("Permintaan takedown sampai di platform", "The takedown request reaches the platform", func() (err error) {
		c1, err = d.takedownReceived(ctx, c1.ID)
		return err
	}); err != nil {
		return res, err
	}
	if err := d.begin("Majukan jam lokal melewati batas waktu", "Advance the local clock past the deadline", func() error {
		return d.advancePast(ctx, c1)
	}); err != nil {
		return res, err
	}
	if err := d.begin("Kasus ditutup: dihapus tepat waktu", "Case closed: removed_in_time", func() error {
		return d.closed(ctx, c1.ID, store.StatusRemovedInTime)
	}); err != nil {
		return res, err
	}
	res.RemovedInTime = c1.ID

	// The second ad: its platform never removes it, so warnings 1-3, the
	// fine recommendation and the access-blocking referral.
	var c2 demoCase
	if err := d.begin("Iklan kedua, di platform yang tidak pernah menghapus", "A second ad, on a platform that never removes it", func() (err error) {
		c2.ID, err = d.report(ctx, "https://twitter.com/lokerkamboja/status/"+n2+"?s=20", "demo-"+n2+"-1", "", 1)
		if err != nil {
			return err
		}
		if c2, err = d.waitCase(ctx, c2.ID, store.StatusAwaitingApprove, func(c demoCase) bool { return c.Status == store.StatusAwaitingApprove }); err != nil {
			return err
		}
		return d.neverRemove(ctx, c2)
	}); err != nil {
		return res, err
	}
	if err := d.approve(ctx, c2.ID); err != nil {
		return res, err
	}
	if err := d.begin("Permintaan takedown sampai di platform", "The takedown request reaches the platform", func() (err error) {
		c2, err = d.takedownReceived(ctx, c2.ID)
		return err
	}); err != nil {
		return res, err
	}
	rungs := map[int][2]string{
		1: {"peringatan 1", "warning 1"}, 2: {"peringatan 2", "warning 2"}, 3: {"peringatan 3", "warning 3"},
		4: {"rekomendasi denda administratif", "administrative fine recommendation"},
		5: {"rujukan pemutusan akses ke Komdigi", "access-blocking referral to Komdigi"},
	}
	for level := 1; level <= 5; level++ {
		if err := d.begin("Batas waktu lewat, iklan masih tayang: "+rungs[level][0],
			"Deadline passed, ad still live: "+rungs[level][1], func() (err error) {
				if err = d.advancePast(ctx, c2); err != nil {
					return err
				}
				c2, err = d.waitCase(ctx, c2.ID, fmt.Sprintf("escalation %d", level), func(c demoCase) bool {
					return c.Status == store.StatusEscalated && c.Escalation >= level
				})
				return err
			}); err != nil {
			return res, err
		}
	}
	if err := d.begin("Batas waktu rujukan pemutusan akses lewat: kasus ditutup", "The blocking referral's deadline passed: case closed non_compliant", func() error {
		if err := d.advancePast(ctx, c2); err != nil {
			return err
		}
		return d.closed(ctx, c2.ID, store.StatusNonCompliant)
	}); err != nil {
		return res, err
	}
	res.NonCompliant = c2.ID

	fmt.Fprintf(d.w, "\nSelesai / Done: %s removed_in_time, %s non_compliant.\n", c1.ID, c2.ID)
	fmt.Fprintf(d.w, "E-mail dan notifikasi / mails and notices: %s/   permintaan ke platform / platform requests: %s/_sim/requests\n", d.cfg.Outbox, d.cfg.Platforms)
	return res, nil
}

// begin prints a step's title (Bahasa Indonesia, then English) and runs
// it; its error names the step.
func (d *demo) begin(id, en string, f func() error) error {
	d.step++
	fmt.Fprintf(d.w, "\n[%d] %s / %s\n", d.step, id, en)
	if err := f(); err != nil {
		return fmt.Errorf("step %d (%s): %w", d.step, en, err)
	}
	return nil
}

func (d *demo) cmd(format string, a ...any) { fmt.Fprintf(d.w, "$ "+format+"\n", a...) }
func (d *demo) got(format string, a ...any) { fmt.Fprintf(d.w, "  → "+format+"\n", a...) }

// tangkal is how the printed commands run the CLI, with the flags that
// differ from the defaults.
func (d *demo) tangkal(args string, flags ...[3]string) string {
	s := "go run ./cmd/tangkal " + args
	for _, f := range flags {
		if f[1] != f[2] {
			s += " --" + f[0] + " " + shellQuote(f[1])
		}
	}
	return s
}

var shellSafeRE = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafeRE.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func demoPostID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(9e8))
	if err != nil {
		return fmt.Sprint(time.Now().UnixNano() % 9e8)
	}
	return fmt.Sprint(1e8 + n.Int64())
}

func (d *demo) tokens() error {
	key := localstack.KeyPath(d.cfg.Data)
	if _, err := os.Stat(key); err != nil {
		return fmt.Errorf("no token signing key at %s: start the stack with `make run` in another terminal, or pass --data with the folder it uses", key)
	}
	data := [3]string{"data", d.cfg.Data, d.defaults.Data}
	var err error
	d.cmd("REPORTER=$(%s)", d.tangkal("token --role reporter --sub ngo-sari", data))
	if d.reporter, err = issueToken(d.cfg.Data, "ngo-sari", []string{auth.Reporter}, time.Hour); err != nil {
		return err
	}
	d.cmd("AUDITOR=$(%s)", d.tangkal("token --role auditor", data))
	if d.auditor, err = issueToken(d.cfg.Data, "local-auditor", []string{auth.Auditor}, time.Hour); err != nil {
		return err
	}
	d.got("two tokens signed with %s (valid 1 h here; 12 h from `tangkal token`)", key)
	return nil
}

// do sends one request and returns the status and the body.
func (d *demo) do(ctx context.Context, method, target, token, contentType, body string, hdr map[string]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w (is the local stack running? start it with `make run` in another terminal)", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read the answer: %w", method, target, err)
	}
	if resp.StatusCode == http.StatusUnauthorized && token != "" {
		return resp.StatusCode, b, fmt.Errorf("%s %s: 401 %s: the API does not accept tokens signed with %s; is --data the folder the running stack uses?",
			method, target, oneLine(b), localstack.KeyPath(d.cfg.Data))
	}
	return resp.StatusCode, b, nil
}

// compactJSON encodes v on one line, with & < > as they are (the body is
// printed for people to paste).
func compactJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSpace(b.Bytes())
}

func oneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// report posts an ad as the reporter. With wantCase set it must join that
// case as a duplicate; otherwise it must open a new one.
func (d *demo) report(ctx context.Context, adURL, idemKey, wantCase string, nth int) (string, error) {
	body := compactJSON(struct {
		URL      string            `json:"url"`
		Text     string            `json:"text"`
		Category string            `json:"category"`
		Reporter map[string]string `json:"reporter"`
	}{adURL, demoAdText, "scam_compound", map[string]string{"organization": "NGO"}})
	hdr := map[string]string{}
	line := fmt.Sprintf(`curl -s -X POST %s/reports -H "Authorization: Bearer $REPORTER" -H 'Content-Type: application/json'`, d.cfg.API)
	if idemKey != "" {
		hdr["Idempotency-Key"] = idemKey
		line += " -H 'Idempotency-Key: " + idemKey + "'"
	}
	d.cmd("%s -d %s", line, shellQuote(string(body)))
	code, b, err := d.do(ctx, http.MethodPost, d.cfg.API+"/reports", d.reporter, "application/json", string(body), hdr)
	if err != nil {
		return "", err
	}
	d.got("%d %s", code, oneLine(b))
	var out struct {
		CaseID    string `json:"case_id"`
		Duplicate bool   `json:"duplicate"`
	}
	if code != http.StatusAccepted || json.Unmarshal(b, &out) != nil || out.CaseID == "" {
		return "", fmt.Errorf("POST /reports answered %d %s, want 202 with a case_id", code, oneLine(b))
	}
	switch {
	case wantCase == "" && out.Duplicate:
		return "", fmt.Errorf("report %d of %s joined the existing case %s; want a new case", nth, adURL, out.CaseID)
	case wantCase != "" && (out.CaseID != wantCase || !out.Duplicate):
		return "", fmt.Errorf("the second report of the ad went to case %s (duplicate %v), want it to join %s", out.CaseID, out.Duplicate, wantCase)
	}
	return out.CaseID, nil
}

// getCase reads a case as the auditor.
func (d *demo) getCase(ctx context.Context, id string) (demoCase, error) {
	code, b, err := d.do(ctx, http.MethodGet, d.cfg.API+"/cases/"+url.PathEscape(id), d.auditor, "", "", nil)
	if err != nil {
		return demoCase{}, err
	}
	var c demoCase
	if code != http.StatusOK || json.Unmarshal(b, &c) != nil {
		return demoCase{}, fmt.Errorf("GET /cases/%s answered %d %s", id, code, oneLine(b))
	}
	return c, nil
}

// waitCase polls the case until ok, for at most the configured wait.
func (d *demo) waitCase(ctx context.Context, id, want string, ok func(demoCase) bool) (demoCase, error) {
	d.cmd(`curl -s -H "Authorization: Bearer $AUDITOR" %s/cases/%s      # wait for %s`, d.cfg.API, id, want)
	var last demoCase
	err := d.poll(ctx, func(ctx context.Context) (bool, error) {
		c, err := d.getCase(ctx, id)
		if err != nil {
			return false, err
		}
		last = c
		return ok(c), nil
	})
	if errors.Is(err, errWaited) {
		return last, fmt.Errorf("case %s did not reach %s within %s: it is %s; history: %s", id, want, d.cfg.Wait, last, d.historyLine(ctx, id))
	}
	if err != nil {
		return last, err
	}
	d.got("%s", last)
	return last, nil
}

var errWaited = errors.New("waited too long")

// poll calls f, with a context that ends with the wait, until it returns
// true, an error, or the wait runs out (errWaited).
func (d *demo) poll(ctx context.Context, f func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Wait)
	defer cancel()
	for {
		done, err := f(ctx)
		if err != nil || done {
			if err != nil && ctx.Err() != nil {
				return errWaited
			}
			return err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errWaited
			}
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type demoEvents struct {
	Events []struct {
		Type string `json:"type"`
	} `json:"events"`
	Chain struct {
		Valid  bool   `json:"valid"`
		Length int    `json:"length"`
		Error  string `json:"error"`
	} `json:"chain"`
}

func (d *demo) events(ctx context.Context, id string) (demoEvents, error) {
	var evs demoEvents
	code, b, err := d.do(ctx, http.MethodGet, d.cfg.API+"/cases/"+url.PathEscape(id)+"/events", d.auditor, "", "", nil)
	if err != nil {
		return evs, err
	}
	if code != http.StatusOK || json.Unmarshal(b, &evs) != nil {
		return evs, fmt.Errorf("GET /cases/%s/events answered %d %s", id, code, oneLine(b))
	}
	return evs, nil
}

func (e demoEvents) types() string {
	var ts []string
	for _, ev := range e.Events {
		ts = append(ts, ev.Type)
	}
	return strings.Join(ts, " → ")
}

// historyLine is the case's event types, for error messages.
func (d *demo) historyLine(ctx context.Context, id string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	evs, err := d.events(ctx, id)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return evs.types()
}

// approve decides the case's approval as the bundled policy needs: KP2MI
// through its mailed signed link (the outbox's Mailpit API finds the
// e-mail; the page decides nothing; its form is posted with
// decision=approve), then Komdigi with a click on Approve in its Slack
// channel (the Slack stand-in sends tangkal the signed interaction, as
// Slack does).
func (d *demo) approve(ctx context.Context, caseID string) error {
	var link string
	if err := d.begin("Cari e-mail persetujuan KP2MI di outbox", "Find KP2MI's approval e-mail in the outbox", func() (err error) {
		link, err = d.approvalLink(ctx, caseID, "approver@kp2mi.local")
		return err
	}); err != nil {
		return err
	}
	var form url.Values
	var action string
	if err := d.begin("Buka tautan bertanda tangan (tidak memutuskan apa pun)", "Open the signed link (it decides nothing)", func() (err error) {
		action, form, err = d.openLink(ctx, caseID, link)
		return err
	}); err != nil {
		return err
	}
	if err := d.begin("KP2MI menyetujui lewat formulir halaman itu", "KP2MI approves through that page's form", func() error {
		form.Set("decision", "approve")
		form.Set("reason", "demo: indikator terkonfirmasi / indicators confirmed")
		d.cmd("curl -s -X POST %s -d %s", action, shellQuote(form.Encode()))
		code, b, err := d.do(ctx, http.MethodPost, action, "", "application/x-www-form-urlencoded", form.Encode(), nil)
		if err != nil {
			return err
		}
		d.got("%d %s", code, pageTitle(b))
		if code != http.StatusOK {
			return fmt.Errorf("POST %s answered %d %s, want 200", action, code, oneLine(b))
		}
		return nil
	}); err != nil {
		return err
	}
	return d.begin("Komdigi menyetujui dengan tombol di Slack", "Komdigi approves with the button in Slack", func() error {
		return d.slackApprove(ctx, caseID, "U0KOMDIGI1")
	})
}

// slackApprove clicks Approve on the case's message in the Slack
// stand-in, as the Slack user.
func (d *demo) slackApprove(ctx context.Context, caseID, user string) error {
	d.cmd("curl -s %s/slack/api/state      # the Slack stand-in (open %s/slack in a browser)", d.cfg.Outbox, d.cfg.Outbox)
	var channel, ts string
	err := d.poll(ctx, func(ctx context.Context) (bool, error) {
		code, b, err := d.do(ctx, http.MethodGet, d.cfg.Outbox+"/slack/api/state", "", "", "", nil)
		if err != nil || code != http.StatusOK {
			return false, err
		}
		var st struct {
			Messages []outbox.StandInMessage `json:"messages"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return false, fmt.Errorf("the Slack stand-in's state: %w", err)
		}
		for _, m := range st.Messages {
			if m.ThreadTS == "" && strings.Contains(string(m.Blocks), caseID) {
				channel, ts = m.Channel, m.TS
				return true, nil
			}
		}
		return false, nil
	})
	if errors.Is(err, errWaited) {
		return fmt.Errorf("no Slack message for case %s within %s; history: %s", caseID, d.cfg.Wait, d.historyLine(ctx, caseID))
	}
	if err != nil {
		return err
	}
	form := url.Values{"channel": {channel}, "ts": {ts}, "action_id": {"tangkal_approve"}, "user": {user}}
	d.cmd("curl -s -X POST %s/slack/click -H 'Accept: application/json' -d %s", d.cfg.Outbox, shellQuote(form.Encode()))
	code, b, err := d.do(ctx, http.MethodPost, d.cfg.Outbox+"/slack/click", "", "application/x-www-form-urlencoded", form.Encode(), map[string]string{"Accept": "application/json"})
	if err != nil {
		return err
	}
	var ans struct {
		Status int `json:"status"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &ans) != nil || ans.Status != http.StatusOK {
		return fmt.Errorf("the Slack click answered %d %s, want tangkal's 200", code, oneLine(b))
	}
	d.got("tangkal acknowledged the signed interaction (200); it is processed after the acknowledgement")
	return nil
}

var (
	approvalURLRE = regexp.MustCompile(`https?://[^\s"<>]+/approvals/ap_[0-9A-Za-z_-]+\?[^\s"<>]+`)
	formRE        = regexp.MustCompile(`(?is)<form[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>`)
	hiddenRE      = regexp.MustCompile(`(?i)<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	titleRE       = regexp.MustCompile(`(?is)<h1>(.*?)</h1>`)
)

func pageTitle(b []byte) string {
	if m := titleRE.FindSubmatch(b); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	return oneLine(b)
}

// approvalLink finds the approval e-mail to who for the case through the
// outbox's Mailpit API (GET /api/v1/messages, then /api/v1/message/{ID})
// and returns its signed link.
func (d *demo) approvalLink(ctx context.Context, caseID, who string) (string, error) {
	d.cmd("curl -s %s/api/v1/messages      # the outbox (Mailpit's API), newest first", d.cfg.Outbox)
	var id, subject, link string
	err := d.poll(ctx, func(ctx context.Context) (bool, error) {
		code, b, err := d.do(ctx, http.MethodGet, d.cfg.Outbox+"/api/v1/messages?limit=200", "", "", "", nil)
		if err != nil {
			return false, err
		}
		if code != http.StatusOK {
			return false, fmt.Errorf("GET %s/api/v1/messages answered %d %s", d.cfg.Outbox, code, oneLine(b))
		}
		var list struct {
			Messages []outbox.MailpitSummary `json:"messages"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return false, fmt.Errorf("the outbox's message list: %w", err)
		}
		for _, m := range list.Messages {
			if !strings.Contains(m.Subject, caseID) || len(m.To) == 0 || m.To[0].Address != who {
				continue
			}
			code, b, err := d.do(ctx, http.MethodGet, d.cfg.Outbox+"/api/v1/message/"+m.ID, "", "", "", nil)
			if err != nil {
				return false, err
			}
			var msg outbox.MailpitMessage
			if code != http.StatusOK || json.Unmarshal(b, &msg) != nil {
				continue
			}
			if l := approvalURLRE.FindString(msg.Text); l != "" {
				id, subject, link = m.ID, m.Subject, l
				return true, nil
			}
		}
		return false, nil
	})
	if errors.Is(err, errWaited) {
		return "", fmt.Errorf("no approval e-mail to %s for case %s in the outbox at %s within %s; history: %s", who, caseID, d.cfg.Outbox, d.cfg.Wait, d.historyLine(ctx, caseID))
	}
	if err != nil {
		return "", err
	}
	d.got("%s: %q", id, subject)
	d.cmd("curl -s %s/api/v1/message/%s      # the message, its text decoded", d.cfg.Outbox, id)
	d.got("the signed link: %s", link)
	return link, nil
}

func mailSubject(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// openLink GETs the signed link's page, checks that it decided nothing,
// and returns its form's target and hidden fields.
func (d *demo) openLink(ctx context.Context, caseID, link string) (string, url.Values, error) {
	d.cmd("curl -s %s", shellQuote(link))
	code, b, err := d.do(ctx, http.MethodGet, link, "", "", "", nil)
	if err != nil {
		return "", nil, err
	}
	m := formRE.FindSubmatch(b)
	if code != http.StatusOK || m == nil {
		return "", nil, fmt.Errorf("GET %s answered %d %s, want 200 with a confirm form", link, code, oneLine(b))
	}
	base, err := url.Parse(link)
	if err != nil {
		return "", nil, fmt.Errorf("approval link %q: %w", link, err)
	}
	ref, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return "", nil, fmt.Errorf("the form's action %q: %w", m[1], err)
	}
	action := base.ResolveReference(ref).String()
	form := url.Values{}
	var names []string
	for _, h := range hiddenRE.FindAllSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
		names = append(names, string(h[1]))
	}
	if !bytes.Contains(m[2], []byte(`name="decision" value="approve"`)) {
		return "", nil, fmt.Errorf("the page at %s has no approve button", link)
	}
	d.got("200 %q: the case and a confirm form posting to %s (hidden %s; reason; decision approve|reject)", pageTitle(b), action, strings.Join(names, ", "))
	c, err := d.getCase(ctx, caseID)
	if err != nil {
		return "", nil, err
	}
	if c.Status != store.StatusAwaitingApprove {
		return "", nil, fmt.Errorf("opening the link changed case %s to %s; a GET must decide nothing", caseID, c.Status)
	}
	d.got("the case is still %s", c.Status)
	return action, form, nil
}

// takedownReceived waits until the simulated platform got the case's
// takedown request and the case says so.
func (d *demo) takedownReceived(ctx context.Context, caseID string) (demoCase, error) {
	d.cmd("curl -s '%s/_sim/requests?format=json'", d.cfg.Platforms)
	type received struct {
		At         time.Time `json:"at"`
		Platform   string    `json:"platform"`
		CaseID     string    `json:"case_id"`
		Kind       string    `json:"kind"`
		URL        string    `json:"url"`
		StatusCode int       `json:"status_code"`
		Reference  string    `json:"reference"`
	}
	var got received
	err := d.poll(ctx, func(ctx context.Context) (bool, error) {
		code, b, err := d.do(ctx, http.MethodGet, d.cfg.Platforms+"/_sim/requests?format=json", "", "", "", nil)
		if err != nil {
			return false, err
		}
		var out struct {
			Requests []received `json:"requests"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
			return false, fmt.Errorf("GET %s/_sim/requests answered %d %s", d.cfg.Platforms, code, oneLine(b))
		}
		for _, r := range out.Requests {
			if r.CaseID == caseID && r.Kind == string(platform.KindTakedown) && r.StatusCode/100 == 2 {
				got = r
				return true, nil
			}
		}
		return false, nil
	})
	if errors.Is(err, errWaited) {
		return demoCase{}, fmt.Errorf("the simulated platforms got no takedown request for case %s within %s; history: %s", caseID, d.cfg.Wait, d.historyLine(ctx, caseID))
	}
	if err != nil {
		return demoCase{}, err
	}
	d.got("%s got the %s request for %s (%s) at %s: %d, reference %s", got.Platform, got.Kind, got.CaseID, got.URL, wib(got.At), got.StatusCode, got.Reference)
	return d.waitCase(ctx, caseID, store.StatusTakedownSent, func(c demoCase) bool { return c.Status == store.StatusTakedownSent })
}

// advancePast moves the local clock a minute past the case's deadline, as
// `tangkal clock advance` does.
func (d *demo) advancePast(ctx context.Context, c demoCase) error {
	deadline, err := time.Parse(time.RFC3339, c.Deadline)
	if err != nil {
		return fmt.Errorf("case %s has no deadline to move past (%q)", c.ID, c.Deadline)
	}
	now, err := localClock(ctx, d.cfg.SFN, "")
	if err != nil {
		return fmt.Errorf("read the local clock: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, now.Now)
	if err != nil {
		return fmt.Errorf("the local clock answered %q: %w", now.Now, err)
	}
	by := deadline.Sub(t).Truncate(time.Minute) + 2*time.Minute
	if by < time.Minute {
		by = time.Minute
	}
	adv := strings.TrimSuffix(by.String(), "0s")
	d.cmd("%s      # the deadline is %s", d.tangkal("clock advance "+adv, [3]string{"endpoint", d.cfg.SFN, d.defaults.SFN}), wib(deadline))
	after, err := localClock(ctx, d.cfg.SFN, adv)
	if err != nil {
		return fmt.Errorf("advance the local clock: %w", err)
	}
	if t, err := time.Parse(time.RFC3339Nano, after.Now); err == nil {
		d.got("%s (offset %s)", wib(t), after.Offset)
	} else {
		d.got("%s (offset %s)", after.Now, after.Offset)
	}
	return nil
}

// neverRemove makes the simulated platform ignore takedown requests for
// this ad (its URL only: the platform's other ads keep their behaviour).
func (d *demo) neverRemove(ctx context.Context, c demoCase) error {
	body := compactJSON(struct {
		URL  string `json:"url"`
		Mode string `json:"mode"`
	}{c.CanonicalURL, "never"})
	d.cmd("curl -s -X POST %s/_sim/behavior -d %s      # %s will ignore requests for this ad", d.cfg.Platforms, shellQuote(string(body)), c.Platform)
	code, b, err := d.do(ctx, http.MethodPost, d.cfg.Platforms+"/_sim/behavior", "", "application/json", string(body), nil)
	if err != nil {
		return err
	}
	d.got("%d %s", code, oneLine(b))
	if code != http.StatusOK {
		return fmt.Errorf("POST %s/_sim/behavior answered %d %s", d.cfg.Platforms, code, oneLine(b))
	}
	return nil
}

// closed waits for the case's final status and shows its history and
// whether the history's hash chain verifies.
func (d *demo) closed(ctx context.Context, id, status string) error {
	if _, err := d.waitCase(ctx, id, status, func(c demoCase) bool { return store.IsClosed(c.Status) }); err != nil {
		return err
	}
	c, err := d.getCase(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != status {
		return fmt.Errorf("case %s closed as %s, want %s; history: %s", id, c.Status, status, d.historyLine(ctx, id))
	}
	d.cmd(`curl -s -H "Authorization: Bearer $AUDITOR" %s/cases/%s/events`, d.cfg.API, id)
	evs, err := d.events(ctx, id)
	if err != nil {
		return err
	}
	d.got("%s", evs.types())
	if !evs.Chain.Valid {
		return fmt.Errorf("case %s: the history's hash chain does not verify: %s", id, evs.Chain.Error)
	}
	d.got("chain valid, %d events", evs.Chain.Length)
	return nil
}
