package entity

import (
	"github.com/tangkal/tangkal/internal/store"

	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/testenv"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name, text string
		want       Set
	}{
		{"mobile formats", "WA 0812-5550-1234 / 0813 5550 4321 / +62 815-550-9876 / 62812.5550.1111 / wa.me/6281255502222",
			Set{Phones: []string{"+6281255501234", "+6281355504321", "+628155509876", "+6281255501111", "+6281255502222"}}},
		{"landline and foreign", "telp (021) 555-0121, KH +855 96 555 0142, MY +60 11-5550 1234",
			Set{Phones: []string{"+62215550121", "+855965550142", "+601155501234"}}},
		{"not phones", "Gaji NT$ 28.590, jam 08.00-16.00, HK$ 4.990, SIP3MI 092/KP2MI/2024, Rp 4.500.000, 2025",
			Set{}},
		{"telegram", "DM tele @Rekrut_Kerja atau t.me/info_loker_ln, IG @bukan_telegram",
			Set{Telegram: []string{"@info_loker_ln", "@rekrut_kerja"}}},
		{"banks", "DP ke rek 057101555021503 (BRI) atau Mandiri 137-00-5550214-7 a.n. X, BNI 5550-18-4419. WA 0812 5550 3333",
			Set{Phones: []string{"+6281255503333"}, Banks: []string{"BRI 057101555021503", "Mandiri 1370055502147", "BNI 5550184419"}}},
		{"companies", "PT. SAGARA MITRA RANTAU Surabaya dan CV Jalur Rantau Global. Lewat PT ribet, cek PT-nya",
			Set{Companies: []string{"PT Sagara Mitra Rantau", "CV Jalur Rantau Global"}}},
		{"email", "Lamaran ke HRD@Contoh-Pabrik.co.id ya", Set{Emails: []string{"hrd@contoh-pabrik.co.id"}}},
		// The way syndicates write numbers to slip past moderation.
		{"spaced digits", "WA 0 8 1 2 - 5 5 5 0 - 7 7 3 1", Set{Phones: []string{"+6281255507731"}}},
		{"split across lines", "WA:\n0812\n5550\n6688\nslot 3", Set{Phones: []string{"+6281255506688"}}},
		{"Indonesian words", "hub nol delapan satu dua lima lima lima nol tujuh tujuh tiga satu", Set{Phones: []string{"+6281255507731"}}},
		{"Javanese words", "nol wolu siji telu limo limo limo nol papat papat enem pitu", Set{Phones: []string{"+6281355504467"}}},
		{"Sundanese words", "enol dalapan hiji tilu lima lima lima enol hiji dalapan salapan opat", Set{Phones: []string{"+6281355501894"}}},
		{"Malay words", "kosong lapan satu dua lima lima lima kosong enam enam dua satu", Set{Phones: []string{"+6281255506621"}}},
		{"English words", "zero eight five three five five five zero eight eight four two", Set{Phones: []string{"+6285355508842"}}},
		{"keycaps", "WA 0️⃣8️⃣1️⃣3️⃣ 5️⃣5️⃣5️⃣0️⃣ 2️⃣2️⃣4️⃣6️⃣", Set{Phones: []string{"+6281355502246"}}},
		{"full-width and circled", "WA ０８１２ ５５５０ ３３７７ atau ⓪⑧①② ⑤⑤⑤⓪ ③④⑥⑦", Set{Phones: []string{"+6281255503377", "+6281255503467"}}},
		{"letters for digits", "WA O812 555O 88l9, hub. O85l-5550-O7l3", Set{Phones: []string{"+6281255508819", "+6285155500713"}}},
		{"whatsapp links", "wa.me/+6285355508842 api.whatsapp.com/send?phone=6281755504419&text=daftar", Set{Phones: []string{"+6285355508842", "+6281755504419"}}},
		{"two numbers in a row", "WA 0812 5550 9911 0813 5550 1234", Set{Phones: []string{"+6281255509911", "+6281355501234"}}},
		{"bare and split handles", "tele: adminloker_88, tg admin . loker_88, tlg hrdasia_99, telegram : @ hrd_kokko, no tele no WA",
			Set{Telegram: []string{"@hrd_kokko", "@adminloker_88", "@hrdasia_99"}}}, // "@" handles first
		{"spaced bank names", "transfer ke B R I 0571-0155-5021-503 atau B.C.A 8 2 1 5 5 5 0 4 4 7",
			Set{Banks: []string{"BRI 057101555021503", "BCA 8215550447"}}},
		{"e-wallets", "DP via DANA 0812 5550 4410, OVO: 0896 5550 7712, Go Pay 0838-5550-1276, Shopee Pay 0882-5550-7310, Link Aja 0813 5550 9981",
			Set{Wallets: []string{"DANA +6281255504410", "OVO +6289655507712", "GoPay +6283855501276", "ShopeePay +6288255507310", "LinkAja +6281355509981"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.text)
			norm := func(s Set) Set {
				for _, p := range []*[]string{&s.Phones, &s.Telegram, &s.Banks, &s.Companies, &s.Emails, &s.Wallets} {
					if len(*p) == 0 {
						*p = nil
					}
				}
				return s
			}
			got, want := norm(got), norm(tt.want)
			// Order of Telegram handles follows link-first scanning.
			if len(got.Telegram) == 2 && got.Telegram[0] > got.Telegram[1] {
				got.Telegram[0], got.Telegram[1] = got.Telegram[1], got.Telegram[0]
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ kind, in, want string }{
		{KindPhone, "0812-5550-0371", "+6281255500371"},
		{KindPhone, "+855 96 555 0142", "+855965550142"},
		{KindTelegram, "https://t.me/Rekrut_CS", "@rekrut_cs"},
		{KindBank, "bri 0571-01-555021-50-3", "BRI 057101555021503"},
		{KindCompany, "PT. Sagara  Mitra Rantau", "pt sagara mitra rantau"},
	}
	for _, tt := range tests {
		if got, err := Normalize(tt.kind, tt.in); err != nil || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tt.kind, tt.in, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{KindPhone, "12"}, {KindTelegram, "@ab"}, {"fax", "1"}, {KindEmail, ""}} {
		if _, err := Normalize(bad[0], bad[1]); err == nil {
			t.Errorf("Normalize(%s, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestIndexCasesRelated(t *testing.T) {
	db := testenv.DynamoDB(t)
	ctx := context.Background()
	table := testenv.UniqueName(t, "entity")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := Extract("Loker Kamboja WA 0812-5550-0371, DP ke BRI 0571-01-555021-50-3")
	b := Extract("Lowongan Laos wa.me/6281255500371")
	c := Extract("Kerja Taiwan transfer ke rek 057101555021503 (BRI)")
	d := Extract("Lowongan Jepang WA 0813 5550 9999")
	for id, s := range map[string]Set{"a": a, "b": b, "c": c, "d": d} {
		if err := Index(ctx, store.Table{DB: db, Name: table}, id, "facebook", "https://example.test/"+id, s); err != nil {
			t.Fatal(err)
		}
	}
	// Indexing again changes nothing (first_seen is kept).
	before, err := Cases(ctx, store.Table{DB: db, Name: table}, KindPhone, "+6281255500371", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Index(ctx, store.Table{DB: db, Name: table}, "a", "facebook", "https://example.test/a", a); err != nil {
		t.Fatal(err)
	}
	after, err := Cases(ctx, store.Table{DB: db, Name: table}, KindPhone, "0812 5550 0371", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) || len(after) != 2 || after[0].CaseID != "a" || after[1].CaseID != "b" || after[0].Platform != "facebook" {
		t.Fatalf("cases before %+v after %+v", before, after)
	}
	if one, _ := Cases(ctx, store.Table{DB: db, Name: table}, KindPhone, "+6281255500371", 1); len(one) != 1 {
		t.Fatalf("limit 1 gave %d cases", len(one))
	}
	rel, err := Related(ctx, store.Table{DB: db, Name: table}, "a", a)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel) != 2 || rel[0].CaseID != "b" || rel[1].CaseID != "c" ||
		rel[0].Via[0] != (Key{KindPhone, "+6281255500371"}) || rel[1].Via[0] != (Key{KindBank, "BRI 057101555021503"}) {
		t.Fatalf("related %+v", rel)
	}
	if _, err := Cases(ctx, store.Table{DB: db, Name: table}, "fax", "1", 0); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
