package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Languages: Bahasa Indonesia first, English on a switch.
const (
	LangID = "id"
	LangEN = "en"
)

// wib is Western Indonesian Time (UTC+7, no daylight saving).
var wib = time.FixedZone("WIB", 7*60*60)

var monthsID = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}

// formatWhen writes t in WIB, the Indonesian way ("26 November 2026,
// 16.00 WIB") or the English way ("26 November 2026, 16:00 WIB").
func formatWhen(lang string, t time.Time) string {
	w := t.In(wib)
	if lang == LangEN {
		return w.Format("2 January 2006, 15:04") + " WIB"
	}
	return fmt.Sprintf("%d %s %d, %02d.%02d WIB", w.Day(), monthsID[w.Month()-1], w.Year(), w.Hour(), w.Minute())
}

// when is a <time> element: WIB shown, UTC on hover.
func when(lang string, v any) template.HTML {
	t, ok := asTime(v)
	if !ok {
		return "–"
	}
	utc := t.UTC().Format("2006-01-02 15:04:05 UTC")
	return template.HTML(`<time datetime="` + template.HTMLEscapeString(t.UTC().Format(time.RFC3339)) + `" title="` +
		template.HTMLEscapeString(utc) + `">` + template.HTMLEscapeString(formatWhen(lang, t)) + `</time>`)
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x == nil {
			return time.Time{}, false
		}
		return *x, !x.IsZero()
	case string:
		if x == "" {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// duration says d in words: "3 jam 12 menit" / "3 h 12 min".
func duration(lang string, d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	var s string
	switch {
	case h >= 48:
		s = fmt.Sprintf("%d %s %d %s", h/24, pick(lang, "hari", "d"), h%24, pick(lang, "jam", "h"))
	case h > 0:
		s = fmt.Sprintf("%d %s %d %s", h, pick(lang, "jam", "h"), m, pick(lang, "menit", "min"))
	default:
		s = fmt.Sprintf("%d %s", m, pick(lang, "menit", "min"))
	}
	if neg {
		return fmt.Sprintf(pick(lang, "lewat %s", "%s overdue"), s)
	}
	return fmt.Sprintf(pick(lang, "sisa %s", "%s left"), s)
}

func pick(lang, id, en string) string {
	if lang == LangEN {
		return en
	}
	return id
}

// t translates a message key. A missing key shows itself, so a test sees it.
func t(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == LangEN {
		return m[1]
	}
	return m[0]
}

// label translates a code (status, role, urgency…) when it has a message
// "code.<x>", else shows the code with spaces.
func label(lang, code string) string {
	if _, ok := messages["code."+code]; ok {
		return t(lang, "code."+code)
	}
	return strings.ReplaceAll(code, "_", " ")
}

var messages = map[string][2]string{
	"app.tagline":                {"Koordinasi penurunan iklan penempatan pekerja migran ilegal", "Takedown coordination for illegal migrant-worker placement ads"},
	"nav.skip":                   {"Langsung ke isi", "Skip to content"},
	"nav.home":                   {"Beranda", "Home"},
	"nav.report":                 {"Laporkan iklan", "Report an ad"},
	"nav.myreports":              {"Laporan saya", "My reports"},
	"nav.inbox":                  {"Kotak persetujuan", "Approval inbox"},
	"nav.cases":                  {"Cari kasus", "Case search"},
	"nav.figures":                {"Angka kepatuhan", "Compliance figures"},
	"nav.admin":                  {"Administrasi", "Administration"},
	"nav.signout":                {"Keluar", "Sign out"},
	"nav.lang":                   {"English", "Bahasa Indonesia"},
	"nav.signedin":               {"Masuk sebagai", "Signed in as"},
	"signin.title":               {"Masuk", "Sign in"},
	"signin.local":               {"Hanya lokal: halaman ini ada di `make run` saja. Di AWS, Anda masuk melalui Cognito.", "Local only: this page exists in `make run` only. In AWS you sign in through Cognito."},
	"signin.pick":                {"Pilih anggota yang dikonfigurasi:", "Choose a configured member:"},
	"signin.cognito":             {"Masuk dengan akun instansi", "Sign in with your agency account"},
	"signin.expired":             {"Sesi Anda berakhir atau belum masuk. Silakan masuk.", "Your session ended or you are not signed in. Please sign in."},
	"home.title":                 {"Selamat datang", "Welcome"},
	"home.intro":                 {"Pilih pekerjaan Anda:", "Choose your task:"},
	"report.title":               {"Laporkan iklan", "Report an ad"},
	"report.intro":               {"Laporkan iklan lowongan kerja ke luar negeri yang mencurigakan. Iklan yang sama yang dilaporkan lagi digabung ke kasusnya.", "Report a suspicious overseas job ad. The same ad reported again joins its case."},
	"report.url":                 {"Alamat (URL) iklan", "Address (URL) of the ad"},
	"report.url.hint":            {"Wajib, http atau https", "Required, http or https"},
	"report.platform":            {"Platform", "Platform"},
	"report.platform.auto":       {"Kenali dari alamat", "Detect from the address"},
	"report.text":                {"Teks iklan", "Text of the ad"},
	"report.text.hint":           {"Salin teks iklan apa adanya (paling banyak 10.000 karakter)", "Copy the ad's text as it is (at most 10,000 characters)"},
	"report.category":            {"Kategori", "Category"},
	"report.category.none":       {"Tidak tahu", "Don't know"},
	"report.notes":               {"Catatan", "Notes"},
	"report.org":                 {"Organisasi Anda", "Your organisation"},
	"report.submit":              {"Kirim laporan", "Send report"},
	"report.sent":                {"Laporan diterima. Nomor kasus:", "Report received. Case number:"},
	"report.duplicate":           {"Iklan ini sudah dilaporkan; laporan Anda digabung ke kasusnya.", "This ad was already reported; your report joined its case."},
	"report.bad":                 {"Tidak dapat dipakai:", "Cannot be used:"},
	"report.fix":                 {"Periksa kolom yang ditandai.", "Check the marked fields."},
	"myreports.title":            {"Laporan saya", "My reports"},
	"myreports.none":             {"Anda belum mengirim laporan melalui konsol.", "You have not sent reports through the console yet."},
	"col.case":                   {"Kasus", "Case"},
	"col.ad":                     {"Iklan", "Ad"},
	"col.sent":                   {"Dikirim", "Sent"},
	"col.status":                 {"Status", "Status"},
	"col.outcome":                {"Hasil", "Outcome"},
	"col.org":                    {"Organisasi", "Organisation"},
	"col.platform":               {"Platform", "Platform"},
	"col.urgency":                {"Urgensi", "Urgency"},
	"col.deadline":               {"Batas waktu", "Deadline"},
	"col.score":                  {"Skor", "Score"},
	"col.created":                {"Dibuat", "Created"},
	"col.reports":                {"Laporan", "Reports"},
	"inbox.title":                {"Kotak persetujuan", "Approval inbox"},
	"inbox.intro":                {"Permintaan yang menunggu keputusan Anda, yang paling mendesak dulu.", "Requests waiting for your decision, most urgent first."},
	"inbox.none":                 {"Tidak ada permintaan yang menunggu.", "No requests are waiting."},
	"inbox.open":                 {"Buka", "Open"},
	"inbox.agency":               {"Instansi", "Agency"},
	"case.title":                 {"Kasus", "Case"},
	"case.ad":                    {"Teks iklan", "Ad text"},
	"case.evidence":              {"Salinan bukti", "Evidence copy"},
	"case.evidence.none":         {"Belum ada salinan bukti.", "No evidence copy yet."},
	"case.indicators":            {"Indikator risiko", "Risk indicators"},
	"case.registry":              {"Daftar perusahaan berizin (P3MI)", "Licensed recruiter registry (P3MI)"},
	"case.registry.none":         {"Tidak ada perusahaan berizin yang disebut.", "No licensed company is named."},
	"case.related":               {"Kasus terkait", "Related cases"},
	"case.related.none":          {"Tidak ada kasus lain dengan kontak yang sama.", "No other case shares a contact."},
	"case.fetched":               {"Diambil", "Fetched"},
	"done.approve":               {"Anda menyetujui.", "You approved."},
	"done.reject":                {"Anda menolak.", "You rejected."},
	"done.hold":                  {"Anda menahan penurunan.", "You held the takedown."},
	"done.release":               {"Anda mencabut penahanan.", "You released the hold."},
	"case.matched":               {"cocok:", "matched:"},
	"case.via":                   {"melalui", "via"},
	"case.reports":               {"Laporan (pseudonim)", "Reports (pseudonymous)"},
	"case.decisions":             {"Keputusan", "Decisions"},
	"case.decide":                {"Keputusan Anda", "Your decision"},
	"case.reason":                {"Alasan", "Reason"},
	"case.reason.hint":           {"Wajib untuk menolak atau menahan; dicatat dalam riwayat kasus", "Required to reject or hold; recorded in the case history"},
	"case.approve":               {"Setujui penurunan", "Approve takedown"},
	"case.reject":                {"Tolak", "Reject"},
	"case.hold":                  {"Tahan (penyelidikan)", "Hold (investigation)"},
	"case.release":               {"Cabut penahanan", "Release the hold"},
	"case.final":                 {"Keputusan instansi Anda bersifat final; penahanan dapat dicabut.", "Your agency's decision is final; a hold can be released."},
	"case.policy":                {"Kebijakan", "Policy"},
	"case.tier":                  {"tingkat", "tier"},
	"case.approvals":             {"persetujuan", "approvals"},
	"case.yours":                 {"instansi Anda", "your agency"},
	"case.awaited":               {"ditunggu", "awaited"},
	"case.held":                  {"Ditahan oleh", "Held by"},
	"case.hold.past":             {"Pernah ditahan oleh", "Was held by"},
	"case.released":              {"dicabut", "released"},
	"case.until":                 {"sampai", "until"},
	"case.notified":              {"Diberi tahu untuk dekonfliksi", "Told for deconfliction"},
	"case.nowstatus":             {"Status persetujuan sekarang:", "The approval is now:"},
	"case.pagetitle":             {"Judul halaman", "Page title"},
	"case.bundle":                {"Unduh berkas bukti (bertanda tangan)", "Download the evidence bundle (signed)"},
	"decide.notapprover":         {"Anda bukan anggota instansi yang diminta memutuskan ini.", "You are not a member of an agency asked to decide this."},
	"decide.already":             {"Instansi Anda atau kebijakan sudah memutuskan ini.", "Your agency or the policy already decided this."},
	"decide.expired":             {"Permintaan persetujuan ini sudah kedaluwarsa.", "This approval request has expired."},
	"decide.nohold":              {"Tidak ada penahanan oleh instansi Anda untuk dicabut.", "There is no hold of your agency to release."},
	"decide.reason":              {"Tulis alasan untuk menolak atau menahan.", "Write a reason to reject or hold."},
	"decide.reason.long":         {"Alasan lebih dari %d byte.", "The reason is longer than %d bytes."},
	"decide.what":                {"Pilih setujui, tolak, tahan atau cabut penahanan.", "Choose approve, reject, hold or release."},
	"col.agency":                 {"Instansi", "Agency"},
	"col.decision":               {"Keputusan", "Decision"},
	"col.by":                     {"Oleh", "By"},
	"col.reason":                 {"Alasan", "Reason"},
	"col.when":                   {"Waktu", "When"},
	"col.needs":                  {"Yang masih diperlukan", "Still needed"},
	"col.pseudonym":              {"Pseudonim pelapor", "Reporter pseudonym"},
	"col.category":               {"kategori", "category"},
	"inbox.may":                  {"Anda dapat", "You may"},
	"inbox.trusted":              {"pelapor tepercaya", "trusted flagger"},
	"inbox.review":               {"tinjauan tambahan", "extra review"},
	"chain.title":                {"Verifikasi rantai", "Chain verification"},
	"chain.head":                 {"Hash terakhir di tabel", "Last hash in the table"},
	"anchor.ok":                  {"Cocok dengan salinan eksternal:", "Matches the external copy:"},
	"anchor.bad":                 {"TIDAK cocok dengan salinan eksternal:", "Does NOT match the external copy:"},
	"anchor.copies":              {"peristiwa punya salinan eksternal", "events have an external copy"},
	"anchor.pending":             {"masih dalam perjalanan", "still on their way"},
	"anchor.head":                {"Hash terakhir di salinan eksternal", "Last hash in the external copy"},
	"anchor.truncated":           {"Riwayat terpotong (tabel / salinan eksternal):", "History truncated (table / external copy):"},
	"anchor.none":                {"Salinan eksternal belum dikonfigurasi; hanya rantai di tabel yang diperiksa.", "No external copy is configured; only the table's chain was checked."},
	"history.events":             {"Semua peristiwa", "Every event"},
	"history.data":               {"Data peristiwa", "Event data"},
	"nav.exports":                {"Unduhan", "Downloads"},
	"exports.title":              {"Unduhan ekspor", "Export downloads"},
	"exports.intro":              {"Ekspor dibuat dari penghitung, bukan dari kasus; bulan dihitung dalam WIB. Tanpa periode: 12 bulan terakhir.", "Exports are made from the counters, not from cases; months are WIB months. Without a period: the last 12 months."},
	"exports.from":               {"Dari bulan", "From month"},
	"exports.to":                 {"Sampai bulan", "To month"},
	"exports.month":              {"TTTT-BB, mis. 2026-11", "YYYY-MM, e.g. 2026-11"},
	"exports.period":             {"Pakai periode", "Use the period"},
	"exports.public":             {"Ekspor publik", "Public exports"},
	"exports.transparency":       {"Laporan transparansi", "Transparency report"},
	"exports.transparency.about": {"Per platform dan bulan: permintaan, hasil, waktu sampai diturunkan, eskalasi.", "Per platform and month: requests, outcomes, time to removal, escalations."},
	"exports.awareness":          {"Pola iklan untuk edukasi", "Ad patterns for awareness"},
	"exports.awareness.about":    {"Indikator teratas dengan kutipan tersamarkan, tujuan, platform.", "Top indicators with redacted quotes, destinations, platforms."},
	"exports.restricted":         {"Khusus auditor dan admin", "Auditors and admins only"},
	"exports.watchlist":          {"Daftar pantau perekrut", "Recruiter watchlist"},
	"exports.watchlist.about":    {"Kontak yang muncul di beberapa kasus penurunan.", "Contacts that appear in several takedown cases."},
	"exports.bundle":             {"Berkas bukti satu kasus: buka riwayat kasus lalu “Unduh berkas bukti”.", "A case's evidence bundle: open the case history, then “Download the evidence bundle”."},
	"admin.readonly":             {"Hanya baca: konfigurasi berubah bersama penerapan (deployment).", "Read only: the configuration changes with the deployment."},
	"admin.agencies":             {"Instansi dan anggotanya", "Agencies and their members"},
	"admin.members":              {"Anggota", "Members"},
	"admin.nomembers":            {"Belum ada anggota", "No members yet"},
	"admin.policies":             {"Kebijakan persetujuan", "Approval policies"},
	"admin.urgency":              {"urgensi", "urgency"},
	"admin.any":                  {"apa saja", "any"},
	"admin.require":              {"Wajib menyetujui", "Must approve"},
	"admin.of":                   {"dari", "of"},
	"admin.veto":                 {"satu penolakan mengakhiri", "one rejection ends it"},
	"admin.notify":               {"Diberi tahu", "Told"},
	"admin.hold":                 {"Boleh menahan", "May hold"},
	"admin.holdmax":              {"paling lama", "at most"},
	"admin.tiers":                {"Tingkat", "Tiers"},
	"admin.trusted":              {"Pelapor tepercaya", "Trusted flaggers"},
	"admin.review":               {"Tinjauan tambahan (laporan publik)", "Extra review (public reports)"},
	"admin.window":               {"waktu", "window"},
	"admin.reminder":             {"pengingat setelah", "reminder after"},
	"case.decided":               {"Keputusan dicatat.", "Decision recorded."},
	"case.history":               {"Riwayat lengkap", "Full history"},
	"case.facts":                 {"Ringkasan", "Summary"},
	"case.expires":               {"Berlaku sampai", "Open until"},
	"history.title":              {"Riwayat kasus", "Case history"},
	"chain.valid":                {"Rantai hash utuh", "Hash chain intact"},
	"chain.invalid":              {"Rantai hash RUSAK", "Hash chain BROKEN"},
	"chain.events":               {"peristiwa", "events"},
	"cases.title":                {"Cari kasus", "Case search"},
	"cases.status":               {"Status", "Status"},
	"cases.platform":             {"Platform", "Platform"},
	"cases.urgency":              {"Urgensi", "Urgency"},
	"cases.category":             {"Kategori", "Category"},
	"cases.agency":               {"Instansi yang memutus", "Deciding agency"},
	"cases.approver":             {"Pemberi persetujuan (e-mail)", "Approver (e-mail)"},
	"cases.hint":                 {"Pilih satu saringan (atau status dengan platform); tanpa saringan, kasus diurutkan menurut waktu.", "Choose one filter (or status with platform); with none, cases are listed by time."},
	"cases.from":                 {"Dari", "From"},
	"cases.to":                   {"Sampai", "To"},
	"cases.any":                  {"Semua", "Any"},
	"cases.search":               {"Cari", "Search"},
	"cases.next":                 {"Halaman berikutnya", "Next page"},
	"cases.none":                 {"Tidak ada kasus yang cocok.", "No case matches."},
	"cases.need":                 {"Pilih status atau platform.", "Choose a status or a platform."},
	"figures.title":              {"Angka kepatuhan", "Compliance figures"},
	"figures.outcomes":           {"Hasil permintaan penurunan per platform", "Outcome of takedown requests per platform"},
	"figures.median":             {"Waktu dari permintaan sampai diturunkan (median dan p90)", "Time from the request to removal (median and p90)"},
	"figures.levels":             {"Peringatan per tingkat", "Warnings by level"},
	"figures.pipeline":           {"Waktu persetujuan per instansi (median dan p90)", "Approval time per agency (median and p90)"},
	"figures.warning":            {"Peringatan", "Warning"},
	"figures.escalations":        {"Eskalasi", "Escalations"},
	"figures.sent":               {"Permintaan dikirim", "Requests sent"},
	"figures.intime":             {"Diturunkan tepat waktu", "Removed in time"},
	"figures.late":               {"Diturunkan terlambat", "Removed late"},
	"figures.live":               {"Masih tayang", "Still live"},
	"figures.noncompliant":       {"Tidak patuh", "Non-compliant"},
	"figures.overdue":            {"Lewat batas", "Overdue"},
	"figures.p90":                {"p90", "p90"},
	"figures.asof":               {"Per", "As of"},
	"figures.note":               {"Dihitung menurut bulan permintaan penurunan (WIB) dari penghitung yang diperbarui pada setiap peristiwa; median dan p90 dari histogram (±9%).", "Counted by the month of the takedown request (WIB) from counters updated at every event; median and p90 from a histogram (±9%)."},
	"admin.title":                {"Administrasi", "Administration"},
	"resolve.title":              {"Ungkap pseudonim pelapor", "Resolve a reporter's pseudonym"},
	"resolve.hint":               {"Hanya untuk keperluan yang sah (misalnya permintaan penyidik). Alasan Anda dicatat dalam riwayat setiap kasus pelapor ini sebelum identitasnya ditampilkan.", "Only for a lawful need (e.g. an investigator's request). Your reason is recorded in the history of each of this reporter's cases before the identity is shown."},
	"resolve.pseudonym":          {"Pseudonim", "Pseudonym"},
	"resolve.reasonlabel":        {"Alasan", "Reason"},
	"resolve.submit":             {"Ungkap dan catat", "Resolve and record"},
	"resolve.reason":             {"Alasan wajib diisi, %d sampai %d karakter.", "A reason of %d to %d characters is required."},
	"resolve.notfound":           {"Tidak ada laporan dengan pseudonim ini.", "No reports carry this pseudonym."},
	"resolve.account":            {"Akun", "Account"},
	"resolve.contact":            {"Nama · kontak", "Name · contact"},
	"resolve.cases":              {"Kasus (pengungkapan dicatat di riwayatnya)", "Cases (the resolution is recorded in their history)"},
	"resolve.contacts":           {"Nama dan kontak yang masih disimpan", "Names and contacts still kept"},
	"resolve.nocontacts":         {"Tidak ada lagi: dihapus setelah masa simpan.", "None left: deleted after the retention period."},
	"resolve.retention":          {"Masa simpan kontak", "Contact retention"},
	"resolve.expires":            {"dihapus", "deleted"},
	"admin.platforms":            {"Platform yang dikonfigurasi", "Configured platforms"},
	"admin.tier":                 {"Tingkat", "Tier"},
	"admin.channel":              {"Saluran", "Channel"},
	"admin.deadlines":            {"Batas waktu (mendesak / biasa)", "Deadlines (urgent / normal)"},
	"waits.title":                {"Menyusul", "Coming"},
	"error.title":                {"Tidak dapat dilanjutkan", "Cannot continue"},
	"error.notfound":             {"Halaman atau data ini tidak ada (atau tidak boleh Anda lihat).", "This page or record does not exist (or is not yours to see)."},
	"error.internal":             {"Terjadi kesalahan di server; permintaan tidak selesai. Coba lagi nanti.", "Something went wrong on the server; the request was not completed. Try again later."},
	"error.back":                 {"Kembali ke beranda", "Back to home"},
	"error.csrf":                 {"Formulir kedaluwarsa atau bukan dari konsol ini. Muat ulang halaman dan coba lagi.", "The form expired or did not come from this console. Reload the page and try again."},
	"error.forbidden":            {"Peran Anda tidak boleh membuka halaman ini.", "Your role may not open this page."},
	"code.reporter":              {"pelapor", "reporter"},
	"code.approver":              {"penyetuju", "approver"},
	"code.auditor":               {"auditor", "auditor"},
	"code.admin":                 {"admin", "admin"},
	"code.urgent":                {"mendesak", "urgent"},
	"code.normal":                {"biasa", "normal"},
	"code.received":              {"diterima", "received"},
	"code.verifying":             {"diverifikasi", "verifying"},
	"code.awaiting_approval":     {"menunggu persetujuan", "awaiting approval"},
	"code.approved":              {"disetujui", "approved"},
	"code.takedown_requested":    {"penurunan diminta", "takedown requested"},
	"code.manual_queue":          {"antrean manual", "manual queue"},
	"code.escalated":             {"dieskalasi", "escalated"},
	"code.removed_in_time":       {"diturunkan tepat waktu", "removed in time"},
	"code.removed_late":          {"diturunkan terlambat", "removed late"},
	"code.non_compliant":         {"tidak patuh", "non-compliant"},
	"code.rejected":              {"ditolak", "rejected"},
	"code.approval_expired":      {"persetujuan kedaluwarsa", "approval expired"},
	"code.not_actionable":        {"tidak dapat ditindak", "not actionable"},
	"code.legitimate":            {"sah", "legitimate"},
	"code.not_job_ad":            {"bukan iklan kerja", "not a job ad"},
	"code.duplicate":             {"duplikat", "duplicate"},
	"code.pending":               {"menunggu", "pending"},
	"code.held":                  {"ditahan", "held"},
	"code.approve":               {"setuju", "approve"},
	"code.reject":                {"tolak", "reject"},
	"code.hold":                  {"tahan", "hold"},
	"code.release":               {"cabut penahanan", "release"},
	"code.supervisor":            {"supervisor", "supervisor"},
	"code.investigator":          {"penyidik", "investigator"},
	"code.approval_held":         {"persetujuan ditahan", "approval held"},
	"code.pseudonym_resolved":    {"pseudonim pelapor diungkap", "reporter's pseudonym resolved"},
	"code.approval_released":     {"penahanan dicabut", "hold released"},
	"code.approval_reminded":     {"pengingat persetujuan", "approval reminder"},
	"code.approval_hold_expired": {"penahanan berakhir", "hold expired"},
	"code.moved_to_manual_queue": {"dipindah ke antrean manual", "moved to the manual queue"},
	"code.platform_answered":     {"platform menjawab", "platform answered"},
	"code.expired":               {"kedaluwarsa", "expired"},
	"code.scam_compound":         {"kompleks penipuan (scam)", "scam compound"},
	"code.visa_abuse":            {"penyalahgunaan visa", "visa abuse"},
	"code.illegal_fees":          {"biaya ilegal / potong gaji", "illegal fees / salary cuts"},
	"code.case_opened":           {"kasus dibuka", "case opened"},
	"code.report_received":       {"laporan diterima", "report received"},
	"code.verified":              {"diverifikasi", "verified"},
	"code.approval_requested":    {"persetujuan diminta", "approval requested"},
	"code.approval_escalated":    {"persetujuan dieskalasi", "approval escalated"},
	"code.approval_decided":      {"persetujuan diputuskan", "approval decided"},
	"code.warning_sent":          {"peringatan dikirim", "warning sent"},
	"code.compliance_checked":    {"kepatuhan diperiksa", "compliance checked"},
	"code.case_closed":           {"kasus ditutup", "case closed"},
	"code.notice_failed":         {"pengiriman gagal", "notice failed"},
}
