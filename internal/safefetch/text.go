package safefetch

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxExcerpt is the most characters (runes) in Result.Excerpt.
const MaxExcerpt = 1000

// extract returns the title and the visible text of a body of the given
// media type; both are empty for media types that are not text.
func extract(mediaType string, body []byte) (title, excerpt string) {
	switch {
	case mediaType == "text/html" || mediaType == "application/xhtml+xml":
		return htmlText(body)
	case strings.HasPrefix(mediaType, "text/"):
		return "", clip(collapse(string(body)))
	}
	return "", ""
}

// hidden elements hold no visible text.
var hidden = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Head: true, atom.Svg: true, atom.Iframe: true, atom.Object: true,
}

// blocks separate words: <p>a</p><p>b</p> reads "a b", <b>a</b>b reads "ab".
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.Table: true, atom.Section: true,
	atom.Article: true, atom.Header: true, atom.Footer: true, atom.Nav: true, atom.Main: true,
	atom.Aside: true, atom.Blockquote: true, atom.Pre: true, atom.Hr: true, atom.Dd: true,
	atom.Dt: true, atom.Figcaption: true, atom.Option: true, atom.Title: true, atom.Body: true,
}

func htmlText(body []byte) (title, excerpt string) {
	z := html.NewTokenizer(bytes.NewReader(body))
	var text, titleText words
	var ogTitle string
	depth := 0 // inside hidden elements
	inTitle := false
	for !text.full() {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return pickTitle(titleText.String(), ogTitle), text.String()
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Title:
				inTitle = tt == html.StartTagToken
			case a == atom.Meta && hasAttr && ogTitle == "":
				ogTitle = metaOGTitle(z)
			case hidden[a] && tt == html.StartTagToken:
				depth++
			case hidden[a] && tt == html.EndTagToken && depth > 0:
				depth--
			}
			if blocks[a] {
				text.space()
			}
		case html.TextToken:
			switch {
			case inTitle:
				titleText.write(string(z.Text()))
			case depth == 0:
				text.write(string(z.Text()))
			}
		}
	}
	return pickTitle(titleText.String(), ogTitle), text.String()
}

// words collects text with white space collapsed, up to MaxExcerpt runes.
type words struct {
	b       strings.Builder
	n       int
	pending bool // a space is due before the next word
}

func (w *words) full() bool { return w.n >= MaxExcerpt }

func (w *words) space() { w.pending = w.n > 0 }

func (w *words) write(s string) {
	for _, r := range strings.ToValidUTF8(s, "") {
		if w.full() {
			return
		}
		if unicode.IsSpace(r) {
			w.space()
			continue
		}
		if w.pending {
			w.b.WriteByte(' ')
			w.n++
			w.pending = false
			if w.full() {
				return
			}
		}
		w.b.WriteRune(r)
		w.n++
	}
}

func (w *words) String() string { return w.b.String() }

func metaOGTitle(z *html.Tokenizer) string {
	var property, content string
	for {
		key, val, more := z.TagAttr()
		switch string(key) {
		case "property", "name":
			property = string(val)
		case "content":
			content = string(val)
		}
		if !more {
			break
		}
	}
	if property == "og:title" || property == "twitter:title" {
		return content
	}
	return ""
}

func pickTitle(title, og string) string {
	if title != "" {
		return title
	}
	return clip(collapse(og))
}

// collapse makes s valid UTF-8 with single spaces between words.
func collapse(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
}

// clip cuts s to MaxExcerpt runes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxExcerpt {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxExcerpt {
			return s[:i]
		}
		n++
	}
	return s
}
