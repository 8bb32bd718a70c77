package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"time"

	"github.com/tangkal/tangkal/internal/outbox"
)

// Mailer sends an email and returns its message id.
type Mailer interface {
	Send(ctx context.Context, e outbox.Email) (string, error)
}

// Jakarta is the time zone deadlines are written in (WIB).
var Jakarta = time.FixedZone("WIB", 7*60*60)

// Email composes the e-mail for a notice of req.Kind to p, dated now: the
// formal takedown notice to the platform's notice address, or a warning to
// the escalation contacts of that level. from is the sender address.
func (l Letters) Email(p Platform, from string, req Request, now time.Time) (outbox.Email, error) {
	lt, err := l.Write(p, req, now)
	if err != nil {
		return outbox.Email{}, err
	}
	to := p.Contacts(lt.Request.Kind)
	if lt.Request.Kind == KindBlocking {
		to = append(append([]string(nil), lt.Request.Agency.Emails...), to...)
	}
	if len(to) == 0 {
		return outbox.Email{}, fmt.Errorf("platform %s: no recipients configured for %s", p.ID, lt.Request.Kind)
	}
	var html bytes.Buffer
	if err := htmlNotice.Execute(&html, htmlView{Letter: lt, Platform: p, Signatory: Signatory}); err != nil {
		return outbox.Email{}, fmt.Errorf("compose notice: %w", err)
	}
	return outbox.Email{
		From: from, To: to, Subject: lt.Subject, Text: lt.Text, HTML: html.String(),
		Headers: map[string]string{
			outbox.IdempotencyHeader: lt.Request.IdempotencyKey(),
			"X-Tangkal-Case":         lt.Request.CaseID,
			"X-Tangkal-Notice":       string(lt.Request.Kind),
		},
	}, nil
}

type htmlView struct {
	Letter
	Platform  Platform
	Signatory string
}

const noticeHTML = `<!doctype html>
<html lang="id"><body style="font-family:sans-serif;max-width:46em">
<table>
<tr><th align="left">Nomor / Number</th><td>{{.Number}}</td></tr>
<tr><th align="left">Tanggal / Date</th><td>{{tanggal .Date}} / {{date .Date}}</td></tr>
<tr><th align="left">Kepada / To</th><td>{{.Addressee}}</td></tr>
<tr><th align="left">Perihal / Subject</th><td>{{.Title.ID}} / {{.Title.EN}}</td></tr>
<tr><th align="left">Referensi kasus / Case reference</th><td>{{.Request.CaseID}}</td></tr>
</table>
{{range $i, $p := parts .Letter}}
<section lang="{{$p.Lang}}">
<h2>{{$p.Heading}}</h2>
<p>{{$p.Part.Greeting}}</p>
{{range $p.Part.Opening}}<p>{{.}}</p>
{{end}}<table>
{{range $p.Part.Facts}}<tr><th align="left">{{index . 0}}</th><td>{{if eq (index . 0) "URL"}}<a href="{{index . 1}}">{{index . 1}}</a>{{else}}{{index . 1}}{{end}}</td></tr>
{{end}}</table>
{{with $p.Part.Reasons}}<p>{{$p.Part.ReasonsTo}}</p>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{with $.EvidenceCopy}}<p>{{$p.Part.EvidenceIntro}} <a href="{{.URL}}">{{.URL}}</a><br>{{$p.Part.EvidenceValid}}</p>
{{end}}{{with $p.Part.Note}}<p style="white-space:pre-wrap">{{.}}</p>
{{end}}<p>{{$p.Part.LegalBasis}}</p>
{{range $p.Part.Closing}}<p>{{.}}</p>
{{end}}<p>{{$p.Part.SignOff}}<br>{{$.Signatory}}</p>
</section>
{{end}}</body></html>
`

type htmlPart struct {
	Lang, Heading string
	Part          Part
}

var htmlNotice = htmltemplate.Must(htmltemplate.New("notice").Funcs(map[string]any{
	"tanggal": TanggalID,
	"date":    DateEN,
	"parts": func(l Letter) []htmlPart {
		return []htmlPart{{"id", "Bahasa Indonesia", l.Indonesian}, {"en", "English", l.English}}
	},
}).Parse(noticeHTML))

// EmailSender sends notices as formal emails through a Mailer.
type EmailSender struct {
	Platform Platform
	Mailer   Mailer
	From     string
	Letters  Letters
	Now      func() time.Time // nil: time.Now
}

// Send composes the notice and mails it. Mailer failures are
// *TransientError (SES throttling and outages pass; a bad address does not
// get better, but the state machine's retry limit ends that).
func (s *EmailSender) Send(ctx context.Context, req Request) (Receipt, error) {
	if s.Mailer == nil {
		return Receipt{}, errors.New("email sender: no mailer")
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	e, err := s.Letters.Email(s.Platform, s.From, req, now)
	if err != nil {
		return Receipt{}, err
	}
	id, err := s.Mailer.Send(ctx, e)
	if err != nil {
		return Receipt{}, &TransientError{Platform: s.Platform.ID, Err: fmt.Errorf("send %s notice: %w", req.Kind, err)}
	}
	return Receipt{PlatformRef: id, Channel: ChannelEmail, IdempotencyKey: req.IdempotencyKey(), SentAt: now}, nil
}
