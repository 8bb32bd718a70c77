package outbox

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The outbox answers the part of Mailpit's JSON API that scripts and
// tests use: GET /api/v1/messages (newest first; start, limit) and GET
// /api/v1/message/{ID} (ID "latest" is the newest), in Mailpit's shapes.
// A message's ID is its file name without ".eml".

// MailpitAddress is an address in Mailpit's JSON.
type MailpitAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// MailpitSummary is one message of GET /api/v1/messages.
type MailpitSummary struct {
	ID          string           `json:"ID"`
	MessageID   string           `json:"MessageID"`
	Read        bool             `json:"Read"`
	From        MailpitAddress   `json:"From"`
	To          []MailpitAddress `json:"To"`
	Cc          []MailpitAddress `json:"Cc"`
	Bcc         []MailpitAddress `json:"Bcc"`
	ReplyTo     []MailpitAddress `json:"ReplyTo"`
	Subject     string           `json:"Subject"`
	Created     time.Time        `json:"Created"`
	Tags        []string         `json:"Tags"`
	Size        int              `json:"Size"`
	Attachments int              `json:"Attachments"`
	Snippet     string           `json:"Snippet"`
}

// MailpitMessage is GET /api/v1/message/{ID}.
type MailpitMessage struct {
	ID          string           `json:"ID"`
	MessageID   string           `json:"MessageID"`
	From        MailpitAddress   `json:"From"`
	To          []MailpitAddress `json:"To"`
	Cc          []MailpitAddress `json:"Cc"`
	Bcc         []MailpitAddress `json:"Bcc"`
	ReplyTo     []MailpitAddress `json:"ReplyTo"`
	ReturnPath  string           `json:"ReturnPath"`
	Subject     string           `json:"Subject"`
	Date        time.Time        `json:"Date"`
	Tags        []string         `json:"Tags"`
	Text        string           `json:"Text"`
	HTML        string           `json:"HTML"`
	Size        int              `json:"Size"`
	Inline      []any            `json:"Inline"`
	Attachments []any            `json:"Attachments"`
}

func (f *Folder) registerMailpit(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/messages", f.apiMessages)
	mux.HandleFunc("GET /api/v1/message/{id}", f.apiMessage)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *Folder) apiMessages(w http.ResponseWriter, r *http.Request) {
	entries, err := f.List()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"Error": err.Error()})
		return
	}
	var all []MailpitSummary
	for _, e := range entries {
		if e.Kind != "email" {
			continue
		}
		m, err := f.mailpitMessage(strings.TrimSuffix(e.Name, ".eml"))
		if err != nil {
			continue
		}
		snippet := strings.Join(strings.Fields(m.Text), " ")
		if len(snippet) > 250 {
			snippet = snippet[:250] + "…"
		}
		all = append(all, MailpitSummary{ID: m.ID, MessageID: m.MessageID, From: m.From, To: m.To, Cc: m.Cc, Bcc: m.Bcc,
			ReplyTo: m.ReplyTo, Subject: m.Subject, Created: m.Date, Tags: m.Tags, Size: m.Size, Snippet: snippet})
	}
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("start"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 50
	}
	start = max(0, min(start, len(all)))
	page := all[start:min(len(all), start+limit)]
	if page == nil {
		page = []MailpitSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(all), "unread": 0, "count": len(page), "messages_count": len(all),
		"start": start, "tags": []string{}, "messages": page})
}

func (f *Folder) apiMessage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "latest" {
		entries, _ := f.List()
		for _, e := range entries {
			if e.Kind == "email" {
				id = strings.TrimSuffix(e.Name, ".eml")
				break
			}
		}
	}
	m, err := f.mailpitMessage(id)
	if err != nil {
		http.Error(w, "message not found", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func addresses(h mail.Header, key string) []MailpitAddress {
	out := []MailpitAddress{}
	list, err := h.AddressList(key)
	if err != nil {
		return out
	}
	for _, a := range list {
		out = append(out, MailpitAddress{Name: a.Name, Address: a.Address})
	}
	return out
}

func (f *Folder) mailpitMessage(id string) (MailpitMessage, error) {
	name := id + ".eml"
	if !fileNameRE.MatchString(name) {
		return MailpitMessage{}, os.ErrNotExist
	}
	raw, err := os.ReadFile(filepath.Join(f.Dir, name))
	if err != nil {
		return MailpitMessage{}, err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return MailpitMessage{}, err
	}
	text, html, err := Bodies(raw)
	if err != nil {
		return MailpitMessage{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	date, _ := msg.Header.Date()
	m := MailpitMessage{ID: id, MessageID: strings.Trim(msg.Header.Get("Message-Id"), "<>"), To: addresses(msg.Header, "To"),
		Cc: addresses(msg.Header, "Cc"), Bcc: []MailpitAddress{}, ReplyTo: addresses(msg.Header, "Reply-To"),
		ReturnPath: msg.Header.Get("Return-Path"), Subject: subject, Date: date, Tags: []string{}, Text: text, HTML: html,
		Size: len(raw), Inline: []any{}, Attachments: []any{}}
	if from := addresses(msg.Header, "From"); len(from) > 0 {
		m.From = from[0]
	}
	return m, nil
}
