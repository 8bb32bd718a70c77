package entity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold rewrites text the way scam posts disguise it back to plain ASCII so
// patterns can see it: styled "bold"/"italic" Unicode letters and digits and
// full-width forms become ASCII, curly quotes and dashes become plain ones,
// flag emoji become " flag_xx " tokens (ISO country code), and, when lower is
// set, letters are lower-cased. offsets[i] is the byte offset in text of the
// rune that produced byte i of the result (with one extra entry for the end),
// so a match in the folded text can be shown as the original words.
func Fold(text string, lower bool) (string, []int) {
	var b strings.Builder
	b.Grow(len(text))
	offsets := make([]int, 0, len(text)+1)
	emit := func(s string, at int) {
		b.WriteString(s)
		for range len(s) {
			offsets = append(offsets, at)
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if isRegional(r) {
			if r2, size2 := utf8.DecodeRuneInString(text[i+size:]); isRegional(r2) {
				code := string([]rune{'a' + (r - 0x1F1E6), 'a' + (r2 - 0x1F1E6)})
				if !lower {
					code = strings.ToUpper(code)
				}
				emit(" flag_"+code+" ", i)
				i += size + size2
				continue
			}
		}
		if r == 0xFE0F || r == 0x20E3 || r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF {
			// Emoji variation selector and keycap mark ("0️⃣" is "0"),
			// zero-width characters hidden inside words and numbers.
			i += size
			continue
		}
		r = plain(r)
		if lower {
			r = unicode.ToLower(r)
		}
		emit(string(r), i)
		i += size
	}
	offsets = append(offsets, len(text))
	return b.String(), offsets
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// plain maps one styled rune to its ASCII look-alike.
func plain(r rune) rune {
	switch {
	case r < 0x80:
		return r
	case r >= 0x1D400 && r <= 0x1D6A3: // mathematical alphanumeric letters, 13 styles of A-Z a-z
		n := (r - 0x1D400) % 52
		if n < 26 {
			return 'A' + n
		}
		return 'a' + n - 26
	case r >= 0x1D7CE && r <= 0x1D7FF: // mathematical digits
		return '0' + (r-0x1D7CE)%10
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		return r - 0xFEE0
	case r >= 0x24B6 && r <= 0x24CF: // circled capitals
		return 'A' + r - 0x24B6
	case r >= 0x24D0 && r <= 0x24E9: // circled small letters
		return 'a' + r - 0x24D0
	case r == 0x2018 || r == 0x2019 || r == 0x201B || r == 0x2032:
		return '\''
	case r == 0x201C || r == 0x201D || r == 0x201F:
		return '"'
	case r == 0x2010 || r == 0x2011 || r == 0x2012 || r == 0x2013 || r == 0x2014 || r == 0x2212:
		return '-'
	case r == 0x00A0 || r == 0x2007 || r == 0x202F:
		return ' '
	case r >= 0x2460 && r <= 0x2468: // circled digits 1-9
		return '1' + r - 0x2460
	case r >= 0x2474 && r <= 0x247C: // parenthesised digits
		return '1' + r - 0x2474
	case r >= 0x2488 && r <= 0x2490: // digits with full stop
		return '1' + r - 0x2488
	case r >= 0x2776 && r <= 0x277E: // negative circled digits
		return '1' + r - 0x2776
	case r >= 0x2780 && r <= 0x2788, r >= 0x278A && r <= 0x2792: // sans-serif circled
		return '1' + (r-0x2780)%10
	case r == 0x24EA || r == 0x24FF || r == 0x1F100:
		return '0'
	case r == 0x2070 || r == 0x2080:
		return '0'
	case r == 0x00B9:
		return '1'
	case r == 0x00B2 || r == 0x00B3:
		return '2' + r - 0x00B2
	case r >= 0x2074 && r <= 0x2079: // superscripts
		return '4' + r - 0x2074
	case r >= 0x2081 && r <= 0x2089: // subscripts
		return '1' + r - 0x2081
	case unicode.IsDigit(r): // any other decimal digit (Arabic-Indic, Thai, Devanagari...)
		z := r
		for unicode.IsDigit(z - 1) {
			z--
		}
		return '0' + (r-z)%10
	}
	return r
}
