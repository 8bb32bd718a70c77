package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/export"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/ident"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/store"
)

// ---------------------------------------------------------------- reporter

type reportView struct {
	Values     map[string]string
	Errors     map[string]string
	Platforms  []string
	Categories []string
}

var (
	reportPlatforms  = []string{"facebook", "instagram", "tiktok", "x", "telegram", "youtube", "whatsapp", "website"}
	reportCategories = []string{"scam_compound", "visa_abuse", "illegal_fees"}
	// reportFields are the form's fields, by the API field they fill.
	reportFields = map[string]string{"url": "url", "platform": "platform", "text": "text", "category": "category",
		"notes": "notes", "reporter.organization": "organization"}
)

func (c *Console) reportForm(r *request, values, errs map[string]string) (api.Response, error) {
	if _, err := c.require(r, auth.Reporter, auth.Admin); err != nil {
		return api.Response{}, err
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	return c.render(r, status, "report", "report.title", reportView{Values: values, Errors: errs,
		Platforms: reportPlatforms, Categories: reportCategories})
}

// reportSubmit sends the form through report.Parse and report.Intake, the
// same validation and answers as POST /reports; an error is shown next to
// the field it names.
func (c *Console) reportSubmit(r *request) (api.Response, error) {
	s, err := c.require(r, auth.Reporter, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	f, err := c.form(r)
	if err != nil {
		return api.Response{}, err
	}
	values := map[string]string{}
	for _, name := range reportFields {
		values[name] = f.Get(name)
	}
	body := map[string]any{"url": values["url"]}
	for _, k := range []string{"platform", "text", "category", "notes"} {
		if v := strings.TrimSpace(values[k]); v != "" {
			body[k] = v
		}
	}
	if v := strings.TrimSpace(values["organization"]); v != "" {
		body["reporter"] = map[string]string{"organization": v}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return api.Response{}, err
	}
	sub, canon, err := report.Parse(b, c.now())
	if err != nil {
		var e *api.Error
		if errors.As(err, &e) && e.Status < 500 {
			field := reportFields[e.Field]
			if field == "" {
				field = "url"
			}
			return c.reportForm(r, values, map[string]string{field: t(r.lang, "report.bad") + " " + e.Message})
		}
		return api.Response{}, err
	}
	rc, err := c.Intake.Submit(r.ctx, s.Principal(), sub, canon, b, "")
	if err != nil {
		return api.Response{}, err
	}
	if err := c.reports().Add(r.ctx, *s, MyReport{CaseID: rc.CaseID, ReportID: rc.ReportID, URL: sub.URL,
		ReceivedAt: store.FormatTime(c.now()), Duplicate: rc.Duplicate}); err != nil {
		return api.Response{}, err
	}
	q := url.Values{"sent": {rc.CaseID}}
	if rc.Duplicate {
		q.Set("duplicate", "1")
	}
	return redirect("/console/reports?" + q.Encode()), nil
}

type myReportRow struct {
	MyReport
	Status, Outcome string
}

type myReportsView struct {
	Rows      []myReportRow
	Sent      string
	Duplicate bool
}

func (c *Console) myReports(r *request) (api.Response, error) {
	s, err := c.require(r, auth.Reporter, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	rs, err := c.reports().List(r.ctx, *s)
	if err != nil {
		return api.Response{}, err
	}
	v := myReportsView{Duplicate: r.QueryStringParameters["duplicate"] == "1"}
	if id := r.QueryStringParameters["sent"]; ident.Valid("c_", id) {
		v.Sent = id
	}
	for _, m := range rs {
		row := myReportRow{MyReport: m}
		if cs, err := c.Table.GetCase(r.ctx, m.CaseID); err == nil {
			row.Status, row.Outcome = cs.Status, cs.Outcome
		}
		v.Rows = append(v.Rows, row)
	}
	return c.render(r, 200, "myreports", "myreports.title", v)
}

// ---------------------------------------------------------------- approver

type inboxRow struct {
	InboxItem
	Left   string
	Urgent bool
	Needs  string
}

func (c *Console) inboxPage(r *request) (api.Response, error) {
	s, err := c.require(r, auth.Approver, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	items, err := c.inbox().Pending(r.ctx, *s)
	if err != nil {
		return api.Response{}, err
	}
	now := c.now()
	rows := make([]inboxRow, 0, len(items))
	for _, it := range items {
		left := it.ExpiresAt.Sub(now)
		row := inboxRow{InboxItem: it, Left: duration(r.lang, left), Urgent: it.Urgency == "urgent" || left < time.Hour}
		if n := it.Needs; n.Outcome == agency.Pending {
			var missing []string
			for _, m := range n.Missing {
				missing = append(missing, c.agencyName(m))
			}
			row.Needs = fmt.Sprintf(pick(r.lang, "%d dari %d persetujuan; menunggu %s", "%d of %d approvals; waiting for %s"),
				n.Approvals, n.Needed, strings.Join(missing, ", "))
		}
		rows = append(rows, row)
	}
	return c.render(r, 200, "inbox", "inbox.title", rows)
}

type caseView struct {
	Case       store.Case
	Verified   *history.VerifiedData
	Indicators []indicatorLine
	Panel      *approvalPanel
	Auditor    bool
	Decided    string
	Status     string
	// Error is a refused decision, ReasonError one about the reason (shown
	// next to the field), Reason what was typed.
	Error, ReasonError, Reason string
}

// indicatorLine is an indicator in the page's language, with the text it
// matched.
type indicatorLine struct{ ID, Name, Explanation, Match string }

// approvalPanel is where the agencies' approval stands: each required
// agency's decision (or that it is still awaited), the hold, what the
// policy still needs, and what the signed-in member may do.
type approvalPanel struct {
	ID        string
	Policy    string
	Status    string
	Tier      int
	Deadline  time.Time
	Left      string
	Urgent    bool
	Agencies  []agencyLine
	Notified  []string
	Hold      *holdLine
	Needs     string
	Approvals int
	Needed    int
	MyAgency  string
	May       map[string]bool
}

type agencyLine struct {
	Agency, Decision, By, Channel, Reason, At string
	Mine                                      bool
}

type holdLine struct {
	Agency, By, Reason, At, Until, Released string
	Active                                  bool
}

// caseData is what the case page shows; the approval from
// approval.Store, so the buttons offered are the ones Act accepts
// (Approval.MayDo).
func (c *Console) caseData(r *request, id string) (caseView, error) {
	s := r.s
	var cs store.Case
	if err := c.call(r, "GET /cases/{id}", map[string]string{"id": id}, nil, &cs); err != nil {
		return caseView{}, err
	}
	v := caseView{Case: cs, Auditor: s.Has(auth.Auditor, auth.Admin)}
	evs, err := (&history.Log{Table: c.Table}).List(r.ctx, cs.ID, 0, 0)
	if err != nil {
		return caseView{}, err
	}
	for _, e := range evs {
		if e.Type == history.Verified {
			var d history.VerifiedData
			if e.Decode(&d) == nil {
				v.Verified = &d
			}
		}
	}
	if v.Verified != nil {
		for _, in := range v.Verified.Indicators {
			l := indicatorLine{ID: in.ID, Name: in.ID, Explanation: in.Explanation, Match: in.Match}
			if n, ok := c.Rules.Name(in.ID); ok {
				l.Name = pick(r.lang, n.Indonesian, n.English)
			}
			if id, en := c.Rules.Explanation(in.ID); id != "" || en != "" {
				l.Explanation = en
				if r.lang == LangID && id != "" {
					l.Explanation = id
				}
			}
			v.Indicators = append(v.Indicators, l)
		}
	}
	if cs.ApprovalID == "" {
		return v, nil
	}
	a, err := c.Approvals.Get(r.ctx, cs.ApprovalID)
	if errors.Is(err, approval.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return caseView{}, err
	}
	now := c.now()
	me := strings.ToLower(strings.TrimSpace(s.Email))
	p := &approvalPanel{ID: a.ID, Policy: a.Policy.Name, Status: a.Status, Tier: a.Tier, Deadline: a.ExpiresAt,
		Left: duration(r.lang, a.ExpiresAt.Sub(now)), Urgent: a.ExpiresAt.Sub(now) < time.Hour, May: map[string]bool{}}
	if ag, ok := a.Members[me]; ok {
		p.MyAgency = c.agencyName(ag)
	}
	if s.Has(auth.Approver) {
		for _, d := range a.MayDo(me, now) {
			p.May[d] = true
		}
	}
	for _, ag := range a.Policy.Require {
		l := agencyLine{Agency: c.agencyName(ag), Mine: a.Members[me] == ag}
		if d, ok := a.Decisions[ag]; ok {
			l.Decision, l.By, l.Channel, l.Reason, l.At = d.Decision, d.By, d.Channel, d.Reason, store.FormatTime(d.At)
		}
		p.Agencies = append(p.Agencies, l)
	}
	for _, ag := range a.Policy.Notify {
		p.Notified = append(p.Notified, c.agencyName(ag))
	}
	if h := a.Hold; h != nil {
		p.Hold = &holdLine{Agency: c.agencyName(h.Agency), By: h.By, Reason: h.Reason, At: store.FormatTime(h.At),
			Until: store.FormatTime(h.Until), Active: a.Held(now)}
		if h.Released != nil {
			p.Hold.Released = store.FormatTime(*h.Released)
		}
	}
	ev := a.Evaluation()
	p.Approvals, p.Needed = ev.Approvals, ev.Needed
	var missing []string
	for _, m := range ev.Missing {
		missing = append(missing, c.agencyName(m))
	}
	switch {
	case a.Held(now):
		p.Needs = fmt.Sprintf(pick(r.lang, "Ditahan oleh %s sampai %s.", "Held by %s until %s."), c.agencyName(a.Hold.Agency), formatWhen(r.lang, a.Hold.Until))
	case ev.Outcome == agency.Pending && a.Status == approval.StatusPending:
		p.Needs = fmt.Sprintf(pick(r.lang, "Menunggu %d persetujuan lagi dari %s.", "Waiting for %d more approval(s) from %s."),
			ev.Needed-ev.Approvals, strings.Join(missing, ", "))
	case a.Status == approval.StatusExpired:
		p.Needs = pick(r.lang, "Waktu untuk memutuskan sudah habis.", "The time to decide has run out.")
	default:
		p.Needs = half(r.lang, ev.Why)
	}
	v.Panel = p
	return v, nil
}

// casePage: the ad, its evidence copy, indicators with their quoted
// matches, the registry result, related cases and reposts; the agencies'
// decisions and what the policy still needs; the decision form for a
// member who may act now.
func (c *Console) casePage(r *request, id string) (api.Response, error) {
	if _, err := c.require(r, auth.Approver, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	v, err := c.caseData(r, id)
	if err != nil {
		return api.Response{}, err
	}
	q := r.QueryStringParameters
	if d := q["decided"]; d == approval.Approve || d == approval.Reject || d == approval.Hold || d == approval.Release {
		v.Decided, v.Status = d, q["status"]
	}
	return c.render(r, 200, "case", "case.title", v)
}

// decide takes an approve, reject, hold or release through the code path
// of POST /approvals/{id}/decision (approval.Inbox.Decide, in-process, as
// the signed-in member): Store.Act's rules, then the workflow is told.
// A refusal is shown on the case page, a missing reason next to its field.
func (c *Console) decide(r *request, caseID string) (api.Response, error) {
	if _, err := c.require(r, auth.Approver, auth.Admin); err != nil {
		return api.Response{}, err
	}
	f, err := c.form(r)
	if err != nil {
		return api.Response{}, err
	}
	id, decision, reason := f.Get("approval"), strings.ToLower(strings.TrimSpace(f.Get("decision"))), f.Get("reason")
	a, err := c.Approvals.Get(r.ctx, id)
	if errors.Is(err, approval.ErrNotFound) || (err == nil && a.CaseID != caseID) || !strings.HasPrefix(id, approval.IDPrefix) {
		return api.Response{}, api.NotFound("approval request")
	}
	if err != nil {
		return api.Response{}, err
	}
	body, err := json.Marshal(map[string]string{"decision": decision, "reason": reason})
	if err != nil {
		return api.Response{}, err
	}
	inbox := approval.Inbox{Store: c.Approvals, Decided: c.Decided}
	resp, err := c.invoke(r, inbox.Decide, "POST /approvals/{id}/decision", map[string]string{"id": id}, nil, string(body))
	if err != nil {
		var e *api.Error
		if !errors.As(err, &e) || e.Status >= 500 {
			if e != nil && e.Code == "workflow_unavailable" {
				e.Message = pick(r.lang, "Keputusan Anda dicatat, tetapi alur kerja belum dapat diberi tahu.", "Your decision was recorded, but the workflow could not be notified yet.")
			}
			return api.Response{}, err
		}
		v, verr := c.caseData(r, caseID)
		if verr != nil {
			return api.Response{}, verr
		}
		v.Reason = reason
		msg := c.refusal(r.lang, e, reason)
		if e.Field == "reason" {
			v.ReasonError = msg
		} else {
			v.Error = msg
		}
		return c.render(r, e.Status, "case", "case.title", v)
	}
	var out struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &out)
	return redirect("/console/cases/" + url.PathEscape(caseID) + "?" + url.Values{"decided": {decision}, "status": {out.Status}}.Encode()), nil
}

// refusal says why the API refused a decision, in the page's language.
func (c *Console) refusal(lang string, e *api.Error, reason string) string {
	switch e.Code {
	case "not_approver", "forbidden", "no_email":
		return t(lang, "decide.notapprover")
	case "already_decided":
		return t(lang, "decide.already")
	case "expired":
		return t(lang, "decide.expired")
	case "no_hold":
		return t(lang, "decide.nohold")
	}
	if e.Field == "reason" {
		if strings.TrimSpace(reason) == "" {
			return t(lang, "decide.reason")
		}
		return fmt.Sprintf(t(lang, "decide.reason.long"), approval.MaxReason)
	}
	if e.Field == "decision" {
		return t(lang, "decide.what")
	}
	return half(lang, e.Message)
}

// agencyName is an agency's short name (KP2MI, Komdigi…).
func (c *Console) agencyName(id string) string {
	for _, a := range c.Agencies.Agencies {
		if a.ID == id {
			return a.Short()
		}
	}
	return agency.Agency{ID: id}.Short()
}

// half picks one language of a bilingual "Indonesia / English" message.
func half(lang, s string) string {
	id, en, ok := strings.Cut(s, " / ")
	if !ok {
		return s
	}
	return pick(lang, id, en)
}

// ---------------------------------------------------------------- auditor

type eventsAnswer struct {
	CaseID string          `json:"case_id"`
	Events []history.Event `json:"events"`
	Chain  struct {
		Valid  bool   `json:"valid"`
		Head   string `json:"head"`
		Length int    `json:"length"`
		Error  string `json:"error"`
	} `json:"chain"`
}

type historyView struct {
	Case     store.Case
	Events   []eventRow
	Valid    bool
	Length   int
	Head     string
	Error    string
	Anchor   *anchor.Report
	NoAnchor bool
	Reports  []audit.PseudonymousReport
}

type eventRow struct {
	history.Event
	Agency string
	Pretty string
}

// historyPage: every event with who and which agency; the chain's badge
// from GET /cases/{id}/verify (the table's chain checked against the
// external anchor); the reports in pseudonymous form (GET
// /cases/{id}/reports); the evidence bundle to download.
func (c *Console) historyPage(r *request, id string) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	var cs store.Case
	if err := c.call(r, "GET /cases/{id}", map[string]string{"id": id}, nil, &cs); err != nil {
		return api.Response{}, err
	}
	var ea eventsAnswer
	if err := c.call(r, "GET /cases/{id}/events", map[string]string{"id": id}, nil, &ea); err != nil {
		return api.Response{}, err
	}
	v := historyView{Case: cs, Valid: ea.Chain.Valid, Length: ea.Chain.Length, Head: ea.Chain.Head, Error: ea.Chain.Error}
	var rep anchor.Report
	switch err := c.call(r, "GET /cases/{id}/verify", map[string]string{"id": id}, nil, &rep); {
	case err == nil:
		v.Anchor = &rep
		v.Valid = v.Valid && rep.Valid
	case isCode(err, "no_anchor"):
		v.NoAnchor = true
	default:
		return api.Response{}, err
	}
	for _, e := range ea.Events {
		row := eventRow{Event: e}
		var pretty any
		if json.Unmarshal(e.Data, &pretty) == nil && pretty != nil {
			if m, ok := pretty.(map[string]any); ok {
				if ag, ok := m["agency"].(string); ok && ag != "" {
					row.Agency = c.agencyName(ag)
				}
			}
			b, _ := json.MarshalIndent(pretty, "", "  ")
			row.Pretty = string(b)
		}
		v.Events = append(v.Events, row)
	}
	var reps struct {
		Reports []audit.PseudonymousReport `json:"reports"`
	}
	if err := c.call(r, "GET /cases/{id}/reports", map[string]string{"id": id}, nil, &reps); err != nil {
		return api.Response{}, err
	}
	v.Reports = reps.Reports
	return c.render(r, 200, "history", "history.title", v)
}

func isCode(err error, code string) bool {
	var e *api.Error
	return errors.As(err, &e) && e.Code == code
}

// download answers a file the JSON API made (same handler, same role
// check), as an attachment of the console.
func (c *Console) download(r *request, route string, path, query map[string]string, name string) (api.Response, error) {
	resp, err := c.invoke(r, c.Reader.Route, route, path, query, "")
	if err != nil {
		return api.Response{}, err
	}
	ct := resp.Headers["Content-Type"]
	if ct == "" {
		ct = "application/json; charset=utf-8"
	}
	out := page200(200, ct, resp.Body)
	out.Headers["Content-Disposition"] = resp.Headers["Content-Disposition"]
	if out.Headers["Content-Disposition"] == "" {
		out.Headers["Content-Disposition"] = `attachment; filename="` + name + `"`
	}
	return out, nil
}

// bundle is GET /cases/{id}/bundle's signed evidence bundle.
func (c *Console) bundle(r *request, id string) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	return c.download(r, "GET /cases/{id}/bundle", map[string]string{"id": id}, nil, "bundle-"+id+".json")
}

// exportFiles are the downloads of the exports page: file → the API's
// route and format.
var exportFiles = map[string]struct{ Route, Format string }{
	"transparansi.csv":  {"GET /exports/transparency", "csv"},
	"transparansi.json": {"GET /exports/transparency", "json"},
	"kesadaran.json":    {"GET /exports/awareness", ""},
	"watchlist.json":    {"GET /exports/watchlist", ""},
}

type exportsView struct {
	From, To string
	Query    string
	Error    string
}

// exportsPage lists the exports to download, for a period of WIB months.
func (c *Console) exportsPage(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	q := r.QueryStringParameters
	v := exportsView{From: q["from"], To: q["to"]}
	period := url.Values{}
	for k, m := range map[string]string{"from": v.From, "to": v.To} {
		if m == "" {
			continue
		}
		if _, err := time.Parse("2006-01", m); err != nil {
			v.Error = pick(r.lang, "Bulan tidak dapat dibaca (tulis 2026-11): ", "The month cannot be read (write 2026-11): ") + m
			return c.render(r, 400, "exports", "exports.title", v)
		}
		period.Set(k, m)
	}
	if len(period) > 0 {
		v.Query = "?" + period.Encode()
	}
	return c.render(r, 200, "exports", "exports.title", v)
}

func (c *Console) exportFile(r *request, name string) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	f, ok := exportFiles[name]
	if !ok {
		return api.Response{}, api.NotFound("file")
	}
	q := map[string]string{}
	if f.Route != "GET /exports/watchlist" {
		for _, k := range []string{"from", "to"} {
			if v := r.QueryStringParameters[k]; v != "" {
				q[k] = v
			}
		}
	}
	if f.Format != "" {
		q["format"] = f.Format
	}
	return c.download(r, f.Route, nil, q, name)
}

type searchView struct {
	Q          map[string]string
	Statuses   []string
	Platforms  []string
	Urgencies  []string
	Categories []string
	Agencies   []agency.Agency
	Cases      []audit.ListedCase
	Next       string
	Searched   bool
	Error      string
}

var allStatuses = []string{store.StatusReceived, store.StatusVerifying, store.StatusAwaitingApprove, store.StatusApproved,
	store.StatusTakedownSent, store.StatusManualQueue, store.StatusEscalated, store.StatusRemovedInTime, store.StatusRemovedLate,
	store.StatusNonCompliant, store.StatusRejected, store.StatusApprovalExpired, store.StatusNotActionable,
	store.StatusLegitimate, store.StatusNotJobAd, store.StatusDuplicate}

// searchFilters are the audit API's selections (one of them, or status
// with platform; none lists by time alone), then its time range.
var searchFilters = []string{"status", "platform", "urgency", "category", "agency", "approver", "from", "to"}

// searchPage: GET /cases with the audit API's filters (status, platform,
// urgency, category, agency, approver, from, to; dates are days in WIB)
// and its signed cursor.
func (c *Console) searchPage(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	in := r.QueryStringParameters
	v := searchView{Q: map[string]string{}, Statuses: allStatuses, Platforms: c.Reader.Platforms,
		Urgencies: []string{"urgent", "normal"}, Categories: reportCategories, Agencies: c.Agencies.Agencies}
	searched := false
	for _, k := range searchFilters {
		v.Q[k] = in[k]
		searched = searched || in[k] != ""
	}
	if !searched && in["search"] == "" {
		return c.render(r, 200, "cases", "cases.title", v)
	}
	q := map[string]string{"limit": "50", "cursor": in["cursor"]}
	for _, k := range searchFilters[:6] {
		q[k] = in[k]
	}
	for k, add := range map[string]int{"from": 0, "to": 1} {
		if s := in[k]; s != "" {
			d, err := time.ParseInLocation("2006-01-02", s, wib)
			if err != nil {
				v.Error = pick(r.lang, "Tanggal tidak dapat dibaca: ", "The date cannot be read: ") + s
				return c.render(r, 400, "cases", "cases.title", v)
			}
			q[k] = d.AddDate(0, 0, add).UTC().Format(time.RFC3339)
		}
	}
	for k, s := range q {
		if s == "" {
			delete(q, k)
		}
	}
	var ans struct {
		Cases []audit.ListedCase `json:"cases"`
		Next  string             `json:"next_cursor"`
	}
	if err := c.call(r, "GET /cases", nil, q, &ans); err != nil {
		var e *api.Error
		if errors.As(err, &e) && e.Status == 400 {
			v.Error = pick(r.lang, "Pencarian tidak dapat dijalankan", "The search cannot run") + " (" + e.Field + "): " + half(r.lang, e.Message)
			return c.render(r, 400, "cases", "cases.title", v)
		}
		return api.Response{}, err
	}
	v.Searched, v.Cases = true, ans.Cases
	if ans.Next != "" {
		nq := url.Values{"cursor": {ans.Next}}
		for k, s := range v.Q {
			if s != "" {
				nq.Set(k, s)
			}
		}
		v.Next = "/console/cases?" + nq.Encode()
	}
	return c.render(r, 200, "cases", "cases.title", v)
}

type figuresView struct {
	Stats   audit.ComplianceResponse
	Chart   chart
	Removal chart
	Esc     chart
	Levels  chart
	Period  string
	// Pipeline is approval time per agency, shown once an agency decided.
	Pipeline *chart
}

// figuresPage: GET /stats/compliance as charts (outcomes, time to
// removal, escalations per platform), and the warnings by level from the
// transparency export's counters.
func (c *Console) figuresPage(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	var st audit.ComplianceResponse
	if err := c.call(r, "GET /stats/compliance", nil, nil, &st); err != nil {
		return api.Response{}, err
	}
	sort.Slice(st.Platforms, func(i, j int) bool { return st.Platforms[i].Platform < st.Platforms[j].Platform })
	v := figuresView{Stats: st, Chart: outcomeChart(r.lang, st.Platforms), Removal: removalChart(r.lang, st.Platforms),
		Esc: escalationChart(r.lang, st.Platforms)}
	var tr struct {
		From string                   `json:"from"`
		To   string                   `json:"to"`
		Rows []export.TransparencyRow `json:"rows"`
	}
	if err := c.call(r, "GET /exports/transparency", nil, map[string]string{"format": "json"}, &tr); err != nil {
		return api.Response{}, err
	}
	levels := map[string][3]int64{}
	var platforms []string
	for _, p := range st.Platforms {
		platforms = append(platforms, p.Platform)
	}
	for _, row := range tr.Rows {
		l := levels[row.Platform]
		for i := 0; i < 3 && i < len(row.EscalationsByLevel); i++ {
			l[i] += row.EscalationsByLevel[i]
		}
		levels[row.Platform] = l
	}
	v.Levels, v.Period = levelChart(r.lang, platforms, levels), tr.From+" – "+tr.To
	// Approval time per agency: GET /stats/pipeline, from the stream's
	// counters (the same months as the warnings by level).
	var pipe audit.PipelineResponse
	if err := c.call(r, "GET /stats/pipeline", nil, nil, &pipe); err != nil {
		return api.Response{}, err
	}
	var rows []PipelineRow
	for _, a := range pipe.ApprovalTimeByAgency {
		rows = append(rows, PipelineRow{Agency: a.Agency, Decisions: int(a.Count), MedianSeconds: a.MedianSeconds, P90Seconds: a.P90Seconds})
	}
	if len(rows) > 0 {
		ch := pipelineChart(r.lang, rows, c.agencyName)
		v.Pipeline = &ch
	}
	return c.render(r, 200, "figures", "figures.title", v)
}

// ---------------------------------------------------------------- admin

type adminView struct {
	Platforms []platformRow
	Agencies  []agencyRow
	Policies  []policyRow
	Resolve   resolveView
}

// resolveView is the pseudonym resolution form, and its answer.
type resolveView struct {
	Pseudonym, Reason string
	// ReasonError is shown next to its field, Error above the form.
	ReasonError, Error string
	Result             *report.Resolution
}

type platformRow struct {
	ID, Name, Channel, Urgent, Normal string
}

type agencyRow struct {
	ID, Short, Name string
	Email           bool
	Slack           string
	Members         []agency.Member
}

type policyRow struct {
	agency.Policy
	RequireNames, NotifyNames, HoldNames []string
	HoldMax                              string
	Tiers                                []tierRow
	// Trusted is a trusted flagger's window and reminder ("" when the
	// policy has none); Review who reviews a public report first.
	Trusted, Review string
}

type tierRow struct {
	N                int
	Role             string
	Window, Reminder string
}

// adminPage: platforms, agencies and approval policies as configured (read
// only: they change with the deployment's configuration), and the form
// resolving a reporter's pseudonym (res: its state after a POST).
func (c *Console) adminPage(r *request, res *resolveView, status int) (api.Response, error) {
	if _, err := c.require(r, auth.Admin); err != nil {
		return api.Response{}, err
	}
	var v adminView
	if res != nil {
		v.Resolve = *res
	}
	for _, id := range c.Platforms.IDs() {
		p := c.Platforms.Platforms[id]
		v.Platforms = append(v.Platforms, platformRow{ID: id, Name: p.DisplayName, Channel: p.Channel,
			Urgent: hours(r.lang, time.Duration(p.Deadlines.Urgent)), Normal: hours(r.lang, time.Duration(p.Deadlines.Normal))})
	}
	for _, a := range c.Agencies.Agencies {
		v.Agencies = append(v.Agencies, agencyRow{ID: a.ID, Short: a.Short(), Name: pick(r.lang, a.NameID, a.NameEN),
			Email: a.Channels.Email, Slack: a.Channels.SlackChannel, Members: a.Members})
	}
	names := func(ids []string) []string {
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			out = append(out, c.agencyName(id))
		}
		return out
	}
	for _, p := range c.Agencies.Policies {
		row := policyRow{Policy: p, RequireNames: names(p.Require), NotifyNames: names(p.Notify), HoldNames: names(p.Holders),
			HoldMax: hours(r.lang, p.HoldMax())}
		for i, t := range p.Tiers {
			row.Tiers = append(row.Tiers, tierRow{N: i + 1, Role: t.Role, Window: hours(r.lang, t.Window()), Reminder: hours(r.lang, t.Reminder())})
		}
		if tf := p.TrustedFlagger; tf != nil {
			row.Trusted = pick(r.lang, "waktu ", "window ") + hours(r.lang, time.Duration(tf.WindowSeconds)*time.Second) +
				pick(r.lang, ", pengingat setelah ", ", reminder after ") + hours(r.lang, time.Duration(tf.ReminderSeconds)*time.Second)
		}
		if rv := p.ExtraReview; rv != nil {
			row.Review = c.agencyName(rv.Agency) + " · " + label(r.lang, rv.Role)
		}
		v.Policies = append(v.Policies, row)
	}
	return c.render(r, status, "admin", "admin.title", v)
}

// resolvePseudonym resolves a reporter's pseudonym through the code path
// of POST /reporters/{pseudonym}/resolve (report.Handler.Resolve,
// in-process, as the signed-in admin): the reason is required, and the
// resolution is recorded in each of the reporter's cases before anything
// is shown.
func (c *Console) resolvePseudonym(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Admin); err != nil {
		return api.Response{}, err
	}
	f, err := c.form(r)
	if err != nil {
		return api.Response{}, err
	}
	v := resolveView{Pseudonym: strings.TrimSpace(f.Get("pseudonym")), Reason: f.Get("reason")}
	body, err := json.Marshal(map[string]string{"reason": v.Reason})
	if err != nil {
		return api.Response{}, err
	}
	h := report.Handler{Intake: c.Intake}
	resp, err := c.invoke(r, h.Route, "POST /reporters/{sub}/resolve", map[string]string{"sub": v.Pseudonym}, nil, string(body))
	if err != nil {
		var e *api.Error
		if !errors.As(err, &e) || e.Status >= 500 {
			return api.Response{}, err
		}
		switch {
		case e.Field == "reason":
			v.ReasonError = fmt.Sprintf(t(r.lang, "resolve.reason"), report.MinResolveReason, report.MaxResolveReason)
		case e.Status == http.StatusNotFound:
			v.Error = t(r.lang, "resolve.notfound")
		default:
			v.Error = half(r.lang, e.Message)
		}
		return c.adminPage(r, &v, e.Status)
	}
	var res report.Resolution
	if err := json.Unmarshal([]byte(resp.Body), &res); err != nil {
		return api.Response{}, fmt.Errorf("resolve pseudonym: answer: %w", err)
	}
	v.Result, v.Reason = &res, ""
	return c.adminPage(r, &v, 200)
}

// hours says a configured period: "4 jam", "1 jam 30 menit", "3 hari".
func hours(lang string, d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 24 && h%24 == 0 && m == 0:
		return fmt.Sprintf("%d %s", h/24, pick(lang, "hari", "days"))
	case m == 0:
		return fmt.Sprintf("%d %s", h, pick(lang, "jam", "h"))
	case h == 0:
		return fmt.Sprintf("%d %s", m, pick(lang, "menit", "min"))
	}
	return fmt.Sprintf("%d %s %d %s", h, pick(lang, "jam", "h"), m, pick(lang, "menit", "min"))
}
