package registry

import (
	"strings"
	"testing"
)

func TestDefaultRegistryParses(t *testing.T) {
	r := Default()
	if r.Len() != 25 {
		t.Fatalf("bundled registry has %d entries, want 25", r.Len())
	}
}

func TestParseCSVRejectsBadRowsNamingTheField(t *testing.T) {
	header := "company_name,licence_number,status,city,phone,valid_until\n"
	tests := []struct {
		name, csv, want string
	}{
		{"missing column", "company_name,licence_number,status\nPT A B,SIP3MI 1/KP2MI/2024,active\n", `missing column "city"`},
		{"bad licence", header + "PT A B,123,active,X,,2030-01-01\n", "line 2: field licence_number"},
		{"bad status", header + "PT A B,SIP3MI 001/KP2MI/2024,paused,X,,2030-01-01\n", "line 2: field status"},
		{"bad date", header + "PT A B,SIP3MI 001/KP2MI/2024,active,X,,01/01/2030\n", "line 2: field valid_until"},
		{"empty name", header + ",SIP3MI 001/KP2MI/2024,active,X,,2030-01-01\n", "line 2: field company_name"},
		{"duplicate", header + "PT A B,SIP3MI 001/KP2MI/2024,active,X,,\nPT C D,SIP3MI 1/KP2MI/2024,active,X,,\n", "repeats line 2"},
		{"empty", "", "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSV(strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	r := Default()
	tests := []struct {
		name, text, company string
		byName, byLicence   bool
		byPhone             bool
	}{
		{"exact with PT", "Rekrutmen oleh PT Widuri Anugerah Pekerja, izin resmi", "PT Widuri Anugerah Pekerja", true, false, false},
		{"PT. and capitals", "PT. WIDURI ANUGERAH PEKERJA buka lowongan", "PT Widuri Anugerah Pekerja", true, false, false},
		{"misspelt", "lewat PT Widuri Anugrah Pekerja aja", "PT Widuri Anugerah Pekerja", true, false, false},
		{"glued words", "PT WiduriAnugerah Pekerja", "PT Widuri Anugerah Pekerja", true, false, false},
		{"licence only, other spelling", "izin sip3mi no. 92 / kp2mi / 2024", "PT Widuri Anugerah Pekerja", false, true, false},
		{"office phone", "telp (021) 555-0105", "PT Widuri Anugerah Pekerja", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := r.Match(tt.text)
			if len(ms) != 1 {
				t.Fatalf("got %d matches %+v, want 1", len(ms), ms)
			}
			m := ms[0]
			if m.Entry.Company != tt.company || m.ByName != tt.byName || m.ByLicence != tt.byLicence || m.ByPhone != tt.byPhone {
				t.Fatalf("got %+v", m)
			}
		})
	}
	for _, text := range []string{
		"PT Widuri Sejahtera Abadi buka lowongan", // shares one word only
		"PT Sagara Mitra Utama membuka lowongan",  // a different company sharing two words
		"Lowongan kerja pabrik di Bekasi, hub WA", // nothing
	} {
		if ms := r.Match(text); len(ms) != 0 {
			t.Errorf("Match(%q) = %+v, want none", text, ms)
		}
	}
}
