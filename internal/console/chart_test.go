package console

import "testing"

// Times on the figures page read as people write them: minutes under an
// hour, hours to a tenth, a decimal comma in Indonesian.
func TestSpellDurations(t *testing.T) {
	for _, tt := range []struct {
		secs   int64
		id, en string
	}{
		{0, "< 1 mnt", "< 1 min"},
		{59, "< 1 mnt", "< 1 min"},
		{25 * 60, "25 mnt", "25 min"},
		{3599, "59 mnt", "59 min"},
		{3600, "1,0 jam", "1.0 h"},
		{4*3600 + 30*60, "4,5 jam", "4.5 h"},
		{30 * 3600, "30,0 jam", "30.0 h"},
	} {
		if got := spell(LangID, tt.secs); got != tt.id {
			t.Errorf("spell(id, %d) = %q, want %q", tt.secs, got, tt.id)
		}
		if got := spell(LangEN, tt.secs); got != tt.en {
			t.Errorf("spell(en, %d) = %q, want %q", tt.secs, got, tt.en)
		}
	}
}
