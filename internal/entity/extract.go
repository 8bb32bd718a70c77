// Package entity finds the recruiter identifiers in an ad (phone numbers,
// Telegram handles, bank accounts, company names, emails), normalises them so
// the same recruiter matches across posts, and indexes them to cases in
// DynamoDB.
package entity

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Set holds the normalised identifiers found in one text.
type Set struct {
	Phones    []string `json:"phones"`    // E.164, e.g. +6281255500371
	Telegram  []string `json:"telegram"`  // lower-case @handle
	Banks     []string `json:"banks"`     // "BANK digits", e.g. "BRI 057101555021503"
	Companies []string `json:"companies"` // as named, e.g. "PT Sagara Mitra Rantau"
	Emails    []string `json:"emails"`    // lower-case
}

// Kinds of entity keys.
const (
	KindPhone    = "phone"
	KindTelegram = "telegram"
	KindBank     = "bank"
	KindEmail    = "email"
	KindCompany  = "company"
)

// Key identifies one entity for indexing.
type Key struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Empty reports whether the set holds nothing.
func (s Set) Empty() bool {
	return len(s.Phones)+len(s.Telegram)+len(s.Banks)+len(s.Companies)+len(s.Emails) == 0
}

// Keys lists the set's entities as index keys. Company keys are lower-cased
// (see Normalize) so spelling case does not split a recruiter.
func (s Set) Keys() []Key {
	var keys []Key
	add := func(kind string, values []string) {
		for _, v := range values {
			if n, err := Normalize(kind, v); err == nil {
				keys = append(keys, Key{Kind: kind, Value: n})
			}
		}
	}
	add(KindPhone, s.Phones)
	add(KindTelegram, s.Telegram)
	add(KindBank, s.Banks)
	add(KindEmail, s.Emails)
	add(KindCompany, s.Companies)
	return uniqKeys(keys)
}

func uniqKeys(keys []Key) []Key {
	seen := map[Key]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Extract finds and normalises the entities in text.
func Extract(text string) Set {
	folded, _ := Fold(text, false)
	lower := strings.ToLower(folded)
	var s Set
	s.Emails = emails(lower)
	var taken [][2]int
	s.Banks, taken = banks(lower)
	s.Phones = phones(lower, taken)
	s.Telegram = telegrams(lower)
	s.Companies = companies(folded)
	return s
}

func uniq(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ---- emails

var emailRE = regexp.MustCompile(`[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}`)

func emails(lower string) []string {
	return uniq(emailRE.FindAllString(lower, -1))
}

// ---- phones

// phoneRE finds digit runs that may be phone numbers: an optional "+", then
// digit groups separated by one space, dot, dash or parentheses.
var phoneRE = regexp.MustCompile(`(?:\+ ?)?\(?\+?\d[\d().\-]*(?:[ ][\d().\-]*\d)*`)

func phones(lower string, taken [][2]int) []string {
	var out []string
	for _, loc := range phoneRE.FindAllStringIndex(lower, -1) {
		start, end := loc[0], loc[1]
		if overlaps(taken, start, end) {
			continue
		}
		// A number glued to a word ("SIP/2025/0123", "abc123") is not a phone.
		if start > 0 {
			prev := lower[start-1]
			if isAlnum(prev) || prev == '/' || prev == '_' || prev == '-' {
				if !strings.HasSuffix(lower[:start], "wa.me/") && !strings.HasSuffix(lower[:start], "phone=") {
					continue
				}
			}
		}
		if p, ok := phoneFromCandidate(lower[start:end], linkBefore(lower[:start])); ok {
			out = append(out, p)
		}
	}
	return uniq(out)
}

func linkBefore(before string) bool {
	return strings.HasSuffix(before, "wa.me/") || strings.HasSuffix(before, "phone=") || strings.HasSuffix(before, "wa.me/+")
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func overlaps(spans [][2]int, start, end int) bool {
	for _, s := range spans {
		if start < s[1] && s[0] < end {
			return true
		}
	}
	return false
}

// phoneFromCandidate tries the whole candidate, then drops trailing digit
// groups (a phone number followed by an unrelated number) until one is valid.
func phoneFromCandidate(c string, link bool) (string, bool) {
	c = strings.TrimSpace(c)
	plus := strings.HasPrefix(strings.TrimLeft(c, "( "), "+")
	groups := strings.FieldsFunc(c, func(r rune) bool { return r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+' })
	for k := len(groups); k >= 1; k-- {
		if p, ok := NormalizePhone(strings.Join(groups[:k], ""), plus || link); ok {
			return p, true
		}
	}
	return "", false
}

// NormalizePhone turns the digits of a phone number as written into E.164.
// international says the number was written with a leading "+" (or came from
// a wa.me link), so it starts with a country code.
func NormalizePhone(number string, international bool) (string, bool) {
	d := digitsOf(number)
	switch {
	case strings.HasPrefix(d, "62"):
		rest := strings.TrimPrefix(d[2:], "0")
		if !international && (len(rest) == 0 || rest[0] != '8') {
			return "", false
		}
		return indonesian(rest)
	case international:
		if len(d) >= 8 && len(d) <= 15 && d[0] != '0' {
			return "+" + d, true
		}
	case strings.HasPrefix(d, "00"):
		if len(d) >= 10 && len(d) <= 17 && d[2] != '0' {
			if strings.HasPrefix(d[2:], "62") {
				return indonesian(d[4:])
			}
			return "+" + d[2:], true
		}
	case strings.HasPrefix(d, "0"):
		return indonesian(d[1:])
	}
	return "", false
}

// indonesian validates a national significant number (without 0 or 62).
func indonesian(rest string) (string, bool) {
	if rest == "" {
		return "", false
	}
	switch c := rest[0]; {
	case c == '8': // mobile: 8xx + 6 to 9 digits
		if len(rest) >= 9 && len(rest) <= 12 {
			return "+62" + rest, true
		}
	case c >= '2' && c <= '7': // fixed line: area code + subscriber number
		if len(rest) >= 8 && len(rest) <= 11 {
			return "+62" + rest, true
		}
	}
	return "", false
}

// ---- Telegram

var (
	tmeRE    = regexp.MustCompile(`(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?([a-z][a-z0-9_]{3,31})\b`)
	atRE     = regexp.MustCompile(`@([a-z][a-z0-9_]{3,31})\b`)
	tgCueRE  = regexp.MustCompile(`(?:\btele(?:gram)?|\btg|\btlg|\btelgram)\b[^@\n]{0,12}$`)
	contCue  = regexp.MustCompile(`(?:daftar|japri|hub(?:ungi)?|kontak|contact|chat|cp|info|dm|pm|join|gabung)\b[^@\n]{0,6}$`)
	otherNet = regexp.MustCompile(`(?:\big\b|insta(?:gram)?|tiktok|\btt\b|twitter|\bx\b|youtube|\byt\b|\bfb\b|facebook)[^@\n]{0,12}$`)
)

func telegrams(lower string) []string {
	var out []string
	for _, m := range tmeRE.FindAllStringSubmatch(lower, -1) {
		if m[1] != "joinchat" && m[1] != "share" {
			out = append(out, "@"+m[1])
		}
	}
	mentionsTelegram := strings.Contains(lower, "tele") || strings.Contains(lower, "t.me/")
	for _, loc := range atRE.FindAllStringSubmatchIndex(lower, -1) {
		start := loc[0]
		if start > 0 && (isAlnum(lower[start-1]) || strings.ContainsRune("._-", rune(lower[start-1]))) {
			continue // part of an email address
		}
		before := lower[max(0, start-24):start]
		if otherNet.MatchString(before) {
			continue
		}
		if tgCueRE.MatchString(before) || (contCue.MatchString(before) && (mentionsTelegram || !strings.Contains(before, "dm"))) {
			out = append(out, "@"+lower[loc[2]:loc[3]])
		}
	}
	return uniq(out)
}

// ---- banks

// bankNames maps how banks are written to the name used in values.
var bankNames = []struct{ re, name string }{
	{`bank rakyat indonesia|bri`, "BRI"},
	{`bank negara indonesia|bni`, "BNI"},
	{`bank central asia|bca`, "BCA"},
	{`bank syariah indonesia|bsi`, "BSI"},
	{`mandiri`, "Mandiri"},
	{`btn`, "BTN"},
	{`cimb(?: niaga)?`, "CIMB Niaga"},
	{`danamon`, "Danamon"},
	{`permata`, "Permata"},
	{`bjb`, "BJB"},
	{`bank jago|jago`, "Jago"},
	{`seabank`, "SeaBank"},
	{`muamalat`, "Muamalat"},
	{`ocbc(?: nisp)?`, "OCBC NISP"},
	{`panin`, "Panin"},
	{`maybank`, "Maybank"},
	{`btpn|jenius`, "BTPN"},
	{`bank dki`, "Bank DKI"},
	{`bank jatim`, "Bank Jatim"},
	{`bank jateng`, "Bank Jateng"},
	{`bpd [a-z]+`, "BPD"},
	{`bank mega`, "Bank Mega"},
}

var (
	bankRE      *regexp.Regexp
	accountRE   = regexp.MustCompile(`\d[\d .\-]{6,26}\d`)
	rekCueRE    = regexp.MustCompile(`(?:\brek(?:ening)?|no\.?\s?rek|norek|acc(?:ount)?|a/c)\b[\s.:]*(?:[a-z]{2,10}[\s.:]*)?$`)
	phoneCueRE  = regexp.MustCompile(`(?:\bwa\b|whatsapp|\bhp\b|telp|telepon|\bcall\b|\bhub\b|hubungi|kontak|\bsms\b)`)
	gapBreakRE  = regexp.MustCompile(`[\n!?;]|\d`)
	bankNameIdx = map[string]string{}
)

func init() {
	alts := make([]string, len(bankNames))
	for i, b := range bankNames {
		alts[i] = "(" + b.re + ")"
	}
	bankRE = regexp.MustCompile(`\b(?:` + strings.Join(alts, "|") + `)\b`)
}

func bankName(match []int) string {
	for i := range bankNames {
		if match[2+2*i] >= 0 {
			return bankNames[i].name
		}
	}
	return ""
}

func banks(lower string) ([]string, [][2]int) {
	names := bankRE.FindAllStringSubmatchIndex(lower, -1)
	var out []string
	var taken [][2]int
	for _, loc := range accountRE.FindAllStringIndex(lower, -1) {
		start, end := loc[0], loc[1]
		raw := lower[start:end]
		// Trim a trailing group that is clearly not part of the account.
		d := digitsOf(raw)
		if len(d) < 8 || len(d) > 18 {
			continue
		}
		if start > 0 && (lower[start-1] == '+' || isAlnum(lower[start-1])) {
			continue
		}
		before := lower[max(0, start-40):start]
		name := ""
		// A bank name shortly before the number, with no phone cue in between.
		for _, n := range names {
			if n[1] <= start && start-n[1] <= 30 {
				gap := lower[n[1]:start]
				if !phoneCueRE.MatchString(gap) && !gapBreakRE.MatchString(gap) {
					name = bankName(n)
				}
			}
		}
		// Or just after it: "057101555021503 (BRI)".
		if name == "" {
			for _, n := range names {
				if n[0] >= end && n[0]-end <= 4 {
					name = bankName(n)
					break
				}
			}
		}
		rekCue := rekCueRE.MatchString(before)
		if name == "" && !rekCue {
			continue
		}
		// A mobile number next to a bank name is still a phone unless the
		// text says it is an account ("rek 0812...").
		if _, isPhone := NormalizePhone(d, false); isPhone && strings.HasPrefix(d, "08") && !rekCue {
			continue
		}
		if name == "" {
			name = "REK"
		}
		out = append(out, name+" "+d)
		taken = append(taken, [2]int{start, end})
	}
	return uniq(out), taken
}

// ---- companies

var (
	legalFormRE = regexp.MustCompile(`(?:^|[^\pL\pN])(PT|Pt|CV|UD)\.?[ \t]+`)
	suffixRE    = regexp.MustCompile(`((?:[A-Z][\pL'&]*[ \t]){1,4})(Resort|Hotel|Restoran|Resto|Cafe|Café|Klinik|Clinic|Hospital|Logistik|Group|Grup|Sdn\.? Bhd\.?|Ltd\.?|Inc\.?|Corp\.?|Limited|Company)\b`)
	tradeRE     = regexp.MustCompile(`\b(Bakmi|Mie|Bakso|Kedai|Warung|Warteg|Kopi|Rumah Makan|RM|Depot|Soto|Sate|Salon|Bengkel|Apotek|Laundry|Konveksi|Toko)[ \t]+([A-Z][\pL']+(?:[ \t][A-Z][\pL']+){0,3})`)
	shopRE      = regexp.MustCompile(`\b(?:Toko|Usaha|Outlet|Warung|Rumah Makan)[ \t]*:[ \t]*([A-Z][\pL']*(?:[ \t][A-Z][\pL']*){0,4})`)
)

// nameStop are capitalised words that end a company name in running text.
var nameStop = map[string]bool{
	"izin": true, "sip3mi": true, "p3mi": true, "membuka": true, "buka": true, "dibutuhkan": true,
	"butuh": true, "kantor": true, "lowongan": true, "info": true, "wa": true, "telp": true,
	"resmi": true, "menjamin": true, "cari": true, "mencari": true, "merekrut": true, "rekrut": true,
	"sip": true, "no": true, "nomor": true, "alamat": true, "jl": true, "hub": true, "hubungi": true,
	"kontak": true, "job": true, "untuk": true, "utk": true, "di": true, "dan": true, "ke": true,
	"kami": true, "yang": true, "yg": true, "adalah": true, "bersama": true, "tbk": true,
}

// cities are dropped from the end of a company name ("PT X Y Surabaya").
var cities = map[string]bool{
	"jakarta": true, "surabaya": true, "bandung": true, "medan": true, "semarang": true, "malang": true,
	"batam": true, "cianjur": true, "cirebon": true, "indramayu": true, "tangerang": true, "bekasi": true,
	"bogor": true, "depok": true, "sukabumi": true, "karawang": true, "ponorogo": true, "blitar": true,
	"kediri": true, "madiun": true, "jember": true, "banyuwangi": true, "tulungagung": true, "lampung": true,
	"palembang": true, "pekanbaru": true, "padang": true, "makassar": true, "denpasar": true, "bali": true,
	"mataram": true, "lombok": true, "kupang": true, "pontianak": true, "samarinda": true, "balikpapan": true,
	"manado": true, "yogyakarta": true, "jogja": true, "sleman": true, "solo": true, "surakarta": true,
	"cilacap": true, "tegal": true, "brebes": true, "pati": true, "kendal": true, "serang": true,
	"cilegon": true, "sidoarjo": true, "gresik": true, "nunukan": true, "tarakan": true, "banjarmasin": true,
	"jambi": true, "bengkulu": true, "aceh": true, "ambon": true, "jayapura": true, "purwakarta": true,
	"subang": true, "majalengka": true, "kuningan": true, "garut": true, "tasikmalaya": true, "ciamis": true,
	"banyumas": true, "purwokerto": true, "kebumen": true, "wonosobo": true, "magelang": true, "klaten": true,
	"boyolali": true, "wonogiri": true, "ngawi": true, "lamongan": true, "tuban": true, "bojonegoro": true,
	"pasuruan": true, "probolinggo": true, "lumajang": true, "situbondo": true, "jombang": true, "mojokerto": true,
	"sumbawa": true, "bima": true, "kendari": true, "palu": true, "gorontalo": true,
}

func companies(folded string) []string {
	var out []string
	for _, loc := range legalFormRE.FindAllStringSubmatchIndex(folded, -1) {
		form := strings.ToUpper(folded[loc[2]:loc[3]])
		if name := nameAfter(folded[loc[1]:]); name != "" {
			out = append(out, form+" "+name)
		}
	}
	for _, m := range suffixRE.FindAllStringSubmatch(folded, -1) {
		head := strings.Fields(m[1])
		// Drop leading non-name words ("Lowongan Hotel ...").
		for len(head) > 0 && nameStop[strings.ToLower(head[0])] {
			head = head[1:]
		}
		if len(head) == 0 || (len(head) > 0 && (head[0] == "PT" || head[0] == "CV")) {
			continue
		}
		out = append(out, strings.Join(append(head, strings.TrimSuffix(m[2], ".")), " "))
	}
	for _, m := range tradeRE.FindAllStringSubmatch(folded, -1) {
		words := strings.Fields(m[2])
		for len(words) > 1 && cities[strings.ToLower(words[len(words)-1])] {
			words = words[:len(words)-1]
		}
		if !nameStop[strings.ToLower(words[0])] {
			out = append(out, m[1]+" "+strings.Join(words, " "))
		}
	}
	for _, m := range shopRE.FindAllStringSubmatch(folded, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return uniq(out)
}

// nameAfter reads the capitalised words of a company name after "PT ".
func nameAfter(s string) string {
	var words []string
	for _, tok := range strings.Fields(s) {
		if len(words) == 6 {
			break
		}
		word := strings.TrimRightFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		ended := word != tok
		r := []rune(word)
		if len(r) == 0 || !unicode.IsUpper(r[0]) || nameStop[strings.ToLower(word)] {
			break
		}
		if strings.ContainsAny(word, "/") {
			break
		}
		words = append(words, titleIfShouting(word))
		if ended && !strings.HasSuffix(tok, "'") {
			break
		}
	}
	for len(words) > 2 && cities[strings.ToLower(words[len(words)-1])] {
		words = words[:len(words)-1]
	}
	if len(words) < 2 {
		return ""
	}
	return strings.Join(words, " ")
}

func titleIfShouting(w string) string {
	if len(w) <= 3 || strings.ToUpper(w) != w {
		return w
	}
	r := []rune(strings.ToLower(w))
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// ---- normalisation of lookups

var spaceRE = regexp.MustCompile(`\s+`)

// Normalize turns a value as a user types it into the form stored in the
// entity index: E.164 phones, lower-case @handles and emails, "BANK digits"
// accounts, lower-case company names with "PT." written "pt".
func Normalize(kind, value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", &ValueError{Kind: kind, Value: value, Reason: "empty"}
	}
	switch kind {
	case KindPhone:
		plus := strings.HasPrefix(v, "+")
		if p, ok := NormalizePhone(v, plus); ok {
			return p, nil
		}
		if p, ok := NormalizePhone(v, true); ok && !strings.HasPrefix(digitsOf(v), "0") {
			return p, nil
		}
		return "", &ValueError{Kind: kind, Value: value, Reason: "not a phone number"}
	case KindTelegram:
		v = strings.ToLower(v)
		if i := strings.LastIndex(v, "t.me/"); i >= 0 {
			v = v[i+len("t.me/"):]
		}
		v = "@" + strings.TrimPrefix(v, "@")
		if !regexp.MustCompile(`^@[a-z][a-z0-9_]{3,31}$`).MatchString(v) {
			return "", &ValueError{Kind: kind, Value: value, Reason: "not a Telegram username"}
		}
		return v, nil
	case KindBank:
		d := digitsOf(v)
		name := strings.TrimSpace(strings.TrimRightFunc(v, func(r rune) bool { return !unicode.IsLetter(r) }))
		if len(d) < 8 {
			return "", &ValueError{Kind: kind, Value: value, Reason: "account number too short"}
		}
		if i := strings.IndexFunc(v, unicode.IsDigit); i > 0 {
			name = strings.TrimSpace(v[:i])
		}
		if m := bankRE.FindStringSubmatchIndex(strings.ToLower(name)); m != nil {
			name = bankName(m)
		} else if name == "" {
			name = "REK"
		} else {
			name = strings.ToUpper(name)
		}
		return name + " " + d, nil
	case KindEmail:
		v = strings.ToLower(v)
		if !emailRE.MatchString(v) {
			return "", &ValueError{Kind: kind, Value: value, Reason: "not an email address"}
		}
		return v, nil
	case KindCompany:
		v = strings.ToLower(spaceRE.ReplaceAllString(v, " "))
		v = regexp.MustCompile(`^(pt|cv|ud)\.\s*`).ReplaceAllString(v, "$1 ")
		return v, nil
	}
	return "", &ValueError{Kind: kind, Value: value, Reason: "unknown kind (want phone, telegram, bank, email or company)"}
}

// ValueError says why a value could not be normalised.
type ValueError struct{ Kind, Value, Reason string }

func (e *ValueError) Error() string {
	return "entity " + e.Kind + " " + strconvQuote(e.Value) + ": " + e.Reason
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
