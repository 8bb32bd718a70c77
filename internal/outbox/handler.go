package outbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Entry is one message in the outbox listing.
type Entry struct {
	Name    string // file name, the message's address under the handler
	Kind    string // "email" or "slack"
	Subject string // email subject, or the Slack channel
	To      string
	Date    time.Time
}

var fileNameRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]*\.(eml|json)$`)

// List returns the outbox's messages, newest first.
func (f *Folder) List() ([]Entry, error) {
	des, err := os.ReadDir(f.Dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	var out []Entry
	for _, de := range des {
		if de.IsDir() || !fileNameRE.MatchString(de.Name()) {
			continue
		}
		e, err := f.entry(de.Name())
		if err != nil {
			slog.Warn("outbox: unreadable message", "file", de.Name(), "err", err)
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Date.Equal(out[j].Date) {
			return out[i].Date.After(out[j].Date)
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

func (f *Folder) entry(name string) (Entry, error) {
	b, err := os.ReadFile(filepath.Join(f.Dir, name))
	if err != nil {
		return Entry{}, err
	}
	if strings.HasSuffix(name, ".json") {
		var m SlackMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return Entry{}, err
		}
		return Entry{Name: name, Kind: "slack", Subject: "Slack " + m.Channel, To: m.Channel, Date: m.PostedAt}, nil
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return Entry{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	date, _ := msg.Header.Date()
	return Entry{Name: name, Kind: "email", Subject: subject, To: msg.Header.Get("To"), Date: date}, nil
}

// Handler serves the outbox: GET / lists the messages (newest first), GET
// /m/<name> shows one with its links clickable, GET /raw/<name> returns the
// file as stored.
func (f *Folder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.serveList)
	mux.HandleFunc("GET /m/{name}", f.serveMessage)
	mux.HandleFunc("GET /raw/{name}", f.serveRaw)
	f.registerMailpit(mux)
	if f.Slack != nil {
		f.Slack.Register(mux)
	}
	return mux
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; frame-ancestors 'self'")
}

func (f *Folder) serveList(w http.ResponseWriter, r *http.Request) {
	entries, err := f.List()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	listPage.Execute(w, entries)
}

func (f *Folder) open(w http.ResponseWriter, r *http.Request) (string, []byte, bool) {
	name := r.PathValue("name")
	if !fileNameRE.MatchString(name) {
		http.Error(w, "no such message", http.StatusNotFound)
		return "", nil, false
	}
	b, err := os.ReadFile(filepath.Join(f.Dir, name))
	if err != nil {
		http.Error(w, "no such message", http.StatusNotFound)
		return "", nil, false
	}
	return name, b, true
}

func (f *Folder) serveRaw(w http.ResponseWriter, r *http.Request) {
	name, b, ok := f.open(w, r)
	if !ok {
		return
	}
	ct := "message/rfc822"
	if strings.HasSuffix(name, ".json") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

type messageView struct {
	Entry
	Headers [][2]string
	Text    []segment
	HTML    string
}

// segment is a run of text, or a link when URL is set.
type segment struct {
	Text string
	URL  string
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"'\x60]+[^\s<>"'\x60.,;:!?)\]]`)

func linkify(s string) []segment {
	var out []segment
	for {
		loc := linkRE.FindStringIndex(s)
		if loc == nil {
			if s != "" {
				out = append(out, segment{Text: s})
			}
			return out
		}
		if loc[0] > 0 {
			out = append(out, segment{Text: s[:loc[0]]})
		}
		out = append(out, segment{Text: s[loc[0]:loc[1]], URL: s[loc[0]:loc[1]]})
		s = s[loc[1]:]
	}
}

func (f *Folder) serveMessage(w http.ResponseWriter, r *http.Request) {
	name, b, ok := f.open(w, r)
	if !ok {
		return
	}
	e, err := f.entry(name)
	if err != nil {
		http.Error(w, "unreadable message", http.StatusInternalServerError)
		return
	}
	v := messageView{Entry: e}
	if e.Kind == "slack" {
		var pretty bytes.Buffer
		var m SlackMessage
		json.Unmarshal(b, &m)
		json.Indent(&pretty, m.Blocks, "", "  ")
		v.Text = linkify(pretty.String())
	} else {
		text, html, headers, err := readEmail(b)
		if err != nil {
			http.Error(w, "unreadable message", http.StatusInternalServerError)
			return
		}
		v.Headers, v.Text, v.HTML = headers, linkify(text), html
	}
	setPageHeaders(w)
	messagePage.Execute(w, v)
}

// readEmail returns the text and HTML bodies and the headers of a message.
func readEmail(raw []byte) (text, html string, headers [][2]string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", nil, err
	}
	dec := new(mime.WordDecoder)
	for _, k := range []string{"From", "To", "Date", "Message-Id"} {
		headers = append(headers, [2]string{k, msg.Header.Get(k)})
	}
	for k, vs := range msg.Header {
		if strings.HasPrefix(k, "X-") {
			v, _ := dec.DecodeHeader(vs[0])
			headers = append(headers, [2]string{k, v})
		}
	}
	sort.SliceStable(headers[4:], func(i, j int) bool { return headers[4+i][0] < headers[4+j][0] })
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", "", nil, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodeBody(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return body, "", headers, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", nil, err
		}
		body, err := decodeBody(p.Header.Get("Content-Transfer-Encoding"), p)
		if err != nil {
			return "", "", nil, err
		}
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			text = body
		case "text/html":
			html = body
		}
	}
	return text, html, headers, nil
}

func decodeBody(cte string, r io.Reader) (string, error) {
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n"), err
}

var listPage = template.Must(template.New("list").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>tangkal outbox</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}tr:nth-child(even){background:#f4f4f4}</style>
</head><body><h1>Outbox</h1>
{{if not .}}<p>No messages yet.</p>{{else}}
<table><tr><th>Date</th><th>Kind</th><th>To</th><th>Subject</th></tr>
{{range .}}<tr><td>{{.Date.Format "2006-01-02 15:04:05 MST"}}</td><td>{{.Kind}}</td><td>{{.To}}</td>
<td><a href="m/{{.Name}}">{{.Subject}}</a></td></tr>
{{end}}</table>{{end}}
</body></html>`))

var messagePage = template.Must(template.New("message").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title>
<style>body{font-family:sans-serif;margin:2em}pre{white-space:pre-wrap;background:#f8f8f8;padding:1em}iframe{width:100%;height:40em;border:1px solid #ccc}</style>
</head><body><p><a href="../">&larr; outbox</a> · <a href="../raw/{{.Name}}">raw</a></p>
<h1>{{.Subject}}</h1>
<table>{{range .Headers}}<tr><th align="left">{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<pre>{{range .Text}}{{if .URL}}<a href="{{.URL}}" rel="noreferrer">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>
{{if .HTML}}<h2>HTML part</h2><iframe sandbox="allow-popups allow-top-navigation-by-user-activation" srcdoc="{{.HTML}}"></iframe>{{end}}
</body></html>`))

// Bodies returns the decoded text and HTML bodies of a stored message.
func Bodies(raw []byte) (text, html string, err error) {
	text, html, _, err = readEmail(raw)
	return text, html, err
}
