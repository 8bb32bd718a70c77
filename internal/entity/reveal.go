package entity

import (
	"regexp"
	"strings"
)

// Reveal undoes the disguises scam posts use to slip past moderation, on
// lower-cased folded text (see Fold): letters written one by one with dots,
// dashes or spaces ("k.a.m.b.o.j.a", "b r i"), numbers spelled out in words
// (Indonesian, Javanese, Sundanese, Malay, English: "nol delapan satu dua",
// "kosong lapan"), letters for digits inside numbers ("O812 555O 88l9") and
// digits for letters inside words ("k4mb0ja", "l0k3r"). offsets maps each
// byte of s to a byte of the original text (see Fold); the result carries
// the same mapping, so a match is still quoted as the words it came from.
// offsets may be nil when no mapping is needed.
func Reveal(s string, offsets []int) (string, []int) {
	o := out{track: offsets != nil}
	s, offsets = glueLetters(s, offsets, &o)
	s, offsets = spelledNumbers(s, offsets)
	return mixedTokens(s, offsets)
}

type out struct{ track bool }

// builder writes text and, when tracking, one source offset per byte.
type builder struct {
	b    strings.Builder
	offs []int
	src  []int
}

func newBuilder(n int, src []int) *builder {
	bl := &builder{src: src}
	bl.b.Grow(n)
	if src != nil {
		bl.offs = make([]int, 0, n+1)
	}
	return bl
}

// copy writes s[i:j] unchanged.
func (bl *builder) copy(s string, i, j int) {
	bl.b.WriteString(s[i:j])
	if bl.src != nil {
		bl.offs = append(bl.offs, bl.src[i:j]...)
	}
}

// put writes text standing for the source byte at i.
func (bl *builder) put(text string, i int) {
	bl.b.WriteString(text)
	if bl.src != nil {
		for range len(text) {
			bl.offs = append(bl.offs, bl.src[i])
		}
	}
}

func (bl *builder) done(s string) (string, []int) {
	if bl.src != nil {
		bl.offs = append(bl.offs, bl.src[len(s)])
	}
	return bl.b.String(), bl.offs
}

// Runs of single letters with one and the same separator between them.
var gluedRE = []*regexp.Regexp{
	regexp.MustCompile(`\b[a-z](?:\.[a-z]\b){2,}\.?`),
	regexp.MustCompile(`\b[a-z](?:-[a-z]\b){2,}`),
	regexp.MustCompile(`\b[a-z](?: [a-z]\b){2,}`),
	regexp.MustCompile(`\b[a-z](?:_[a-z]\b){2,}`),
}

func glueLetters(s string, offsets []int, _ *out) (string, []int) {
	for _, re := range gluedRE {
		locs := re.FindAllStringIndex(s, -1)
		if locs == nil {
			continue
		}
		bl := newBuilder(len(s), offsets)
		prev := 0
		for _, l := range locs {
			bl.copy(s, prev, l[0])
			for i := l[0]; i < l[1]; i++ {
				if c := s[i]; c >= 'a' && c <= 'z' {
					bl.copy(s, i, i+1)
				}
			}
			prev = l[1]
		}
		bl.copy(s, prev, len(s))
		s, offsets = bl.done(s)
	}
	return s, offsets
}

// numberWords are digits spelled out in the languages ads are written in.
var numberWords = map[string]byte{
	// Indonesian and Malay
	"nol": '0', "kosong": '0', "satu": '1', "dua": '2', "tiga": '3', "empat": '4', "ampat": '4', "lima": '5',
	"enam": '6', "tujuh": '7', "delapan": '8', "lapan": '8', "sembilan": '9', "sembilen": '9',
	// Javanese
	"siji": '1', "loro": '2', "telu": '3', "papat": '4', "limo": '5', "enem": '6', "pitu": '7', "wolu": '8',
	"songo": '9', "sanga": '9', "nul": '0',
	// Sundanese
	"enol": '0', "hiji": '1', "tilu": '3', "opat": '4', "genep": '6', "dalapan": '8', "salapan": '9',
	// English
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4', "five": '5', "six": '6',
	"seven": '7', "eight": '8', "nine": '9',
}

var wordRE = regexp.MustCompile(`[a-z]+`)

// spelledNumbers turns runs of six or more number words into digits: a
// phone number or account spelled out. Shorter runs ("dua orang") stay words.
func spelledNumbers(s string, offsets []int) (string, []int) {
	words := wordRE.FindAllStringIndex(s, -1)
	type run struct{ start, end int } // indexes into words
	var runs []run
	for i := 0; i < len(words); {
		if _, ok := numberWords[s[words[i][0]:words[i][1]]]; !ok {
			i++
			continue
		}
		j := i + 1
		for j < len(words) {
			if _, ok := numberWords[s[words[j][0]:words[j][1]]]; !ok {
				break
			}
			if gap := s[words[j-1][1]:words[j][0]]; strings.Trim(gap, " ,-\t") != "" || len(gap) > 3 {
				break
			}
			j++
		}
		if j-i >= 6 {
			runs = append(runs, run{i, j})
		}
		i = j
	}
	if runs == nil {
		return s, offsets
	}
	bl := newBuilder(len(s), offsets)
	prev := 0
	for _, r := range runs {
		bl.copy(s, prev, words[r.start][0])
		for _, w := range words[r.start:r.end] {
			bl.put(string(numberWords[s[w[0]:w[1]]]), w[0])
		}
		prev = words[r.end-1][1]
	}
	bl.copy(s, prev, len(s))
	return bl.done(s)
}

var tokenRE = regexp.MustCompile(`[a-z0-9]+`)

// leet are digits written for letters inside words.
var leet = map[byte]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't'}

// asDigit are letters written for digits inside numbers.
var asDigit = map[byte]byte{'o': '0', 'l': '1', 'i': '1'}

// keepTokens mix letters and digits on purpose.
var keepTokens = map[string]bool{"sip3mi": true, "p3mi": true, "g2g": true, "b2b": true, "b2c": true, "mp3": true, "mp4": true, "k3": true, "covid19": true}

var moneyTokenRE = regexp.MustCompile(`^(?:rp|rm|usd|us|sgd|hkd|hk|ntd|nt|idr|myr|aud|sar|qar|aed|jpy|krw)\d`)

func mixedTokens(s string, offsets []int) (string, []int) {
	var bl *builder
	prev := 0
	for _, l := range tokenRE.FindAllStringIndex(s, -1) {
		tok := s[l[0]:l[1]]
		rep := revealToken(tok)
		if rep == tok {
			continue
		}
		if bl == nil {
			bl = newBuilder(len(s), offsets)
		}
		bl.copy(s, prev, l[0])
		for i := range len(tok) { // same length: byte i stands for byte i
			bl.put(rep[i:i+1], l[0]+i)
		}
		prev = l[1]
	}
	if bl == nil {
		return s, offsets
	}
	bl.copy(s, prev, len(s))
	return bl.done(s)
}

// revealToken rewrites one token that mixes letters and digits.
func revealToken(tok string) string {
	var letters, digits, digitLike, leetLike int
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c >= '0' && c <= '9' {
			digits++
			if _, ok := leet[c]; ok {
				leetLike++
			}
		} else {
			letters++
			if _, ok := asDigit[c]; ok {
				digitLike++
			}
		}
	}
	if letters == 0 || digits == 0 || keepTokens[tok] {
		return tok
	}
	b := []byte(tok)
	// A number with a few letters in it: "o812", "555o", "88l9", "o85l".
	if digitLike == letters && digits >= 2 && letters <= digits {
		for i, c := range b {
			if d, ok := asDigit[c]; ok {
				b[i] = d
			}
		}
		return string(b)
	}
	if leetLike != digits || letters < 2 || moneyTokenRE.MatchString(tok) {
		return tok
	}
	// A word with digits for letters: a digit between letters ("k4mb0ja"),
	// or one leading or trailing digit on a longer word ("0nline", "kamboj4").
	inside := false
	for i := 1; i+1 < len(b); i++ {
		if isDigitByte(b[i]) && !isDigitByte(b[i-1]) && !isDigitByte(b[i+1]) {
			inside = true
		}
	}
	edge := letters >= 4 && digits == 1 && (isDigitByte(b[0]) || isDigitByte(b[len(b)-1]))
	if !inside && !edge {
		return tok
	}
	if edge && !inside && unitWords[strings.Trim(tok, "0123456789")] {
		return tok
	}
	for i, c := range b {
		if l, ok := leet[c]; ok {
			b[i] = l
		}
	}
	return string(b)
}

// unitWords follow a number glued to them ("3bulan", "5orang").
var unitWords = map[string]bool{"bulan": true, "tahun": true, "orang": true, "hari": true, "minggu": true, "jam": true, "menit": true, "juta": true, "ribu": true, "kali": true, "tahunan": true, "bulanan": true, "harian": true}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }
