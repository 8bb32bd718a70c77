package outbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Folder is the local outbox: a directory of .eml (email) and .json (Slack)
// files. It implements Mailer, and Handler serves it.
type Folder struct {
	Dir string
	Now func() time.Time // nil: time.Now
	// Domain is the right-hand side of generated Message-IDs.
	Domain string
	// Slack, when set, is served by Handler too (Slack's Web API and
	// its rendered channels).
	Slack *SlackStandIn
}

// NewFolder creates dir if needed and returns an outbox writing into it.
func NewFolder(dir string) (*Folder, error) {
	if dir == "" {
		return nil, errors.New("outbox folder: dir required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("outbox folder: %w", err)
	}
	return &Folder{Dir: dir, Domain: "tangkal.local"}, nil
}

func (f *Folder) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fileName starts with a sortable UTC timestamp so that names sort by time.
func (f *Folder) fileName(t time.Time, ext string) string {
	return t.UTC().Format("20060102T150405.000000000Z") + "-" + randomHex(4) + ext
}

// Send writes e as an RFC 5322 message (multipart/alternative when HTML is
// set) and returns its Message-ID. With an IdempotencyHeader it writes a
// given key only once and returns the first Message-ID again.
func (f *Folder) Send(ctx context.Context, e Email) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := e.Validate(); err != nil {
		return "", err
	}
	now := f.now()
	domain := f.Domain
	if domain == "" {
		domain = "tangkal.local"
	}
	id := "<" + randomHex(12) + "@" + domain + ">"

	// The message is written first and claimed second: a crash in between
	// leaves a message without a claim, so a retry may write it twice, but
	// a claimed key always has its message (at least once, never lost).
	raw, err := render(e, id, now)
	if err != nil {
		return "", fmt.Errorf("outbox: write email %q: %w", e.Subject, err)
	}
	name := f.fileName(now, ".eml")
	if err := writeAtomic(f.Dir, name, raw); err != nil {
		return "", fmt.Errorf("outbox: write email %q: %w", e.Subject, err)
	}
	if key := e.Headers[IdempotencyHeader]; key != "" {
		sum := sha256.Sum256([]byte(key))
		claim := filepath.Join(f.Dir, ".sent-"+hex.EncodeToString(sum[:16]))
		won, prev, err := claimKey(f.Dir, claim, id)
		if err != nil {
			return "", fmt.Errorf("outbox: claim key %q: %w", key, err)
		}
		if !won { // sent before: keep the first copy only
			os.Remove(filepath.Join(f.Dir, name))
			return prev, nil
		}
	}
	return id, nil
}

// claimKey atomically creates claim holding id (a hard link of a complete
// temp file, so a reader never sees it half written). When the claim exists
// it returns the id stored in it.
func claimKey(dir, claim, id string) (won bool, prev string, err error) {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return false, "", err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(id)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return false, "", werr
	}
	err = os.Link(tmp.Name(), claim)
	if err == nil {
		return true, "", nil
	}
	if !errors.Is(err, os.ErrExist) {
		return false, "", err
	}
	b, err := os.ReadFile(claim)
	if err != nil {
		return false, "", err
	}
	return false, string(b), nil
}

// SlackMessage is what Folder writes for each Slack post.
type SlackMessage struct {
	Channel  string          `json:"channel"`
	Blocks   json.RawMessage `json:"blocks"`
	PostedAt time.Time       `json:"posted_at"`
}

// Post writes the Slack message as a .json file.
func (f *Folder) Post(ctx context.Context, channel string, blocks json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if channel == "" {
		return errors.New("slack post field channel: required")
	}
	if !json.Valid(blocks) {
		return errors.New("slack post field blocks: not valid JSON")
	}
	now := f.now()
	b, err := json.MarshalIndent(SlackMessage{Channel: channel, Blocks: blocks, PostedAt: now.UTC()}, "", "  ")
	if err != nil {
		return fmt.Errorf("outbox: encode slack message: %w", err)
	}
	if err := writeAtomic(f.Dir, f.fileName(now, ".json"), b); err != nil {
		return fmt.Errorf("outbox: write slack message: %w", err)
	}
	return nil
}

func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

func formatAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", s, err)
	}
	return a.String(), nil
}

// render builds the RFC 5322 message with CRLF line endings.
func render(e Email, id string, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	from, err := formatAddress(e.From)
	if err != nil {
		return nil, err
	}
	to := make([]string, len(e.To))
	for i, a := range e.To {
		if to[i], err = formatAddress(a); err != nil {
			return nil, err
		}
	}
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", id)
	h("MIME-Version", "1.0")
	keys := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch textproto.CanonicalMIMEHeaderKey(k) {
		case "From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "Content-Transfer-Encoding":
			continue // ours
		}
		h(k, mime.QEncoding.Encode("utf-8", e.Headers[k]))
	}
	if e.HTML == "" {
		h("Content-Type", `text/plain; charset="utf-8"`)
		h("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, e.Text); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	mw := multipart.NewWriter(&buf)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	buf.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{
		{`text/plain; charset="utf-8"`, e.Text},
		{`text/html; charset="utf-8"`, e.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(pw, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if _, err := qp.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n"))); err != nil {
		return err
	}
	return qp.Close()
}
