package safefetch

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name, mediaType, body, title, excerpt string
	}{
		{"visible text only", "text/html",
			`<html><head><title>Lowongan &amp; Info</title><style>.x{}</style><script>alert("x")</script></head>` +
				`<body><nav>Menu</nav><p>Kerja <i>di</i>  Taiwan</p><noscript>aktifkan JS</noscript><div>Gaji&#32;25&nbsp;jt</div>` +
				`<template><p>hidden</p></template><svg><text>logo</text></svg></body></html>`,
			"Lowongan & Info", "Menu Kerja di Taiwan Gaji 25 jt"},
		{"og:title when no title", "text/html",
			`<meta property="og:title" content="Loker  Kapal"><p>isi</p>`, "Loker Kapal", "isi"},
		{"inline tags join words", "text/html", `<p>lo<b>ker</b></p><p>baru</p>`, "", "loker baru"},
		{"broken html", "text/html", `<p>Gaji <b>tinggi<div>tanpa</p> <script>`, "", "Gaji tinggi tanpa"},
		{"plain text", "text/plain", "  baris satu\n\n\tbaris   dua ", "", "baris satu baris dua"},
		{"invalid utf-8 dropped", "text/plain", "ok\xff\xfeok", "", "okok"},
		{"binary", "image/png", "\x89PNG\r\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, excerpt := extract(tt.mediaType, []byte(tt.body))
			if title != tt.title || excerpt != tt.excerpt {
				t.Errorf("extract = %q, %q\nwant      %q, %q", title, excerpt, tt.title, tt.excerpt)
			}
		})
	}
}

func TestExcerptIsCapped(t *testing.T) {
	body := "<p>" + strings.Repeat("pekerjaan ", 5000) + "</p>"
	_, excerpt := extract("text/html", []byte(body))
	if n := utf8.RuneCountInString(excerpt); n != MaxExcerpt {
		t.Errorf("excerpt has %d characters, want %d", n, MaxExcerpt)
	}
	_, excerpt = extract("text/plain", []byte(strings.Repeat("é ", 3000)))
	if n := utf8.RuneCountInString(excerpt); n != MaxExcerpt || !utf8.ValidString(excerpt) {
		t.Errorf("plain excerpt has %d characters (valid %v), want %d", n, utf8.ValidString(excerpt), MaxExcerpt)
	}
}
