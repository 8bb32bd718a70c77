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
	// Wallets are e-wallet accounts (DANA, OVO, GoPay, ShopeePay, LinkAja),
	// "WALLET +62...": their ids are phone numbers, so they also link as one.
	Wallets []string `json:"wallets"`
}

// Kinds of entity keys.
const (
	KindPhone    = "phone"
	KindTelegram = "telegram"
	KindBank     = "bank"
	KindEmail    = "email"
	KindCompany  = "company"
	KindWallet   = "wallet"
)

// Key identifies one entity for indexing.
type Key struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Empty reports whether the set holds nothing.
func (s Set) Empty() bool {
	return len(s.Phones)+len(s.Telegram)+len(s.Banks)+len(s.Companies)+len(s.Emails)+len(s.Wallets) == 0
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
	add(KindWallet, s.Wallets)
	for _, w := range s.Wallets { // the wallet's id is a phone number
		if _, phone, ok := strings.Cut(w, " "); ok {
			add(KindPhone, []string{phone})
		}
	}
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
	// Numbers are read from the text with its disguises undone ("nol
	// delapan...", "O812", "b r i"); handles and addresses as written.
	revealed, _ := Reveal(lower, nil)
	var s Set
	s.Emails = emails(lower)
	var taken [][2]int
	s.Wallets, taken = wallets(revealed)
	var bankTaken [][2]int
	s.Banks, bankTaken = banks(revealed, taken)
	s.Phones = phones(revealed, append(taken, bankTaken...))
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
// digits, alone or in groups separated by up to three spaces, dots, dashes or
// parentheses, or by a line break ("0 8 1 2 - 5 5 5 0", "0812\n5550\n6688").
var phoneRE = regexp.MustCompile(`(?:\+ ?)?\(?\d(?:(?:[ \t.\-()]{1,3}|[ \t]*\n[ \t]*)?\d)*`)

func phones(lower string, taken [][2]int) []string {
	var out []string
	for _, loc := range phoneRE.FindAllStringIndex(lower, -1) {
		start, end := loc[0], loc[1]
		if overlaps(taken, start, end) {
			continue
		}
		// A number glued to a word ("SIP/2025/0123", "abc123") is not a phone.
		link := linkBefore(lower[:start])
		if start > 0 && !link {
			prev := lower[start-1]
			if isAlnum(prev) || prev == '/' || prev == '_' || prev == '-' || prev == '=' {
				continue
			}
		}
		out = append(out, phonesFromCandidate(lower[start:end], link)...)
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

// phonesFromCandidate reads the phone numbers in one run of digit groups:
// from each group, the longest run of groups that is a valid number (a
// phone number followed by an unrelated number, or two numbers in a row).
func phonesFromCandidate(c string, link bool) []string {
	c = strings.TrimSpace(c)
	plus := strings.HasPrefix(strings.TrimLeft(c, "( "), "+")
	groups := strings.FieldsFunc(c, func(r rune) bool {
		return r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+' || r == '\n' || r == '\t'
	})
	var out []string
	for i := 0; i < len(groups); {
		found := false
		for k := len(groups); k > i; k-- {
			if len(digitsOf(strings.Join(groups[i:k], ""))) > 17 {
				continue
			}
			if p, ok := NormalizePhone(strings.Join(groups[i:k], ""), i == 0 && (plus || link)); ok {
				out = append(out, p)
				i, found = k, true
				break
			}
		}
		if !found {
			i++
		}
	}
	return out
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
	atRE     = regexp.MustCompile(`@ ?([a-z][a-z0-9_]{3,31})\b`)
	tgCueRE  = regexp.MustCompile(`(?:\btele(?:gram)?|\btg|\btlg|\btelgram)\b[^@\n]{0,12}$`)
	contCue  = regexp.MustCompile(`(?:daftar|japri|hub(?:ungi)?|kontak|contact|chat|cp|info|dm|pm|join|gabung)\b[^@\n]{0,6}$`)
	otherNet = regexp.MustCompile(`(?:\big\b|insta(?:gram)?|tiktok|\btt\b|twitter|\bx\b|youtube|\byt\b|\bfb\b|facebook)[^@\n]{0,12}$`)
	// A handle named right after "tele", "tg"..., without "@", possibly
	// split by dots or spaced dots ("tg admin . loker_88").
	bareTgRE = regexp.MustCompile(`(?:\btele(?:gram)?|\btelgram|\btg|\btlg)\b\s{0,2}[:=\-]?\s{0,2}((?:[a-z0-9_]+(?:\.|\s\.\s|\s_|_\s))*[a-z0-9_]+)`)
)

// notHandles are words that follow "tele"/"tg" but name nobody.
var notHandles = map[string]bool{
	"admin": true, "kami": true, "resmi": true, "official": true, "langsung": true, "sekarang": true,
	"channel": true, "group": true, "grup": true, "untuk": true, "dengan": true, "atau": true, "yang": true,
	"juga": true, "only": true, "kakak": true, "nomor": true, "number": true, "grupnya": true, "saja": true,
	"ajaa": true, "dulu": true, "admin_": true, "bisa": true, "tersedia": true, "dibawah": true, "berikut": true,
	"gratis": true, "lengkap": true, "khusus": true, "private": true, "pribadi": true, "kerja": true,
	"lowongan": true, "loker": true, "info": true, "japri": true, "terbatas": true,
}

func telegrams(lower string) []string {
	var out []string
	for _, m := range tmeRE.FindAllStringSubmatch(lower, -1) {
		if m[1] != "joinchat" && m[1] != "share" {
			out = append(out, "@"+m[1])
		}
	}
	mentionsTelegram := strings.Contains(lower, "tele") || strings.Contains(lower, "t.me/") || strings.Contains(lower, "tg")
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
			out = append(out, "@"+joinHandle(lower[loc[2]:loc[3]], lower[loc[3]:]))
		}
	}
	for _, m := range bareTgRE.FindAllStringSubmatchIndex(lower, -1) {
		if m[0] > 0 && (isAlnum(lower[m[0]-1]) || lower[m[0]-1] == '.' || lower[m[0]-1] == '/') {
			continue
		}
		h := strings.NewReplacer(" ", "", ".", "").Replace(lower[m[2]:m[3]])
		if !handleRE.MatchString("@"+h) || len(h) < 5 || notHandles[h] {
			continue
		}
		out = append(out, "@"+h)
	}
	return uniq(out)
}

// joinHandle adds to a handle the pieces written after it with spaced dots
// or underscores ("@admin . loker_88").
func joinHandle(h, after string) string {
	for {
		m := handleTailRE.FindStringSubmatch(after)
		if m == nil {
			return h
		}
		h += strings.TrimSpace(m[1])
		after = after[len(m[0]):]
	}
}

var (
	handleRE     = regexp.MustCompile(`^@[a-z][a-z0-9_]{3,31}$`)
	handleTailRE = regexp.MustCompile(`^(?:\.|\s\.\s)([a-z0-9_]+)|^(\s?_[a-z0-9_]+)`)
)

// ---- e-wallets

var walletRE = regexp.MustCompile(`\b(dana|ovo|go[ \-]?pay|shopee[ \-]?pay|spay|link[ \-]?aja)\b[ \t]{0,2}(?:[:\-]|\b(?:ke|no\.?|nomor|number|id|acc)\b)?[ \t:.]{0,3}`)

var walletNames = map[string]string{"dana": "DANA", "ovo": "OVO", "gopay": "GoPay", "go-pay": "GoPay", "shopeepay": "ShopeePay", "shopee pay": "ShopeePay", "spay": "ShopeePay", "linkaja": "LinkAja", "link aja": "LinkAja"}

func walletKey(name string) string { return strings.NewReplacer(" ", "", "-", "").Replace(name) }

// wallets finds e-wallet accounts: a wallet's name followed by the phone
// number that is its id ("DANA 0812...", "OVO: +62 812...").
func wallets(lower string) ([]string, [][2]int) {
	var out []string
	var taken [][2]int
	for _, m := range walletRE.FindAllStringSubmatchIndex(lower, -1) {
		rest := lower[m[1]:]
		loc := phoneRE.FindStringIndex(rest)
		if loc == nil || loc[0] != 0 {
			continue
		}
		ps := phonesFromCandidate(rest[:loc[1]], false)
		if len(ps) == 0 || !strings.HasPrefix(ps[0], "+628") {
			continue
		}
		out = append(out, walletNames[walletKey(lower[m[2]:m[3]])]+" "+ps[0])
		taken = append(taken, [2]int{m[1], m[1] + loc[1]})
	}
	return uniq(out), taken
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

func banks(lower string, skip [][2]int) ([]string, [][2]int) {
	names := bankRE.FindAllStringSubmatchIndex(lower, -1)
	var out []string
	var taken [][2]int
	for _, loc := range accountRE.FindAllStringIndex(lower, -1) {
		start, end := loc[0], loc[1]
		raw := lower[start:end]
		// Trim a trailing group that is clearly not part of the account.
		d := digitsOf(raw)
		if len(d) < 8 || len(d) > 18 || overlaps(skip, start, end) {
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
		if !handleRE.MatchString(v) {
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
	case KindWallet:
		lv := strings.ToLower(v)
		m := walletRE.FindStringSubmatchIndex(lv)
		if m == nil || m[0] != 0 {
			return "", &ValueError{Kind: kind, Value: value, Reason: "not an e-wallet (want DANA, OVO, GoPay, ShopeePay or LinkAja and its phone number)"}
		}
		p, ok := NormalizePhone(lv[m[1]:], strings.HasPrefix(strings.TrimSpace(lv[m[1]:]), "+"))
		if !ok {
			return "", &ValueError{Kind: kind, Value: value, Reason: "the e-wallet's phone number is not valid"}
		}
		return walletNames[walletKey(lv[m[2]:m[3]])] + " " + p, nil
	case KindCompany:
		v = strings.ToLower(spaceRE.ReplaceAllString(v, " "))
		v = regexp.MustCompile(`^(pt|cv|ud)\.\s*`).ReplaceAllString(v, "$1 ")
		return v, nil
	}
	return "", &ValueError{Kind: kind, Value: value, Reason: "unknown kind (want phone, telegram, bank, email, company or wallet)"}
}

// ValueError says why a value could not be normalised.
type ValueError struct{ Kind, Value, Reason string }

func (e *ValueError) Error() string {
	return "entity " + e.Kind + " " + strconvQuote(e.Value) + ": " + e.Reason
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
