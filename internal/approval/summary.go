package approval

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/tangkal/tangkal/internal/agency"
)

// Summary is what an approver needs to decide: the ad, why it was flagged,
// and what links it to other cases.
type Summary struct {
	CaseID     string      `json:"case_id"`
	URL        string      `json:"url"`
	Platform   string      `json:"platform"`
	Category   string      `json:"category,omitempty"`
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

// Indicator is one risk indicator with its explanation, in Bahasa
// Indonesia (LabelID, ExplanationID) and English.
type Indicator struct {
	Code          string `json:"code"`
	LabelID       string `json:"label_id,omitempty"`
	Label         string `json:"label"`
	ExplanationID string `json:"explanation_id,omitempty"`
	Explanation   string `json:"explanation,omitempty"`
	Evidence      string `json:"evidence,omitempty"`
}

// Name is "Indonesian / English" (one of them when they are the same).
func (i Indicator) Name() string { return both(i.LabelID, i.Label) }

// Explained is the explanation, Indonesian first.
func (i Indicator) Explained() string { return both(i.ExplanationID, i.Explanation) }

func both(id, en string) string {
	switch {
	case id == "" || id == en:
		return en
	case en == "":
		return id
	}
	return id + " / " + en
}

// Related links the case to other reported ads through a shared entity.
type Related struct {
	Kind    string   `json:"kind"` // "whatsapp", "phone", "telegram", "bank_account"…
	Value   string   `json:"value"`
	CaseIDs []string `json:"case_ids"`
}

var kindNames = map[string][2]string{
	"whatsapp": {"Nomor WhatsApp", "WhatsApp number"}, "phone": {"Nomor telepon", "phone number"},
	"telegram": {"Akun Telegram", "Telegram account"}, "bank_account": {"Rekening bank", "bank account"},
	"email": {"Alamat e-mail", "email address"}, "website": {"Situs web", "website"},
}

// Sentence says it in words, Indonesian first: "Nomor WhatsApp ini
// (+62…) muncul di 3 iklan lain yang dilaporkan / This WhatsApp number
// (+62…) appears in 3 other reported ads."
func (r Related) Sentence() string {
	name, ok := kindNames[r.Kind]
	if !ok {
		k := strings.ReplaceAll(r.Kind, "_", " ")
		name = [2]string{k, k}
	}
	n := len(r.CaseIDs)
	ads := "ads"
	if n == 1 {
		ads = "ad"
	}
	return fmt.Sprintf("%s ini (%s) muncul di %d iklan lain yang dilaporkan / This %s (%s) appears in %d other reported %s.",
		name[0], r.Value, n, name[1], r.Value, n, ads)
}

// WIB is Western Indonesian Time, the zone approvers' times are written in.
var WIB = time.FixedZone("WIB", 7*3600)

var (
	hariID  = []string{"Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"}
	bulanID = []string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}
)

// TanggalWIB writes t the Indonesian way: "Selasa, 1 Desember 2026 pukul
// 10.42 WIB".
func TanggalWIB(t time.Time) string {
	t = t.In(WIB)
	return fmt.Sprintf("%s, %d %s %d pukul %02d.%02d WIB", hariID[t.Weekday()], t.Day(), bulanID[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// JamWIB is the time of day: "10.42 WIB".
func JamWIB(t time.Time) string {
	t = t.In(WIB)
	return fmt.Sprintf("%02d.%02d WIB", t.Hour(), t.Minute())
}

// Roles an agency has in one approval.
const (
	RoleDecide   = "decide"   // must approve or reject
	RoleHold     = "hold"     // told for deconfliction, may hold
	RoleNotified = "notified" // told for deconfliction only
)

// Message is one approval message to a member of an agency: a request, a
// reminder, an escalation to the next tier, or a deconfliction notice.
type Message struct {
	Summary    Summary
	Agency     agency.Agency
	Role       string // RoleDecide, RoleHold or RoleNotified
	Tier       int
	Deadline   time.Time
	Link       string // the member's signed link ("" for RoleNotified)
	Reminder   bool
	Escalation bool
	// Review: the member is asked for the extra review (alone, before
	// the agencies).
	Review bool
	Policy agency.Policy
	// Names gives an indicator's names (Indonesian, English); nil keeps
	// the summary's.
	Names func(id string) (string, string)
}

func (m Message) urgent() bool { return m.Summary.Urgency == "urgent" }

// Subject is the e-mail subject, Indonesian first, naming the case.
func (m Message) Subject() string {
	var id, en string
	switch {
	case m.Role == RoleNotified || m.Role == RoleHold:
		id, en = "Pemberitahuan dekonfliksi", "Deconfliction notice"
	case m.Review && m.Reminder:
		id, en = "Pengingat: tinjauan tambahan diperlukan", "Reminder: extra review needed"
	case m.Review && m.Escalation:
		id, en = "Eskalasi: tinjauan tambahan diperlukan", "Escalation: extra review needed"
	case m.Review:
		id, en = "Tinjauan tambahan diperlukan", "Extra review needed"
	case m.Reminder:
		id, en = "Pengingat: persetujuan diperlukan", "Reminder: approval needed"
	case m.Escalation:
		id, en = "Eskalasi: persetujuan diperlukan", "Escalation: approval needed"
	default:
		id, en = "Persetujuan diperlukan", "Approval needed"
	}
	prefix := ""
	if m.urgent() {
		prefix = "MENDESAK / URGENT: "
	}
	s := fmt.Sprintf("%s%s / %s: iklan %s (kasus %s)", prefix, id, en, titleOr(m.Summary.Platform), m.Summary.CaseID)
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// Compose writes the e-mail.
func (m Message) Compose() (subject, text, html string) {
	v := m.view()
	var tb, hb bytes.Buffer
	if err := textMail.Execute(&tb, v); err != nil {
		tb.WriteString(err.Error())
	}
	if err := htmlMail.Execute(&hb, v); err != nil {
		hb.WriteString(err.Error())
	}
	return m.Subject(), tb.String(), hb.String()
}

type mailView struct {
	Message
	Score, Deadline, Needs, UrgencyID, UrgencyEN string
	Others                                       []string
}

func (m Message) view() mailView {
	v := mailView{Message: m, Score: fmt.Sprintf("%.2f", m.Summary.Score), Deadline: TanggalWIB(m.Deadline),
		UrgencyID: "biasa", UrgencyEN: "normal"}
	if m.urgent() {
		v.UrgencyID, v.UrgencyEN = "MENDESAK", "URGENT"
	}
	var req []string
	for _, a := range m.Policy.Require {
		req = append(req, shortName(a))
	}
	if m.Policy.Needed() == len(m.Policy.Require) {
		v.Needs = fmt.Sprintf("persetujuan dari semua instansi berikut: %s / approval from each of: %s", strings.Join(req, ", "), strings.Join(req, ", "))
	} else {
		v.Needs = fmt.Sprintf("persetujuan %d dari %d instansi berikut: %s / approval from %d of: %s", m.Policy.Needed(), len(req), strings.Join(req, ", "), m.Policy.Needed(), strings.Join(req, ", "))
	}
	if m.Review {
		v.Needs = "tinjauan tambahan oleh Anda, lalu " + v.Needs
	}
	for _, h := range m.Policy.Holders {
		v.Others = append(v.Others, shortName(h))
	}
	if m.Names != nil {
		for i, in := range v.Summary.Indicators {
			if in.LabelID == "" {
				v.Summary.Indicators[i].LabelID, v.Summary.Indicators[i].Label = m.Names(in.Code)
			}
		}
	}
	return v
}

func shortName(id string) string { return agency.Agency{ID: id}.Short() }

func titleOr(p string) string {
	if p == "" {
		return "yang dilaporkan"
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

var funcs = map[string]any{"short": shortName}

var textMail = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(`{{if eq .Role "decide"}}{{if .Reminder}}PENGINGAT: kasus ini masih menunggu keputusan {{.Agency.Short}}.
{{else if .Escalation}}ESKALASI: kasus ini belum diputuskan dalam batas waktu dan kini diteruskan kepada Anda.
{{end}}{{if .Review}}Laporan publik (tanpa akun) ini memerlukan tinjauan tambahan oleh {{.Agency.NameID}} ({{.Agency.Short}}) sebelum instansi yang wajib menyetujui diminta keputusannya. Jika Anda mengonfirmasi, mereka diminta; jika Anda menolak (dengan alasan), kasus ditolak.
{{else}}Sebuah iklan yang dilaporkan memerlukan keputusan {{.Agency.NameID}} ({{.Agency.Short}}) sebelum permintaan penurunan konten dikirim.
{{end}}{{else}}Pemberitahuan dekonfliksi untuk {{.Agency.NameID}} ({{.Agency.Short}}): iklan ini akan diminta diturunkan.{{if eq .Role "hold"}} Jika ada penyelidikan yang berjalan, Anda dapat menahan (hold) permintaan ini dengan alasan.{{end}}
{{end}}
Kasus:      {{.Summary.CaseID}}
Iklan:      {{.Summary.URL}}
Platform:   {{.Summary.Platform}}
Urgensi:    {{.UrgencyID}} / {{.UrgencyEN}}
Skor:       {{.Score}}
Diperlukan: {{.Needs}}
Batas waktu / Deadline: {{.Deadline}}
{{with .Summary.Excerpt}}
Teks iklan / Ad text: "{{.}}"
{{end}}{{if .Summary.Indicators}}
Alasan ditandai / Why it was flagged:
{{range .Summary.Indicators}}  - {{.Name}}{{with .Explained}}: {{.}}{{end}}{{with .Evidence}} [cocok / matched: "{{.}}"]{{end}}
{{end}}{{end}}{{with .Summary.Repost}}
{{.}}
{{end}}{{if .Summary.Related}}
Kasus terkait / Related cases:
{{range .Summary.Related}}  - {{.Sentence}}
{{end}}{{end}}{{with .Link}}
Tinjau dan putuskan (tautan membuka halaman konfirmasi; belum ada yang diputuskan sampai Anda mengonfirmasi):
{{.}}

Tautan ini pribadi; jangan diteruskan.
{{end}}
----------------------------------------------------------------
{{if eq .Role "decide"}}{{if .Reminder}}REMINDER: this case still waits for {{.Agency.Short}}'s decision.
{{else if .Escalation}}ESCALATION: this case was not decided in time and now comes to you.
{{end}}{{if .Review}}This public report (made without an account) needs an extra review by {{.Agency.NameEN}} ({{.Agency.Short}}) before the agencies that must approve are asked (case {{.Summary.CaseID}}). If you confirm, they are asked; if you reject (with a reason), the case is rejected.
{{else}}A reported ad needs the decision of {{.Agency.NameEN}} ({{.Agency.Short}}) before a takedown request is sent (case {{.Summary.CaseID}}).
{{end}}{{else}}Deconfliction notice for {{.Agency.NameEN}} ({{.Agency.Short}}): a takedown of this ad will be requested (case {{.Summary.CaseID}}).{{if eq .Role "hold"}} If an investigation is open, you may hold the request, with a reason.{{end}}
{{end}}{{with .Link}}Review and decide (the link opens a confirmation page; nothing is decided until you confirm there): the link above. It is personal; do not forward it.
{{end}}`))

var htmlMail = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(`<!doctype html>
<html lang="id"><body style="font-family:sans-serif">
{{if eq .Role "decide"}}{{if .Reminder}}<p><strong>PENGINGAT:</strong> kasus ini masih menunggu keputusan {{.Agency.Short}}. <em>Reminder: this case still waits for {{.Agency.Short}}'s decision.</em></p>
{{else if .Escalation}}<p><strong>ESKALASI:</strong> kasus ini belum diputuskan dalam batas waktu dan kini diteruskan kepada Anda. <em>Escalation: not decided in time, it now comes to you.</em></p>{{end}}
{{if .Review}}<p>Laporan publik (tanpa akun) ini memerlukan tinjauan tambahan oleh {{.Agency.NameID}} ({{.Agency.Short}}) sebelum instansi yang wajib menyetujui diminta keputusannya. Jika Anda mengonfirmasi, mereka diminta; jika Anda menolak (dengan alasan), kasus ditolak.<br>
<em>This public report needs an extra review by {{.Agency.NameEN}} ({{.Agency.Short}}) before the agencies that must approve are asked. If you confirm, they are asked; if you reject (with a reason), the case is rejected.</em></p>
{{else}}<p>Sebuah iklan yang dilaporkan memerlukan keputusan {{.Agency.NameID}} ({{.Agency.Short}}) sebelum permintaan penurunan konten dikirim.<br>
<em>A reported ad needs the decision of {{.Agency.NameEN}} ({{.Agency.Short}}) before a takedown request is sent.</em></p>{{end}}
{{else}}<p>Pemberitahuan dekonfliksi untuk {{.Agency.NameID}} ({{.Agency.Short}}).{{if eq .Role "hold"}} Jika ada penyelidikan yang berjalan, Anda dapat menahan (hold) permintaan ini.{{end}}<br>
<em>Deconfliction notice for {{.Agency.NameEN}}.{{if eq .Role "hold"}} If an investigation is open, you may hold the request.{{end}}</em></p>{{end}}
<table>
<tr><th align="left">Kasus / Case</th><td>{{.Summary.CaseID}}</td></tr>
<tr><th align="left">Iklan / Ad</th><td>{{.Summary.URL}}</td></tr>
<tr><th align="left">Platform</th><td>{{.Summary.Platform}}</td></tr>
<tr><th align="left">Urgensi / Urgency</th><td>{{.UrgencyID}} / {{.UrgencyEN}}</td></tr>
<tr><th align="left">Skor / Score</th><td>{{.Score}}</td></tr>
<tr><th align="left">Diperlukan / Needed</th><td>{{.Needs}}</td></tr>
<tr><th align="left">Batas waktu / Deadline</th><td>{{.Deadline}}</td></tr>
</table>
{{with .Summary.Excerpt}}<blockquote>{{.}}</blockquote>{{end}}
{{if .Summary.Indicators}}<h3>Alasan ditandai / Why it was flagged</h3><ul>{{range .Summary.Indicators}}<li><strong>{{.Name}}</strong>{{with .Explained}}: {{.}}{{end}}{{with .Evidence}} <em>(cocok / matched: &ldquo;{{.}}&rdquo;)</em>{{end}}</li>{{end}}</ul>{{end}}
{{with .Summary.Repost}}<p><strong>{{.}}</strong></p>{{end}}
{{if .Summary.Related}}<h3>Kasus terkait / Related cases</h3><ul>{{range .Summary.Related}}<li>{{.Sentence}}</li>{{end}}</ul>{{end}}
{{with .Link}}<p><a href="{{.}}">Tinjau dan putuskan / Review and decide</a> (membuka halaman konfirmasi / opens a confirmation page).</p>
<p style="color:#666">Tautan ini pribadi; jangan diteruskan. / This link is personal; do not forward it.</p>{{end}}
</body></html>`))
