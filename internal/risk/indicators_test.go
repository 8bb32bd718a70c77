package risk

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/registry"
)

func assessor(t *testing.T) *Assessor {
	t.Helper()
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return NewAssessor(rules, registry.Default())
}

func ids(as Assessment) []string {
	var out []string
	for _, in := range as.Indicators {
		out = append(out, in.ID)
	}
	return out
}

// Each indicator with texts that must raise it and texts that must not
// (including warnings and news that use the same words).
func TestIndicators(t *testing.T) {
	a := assessor(t)
	tests := []struct {
		id       string
		positive []string
		negative []string
	}{
		{"tourist_visa",
			[]string{"Loker pabrik Malaysia, brgkt pake visa turis dulu, nanti diurus permit. WA 081255509999",
				"Kerja cleaning service di Jepang, masuk pakai visa kunjungan aja gan. Hub 0813 5550 9911"},
			[]string{"Loker Taiwan resmi, wajib visa kerja, tidak menggunakan visa turis. PT Lintang Samudra Insani SIP3MI 027/KP2MI/2025 telp 021 555 0102"}},
		{"passport_held",
			[]string{"Dicari TKW Malaysia gaji RM 1500, paspor dipegang bos selama kontrak ya. WA 081255508888"},
			[]string{"Lowongan Taiwan, paspor tidak ditahan, dipegang sendiri oleh pekerja. PT Lintang Samudra Insani SIP3MI 027/KP2MI/2025 telp 021 555 0102"}},
		{"passport_not_needed",
			[]string{"Kerja kebun di Malaysia tdk perlu paspor, kita jemput di perbatasan. Gaji RM 70/hari. WA 0812 5550 7777"},
			[]string{"Lowongan Malaysia, calon pekerja wajib punya paspor dan visa kerja. PT Rimba Laut Sejahtera Selaras SIP3MI 076/KP2MI/2024 telp +62 21 555 0108"}},
		{"salary_cut_debt",
			[]string{"Loker Hongkong, berangkat tanpa modal, semua biaya nanti potong gaji 7 bulan. WA 081355506666"},
			[]string{"Loker Brunei gaji BND 700 bersih tanpa potongan. Bebas biaya penempatan sesuai peraturan BP2MI. PT Kenanga Tiga Benua SIP3MI 063/KP2MI/2024 telp 021-555-0103"}},
		{"scam_hub_destination",
			[]string{"Lowongan CS online penempatan Phnom Penh, gaji 900 USD, tiket ditanggung. DM tele @kerja_pp_cs",
				"Open rekrut staff chat di Myanmar (KK Park), mess gratis. WA 0813 5550 1234"},
			[]string{"WASPADA modus lowongan admin online ke Kamboja! Banyak korban TPPO. Jangan tergiur gaji besar."}},
		{"underage",
			[]string{"Dicari cewek umur 16-20 th utk kerja restoran di Malaysia, WA 081255501111",
				"Lowongan pabrik Taiwan min 17 thn, proses cepat. WA 0812 5550 2222"},
			[]string{"Dicari operator produksi Taiwan usia 18-35 th. PT Lintang Samudra Insani SIP3MI 027/KP2MI/2025 telp 021 555 0102"}},
		// Registry tricks: a name spelled slightly differently, a new name
		// for a suspended company (by its office phone or its name).
		{"lookalike_company_name",
			[]string{"PT Nayaka Harsa Persadah membuka lowongan pabrik Malaysia, berangkat gratis. WA 0857 5550 3321",
				"PT Sagara Mitra Rantauu rekrut pekerja pabrik Malaysia. WA 0812 5550 7714"},
			[]string{"PT Nayaka Harsa Persada (SIP3MI 044/KP2MI/2025) membuka lowongan pabrik Malaysia. Kantor telp (021) 555-0114"}},
		{"renamed_company",
			[]string{"PT Sentanu Karya Mandiri buka loker pabrik Malaysia. Kantor: (021) 555-0123, WA 0813 5550 4402",
				"PT Bintang Fajar Rantau Jaya rekrut pekerja kebun Malaysia, berangkat cepat. WA 0813 5550 2271"},
			[]string{"PT Bintang Samudra Jaya rekrut pekerja kebun Malaysia. WA 0813 5550 2271",
				"PT Giri Samudera Abhinaya (SIP3MI 015/KP2MI/2025) membuka lowongan caregiver Jepang. Telp (021) 555.0117"}},
		{"licence_number_mismatch",
			[]string{"PT Sekar Pawana Gemilang (SIP3MI 109/KP2MI/2023) buka program kerja Jepang, biaya pelatihan 25 jt. WA 0821 5550 6631"},
			[]string{"PT Sekar Pawana Gemilang (SIP3MI 109/KP2MI/2025) buka program kerja Jepang. Telp (021) 555 0115"}},
		{"hidden_contact",
			[]string{"Kerja di Poipet, marketing crypto, gaji 17jt, tiket ditanggung. Serius minat DM aja."},
			[]string{"Kerja di Poipet, marketing crypto, gaji 17jt. DM aja atau WA 0812 5550 1234"}},
		{"urgent_departure",
			[]string{"Butuh cepat 10 org kerja kebun Malaysia, berangkat minggu depan, WA 081255503333"},
			[]string{"Lowongan Taiwan, proses resmi 4-6 bulan. PT Lintang Samudra Insani SIP3MI 027/KP2MI/2025 telp 021 555 0102"}},
		{"no_licence_named",
			[]string{"Lowongan kerja pabrik Korea gaji 2 juta won, hub WA 081255504444"},
			[]string{"Lowongan pabrik di Cikarang gaji UMK, hub WA 081255504444"}},
		{"whatsapp_only_contact",
			[]string{"Loker Dubai cleaner gaji AED 2000, minat hub WA 0815 550 4321"},
			[]string{"Loker Taiwan, info kantor (021) 555-0102, PT Lintang Samudra Insani SIP3MI 027/KP2MI/2025"}},
		{"telegram_contact",
			[]string{"Lowongan kerja Jepang tanpa tes, daftar lewat telegram t.me/kerja_japan_cepat"},
			[]string{"Lowongan kerja Jepang, daftar di kantor PT Semesta Nawasena Karya SIP3MI 150/KP2MI/2025, telp 021 555 0109"}},
		{"upfront_fee",
			[]string{"Loker Polandia gaji 4000 PLN, biaya proses 25 juta, DP 5 jt dulu. WA 0812 5550 1010",
				"Kerja Malaysia, tf biaya admin 1,5jt ke rek BRI 1234 5550 9876 a.n. Siti. WA 081255501212"},
			[]string{"Loker Hong Kong tanpa biaya apapun, pembayaran hanya ke rekening perusahaan. PT Kenanga Tiga Benua SIP3MI 063/KP2MI/2024 telp 021-555-0103"}},
		{"personal_bank_account",
			[]string{"Kerja Malaysia, transfer DP 2jt ke BCA 555 012 3456 a.n. Budi Santoso. WA 081255501313"},
			[]string{"Kerja Malaysia, bayar biaya resmi ke rekening BNI 5550 1234 56 a.n. PT Bentala Jaya Nusantara Prima, SIP3MI 145/KP2MI/2024, telp 021 555 0106"}},
		{"fake_government_program",
			[]string{"Program G to G Jepang jalur khusus, pasti lolos, biaya 30 juta. WA 081255501414"},
			[]string{"PENGUMUMAN pendaftaran EPS-TOPIK program G to G Korea hanya melalui situs resmi KP2MI, tidak ada jalur khusus."}},
		{"official_g2g_program",
			[]string{"Pendaftaran ujian EPS-TOPIK Program G to G Korea dibuka hanya melalui situs resmi KP2MI, syarat usia 18-39 tahun."},
			[]string{"Program G to G Korea jalur khusus tanpa tes EPS-TOPIK, DP 5 juta. WA 081255501515"}},
		{"licensed_company",
			[]string{"Lowongan caregiver Taiwan oleh PT Arunika Karya Bahari (SIP3MI 118/KP2MI/2024), info (021) 555-0101"},
			[]string{"Lowongan caregiver Taiwan oleh PT Arunika Karya Bahari, transfer DP 3jt ke BRI 5550 1111 2222 333 a.n. Rina, WA 081255501616"}},
		{"impersonated_company",
			[]string{"Kami dari PT Arunika Karya Bahari buka lowongan Taiwan, daftar via WA pribadi 081255501616 aja ya"},
			[]string{"Lowongan Taiwan PT Arunika Karya Bahari SIP3MI 118/KP2MI/2024, telp kantor (021) 555-0101"}},
		{"suspended_licence",
			[]string{"PT Harapan Laras Samudra buka lowongan Malaysia, gaji RM 1700, info kantor"},
			[]string{"PT Kenanga Tiga Benua buka lowongan Hong Kong, SIP3MI 063/KP2MI/2024, telp 021-555-0103"}},
		{"revoked_licence",
			[]string{"Lowongan pabrik Malaysia bersama PT. Cahya Purnama Tenaga Mulia, hub kantor"},
			[]string{"Lowongan pabrik Malaysia bersama PT Bentala Jaya Nusantara Prima SIP3MI 145/KP2MI/2024 telp 021 555 0106"}},
		{"licence_number_mismatch",
			[]string{"PT Maju Rantau Sentosa (SIP3MI 118/KP2MI/2024) buka lowongan Taiwan, WA 081255501717",
				"Lowongan Jepang, PT Sagara Mitra Rantau izin SIP3MI 999/KP2MI/2025, hub 021 555 0104"},
			[]string{"Lowongan Taiwan oleh PT Arunika Karya Bahari (SIP3MI 118/KP2MI/2024), info (021) 555-0101"}},
		{"domestic_job",
			[]string{"Loker admin online shop di Bandung, gaji 3 jt, WFO. Lamaran via WA 0815 550 1818"},
			[]string{"Loker admin online di Kamboja gaji 1000 USD, WA 0815 550 1818"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			for _, text := range tt.positive {
				if got := a.Assess(text, ""); !slices.Contains(ids(got), tt.id) {
					t.Errorf("want %s in %v (label %s) for %q", tt.id, ids(got), got.Label, text)
				}
			}
			for _, text := range tt.negative {
				if got := a.Assess(text, ""); slices.Contains(ids(got), tt.id) {
					t.Errorf("did not want %s in %v (label %s) for %q", tt.id, ids(got), got.Label, text)
				}
			}
		})
	}
}

func TestLabels(t *testing.T) {
	a := assessor(t)
	tests := []struct {
		name, text, label, urgency string
	}{
		{"scam hub ad", "🔥LOKER ADMIN ONLINE🔥 penempatan Poipet, gaji 1000$, tiket gratis, brgkt minggu ini. Minat chat WA 0812 5550 2020", LabelTakedown, UrgencyUrgent},
		{"styled letters", "𝗟𝗢𝗞𝗘𝗥 𝗞𝗔𝗠𝗕𝗢𝗝𝗔 admin online gaji 900 USD, hub WA 0812 5550 2121", LabelTakedown, UrgencyUrgent},
		{"fee broker", "Kerja Jerman jadi perawat, biaya paket 40 juta, visa dijamin approve. WA 081355502222", LabelTakedown, UrgencyNormal},
		{"licensed ad", "Lowongan PRT Hong Kong via PT Kenanga Tiga Benua (SIP3MI 063/KP2MI/2024), gaji HK$ 4.990, bebas biaya penempatan sesuai peraturan BP2MI. Telp kantor 021-555-0103", LabelLegitimate, ""},
		{"domestic with trigger words", "Dicari customer service online untuk toko di Surabaya, tiket pesawat dari Makassar ditanggung. Gaji Rp 4 jt. Kirim CV ke hrd@tokomaju.co.id", LabelLegitimate, ""},
		{"warning", "Hati-hati modus lowongan kerja ke Kamboja pakai visa turis! Jangan mau berangkat tanpa P3MI resmi, laporkan ke Crisis Center.", LabelNotJobAd, ""},
		{"news", "Polres mengamankan dua pelaku yang diduga memberangkatkan 12 PMI secara non-prosedural ke Malaysia. Modusnya tanpa biaya dan potong gaji.", LabelNotJobAd, ""},
		{"hoax debunk", "HOAKS! Beredar pesan lowongan G to G Korea jalur khusus mengatasnamakan KP2MI. Informasi tersebut tidak benar.", LabelNotJobAd, ""},
		{"question", "Izin tanya min, ada yg pernah kerja di Taiwan lewat PT Arunika Karya Bahari? Gimana pengalamannya?", LabelNotJobAd, ""},
		{"sale", "Dijual koper bekas pakai kerja di Hong Kong, masih mulus, harga 200rb nego. COD Blitar. WA 0815 550 3333", LabelNotJobAd, ""},
		{"copycat", "Lowongan Taiwan PT Tirta Kencana Lestari Utama, SIP3MI 059/KP2MI/2024. Daftar & bayar DP 3 juta ke BRI 5550 2222 3333 444 a.n. Joko, WA 081255503434", LabelTakedown, UrgencyNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Assess(tt.text, "")
			if got.Label != tt.label || got.Urgency != tt.urgency {
				t.Errorf("got %s/%s (score %g, %v), want %s/%s", got.Label, got.Urgency, got.Score, ids(got), tt.label, tt.urgency)
			}
			for _, in := range got.Indicators {
				if in.Explanation == "" || (in.Kind != KindInfo && in.Match == "") {
					t.Errorf("indicator %s lacks explanation or match: %+v", in.ID, in)
				}
			}
		})
	}
}

func TestLoadRulesReportsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"indicators.yaml", "lexicons.yaml", "scoring.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "data", "rules", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadRules(dir); err != nil {
		t.Fatalf("unchanged copy: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "indicators.yaml"))
	bad := strings.Replace(string(b), `'\bmodus\b'`, `'{no_such_list}'`, 1)
	if err := os.WriteFile(filepath.Join(dir, "indicators.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadRules(dir)
	if err == nil || !strings.Contains(err.Error(), "trafficking_warning") || !strings.Contains(err.Error(), "no_such_list") {
		t.Fatalf("error %v, want it to name the indicator and the unknown lexicon", err)
	}
}

func TestEveryReportedIndicatorIsNamedInBothLanguages(t *testing.T) {
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	for id, ru := range rules.byID {
		n, ok := rules.Name(id)
		if !reported(ru.Kind) {
			if ok {
				t.Errorf("%s (%s) is named though assessments never report it", id, ru.Kind)
			}
			continue
		}
		if !ok || n.Indonesian == "" || n.English == "" {
			t.Errorf("%s: names %+v", id, n)
		}
		if strings.Contains(n.Indonesian+n.English, "_") {
			t.Errorf("%s: names %+v look like ids", id, n)
		}
	}
	if n, _ := rules.Name("tourist_visa"); n.Indonesian != "Keberangkatan dengan visa turis atau kunjungan" || n.English != "Departure on a tourist or visit visa" || n.Kind != KindRisk {
		t.Errorf("tourist_visa: %+v", n)
	}
	if _, ok := rules.Name("no_such_indicator"); ok {
		t.Error("an unknown id has a name")
	}
}

func TestLoadRulesRequiresNames(t *testing.T) {
	for _, field := range []string{"name_id", "name_en"} {
		t.Run(field, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{"indicators.yaml", "lexicons.yaml", "scoring.yaml"} {
				b, err := os.ReadFile(filepath.Join("..", "..", "data", "rules", name))
				if err != nil {
					t.Fatal(err)
				}
				if name == "indicators.yaml" {
					b = []byte(strings.Replace(string(b), "  "+field+": Paspor pekerja ditahan\n", "", 1))
					b = []byte(strings.Replace(string(b), "  "+field+": Worker's passport withheld\n", "", 1))
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadRules(dir)
			if err == nil || !strings.Contains(err.Error(), "passport_held") || !strings.Contains(err.Error(), field) {
				t.Fatalf("error %v, want it to name passport_held and %s", err, field)
			}
		})
	}
}

// Impersonation indicators name the registry entry they imitate, and every
// indicator still quotes the words as written, disguises and all.
func TestMatchesNameTheImitatedEntryAndQuoteTheText(t *testing.T) {
	a := assessor(t)
	got := a.Assess("PT Nayaka Harsa Persadah rekrut CS online K.a.m.b.o.j.a, gaji 12jt, tiket ditanggung. WA 0857 5550 3321", "")
	want := map[string]string{
		"lookalike_company_name": "Nayaka Harsa Persadah imitates PT Nayaka Harsa Persada (SIP3MI 044/KP2MI/2025, Ponorogo, office +62215550114)",
		"scam_hub_destination":   "K.a.m.b.o.j.a",
	}
	for _, in := range got.Indicators {
		if w, ok := want[in.ID]; ok {
			if !strings.Contains(in.Match, w) && in.Match != w {
				t.Errorf("%s matched %q, want %q", in.ID, in.Match, w)
			}
			delete(want, in.ID)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing indicators %v in %+v", want, got.Indicators)
	}
}
