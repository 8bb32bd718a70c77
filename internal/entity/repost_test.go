package entity

import (
	"context"
	"testing"

	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

const original = "LOWONGAN ADMIN ONLINE KAMBOJA gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang kantor. Minat langsung WA 0812-5550-9911"

func TestTextFingerprint(t *testing.T) {
	f := TextFingerprint(original)
	tests := []struct {
		name, text string
		repost     bool
	}{
		{"same text", original, true},
		{"other account: new number, emoji, case", "🔥 lowongan admin online kamboja gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang kantor. minat langsung WA 0857 5550 1234 🔥", true},
		{"disguised", "L0WONGAN ADMIN ONLINE K.a.m.b.o.j.a gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang kantor. Minat langsung WA 0812-5550-9911", true},
		{"one word changed", "LOWONGAN ADMIN ONLINE KAMBOJA gaji 18jt, tiket ditanggung, berangkat pakai visa wisata, paspor dipegang kantor. Minat langsung WA 0812-5550-9911", true},
		{"another ad with the same words here and there", "Lowongan admin gudang di Bekasi, gaji UMK, BPJS, kerja Senin-Sabtu. Minat kirim lamaran via WA 0812-5550-9911", false},
		{"another scam ad", "Dicari operator chat di Myawaddy, gaji 20 jt, biaya tiket diganti potong gaji, paspor dititip ke bos. WA 0838 5550 9120", false},
	}
	for _, tt := range tests {
		sim := f.Similarity(TextFingerprint(tt.text))
		if got := sim >= RepostSimilarity; got != tt.repost {
			t.Errorf("%s: similarity %.2f, repost %v, want %v", tt.name, sim, got, tt.repost)
		}
	}
	if TextFingerprint("loker kamboja WA 0812").Valid() {
		t.Error("a few words are too little to recognise an ad by")
	}
}

func TestFindReposts(t *testing.T) {
	db := testenv.DynamoDB(t)
	ctx := context.Background()
	table := testenv.UniqueName(t, "repost")
	if err := testenv.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	tb := store.Table{DB: db, Name: table}
	f := TextFingerprint(original)
	if err := IndexText(ctx, tb, "c_first", f); err != nil {
		t.Fatal(err)
	}
	other := TextFingerprint("Dicari operator chat di Myawaddy, gaji 20 jt, biaya tiket diganti potong gaji, paspor dititip ke bos. WA 0838 5550 9120")
	if err := IndexText(ctx, tb, "c_other", other); err != nil {
		t.Fatal(err)
	}
	repost := TextFingerprint("🔥 lowongan admin online kamboja gaji 15jt, tiket ditanggung, berangkat pakai visa turis, paspor dipegang kantor. minat langsung WA 0857 5550 1234")
	got, err := FindReposts(ctx, tb, "c_second", repost)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].CaseID != "c_first" {
		t.Fatalf("reposts %+v, want c_first alone", got)
	}
	if got, _ := FindReposts(ctx, tb, "c_first", f); len(got) != 0 {
		t.Errorf("a case is not a repost of itself: %+v", got)
	}
}
