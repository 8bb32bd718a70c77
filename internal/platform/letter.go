package platform

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tangkal/tangkal/internal/risk"
)

// Findings are what verification found about an ad, as a notice cites
// them: the indicators behind the verdict and the stored copy of the page.
type Findings struct {
	// Indicators are indicator ids from the assessment.
	Indicators []string
	// EvidenceSHA256 is the hex SHA-256 of the stored copy ("" if none).
	EvidenceSHA256 string
}

// Indicator is one reason a notice gives, named in both languages.
type Indicator struct {
	ID         string `json:"id"`
	Indonesian string `json:"name_id"`
	English    string `json:"name_en"`
}

// Namer names an indicator for a notice. cite is false for an indicator a
// notice does not give as a reason (a sign of legitimacy, say).
type Namer func(id string) (name Indicator, cite bool)

// IndicatorNames names indicators from the risk rules: a notice cites the
// risk indicators only. An id the rules no longer define is still cited,
// written out from its id.
func IndicatorNames(r risk.Rules) Namer {
	return func(id string) (Indicator, bool) {
		n, ok := r.Name(id)
		if !ok {
			return Indicator{ID: id}, true
		}
		return Indicator{ID: id, Indonesian: n.Indonesian, English: n.English}, n.Kind == risk.KindRisk
	}
}

// Linker makes links to stored copies of ads (evidence.Links is one).
type Linker interface {
	// Link returns a link to the copy with that hex hash and its expiry.
	Link(hash string, now time.Time) (string, time.Time)
}

// EvidenceCopy is the link to the stored copy of the ad a notice gives.
type EvidenceCopy struct {
	URL       string    `json:"url"`
	SHA256    string    `json:"sha256"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Letters writes notices. Both channels send what Write composes: the
// e-mail as its text and HTML, the webhook as its JSON body.
type Letters struct {
	// Names names indicators; nil writes them out from their ids.
	Names Namer
	// Evidence links the stored copy; nil leaves the link out.
	Evidence Linker
}

// Letter is one notice, composed: Bahasa Indonesia first, English second,
// times in WIB.
type Letter struct {
	Request Request
	// Number is the letter's number, TKL/<case id>/<PK|P1|P2|P3>/<year>:
	// one per case and notice kind (a resend keeps it).
	Number  string
	Date    time.Time
	Subject string
	Title   Title
	// Indicators are the reasons cited, in the assessment's order.
	Indicators []Indicator
	// EvidenceCopy is the signed, expiring link to the stored copy, if any.
	EvidenceCopy *EvidenceCopy
	// Indonesian and English are the letter's two parts as paragraphs.
	Indonesian, English Part
	// Text is the whole letter as plain text.
	Text string

	platformName string
}

// Title is a notice kind's title in both languages.
type Title struct{ ID, EN string }

// Part is a letter in one language.
type Part struct {
	Greeting  string
	Opening   []string // paragraphs before the facts
	Facts     [][2]string
	ReasonsTo string // heading of the reasons
	Reasons   []string
	// EvidenceIntro leads to the evidence link (written after it);
	// EvidenceValid says until when it works and the copy's hash. Both
	// are empty without a link.
	EvidenceIntro, EvidenceValid string
	Note                         string
	LegalBasis                   string
	Closing                      []string
	SignOff                      string
}

var titles = map[Kind]Title{
	KindTakedown: {"Permintaan Penurunan Konten", "Takedown request"},
	KindWarning1: {"Peringatan Pertama", "First warning"},
	KindWarning2: {"Peringatan Kedua", "Second warning"},
	KindWarning3: {"Peringatan Ketiga dan Rekomendasi Sanksi", "Third warning and sanction recommendation"},
	KindFine:     {"Rekomendasi Sanksi Denda Administratif", "Administrative fine recommendation"},
	KindBlocking: {"Rujukan Pemutusan Akses", "Access-blocking referral"},
}

var numberCodes = map[Kind]string{KindTakedown: "PK", KindWarning1: "P1", KindWarning2: "P2", KindWarning3: "P3", KindFine: "DA", KindBlocking: "PA"}

// LetterNumber is the number of the letter of that kind about a case,
// written at now: TKL/<case id>/<PK|P1|P2|P3|DA|PA>/<year>.
func LetterNumber(caseID string, kind Kind, now time.Time) string {
	return fmt.Sprintf("TKL/%s/%s/%d", caseID, numberCodes[kind], now.In(Jakarta).Year())
}

// Addressee is who the letter is addressed to: the agency for an
// access-blocking referral, the platform otherwise.
func (l Letter) Addressee() string {
	if l.Request.Kind == KindBlocking && l.Request.Agency.Name != "" {
		return l.Request.Agency.Name
	}
	return l.platformName
}

// RupiahID writes an amount the Indonesian way: "Rp 500.000.000".
func RupiahID(n int64) string { return "Rp " + group(n, ".") }

// RupiahEN writes an amount the English way: "IDR 500,000,000".
func RupiahEN(n int64) string { return "IDR " + group(n, ",") }

func group(n int64, sep string) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// DefaultLegalBasisEN is the English rendering of DefaultLegalBasis.
const DefaultLegalBasisEN = "Regulation of the Minister of Communication and Informatics Number 5 of 2020 on " +
	"Private Electronic System Operators (Articles 13-15: the duty to cut off access to prohibited " +
	"electronic information); Law Number 18 of 2017 on the Protection of Indonesian Migrant Workers; " +
	"Law Number 21 of 2007 on the Eradication of the Crime of Trafficking in Persons."

// Signatory is who signs notices.
const Signatory = "Tim Tangkal"

var bulan = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}

// TanggalID writes a date the Indonesian way, in WIB: "1 Desember 2026".
func TanggalID(t time.Time) string {
	t = t.In(Jakarta)
	return fmt.Sprintf("%d %s %d", t.Day(), bulan[t.Month()-1], t.Year())
}

// WaktuID writes a time the Indonesian way: "1 Desember 2026 pukul 14.30 WIB".
func WaktuID(t time.Time) string {
	w := t.In(Jakarta)
	return fmt.Sprintf("%s pukul %02d.%02d WIB", TanggalID(t), w.Hour(), w.Minute())
}

// DateEN writes a date the English way, in WIB: "1 December 2026".
func DateEN(t time.Time) string {
	t = t.In(Jakarta)
	return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year())
}

// TimeEN writes a time the English way: "1 December 2026, 14:30 WIB".
func TimeEN(t time.Time) string {
	w := t.In(Jakarta)
	return fmt.Sprintf("%s, %02d:%02d WIB", DateEN(t), w.Hour(), w.Minute())
}

// hoursID and hoursEN write how long a platform has ("4 jam", "4 hours").
func hoursID(d time.Duration) string { return fmt.Sprintf("%d jam", roundHours(d)) }

func hoursEN(d time.Duration) string {
	if h := roundHours(d); h != 1 {
		return fmt.Sprintf("%d hours", h)
	}
	return "1 hour"
}

func roundHours(d time.Duration) int64 {
	h := int64(d.Round(time.Hour) / time.Hour)
	if h < 1 {
		h = 1
	}
	return h
}

// words writes an indicator id as words ("scam_hub_destination" →
// "Scam hub destination") when the rules give no name.
func words(id string) string {
	s := strings.TrimSpace(strings.ReplaceAll(id, "_", " "))
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Write composes the notice of req.Kind to p, dated now.
func (l Letters) Write(p Platform, req Request, now time.Time) (Letter, error) {
	req, err := req.normalized()
	if err != nil {
		return Letter{}, err
	}
	t := titles[req.Kind]
	lt := Letter{Request: req, Date: now, Title: t, platformName: p.DisplayName, Number: LetterNumber(req.CaseID, req.Kind, now)}
	lt.Subject = fmt.Sprintf("%s – Nomor %s – %s", t.ID, lt.Number, t.EN)
	// Sorted: the case keeps its indicators as a set, and a notice sent
	// again must read the same.
	ids := slices.Sorted(slices.Values(req.Findings.Indicators))
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		ind, cite := Indicator{ID: id}, true
		if l.Names != nil {
			ind, cite = l.Names(id)
			ind.ID = id
		}
		if !cite {
			continue
		}
		if ind.Indonesian == "" {
			ind.Indonesian = words(id)
		}
		if ind.English == "" {
			ind.English = words(id)
		}
		lt.Indicators = append(lt.Indicators, ind)
	}
	if h := req.Findings.EvidenceSHA256; h != "" && l.Evidence != nil {
		if u, exp := l.Evidence.Link(h, now); u != "" {
			lt.EvidenceCopy = &EvidenceCopy{URL: u, SHA256: h, ExpiresAt: exp.UTC()}
		}
	}
	lt.Indonesian, lt.English = indonesian(p, lt, now), english(p, lt, now)
	lt.Text = lt.text(p)
	return lt, nil
}

func urgencyID(u string) string {
	switch u {
	case UrgencyUrgent:
		return "Mendesak"
	case UrgencyNormal, "":
		return "Biasa"
	}
	return words(u)
}

func urgencyEN(u string) string {
	switch u {
	case UrgencyUrgent:
		return "Urgent"
	case UrgencyNormal, "":
		return "Normal"
	}
	return words(u)
}

func indonesian(p Platform, l Letter, now time.Time) Part {
	deadline, left := WaktuID(l.Request.Deadline), hoursID(l.Request.Deadline.Sub(now))
	pt := Part{Greeting: "Dengan hormat,", SignOff: "Hormat kami,", ReasonsTo: "Alasan:"}
	ask := fmt.Sprintf("Kami meminta %s menurunkan konten berikut atau memutus akses ke konten tersebut paling lambat %s (%s sejak surat ini).", p.DisplayName, deadline, left)
	fine := l.Request.Fine
	switch l.Request.Kind {
	case KindTakedown:
		pt.Opening = []string{ask + " Konten ini adalah iklan perekrutan pekerja migran secara ilegal."}
	case KindFine:
		pt.Opening = []string{
			fmt.Sprintf("Konten berikut masih dapat diakses setelah batas waktu peringatan ketiga berakhir. Sesuai Peraturan Menteri Komunikasi dan Informatika Nomor 5 Tahun 2020, kami merekomendasikan pengenaan sanksi denda administratif kepada %s sebesar %s (%s per konten untuk %d konten).",
				p.DisplayName, RupiahID(fine.TotalIDR()), RupiahID(fine.PerItemIDR), fine.Items),
			ask,
		}
	case KindBlocking:
		pt.Opening = []string{
			fmt.Sprintf("%s tidak menurunkan konten berikut meskipun telah menerima permintaan penurunan konten, tiga surat peringatan dan rekomendasi sanksi denda administratif. Kami merujuk konten ini kepada %s untuk pemutusan akses sesuai Peraturan Menteri Komunikasi dan Informatika Nomor 5 Tahun 2020.", p.DisplayName, l.Addressee()),
			fmt.Sprintf("Tembusan surat ini kami sampaikan kepada %s, yang masih dapat menurunkan konten tersebut paling lambat %s.", p.DisplayName, deadline),
		}
	default:
		pt.Opening = []string{
			fmt.Sprintf("Konten berikut, yang telah kami minta untuk diturunkan, masih dapat diakses setelah batas waktu berakhir. Surat ini adalah %s.", strings.ToLower(titles[l.Request.Kind].ID)),
			ask,
		}
	}
	pt.Facts = [][2]string{{"URL", l.Request.URL}, {"Tingkat urgensi", urgencyID(l.Request.Urgency)}, {"Batas waktu", deadline}}
	if l.Request.Kind == KindFine {
		pt.Facts = append(pt.Facts, [2]string{"Denda yang direkomendasikan", RupiahID(fine.TotalIDR())})
	}
	if l.Request.Kind == KindBlocking {
		pt.Facts = append(pt.Facts, [2]string{"Platform", p.DisplayName})
	}
	for _, ind := range l.Indicators {
		pt.Reasons = append(pt.Reasons, ind.Indonesian)
	}
	if e := l.EvidenceCopy; e != nil {
		pt.EvidenceIntro = "Salinan halaman yang kami simpan sebagai bukti dapat diunduh di:"
		pt.EvidenceValid = fmt.Sprintf("Tautan ini berlaku sampai %s. Nilai SHA-256 salinan tersebut adalah %s.", WaktuID(e.ExpiresAt), e.SHA256)
	}
	if l.Request.Evidence != "" {
		pt.Note = "Catatan: " + l.Request.Evidence
	}
	pt.LegalBasis = "Dasar hukum: " + l.Request.LegalBasis
	pt.Closing = []string{"Mohon konfirmasi penurunan konten melalui API platform tangkal atau dengan membalas surat ini dan menyebutkan nomor surat di atas."}
	if l.Request.Kind == KindBlocking {
		pt.Closing = []string{"Mohon " + l.Addressee() + " menindaklanjuti rujukan ini dan memberitahukan keputusannya dengan menyebutkan nomor surat di atas."}
	}
	if l.Request.Kind == KindWarning3 {
		pt.Closing = append([]string{"Apabila konten tidak diturunkan sebelum batas waktu tersebut, kami akan merekomendasikan pengenaan sanksi administratif sesuai Peraturan Menteri Komunikasi dan Informatika Nomor 5 Tahun 2020."}, pt.Closing...)
	}
	return pt
}

func english(p Platform, l Letter, now time.Time) Part {
	deadline, left := TimeEN(l.Request.Deadline), hoursEN(l.Request.Deadline.Sub(now))
	pt := Part{Greeting: "Dear Sir or Madam,", SignOff: "Yours faithfully,", ReasonsTo: "Reasons:"}
	ask := fmt.Sprintf("We ask %s to remove the content below or block access to it by %s (%s from this letter).", p.DisplayName, deadline, left)
	fine := l.Request.Fine
	switch l.Request.Kind {
	case KindTakedown:
		pt.Opening = []string{ask + " It is an illegal migrant-worker recruitment advertisement."}
	case KindFine:
		pt.Opening = []string{
			fmt.Sprintf("The content below is still available after the deadline of the third warning. Under Regulation of the Minister of Communication and Informatics Number 5 of 2020, we recommend an administrative fine on %s of %s (%s per item for %d items).",
				p.DisplayName, RupiahEN(fine.TotalIDR()), RupiahEN(fine.PerItemIDR), fine.Items),
			ask,
		}
	case KindBlocking:
		pt.Opening = []string{
			fmt.Sprintf("%s has not removed the content below despite the takedown request, three warnings and the administrative fine recommendation. We refer it to %s for access blocking under Regulation of the Minister of Communication and Informatics Number 5 of 2020.", p.DisplayName, l.Addressee()),
			fmt.Sprintf("A copy of this letter goes to %s, which can still remove the content by %s.", p.DisplayName, deadline),
		}
	default:
		pt.Opening = []string{
			fmt.Sprintf("The content below, which we asked you to remove, is still available after the deadline. This letter is the %s.", strings.ToLower(titles[l.Request.Kind].EN)),
			ask,
		}
	}
	pt.Facts = [][2]string{{"URL", l.Request.URL}, {"Urgency", urgencyEN(l.Request.Urgency)}, {"Deadline", deadline}}
	if l.Request.Kind == KindFine {
		pt.Facts = append(pt.Facts, [2]string{"Recommended fine", RupiahEN(fine.TotalIDR())})
	}
	if l.Request.Kind == KindBlocking {
		pt.Facts = append(pt.Facts, [2]string{"Platform", p.DisplayName})
	}
	for _, ind := range l.Indicators {
		pt.Reasons = append(pt.Reasons, ind.English)
	}
	if e := l.EvidenceCopy; e != nil {
		pt.EvidenceIntro = "The copy of the page we keep as evidence can be downloaded at:"
		pt.EvidenceValid = fmt.Sprintf("This link is valid until %s. The SHA-256 of the copy is %s.", TimeEN(e.ExpiresAt), e.SHA256)
	}
	if l.Request.Evidence != "" {
		pt.Note = "Note: " + l.Request.Evidence
	}
	if l.Request.LegalBasis == DefaultLegalBasis {
		pt.LegalBasis = "Legal basis: " + DefaultLegalBasisEN
	} else {
		pt.LegalBasis = "Legal basis: as cited in the Indonesian text above."
	}
	pt.Closing = []string{"Please confirm the removal through tangkal's platform API or by replying to this letter and quoting the letter number above."}
	if l.Request.Kind == KindBlocking {
		pt.Closing = []string{"We ask " + l.Addressee() + " to act on this referral and to let us know its decision, quoting the letter number above."}
	}
	if l.Request.Kind == KindWarning3 {
		pt.Closing = append([]string{"If the content is not removed by that deadline, we will recommend administrative sanctions under Regulation of the Minister of Communication and Informatics Number 5 of 2020."}, pt.Closing...)
	}
	return pt
}

// text writes the letter as plain text.
func (l Letter) text(p Platform) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Nomor / Number: %s\n", l.Number)
	fmt.Fprintf(&b, "Tanggal: %s\nDate: %s\n", TanggalID(l.Date), DateEN(l.Date))
	fmt.Fprintf(&b, "Kepada / To: %s\n", l.Addressee())
	fmt.Fprintf(&b, "Perihal: %s\nSubject: %s\n", l.Title.ID, l.Title.EN)
	fmt.Fprintf(&b, "Referensi kasus / Case reference: %s\n", l.Request.CaseID)
	for _, pt := range []struct {
		heading string
		part    Part
	}{{"BAHASA INDONESIA", l.Indonesian}, {"ENGLISH", l.English}} {
		fmt.Fprintf(&b, "\n%s\n\n%s\n\n", pt.heading, pt.part.Greeting)
		for _, para := range pt.part.Opening {
			b.WriteString(para + "\n\n")
		}
		for _, f := range pt.part.Facts {
			fmt.Fprintf(&b, "%s: %s\n", f[0], f[1])
		}
		if len(pt.part.Reasons) > 0 {
			fmt.Fprintf(&b, "\n%s\n", pt.part.ReasonsTo)
			for _, r := range pt.part.Reasons {
				fmt.Fprintf(&b, "- %s\n", r)
			}
		}
		if e := l.EvidenceCopy; e != nil {
			fmt.Fprintf(&b, "\n%s\n%s\n%s\n", pt.part.EvidenceIntro, e.URL, pt.part.EvidenceValid)
		}
		if pt.part.Note != "" {
			b.WriteString("\n" + pt.part.Note + "\n")
		}
		b.WriteString("\n" + pt.part.LegalBasis + "\n")
		for _, para := range pt.part.Closing {
			b.WriteString("\n" + para + "\n")
		}
		fmt.Fprintf(&b, "\n%s\n%s\n", pt.part.SignOff, Signatory)
	}
	return b.String()
}
