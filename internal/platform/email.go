package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/tangkal/tangkal/internal/outbox"
)

// Mailer sends an email and returns its message id.
type Mailer interface {
	Send(ctx context.Context, e outbox.Email) (string, error)
}

// Jakarta is the time zone deadlines are written in (WIB).
var Jakarta = time.FixedZone("WIB", 7*60*60)

// Notice composes the email for a notice of req.Kind to p: the formal
// takedown notice to the platform's notice address, or a warning to the
// escalation contacts of that level. from is the sender address.
func Notice(p Platform, from string, req Request) (outbox.Email, error) {
	req, err := req.normalized()
	if err != nil {
		return outbox.Email{}, err
	}
	to := p.Contacts(req.Kind)
	if len(to) == 0 {
		return outbox.Email{}, fmt.Errorf("platform %s: no recipients configured for %s", p.ID, req.Kind)
	}
	v := noticeView{Request: req, Platform: p, Title: titles[req.Kind], Key: req.IdempotencyKey(),
		DeadlineWIB: req.Deadline.In(Jakarta).Format("02 January 2006 15:04 MST"),
		DeadlineUTC: req.Deadline.UTC().Format(time.RFC3339)}
	var text, html bytes.Buffer
	if err := textNotice.Execute(&text, v); err != nil {
		return outbox.Email{}, fmt.Errorf("compose notice: %w", err)
	}
	if err := htmlNotice.Execute(&html, v); err != nil {
		return outbox.Email{}, fmt.Errorf("compose notice: %w", err)
	}
	subject := fmt.Sprintf("[%s] %s – %s – kasus %s", strings.ToUpper(string(req.Kind)), v.Title.ID, p.DisplayName, req.CaseID)
	return outbox.Email{
		From: from, To: to, Subject: subject, Text: text.String(), HTML: html.String(),
		Headers: map[string]string{
			outbox.IdempotencyHeader: v.Key,
			"X-Tangkal-Case":         req.CaseID,
			"X-Tangkal-Notice":       string(req.Kind),
		},
	}, nil
}

type title struct{ ID, EN string }

var titles = map[Kind]title{
	KindTakedown: {"Permintaan Pemutusan Akses", "Takedown request"},
	KindWarning1: {"Surat Teguran Pertama", "First warning"},
	KindWarning2: {"Surat Teguran Kedua", "Second warning"},
	KindWarning3: {"Surat Teguran Ketiga dan Rekomendasi Sanksi", "Third warning and sanction recommendation"},
}

type noticeView struct {
	Request
	Platform    Platform
	Title       title
	Key         string
	DeadlineWIB string
	DeadlineUTC string
}

const noticeText = `{{.Title.ID}} / {{.Title.EN}}
Nomor referensi / Case reference: {{.CaseID}} ({{.Key}})
Kepada / To: {{.Platform.DisplayName}}

Dengan hormat,

{{if eq (print .Kind) "takedown"}}Berdasarkan {{.LegalBasis}}

kami meminta {{.Platform.DisplayName}} untuk melakukan pemutusan akses terhadap konten berikut,
yang merupakan iklan perekrutan pekerja migran secara ilegal:
{{else}}Konten berikut, yang telah kami minta untuk diputus aksesnya, masih dapat diakses setelah
batas waktu. Ini adalah {{.Title.ID | lower}} (pemberitahuan ke-{{.Attempt}}) berdasarkan
{{.LegalBasis}}
{{end}}
URL: {{.URL}}
Urgensi / Urgency: {{.Urgency}}
Batas waktu / Deadline: {{.DeadlineWIB}} ({{.DeadlineUTC}})
{{with .Evidence}}
Ringkasan bukti / Evidence summary:
{{.}}
{{end}}
Mohon konfirmasi pemutusan akses dengan membalas email ini dan menyebutkan nomor referensi di atas.
{{if eq (print .Kind) "warning_3"}}
Apabila konten tidak diputus aksesnya sebelum batas waktu, kami akan merekomendasikan pengenaan
sanksi administratif sesuai Permenkominfo 5/2020.
{{end}}
English summary: {{if eq (print .Kind) "takedown"}}please remove or block access to the content at the URL
above, an illegal migrant-worker recruitment ad, before the deadline.{{else}}the content above is still
available after the deadline; this is {{.Title.EN | lower}}.{{end}} Please confirm, quoting the case reference.

Hormat kami,
Tim Tangkal
`

const noticeHTML = `<!doctype html>
<html lang="id"><body style="font-family:sans-serif">
<h2>{{.Title.ID}} <small>/ {{.Title.EN}}</small></h2>
<p>Nomor referensi / Case reference: <strong>{{.CaseID}}</strong> ({{.Key}})<br>Kepada / To: {{.Platform.DisplayName}}</p>
<p>{{if eq (print .Kind) "takedown"}}Berdasarkan {{.LegalBasis}} kami meminta {{.Platform.DisplayName}} untuk melakukan
pemutusan akses terhadap konten berikut, yang merupakan iklan perekrutan pekerja migran secara ilegal.{{else}}Konten
berikut masih dapat diakses setelah batas waktu. Ini adalah {{.Title.ID | lower}} (pemberitahuan ke-{{.Attempt}}) berdasarkan {{.LegalBasis}}{{end}}</p>
<table>
<tr><th align="left">URL</th><td><a href="{{.URL}}">{{.URL}}</a></td></tr>
<tr><th align="left">Urgensi / Urgency</th><td>{{.Urgency}}</td></tr>
<tr><th align="left">Batas waktu / Deadline</th><td>{{.DeadlineWIB}} ({{.DeadlineUTC}})</td></tr>
</table>
{{with .Evidence}}<h3>Ringkasan bukti / Evidence summary</h3><p style="white-space:pre-wrap">{{.}}</p>{{end}}
<p>Mohon konfirmasi pemutusan akses dengan membalas email ini dan menyebutkan nomor referensi di atas.</p>
{{if eq (print .Kind) "warning_3"}}<p><strong>Apabila konten tidak diputus aksesnya sebelum batas waktu, kami akan merekomendasikan
pengenaan sanksi administratif sesuai Permenkominfo 5/2020.</strong></p>{{end}}
<p>Hormat kami,<br>Tim Tangkal</p>
</body></html>
`

var funcs = map[string]any{"lower": strings.ToLower}

var (
	textNotice = texttemplate.Must(texttemplate.New("notice").Funcs(funcs).Parse(noticeText))
	htmlNotice = htmltemplate.Must(htmltemplate.New("notice").Funcs(funcs).Parse(noticeHTML))
)

// EmailSender sends notices as formal emails through a Mailer.
type EmailSender struct {
	Platform Platform
	Mailer   Mailer
	From     string
	Now      func() time.Time // nil: time.Now
}

// Send composes the notice and mails it. Mailer failures are
// *TransientError (SES throttling and outages pass; a bad address does not
// get better, but the state machine's retry limit ends that).
func (s *EmailSender) Send(ctx context.Context, req Request) (Receipt, error) {
	if s.Mailer == nil {
		return Receipt{}, errors.New("email sender: no mailer")
	}
	e, err := Notice(s.Platform, s.From, req)
	if err != nil {
		return Receipt{}, err
	}
	id, err := s.Mailer.Send(ctx, e)
	if err != nil {
		return Receipt{}, &TransientError{Platform: s.Platform.ID, Err: fmt.Errorf("send %s notice: %w", req.Kind, err)}
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	return Receipt{PlatformRef: id, Channel: ChannelEmail, IdempotencyKey: req.IdempotencyKey(), SentAt: now}, nil
}
