package approval

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Summary is what an approver needs to decide: the ad, why it was flagged,
// and what links it to other cases.
type Summary struct {
	CaseID     string      `json:"case_id"`
	URL        string      `json:"url"`
	Platform   string      `json:"platform"`
	Urgency    string      `json:"urgency"`
	Score      float64     `json:"score"`
	Verdict    string      `json:"verdict,omitempty"`
	Excerpt    string      `json:"excerpt,omitempty"`
	Reports    int         `json:"reports,omitempty"`
	Indicators []Indicator `json:"indicators,omitempty"`
	Related    []Related   `json:"related,omitempty"`
	// Repost says the ad's text repeats an earlier case, and what became
	// of it ("Teks sama dengan c_…, disetujui … / Same text as c_…, …").
	Repost string `json:"repost,omitempty"`
}

// Indicator is one risk indicator with its explanation.
type Indicator struct {
	Code        string `json:"code"`
	Label       string `json:"label"`
	Explanation string `json:"explanation,omitempty"`
	Evidence    string `json:"evidence,omitempty"`
}

// Related links the case to other reported ads through a shared entity.
type Related struct {
	Kind    string   `json:"kind"` // "whatsapp", "phone", "telegram", "bank_account"…
	Value   string   `json:"value"`
	CaseIDs []string `json:"case_ids"`
}

var kindNames = map[string]string{
	"whatsapp": "WhatsApp number", "phone": "phone number", "telegram": "Telegram account",
	"bank_account": "bank account", "email": "email address", "website": "website",
}

// Sentence says it in words: "This WhatsApp number (+62…) appears in 3
// other reported ads."
func (r Related) Sentence() string {
	name := kindNames[r.Kind]
	if name == "" {
		name = strings.ReplaceAll(r.Kind, "_", " ")
	}
	n := len(r.CaseIDs)
	ads := "ads"
	if n == 1 {
		ads = "ad"
	}
	return fmt.Sprintf("This %s (%s) appears in %d other reported %s.", name, r.Value, n, ads)
}

// Slack action ids of the approval buttons; their value is the approval id.
const (
	ActionApprove = "tangkal_approve"
	ActionReject  = "tangkal_reject"
)

// ParseAction maps a Slack button (action id, value) to an approval id and
// decision; ok is false for actions that are not approval buttons.
func ParseAction(actionID, value string) (id, decision string, ok bool) {
	switch actionID {
	case ActionApprove:
		decision = Approve
	case ActionReject:
		decision = Reject
	default:
		return "", "", false
	}
	if value == "" || strings.ContainsAny(value, "|/?#") {
		return "", "", false
	}
	return value, decision, true
}

// Compose writes the approval request email for one approver's link.
func Compose(s Summary, link string) (subject, text, html string) {
	v := composeView{Summary: s, Link: link, Score: fmt.Sprintf("%.2f", s.Score)}
	prefix := ""
	if s.Urgency == "urgent" {
		prefix = "URGENT: "
	}
	subject = fmt.Sprintf("%sApproval needed: %s ad (case %s)", prefix, titleOr(s.Platform), s.CaseID)
	subject = strings.NewReplacer("\r", " ", "\n", " ").Replace(subject)
	var tb, hb bytes.Buffer
	textMail.Execute(&tb, v)
	htmlMail.Execute(&hb, v)
	return subject, tb.String(), hb.String()
}

func titleOr(p string) string {
	if p == "" {
		return "Reported"
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

type composeView struct {
	Summary
	Link  string
	Score string
}

var textMail = texttemplate.Must(texttemplate.New("text").Parse(`A reported ad needs your decision before a takedown request is sent.

Case:     {{.CaseID}}
Ad:       {{.URL}}
Platform: {{.Platform}}
Urgency:  {{.Urgency}}
Score:    {{.Score}}
{{with .Excerpt}}
Ad text: "{{.}}"
{{end}}{{if .Indicators}}
Why it was flagged:
{{range .Indicators}}  - {{.Label}}{{with .Explanation}}: {{.}}{{end}}{{with .Evidence}} [matched: "{{.}}"]{{end}}
{{end}}{{end}}{{with .Repost}}
{{.}}
{{end}}{{if .Related}}
Related cases:
{{range .Related}}  - {{.Sentence}}
{{end}}{{end}}
Review and decide (the link opens a confirmation page; nothing is decided until you confirm there):
{{.Link}}

This link is personal; do not forward it.
`))

var htmlMail = htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html><body style="font-family:sans-serif">
<p>A reported ad needs your decision before a takedown request is sent.</p>
<table>
<tr><th align="left">Case</th><td>{{.CaseID}}</td></tr>
<tr><th align="left">Ad</th><td>{{.URL}}</td></tr>
<tr><th align="left">Platform</th><td>{{.Platform}}</td></tr>
<tr><th align="left">Urgency</th><td>{{.Urgency}}</td></tr>
<tr><th align="left">Score</th><td>{{.Score}}</td></tr>
</table>
{{with .Excerpt}}<blockquote>{{.}}</blockquote>{{end}}
{{if .Indicators}}<h3>Why it was flagged</h3><ul>{{range .Indicators}}<li><strong>{{.Label}}</strong>{{with .Explanation}}: {{.}}{{end}}{{with .Evidence}} <em>(matched: &ldquo;{{.}}&rdquo;)</em>{{end}}</li>{{end}}</ul>{{end}}
{{with .Repost}}<p><strong>{{.}}</strong></p>{{end}}
{{if .Related}}<h3>Related cases</h3><ul>{{range .Related}}<li>{{.Sentence}}</li>{{end}}</ul>{{end}}
<p><a href="{{.Link}}">Review and decide</a> (opens a confirmation page; nothing is decided until you confirm there).</p>
<p style="color:#666">This link is personal; do not forward it.</p>
</body></html>`))

// SlackBlocks is the Block Kit message for a Slack approvals channel: the
// summary, Approve and Reject buttons (value: the approval id, never the
// task token) and a link to the review page.
func SlackBlocks(s Summary, approvalID, link string) json.RawMessage {
	var lines []string
	for _, in := range s.Indicators {
		lines = append(lines, "• "+slackEscape(in.Label))
	}
	for _, r := range s.Related {
		lines = append(lines, "• "+slackEscape(r.Sentence()))
	}
	fields := []map[string]any{
		{"type": "mrkdwn", "text": "*Platform*\n" + slackEscape(s.Platform)},
		{"type": "mrkdwn", "text": "*Urgency*\n" + slackEscape(s.Urgency)},
		{"type": "mrkdwn", "text": fmt.Sprintf("*Score*\n%.2f", s.Score)},
		{"type": "mrkdwn", "text": "*Case*\n" + slackEscape(s.CaseID)},
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": "Takedown approval needed"}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Ad:* " + slackEscape(s.URL)}, "fields": fields},
	}
	if len(lines) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Join(lines, "\n")}})
	}
	elements := []map[string]any{
		{"type": "button", "action_id": ActionApprove, "style": "primary", "value": approvalID,
			"text": map[string]any{"type": "plain_text", "text": "Approve"},
			"confirm": map[string]any{"title": map[string]any{"type": "plain_text", "text": "Send the takedown request?"},
				"text":    map[string]any{"type": "mrkdwn", "text": "The platform will be asked to remove this ad."},
				"confirm": map[string]any{"type": "plain_text", "text": "Approve"}, "deny": map[string]any{"type": "plain_text", "text": "Cancel"}}},
		{"type": "button", "action_id": ActionReject, "style": "danger", "value": approvalID,
			"text": map[string]any{"type": "plain_text", "text": "Reject"}},
	}
	if link != "" {
		elements = append(elements, map[string]any{"type": "button", "action_id": "tangkal_open", "url": link,
			"text": map[string]any{"type": "plain_text", "text": "Open review page"}})
	}
	blocks = append(blocks, map[string]any{"type": "actions", "block_id": "decide", "elements": elements})
	b, _ := json.Marshal(blocks)
	return b
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
