package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/auth"
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
		rows = append(rows, inboxRow{InboxItem: it, Left: duration(r.lang, left), Urgent: it.Urgency == "urgent" || left < time.Hour})
	}
	return c.render(r, 200, "inbox", "inbox.title", rows)
}

type caseView struct {
	Case      store.Case
	Verified  *history.VerifiedData
	Approval  *approval.Approval
	CanDecide bool
	Left      string
	Decisions []history.ApprovalDecidedData
	Auditor   bool
	Decided   string
}

// casePage: the ad, its evidence copy, indicators with their quoted
// matches, the registry result, related cases and reposts, decisions; the
// decision form for an approver of the pending request.
func (c *Console) casePage(r *request, id string) (api.Response, error) {
	s, err := c.require(r, auth.Approver, auth.Auditor, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	var cs store.Case
	if err := c.call(r, "GET /cases/{id}", map[string]string{"id": id}, nil, &cs); err != nil {
		return api.Response{}, err
	}
	v := caseView{Case: cs, Auditor: s.Has(auth.Auditor, auth.Admin), Decided: r.QueryStringParameters["decided"]}
	evs, err := (&history.Log{Table: c.Table}).List(r.ctx, cs.ID, 0, 0)
	if err != nil {
		return api.Response{}, err
	}
	for _, e := range evs {
		switch e.Type {
		case history.Verified:
			var d history.VerifiedData
			if e.Decode(&d) == nil {
				v.Verified = &d
			}
		case history.ApprovalDecided:
			var d history.ApprovalDecidedData
			if e.Decode(&d) == nil {
				if d.DecidedBy == "" {
					d.DecidedBy = e.Actor
				}
				v.Decisions = append(v.Decisions, d)
			}
		}
	}
	if cs.ApprovalID != "" {
		if a, err := c.Approvals.Get(r.ctx, cs.ApprovalID); err == nil {
			v.Approval = &a
			v.CanDecide = a.Status == approval.StatusPending && s.Has(auth.Approver, auth.Admin) &&
				slices.Contains(a.Approvers(), strings.ToLower(strings.TrimSpace(s.Email)))
			v.Left = duration(r.lang, a.ExpiresAt.Sub(c.now()))
		}
	}
	return c.render(r, 200, "case", "case.title", v)
}

// decide takes a decision through approval.Store, the rules of POST
// /approvals/{id}: once, by one of the request's approvers, before it
// expires; then the workflow is told.
func (c *Console) decide(r *request, caseID string) (api.Response, error) {
	s, err := c.require(r, auth.Approver, auth.Admin)
	if err != nil {
		return api.Response{}, err
	}
	f, err := c.form(r)
	if err != nil {
		return api.Response{}, err
	}
	id, decision, reason := f.Get("approval"), strings.ToLower(f.Get("decision")), f.Get("reason")
	if decision != approval.Approve && decision != approval.Reject {
		return api.Response{}, api.Errorf(http.StatusBadRequest, "invalid_field", "decision", `decision must be "approve" or "reject"`)
	}
	if len(reason) > approval.MaxReason {
		return api.Response{}, api.Errorf(http.StatusBadRequest, "invalid_field", "reason", "reason is longer than %d bytes", approval.MaxReason)
	}
	a, err := c.Approvals.Get(r.ctx, id)
	if errors.Is(err, approval.ErrNotFound) || (err == nil && a.CaseID != caseID) {
		return api.Response{}, api.NotFound("approval request")
	}
	if err != nil {
		return api.Response{}, err
	}
	res, err := c.Approvals.Act(r.ctx, id, approval.Action{Decision: decision, Identity: s.Email, Channel: approval.ChannelConsole, Reason: reason})
	a = res.Approval
	switch {
	case errors.Is(err, approval.ErrAlreadyDecided):
		return api.Response{}, api.Errorf(http.StatusConflict, "already_decided", "", "%s (%s)", pick(r.lang, "Permintaan ini sudah diputuskan", "This request was already decided"), label(r.lang, a.Status))
	case errors.Is(err, approval.ErrExpired):
		return api.Response{}, api.Errorf(http.StatusGone, "expired", "", "%s", pick(r.lang, "Permintaan persetujuan ini sudah kedaluwarsa.", "This approval request has expired."))
	case errors.Is(err, approval.ErrNotApprover):
		return api.Response{}, api.Errorf(http.StatusForbidden, "not_approver", "", "%s", pick(r.lang, "Anda bukan penyetuju permintaan ini.", "You are not an approver of this request."))
	case err != nil:
		return api.Response{}, fmt.Errorf("record decision on approval %s: %w", id, err)
	}
	if c.Decided != nil {
		if err := c.Decided(r.ctx, res); err != nil {
			return api.Response{}, api.Errorf(http.StatusBadGateway, "workflow_unavailable", "",
				"%s", pick(r.lang, "Keputusan Anda dicatat, tetapi alur kerja belum dapat diberi tahu.", "Your decision was recorded, but the workflow could not be notified yet."))
		}
	}
	return redirect("/console/cases/" + url.PathEscape(caseID) + "?decided=" + url.QueryEscape(a.Status)), nil
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
	Case    store.Case
	Events  []eventRow
	Chain   any
	Valid   bool
	Length  int
	Head    string
	Error   string
	Reports []caseReport
}

type eventRow struct {
	history.Event
	Pretty string
}

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
	for _, e := range ea.Events {
		row := eventRow{Event: e}
		var pretty any
		if json.Unmarshal(e.Data, &pretty) == nil && pretty != nil {
			b, _ := json.MarshalIndent(pretty, "", "  ")
			row.Pretty = string(b)
		}
		v.Events = append(v.Events, row)
	}
	rs, err := caseReports(r.ctx, c.Table, cs.ID)
	if err != nil {
		return api.Response{}, err
	}
	v.Reports = rs
	return c.render(r, 200, "history", "history.title", v)
}

type searchView struct {
	Q         map[string]string
	Statuses  []string
	Platforms []string
	Cases     []audit.ListedCase
	Next      string
	Searched  bool
	Error     string
}

var allStatuses = []string{store.StatusReceived, store.StatusVerifying, store.StatusAwaitingApprove, store.StatusApproved,
	store.StatusTakedownSent, store.StatusManualQueue, store.StatusEscalated, store.StatusRemovedInTime, store.StatusRemovedLate,
	store.StatusNonCompliant, store.StatusRejected, store.StatusApprovalExpired, store.StatusNotActionable,
	store.StatusLegitimate, store.StatusNotJobAd, store.StatusDuplicate}

// searchPage: GET /cases with the audit API's filters (status, platform,
// from, to; dates are days in WIB) and its signed cursor.
func (c *Console) searchPage(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	in := r.QueryStringParameters
	v := searchView{Q: map[string]string{}, Statuses: allStatuses, Platforms: c.Reader.Platforms}
	for _, k := range []string{"status", "platform", "from", "to"} {
		v.Q[k] = in[k]
	}
	if in["status"] == "" && in["platform"] == "" {
		return c.render(r, 200, "cases", "cases.title", v)
	}
	q := map[string]string{"status": in["status"], "platform": in["platform"], "limit": "50", "cursor": in["cursor"]}
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
			v.Error = e.Message
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
	Stats  audit.ComplianceResponse
	Chart  chart
	Median chart
	Esc    chart
}

func (c *Console) figuresPage(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Auditor, auth.Admin); err != nil {
		return api.Response{}, err
	}
	var st audit.ComplianceResponse
	if err := c.call(r, "GET /stats/compliance", nil, nil, &st); err != nil {
		return api.Response{}, err
	}
	sort.Slice(st.Platforms, func(i, j int) bool { return st.Platforms[i].Platform < st.Platforms[j].Platform })
	return c.render(r, 200, "figures", "figures.title", figuresView{Stats: st, Chart: outcomeChart(r.lang, st.Platforms),
		Median: medianChart(r.lang, st.Platforms), Esc: escalationChart(r.lang, st.Platforms)})
}

// ---------------------------------------------------------------- admin

type adminView struct {
	Platforms []platformRow
	Tiers     [][]string
}

type platformRow struct {
	ID, Name, Channel, Urgent, Normal string
}

func (c *Console) adminPage(r *request) (api.Response, error) {
	if _, err := c.require(r, auth.Admin); err != nil {
		return api.Response{}, err
	}
	v := adminView{Tiers: c.ApproverTiers}
	for _, id := range c.Platforms.IDs() {
		p := c.Platforms.Platforms[id]
		v.Platforms = append(v.Platforms, platformRow{ID: id, Name: p.DisplayName, Channel: p.Channel,
			Urgent: time.Duration(p.Deadlines.Urgent).String(), Normal: time.Duration(p.Deadlines.Normal).String()})
	}
	return c.render(r, 200, "admin", "admin.title", v)
}
