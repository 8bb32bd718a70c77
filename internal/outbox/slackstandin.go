package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tangkal/tangkal/internal/slack"
)

// SlackStandIn stands in for Slack locally. It serves the Web API calls
// tangkal makes (chat.postMessage, chat.update, views.open, and posts to
// response URLs), keeps what was posted in a file, and shows each
// channel's messages as Slack would render them (GET /slack), with
// buttons and modals a person can use: a click or a modal submission is
// sent to tangkal's interactivity URL signed with the app's signing
// secret, exactly as Slack sends it. GET /slack/api/state gives the same
// as JSON for scripts and tests.
type SlackStandIn struct {
	// Path is the state file.
	Path string
	// InteractURL is tangkal's POST /slack/interactions.
	InteractURL string
	// Secret is the app's signing secret; Token the bot token it accepts.
	Secret []byte
	Token  string
	// BaseURL is the stand-in's own address (for response URLs).
	BaseURL string
	// Users are the Slack users a person may click as (id → name).
	Users map[string]string
	// HTTP sends interactions (nil: 10 s timeout).
	HTTP *http.Client

	mu    sync.Mutex
	state slackState
	ready bool
}

type slackState struct {
	Messages  []StandInMessage  `json:"messages"`
	Views     []StandInView     `json:"views"`
	Responses []StandInResponse `json:"responses"`
	Triggers  map[string]string `json:"triggers"` // trigger id → user id
	Seq       int               `json:"seq"`
}

// StandInMessage is a posted message.
type StandInMessage struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks"`
	Updated  int             `json:"updated"`
}

// StandInView is a modal opened with views.open.
type StandInView struct {
	ID     string          `json:"id"`
	User   string          `json:"user"`
	View   json.RawMessage `json:"view"`
	Open   bool            `json:"open"`
	Errors map[string]string
}

// StandInResponse is what tangkal posted to a response URL.
type StandInResponse struct {
	ID   string `json:"id"`
	User string `json:"user"`
	Text string `json:"text"`
}

func (s *SlackStandIn) load() {
	if s.ready {
		return
	}
	s.ready = true
	if b, err := os.ReadFile(s.Path); err == nil {
		_ = json.Unmarshal(b, &s.state)
	}
	if s.state.Triggers == nil {
		s.state.Triggers = map[string]string{}
	}
}

func (s *SlackStandIn) save() error {
	b, err := json.Marshal(s.state)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Dir(s.Path), filepath.Base(s.Path), b)
}

func (s *SlackStandIn) next() int { s.state.Seq++; return s.state.Seq }

// State is a copy of what the stand-in holds.
func (s *SlackStandIn) State() slackState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	b, _ := json.Marshal(s.state)
	var c slackState
	_ = json.Unmarshal(b, &c)
	return c
}

// Register adds the stand-in's routes to mux.
func (s *SlackStandIn) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/chat.postMessage", s.webAPI(s.postMessage))
	mux.HandleFunc("POST /api/chat.update", s.webAPI(s.update))
	mux.HandleFunc("POST /api/views.open", s.webAPI(s.viewsOpen))
	mux.HandleFunc("POST /slack/response/{id}", s.response)
	mux.HandleFunc("GET /slack", s.page)
	mux.HandleFunc("GET /slack/api/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.State())
	})
	mux.HandleFunc("POST /slack/click", s.click)
	mux.HandleFunc("POST /slack/submit", s.submit)
}

type apiAnswer map[string]any

// webAPI checks the bot token (form field or bearer header) as Slack does.
func (s *SlackStandIn) webAPI(h func(r *http.Request, form url.Values, body []byte) apiAnswer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		form := url.Values{}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			form, _ = url.ParseQuery(string(body))
		}
		tok := form.Get("token")
		if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tok = t
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if s.Token != "" && tok != s.Token {
			json.NewEncoder(w).Encode(apiAnswer{"ok": false, "error": "invalid_auth"})
			return
		}
		s.mu.Lock()
		s.load()
		ans := h(r, form, body)
		if ans["ok"] == true {
			if err := s.save(); err != nil {
				ans = apiAnswer{"ok": false, "error": "internal_error"}
			}
		}
		s.mu.Unlock()
		json.NewEncoder(w).Encode(ans)
	}
}

func (s *SlackStandIn) postMessage(r *http.Request, f url.Values, _ []byte) apiAnswer {
	ch := f.Get("channel")
	if ch == "" {
		return apiAnswer{"ok": false, "error": "channel_not_found"}
	}
	blocks := json.RawMessage(f.Get("blocks"))
	if len(blocks) == 0 {
		blocks = json.RawMessage("[]")
	}
	if !json.Valid(blocks) {
		return apiAnswer{"ok": false, "error": "invalid_blocks"}
	}
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), s.next())
	s.state.Messages = append(s.state.Messages, StandInMessage{Channel: ch, TS: ts, ThreadTS: f.Get("thread_ts"), Text: f.Get("text"), Blocks: blocks})
	return apiAnswer{"ok": true, "channel": ch, "ts": ts, "message": map[string]any{"text": f.Get("text"), "ts": ts}}
}

func (s *SlackStandIn) update(r *http.Request, f url.Values, _ []byte) apiAnswer {
	for i, m := range s.state.Messages {
		if m.Channel == f.Get("channel") && m.TS == f.Get("ts") {
			if b := f.Get("blocks"); b != "" {
				if !json.Valid([]byte(b)) {
					return apiAnswer{"ok": false, "error": "invalid_blocks"}
				}
				s.state.Messages[i].Blocks = json.RawMessage(b)
			}
			s.state.Messages[i].Text = f.Get("text")
			s.state.Messages[i].Updated++
			return apiAnswer{"ok": true, "channel": m.Channel, "ts": m.TS, "text": f.Get("text")}
		}
	}
	return apiAnswer{"ok": false, "error": "message_not_found"}
}

func (s *SlackStandIn) viewsOpen(r *http.Request, _ url.Values, body []byte) apiAnswer {
	var in struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.View) == 0 {
		return apiAnswer{"ok": false, "error": "invalid_arguments"}
	}
	user, ok := s.state.Triggers[in.TriggerID]
	if !ok {
		return apiAnswer{"ok": false, "error": "invalid_trigger_id"}
	}
	delete(s.state.Triggers, in.TriggerID) // a trigger opens one view
	id := fmt.Sprintf("V%08d", s.next())
	s.state.Views = append(s.state.Views, StandInView{ID: id, User: user, View: in.View, Open: true})
	return apiAnswer{"ok": true, "view": map[string]any{"id": id}}
}

func (s *SlackStandIn) response(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	id := r.PathValue("id")
	user, _, _ := strings.Cut(id, "-")
	s.mu.Lock()
	s.load()
	s.state.Responses = append(s.state.Responses, StandInResponse{ID: id, User: user, Text: in.Text})
	err := s.save()
	s.mu.Unlock()
	if err != nil {
		http.Error(w, "internal_error", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "ok")
}

var userRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// click sends a block_actions interaction for a button of a message,
// signed as Slack signs it.
func (s *SlackStandIn) click(w http.ResponseWriter, r *http.Request) {
	channel, ts, actionID, user := r.FormValue("channel"), r.FormValue("ts"), r.FormValue("action_id"), r.FormValue("user")
	if !userRE.MatchString(user) {
		http.Error(w, "user: not a Slack user id", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.load()
	var msg *StandInMessage
	for i := range s.state.Messages {
		if s.state.Messages[i].Channel == channel && s.state.Messages[i].TS == ts {
			msg = &s.state.Messages[i]
		}
	}
	if msg == nil {
		s.mu.Unlock()
		http.Error(w, "no such message", http.StatusNotFound)
		return
	}
	button, blockID, ok := findButton(msg.Blocks, actionID)
	if !ok {
		s.mu.Unlock()
		http.Error(w, "no such button", http.StatusNotFound)
		return
	}
	trigger := fmt.Sprintf("%d.%d.%s", time.Now().Unix(), s.next(), randomHex(8))
	s.state.Triggers[trigger] = user
	respID := user + "-" + randomHex(8)
	m := *msg
	err := s.save()
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	now := time.Now()
	payload := map[string]any{
		"type": "block_actions", "api_app_id": "A0TANGKAL", "token": "deprecated-verification-token",
		"team":       map[string]any{"id": "T0LOCAL", "domain": "tangkal-local"},
		"user":       map[string]any{"id": user, "username": s.Users[user], "name": s.Users[user], "team_id": "T0LOCAL"},
		"container":  map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": false},
		"channel":    map[string]any{"id": m.Channel, "name": strings.TrimPrefix(m.Channel, "#")},
		"message":    map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "blocks": m.Blocks},
		"trigger_id": trigger, "response_url": s.BaseURL + "/slack/response/" + respID,
		"actions": []map[string]any{{"type": "button", "action_id": actionID, "block_id": blockID, "value": button["value"],
			"text": button["text"], "action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)}},
	}
	status, ans := s.send(r.Context(), payload)
	s.answer(w, r, status, ans)
}

// submit sends a view_submission for an open modal, with the typed
// reason as the input's value.
func (s *SlackStandIn) submit(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("view")
	s.mu.Lock()
	s.load()
	var v *StandInView
	for i := range s.state.Views {
		if s.state.Views[i].ID == id && s.state.Views[i].Open {
			v = &s.state.Views[i]
		}
	}
	if v == nil {
		s.mu.Unlock()
		http.Error(w, "no such open view", http.StatusNotFound)
		return
	}
	var view map[string]any
	_ = json.Unmarshal(v.View, &view)
	view["id"], view["team_id"], view["hash"] = v.ID, "T0LOCAL", randomHex(6)
	values := map[string]any{}
	for _, b := range blocksOf(view["blocks"]) {
		if b["type"] == "input" {
			el, _ := b["element"].(map[string]any)
			aid, _ := el["action_id"].(string)
			bid, _ := b["block_id"].(string)
			values[bid] = map[string]any{aid: map[string]any{"type": el["type"], "value": r.FormValue("value")}}
		}
	}
	view["state"] = map[string]any{"values": values}
	user := v.User
	s.mu.Unlock()
	payload := map[string]any{
		"type": "view_submission", "api_app_id": "A0TANGKAL", "token": "deprecated-verification-token",
		"team": map[string]any{"id": "T0LOCAL", "domain": "tangkal-local"},
		"user": map[string]any{"id": user, "username": s.Users[user], "name": s.Users[user], "team_id": "T0LOCAL"},
		"view": view, "response_urls": []any{},
	}
	status, ans := s.send(r.Context(), payload)
	var act struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(ans, &act)
	s.mu.Lock()
	for i := range s.state.Views {
		if s.state.Views[i].ID == id {
			if status == 200 && act.Action != "errors" {
				s.state.Views[i].Open = false
			}
			s.state.Views[i].Errors = act.Errors
		}
	}
	_ = s.save()
	s.mu.Unlock()
	s.answer(w, r, status, ans)
}

// send posts payload as Slack does: form-encoded payload=<json>, signed.
func (s *SlackStandIn) send(ctx context.Context, payload map[string]any) (int, []byte) {
	raw, _ := json.Marshal(payload)
	body := []byte(url.Values{"payload": {string(raw)}}.Encode())
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.InteractURL, bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(slack.HeaderTimestamp, ts)
	req.Header.Set(slack.HeaderSignature, slack.Sign(s.Secret, ts, body))
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	c := s.HTTP
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b
}

func (s *SlackStandIn) answer(w http.ResponseWriter, r *http.Request, status int, ans []byte) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": status, "body": string(ans)})
		return
	}
	http.Redirect(w, r, "/slack?status="+strconv.Itoa(status), http.StatusSeeOther)
}

func blocksOf(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, b := range list {
		if m, ok := b.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func findButton(blocks json.RawMessage, actionID string) (map[string]any, string, bool) {
	var list []any
	_ = json.Unmarshal(blocks, &list)
	for _, b := range blocksOf(list) {
		if b["type"] != "actions" {
			continue
		}
		bid, _ := b["block_id"].(string)
		for _, el := range blocksOf(b["elements"]) {
			if el["action_id"] == actionID {
				return el, bid, true
			}
		}
	}
	return nil, "", false
}

// Rendering: Slack's blocks as HTML.

type renderedBlock struct {
	Kind    string // header, section, context, actions, divider, input
	Text    template.HTML
	Fields  []template.HTML
	Buttons []renderedButton
}

type renderedButton struct {
	ActionID, Text, Style, Confirm string
}

type renderedMessage struct {
	StandInMessage
	Rendered []renderedBlock
}

type renderedView struct {
	StandInView
	Title    string
	Rendered []renderedBlock
	Submit   string
}

var (
	boldRE   = regexp.MustCompile(`\*([^*\n]+)\*`)
	italicRE = regexp.MustCompile(`(^|[\s(])_([^_\n]+)_`)
)

// mrkdwn renders Slack's mrkdwn (bold, italics, quotes, line breaks); the
// text is already escaped by the sender (&amp; &lt; &gt;).
func mrkdwn(s string) template.HTML {
	s = strings.NewReplacer("&amp;", "\x00amp", "&lt;", "\x00lt", "&gt;", "\x00gt").Replace(s)
	s = template.HTMLEscapeString(s)
	s = strings.NewReplacer("\x00amp", "&amp;", "\x00lt", "&lt;", "\x00gt", "&gt;").Replace(s)
	s = boldRE.ReplaceAllString(s, "<b>$1</b>")
	s = italicRE.ReplaceAllString(s, "$1<i>$2</i>")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if q, ok := strings.CutPrefix(l, "&gt; "); ok {
			l = `<span class="quote">` + q + `</span>`
		}
		lines = append(lines, l)
	}
	return template.HTML(strings.Join(lines, "<br>"))
}

func textOf(v any) string {
	m, _ := v.(map[string]any)
	t, _ := m["text"].(string)
	if m["type"] == "plain_text" {
		return template.HTMLEscapeString(t)
	}
	return t
}

func renderBlocks(blocks []map[string]any) []renderedBlock {
	var out []renderedBlock
	for _, b := range blocks {
		kind, _ := b["type"].(string)
		rb := renderedBlock{Kind: kind}
		switch kind {
		case "header":
			rb.Text = template.HTML(textOf(b["text"]))
		case "section":
			rb.Text = mrkdwn(textOf(b["text"]))
			for _, f := range blocksOf(b["fields"]) {
				rb.Fields = append(rb.Fields, mrkdwn(textOf(f)))
			}
		case "context":
			var parts []string
			for _, e := range blocksOf(b["elements"]) {
				parts = append(parts, string(mrkdwn(textOf(e))))
			}
			rb.Text = template.HTML(strings.Join(parts, " "))
		case "actions":
			for _, e := range blocksOf(b["elements"]) {
				aid, _ := e["action_id"].(string)
				style, _ := e["style"].(string)
				conf := ""
				if c, ok := e["confirm"].(map[string]any); ok {
					conf = textOf(c["title"])
				}
				rb.Buttons = append(rb.Buttons, renderedButton{ActionID: aid, Text: textOf(e["text"]), Style: style, Confirm: conf})
			}
		case "input":
			rb.Text = template.HTML(textOf(b["label"]))
		}
		out = append(out, rb)
	}
	return out
}

func (s *SlackStandIn) page(w http.ResponseWriter, r *http.Request) {
	st := s.State()
	var msgs []renderedMessage
	for i := len(st.Messages) - 1; i >= 0; i-- {
		m := st.Messages[i]
		var list []any
		_ = json.Unmarshal(m.Blocks, &list)
		msgs = append(msgs, renderedMessage{StandInMessage: m, Rendered: renderBlocks(blocksOf(list))})
	}
	var views []renderedView
	for _, v := range st.Views {
		if !v.Open {
			continue
		}
		var view map[string]any
		_ = json.Unmarshal(v.View, &view)
		views = append(views, renderedView{StandInView: v, Title: textOf(view["title"]), Submit: textOf(view["submit"]), Rendered: renderBlocks(blocksOf(view["blocks"]))})
	}
	users := s.Users
	setPageHeaders(w)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	slackPage.Execute(w, map[string]any{"Messages": msgs, "Views": views, "Users": users, "Responses": st.Responses, "Status": r.URL.Query().Get("status")})
}

var slackPage = template.Must(template.New("slack").Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Slack (lokal / local)</title>
<style>body{font-family:Lato,sans-serif;background:#f8f8f8;max-width:52em;margin:1em auto}
.msg{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em 1em;margin:1em 0}
.ch{color:#616061;font-size:.85em}.fields{display:grid;grid-template-columns:1fr 1fr;gap:.4em 1em;margin:.5em 0}
.quote{border-left:4px solid #ddd;padding-left:.6em;color:#444;display:inline-block}
button{border:1px solid #bbb;border-radius:4px;background:#fff;padding:.35em .9em;margin-right:.4em;font-weight:bold;cursor:pointer}
button.primary{background:#007a5a;color:#fff;border-color:#007a5a}button.danger{color:#e01e5a;border-color:#e01e5a}
.ctx{color:#616061;font-size:.9em}.modal{background:#fff;border:2px solid #1264a3;border-radius:8px;padding:1em;margin:1em 0}
textarea{width:100%}.err{color:#e01e5a}.eph{background:#fff8e5;border:1px dashed #e0b000;padding:.5em;margin:.5em 0}</style></head>
<body><h1>Slack (pengganti lokal / local stand-in)</h1>
{{with .Status}}<p class="ctx">Jawaban tangkal / tangkal answered: HTTP {{.}}</p>{{end}}
<form id="who"><label>Klik sebagai / Click as: <select name="user" form="none">{{range $id, $name := .Users}}<option>{{$id}}</option>{{end}}</select></label></form>
{{range .Views}}<div class="modal"><h2>{{.Title}}</h2>
<form method="post" action="/slack/submit"><input type="hidden" name="view" value="{{.ID}}">
{{range .Rendered}}{{if eq .Kind "input"}}<p><label>{{.Text}}<br><textarea name="value" rows="3"></textarea></label></p>{{else}}<p>{{.Text}}</p>{{end}}{{end}}
{{range $k, $v := .Errors}}<p class="err">{{$v}}</p>{{end}}
<button class="primary" type="submit">{{.Submit}}</button> <span class="ctx">(sebagai / as {{.User}})</span></form></div>{{end}}
{{range .Responses}}<div class="eph">Hanya terlihat oleh Anda / Only visible to you ({{.User}}): {{.Text}}</div>{{end}}
{{range .Messages}}<div class="msg"><div class="ch">{{.Channel}} · {{.TS}}{{with .ThreadTS}} · di utas / in thread {{.}}{{end}}{{if .Updated}} · (diubah / edited){{end}}</div>
{{$m := .}}{{range .Rendered}}
{{if eq .Kind "header"}}<h3>{{.Text}}</h3>
{{else if eq .Kind "section"}}<p>{{.Text}}</p>{{with .Fields}}<div class="fields">{{range .}}<div>{{.}}</div>{{end}}</div>{{end}}
{{else if eq .Kind "context"}}<p class="ctx">{{.Text}}</p>
{{else if eq .Kind "actions"}}<div>{{range .Buttons}}<form method="post" action="/slack/click" style="display:inline">
<input type="hidden" name="channel" value="{{$m.Channel}}"><input type="hidden" name="ts" value="{{$m.TS}}">
<input type="hidden" name="action_id" value="{{.ActionID}}">
<select name="user">{{range $id, $name := $.Users}}<option value="{{$id}}">{{$id}} {{$name}}</option>{{end}}</select>
<button class="{{.Style}}" type="submit"{{with .Confirm}} title="{{.}}"{{end}}>{{.Text}}</button></form>{{end}}</div>{{end}}
{{end}}</div>{{else}}<p>Belum ada pesan / No messages yet.</p>{{end}}
</body></html>`))
