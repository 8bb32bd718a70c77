package platform

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/risk"
)

const copyHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// A case as verification leaves it: risk indicators, a legitimacy sign the
// notice must not cite, and a stored copy.
func caseRequest(kind Kind) Request {
	return Request{CaseID: "c_01JQ7", Kind: kind, Attempt: 1, URL: "https://t.me/lokerkamboja/5551212", Platform: "telegram",
		Urgency: UrgencyUrgent, Deadline: t0.Add(4 * time.Hour),
		Findings: Findings{Indicators: []string{"tourist_visa", "passport_held", "scam_hub_destination", "office_address_given"}, EvidenceSHA256: copyHash}}
}

func testLetters(t *testing.T) (Letters, *evidence.Links) {
	t.Helper()
	rules, err := risk.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	links, err := evidence.NewLinks([]byte("evidence-secret-0123456789abcdef"), "https://api.tangkal.example", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return Letters{Names: IndicatorNames(rules), Evidence: links}, links
}

var (
	// Month names that differ between the languages.
	englishMonth    = regexp.MustCompile(`\b(January|February|March|May|June|July|August|October|December)\b`)
	indonesianMonth = regexp.MustCompile(`\b(Januari|Februari|Maret|Mei|Juni|Juli|Agustus|Oktober|Desember)\b`)
	sentenceStart   = regexp.MustCompile(`[.!?]\s+(\S)`)
)

// parts splits a notice's text into its Indonesian and English parts.
func parts(t *testing.T, text string) (id, en string) {
	t.Helper()
	_, rest, ok1 := strings.Cut(text, "\nBAHASA INDONESIA\n")
	id, en, ok2 := strings.Cut(rest, "\nENGLISH\n")
	if !ok1 || !ok2 {
		t.Fatalf("notice has no Indonesian and English parts:\n%s", text)
	}
	return id, en
}

// checkProse fails for the faults of the old notices: Go list syntax,
// local paths, internal ids, sentences or paragraphs starting lower-case.
func checkProse(t *testing.T, what, text string) {
	t.Helper()
	for _, bad := range []string{"[", "]", "file://", "s3://", ".local/", "tourist_visa", "scam_hub_destination", "WARNING_", "score"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s contains %q:\n%s", what, bad, text)
		}
	}
	for _, m := range sentenceStart.FindAllStringSubmatch(text, -1) {
		if r, _ := utf8.DecodeRuneInString(m[1]); unicode.IsLetter(r) && !unicode.IsUpper(r) {
			t.Errorf("%s: a sentence starts lower-case: %q", what, m[0])
		}
	}
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.TrimSpace(para)
		if r, _ := utf8.DecodeRuneInString(para); unicode.IsLetter(r) && !unicode.IsUpper(r) {
			t.Errorf("%s: a paragraph starts lower-case: %q", what, para)
		}
	}
}

func TestNoticesReadAsFormalLetters(t *testing.T) {
	letters, links := testLetters(t)
	cfg, _ := Default()
	tg := cfg.Platforms["telegram"]
	sent := t0.Add(-time.Minute) // 2 March 2026, 14:59 WIB
	tests := []struct {
		kind               Kind
		subject            string
		idPhrase, enPhrase string
	}{
		{KindTakedown, "Permintaan Penurunan Konten – Nomor TKL/c_01JQ7/PK/2026 – Takedown request", "iklan perekrutan pekerja migran secara ilegal", "illegal migrant-worker recruitment advertisement"},
		{KindWarning1, "Peringatan Pertama – Nomor TKL/c_01JQ7/P1/2026 – First warning", "masih dapat diakses setelah batas waktu", "still available after the deadline"},
		{KindWarning2, "Peringatan Kedua – Nomor TKL/c_01JQ7/P2/2026 – Second warning", "peringatan kedua", "second warning"},
		{KindWarning3, "Peringatan Ketiga dan Rekomendasi Sanksi – Nomor TKL/c_01JQ7/P3/2026 – Third warning and sanction recommendation", "sanksi administratif", "administrative sanctions"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			e, err := letters.Email(tg, "tangkal@agency.example", caseRequest(tt.kind), sent)
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tt.subject {
				t.Errorf("subject %q, want %q", e.Subject, tt.subject)
			}
			checkProse(t, "text", e.Text)
			checkProse(t, "subject", e.Subject)
			id, en := parts(t, e.Text)
			if !strings.Contains(id, tt.idPhrase) || !strings.Contains(en, tt.enPhrase) {
				t.Errorf("parts lack %q / %q:\n%s", tt.idPhrase, tt.enPhrase, e.Text)
			}
			// Dates in each language's own way, in WIB.
			for _, want := range []string{"2 Maret 2026 pukul 19.00 WIB", "1 April 2026 pukul 14.59 WIB"} {
				if !strings.Contains(id, want) {
					t.Errorf("Indonesian part lacks %q", want)
				}
			}
			for _, want := range []string{"2 March 2026, 19:00 WIB", "1 April 2026, 14:59 WIB"} {
				if !strings.Contains(en, want) {
					t.Errorf("English part lacks %q", want)
				}
			}
			if m := englishMonth.FindString(id); m != "" {
				t.Errorf("Indonesian part has the English month %q", m)
			}
			if m := indonesianMonth.FindString(en); m != "" {
				t.Errorf("English part has the Indonesian month %q", m)
			}
			// Reasons named in each language; the legitimacy sign is not cited.
			for _, want := range []string{"Keberangkatan dengan visa turis atau kunjungan", "Paspor pekerja ditahan", "Tujuan ke wilayah pusat penipuan daring"} {
				if !strings.Contains(id, "- "+want+"\n") {
					t.Errorf("Indonesian part does not list %q", want)
				}
			}
			for _, want := range []string{"Departure on a tourist or visit visa", "Worker's passport withheld", "Destination in a scam-compound region"} {
				if !strings.Contains(en, "- "+want+"\n") {
					t.Errorf("English part does not list %q", want)
				}
			}
			if strings.Contains(e.Text, "alamat kantor") || strings.Contains(e.Text, "Office address") {
				t.Error("the notice cites a sign of legitimacy as a reason")
			}
			// The evidence link opens the copy on the API, and it verifies.
			link := regexp.MustCompile(`https://api\.tangkal\.example/evidence/\S+`).FindString(e.Text)
			u, err := url.Parse(link)
			if err != nil || u.Path != "/evidence/"+copyHash {
				t.Fatalf("evidence link %q", link)
			}
			if err := links.Verify(copyHash, u.Query().Get("exp"), u.Query().Get("sig"), sent.Add(29*24*time.Hour)); err != nil {
				t.Errorf("link does not verify within its lifetime: %v", err)
			}
			if err := links.Verify(copyHash, u.Query().Get("exp"), u.Query().Get("sig"), sent.Add(30*24*time.Hour)); err == nil {
				t.Error("link still valid after 30 days")
			}
			if !strings.Contains(e.HTML, `href="`+html.EscapeString(link)+`"`) {
				t.Errorf("HTML lacks the evidence link")
			}
			for _, bad := range []string{"[", "]", "file://", "tourist_visa"} {
				if strings.Contains(e.HTML, bad) {
					t.Errorf("HTML contains %q", bad)
				}
			}
			if e.Headers[outbox.IdempotencyHeader] != caseRequest(tt.kind).IdempotencyKey() {
				t.Errorf("idempotency header %q", e.Headers[outbox.IdempotencyHeader])
			}
		})
	}
}

func TestWebhookBodyCarriesTheLetter(t *testing.T) {
	letters, links := testLetters(t)
	cfg, _ := Default()
	var got WebhookPayload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body: %v", err)
		}
		io.WriteString(w, `{"reference":"FB-1"}`)
	}))
	defer srv.Close()
	p := cfg.Platforms["facebook"]
	p.WebhookURL = srv.URL + "/takedown"
	req := caseRequest(KindTakedown)
	req.Platform = "facebook"
	w := &Webhook{Platform: p, Secret: []byte("k"), Now: func() time.Time { return t0 }, Letters: letters}
	if _, err := w.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Permintaan Penurunan Konten – Nomor TKL/c_01JQ7/PK/2026 – Takedown request" || got.Number != "TKL/c_01JQ7/PK/2026" {
		t.Errorf("subject %q number %q", got.Subject, got.Number)
	}
	checkProse(t, "evidence", got.Evidence)
	checkProse(t, "notice", got.Notice)
	if len(got.Indicators) != 3 {
		t.Fatalf("indicators %+v, want the 3 risk indicators", got.Indicators)
	}
	for _, ind := range got.Indicators {
		if ind.ID == "" || ind.Indonesian == "" || ind.English == "" || strings.Contains(ind.Indonesian, "_") {
			t.Errorf("indicator %+v is not named in both languages", ind)
		}
	}
	ec := got.EvidenceCopy
	if ec == nil || ec.SHA256 != copyHash || !ec.ExpiresAt.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("evidence copy %+v", ec)
	}
	u, _ := url.Parse(ec.URL)
	if err := links.Verify(copyHash, u.Query().Get("exp"), u.Query().Get("sig"), t0); err != nil || !strings.Contains(got.Notice, ec.URL) {
		t.Errorf("evidence link %q: %v", ec.URL, err)
	}
	if !strings.Contains(got.Evidence, "Alasan: ") || !strings.Contains(got.Evidence, "Reasons: ") {
		t.Errorf("evidence summary %q", got.Evidence)
	}
}

func TestNoticeWithoutNamesOrCopy(t *testing.T) {
	cfg, _ := Default()
	req := caseRequest(KindTakedown)
	req.Findings.EvidenceSHA256 = ""
	e, err := Letters{}.Email(cfg.Platforms["telegram"], "t@agency.example", req, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Without the rules every indicator is cited, written out from its id.
	for _, want := range []string{"- Tourist visa\n", "- Scam hub destination\n", "- Office address given\n"} {
		if !strings.Contains(e.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(e.Text, "/evidence/") || strings.Contains(e.Text, "SHA-256") {
		t.Errorf("a notice without a stored copy mentions one:\n%s", e.Text)
	}
	checkProse(t, "text", e.Text)
}

func TestDatesInWIB(t *testing.T) {
	tests := []struct {
		at                  time.Time
		tanggal, waktu, enT string
	}{
		{time.Date(2026, 12, 1, 7, 30, 0, 0, time.UTC), "1 Desember 2026", "1 Desember 2026 pukul 14.30 WIB", "1 December 2026, 14:30 WIB"},
		// 17:05 UTC on 30 November is already 1 December in Jakarta.
		{time.Date(2026, 11, 30, 17, 5, 0, 0, time.UTC), "1 Desember 2026", "1 Desember 2026 pukul 00.05 WIB", "1 December 2026, 00:05 WIB"},
		{time.Date(2027, 8, 17, 3, 0, 0, 0, time.UTC), "17 Agustus 2027", "17 Agustus 2027 pukul 10.00 WIB", "17 August 2027, 10:00 WIB"},
	}
	for _, tt := range tests {
		if got := TanggalID(tt.at); got != tt.tanggal {
			t.Errorf("TanggalID(%v) = %q, want %q", tt.at, got, tt.tanggal)
		}
		if got := WaktuID(tt.at); got != tt.waktu {
			t.Errorf("WaktuID(%v) = %q, want %q", tt.at, got, tt.waktu)
		}
		if got := TimeEN(tt.at); got != tt.enT {
			t.Errorf("TimeEN(%v) = %q, want %q", tt.at, got, tt.enT)
		}
	}
}

func TestNoticeIsTheSameWhenSentAgain(t *testing.T) {
	letters, _ := testLetters(t)
	cfg, _ := Default()
	a, b := caseRequest(KindWarning1), caseRequest(KindWarning1)
	b.Findings.Indicators = []string{"scam_hub_destination", "office_address_given", "passport_held", "tourist_visa", "tourist_visa"}
	ea, _ := letters.Email(cfg.Platforms["telegram"], "t@agency.example", a, t0)
	eb, _ := letters.Email(cfg.Platforms["telegram"], "t@agency.example", b, t0)
	if ea.Text != eb.Text {
		t.Fatalf("the same findings in another order give another letter:\n%s\n---\n%s", ea.Text, eb.Text)
	}
}

func TestSanctionLetters(t *testing.T) {
	l, _ := testLetters(t)
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Get("telegram")
	komdigi := Agency{ID: "komdigi", Name: "Kementerian Komunikasi dan Digital (Komdigi)", Emails: []string{"referrals@komdigi.example"}}
	for _, tc := range []struct {
		kind   Kind
		mod    func(*Request)
		to     []string
		number string
		wantID []string
		wantEN []string
	}{
		{KindFine, func(r *Request) { r.Fine = Fine{PerItemIDR: 500_000_000, Items: 1} }, p.Escalation.Warning3, "/DA/",
			[]string{"Rekomendasi Sanksi Denda Administratif", "sanksi denda administratif", "Rp 500.000.000"},
			[]string{"Administrative fine recommendation", "IDR 500,000,000"}},
		{KindBlocking, func(r *Request) { r.Agency = komdigi }, append([]string{"referrals@komdigi.example"}, p.Escalation.Warning3...), "/PA/",
			[]string{"Rujukan Pemutusan Akses", "pemutusan akses", "Kepada / To: Kementerian Komunikasi dan Digital (Komdigi)"},
			[]string{"Access-blocking referral", "access blocking"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			req := caseRequest(tc.kind)
			tc.mod(&req)
			e, err := l.Email(p, "tangkal@kp2mi.go.id", req, t0)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(e.To, ",") != strings.Join(tc.to, ",") {
				t.Errorf("to %v, want %v", e.To, tc.to)
			}
			if !strings.Contains(e.Subject, "TKL/c_01JQ7"+tc.number) {
				t.Errorf("subject %q lacks the letter number", e.Subject)
			}
			id, en := parts(t, e.Text)
			for _, w := range tc.wantID {
				if !strings.Contains(e.Text[:strings.Index(e.Text, "\nENGLISH\n")], w) {
					t.Errorf("Indonesian part lacks %q:\n%s", w, id)
				}
			}
			for _, w := range tc.wantEN {
				if !strings.Contains(en, w) && !strings.HasSuffix(e.Subject, w) {
					t.Errorf("English part lacks %q:\n%s", w, en)
				}
			}
			checkProse(t, string(tc.kind), e.Text)
		})
	}
	// A fine recommendation without an amount, a referral without the
	// agency's address, are not sent.
	if _, err := l.Write(p, caseRequest(KindFine), t0); err == nil {
		t.Error("fine recommendation without an amount was written")
	}
	if _, err := l.Write(p, caseRequest(KindBlocking), t0); err == nil {
		t.Error("blocking referral without the agency was written")
	}
}
