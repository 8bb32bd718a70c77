package urlcanon

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		raw, want, platform string
		short               bool
	}{
		// Facebook: posts, permalinks, groups, videos, reels, share links, hosts.
		{"https://www.facebook.com/groups/lokercikarang.id/posts/4455667788990011/", "https://facebook.com/groups/lokercikarang.id/posts/4455667788990011", Facebook, false},
		{"https://web.facebook.com/groups/kerjabrunei/posts/9988776655443322/?_rdc=1&_rdr", "https://facebook.com/groups/kerjabrunei/posts/9988776655443322", Facebook, false},
		{"https://m.facebook.com/groups/887766554433221/permalink/1199887766554433/?ref=share", "https://facebook.com/groups/887766554433221/posts/1199887766554433", Facebook, false},
		{"https://mbasic.facebook.com/groups/887766554433221/posts/1199887766554433?refid=18&__tn__=%2As-R", "https://facebook.com/groups/887766554433221/posts/1199887766554433", Facebook, false},
		{"https://www.facebook.com/groups/lokerpabrikmalaysia/posts/3344556677889900/?mibextid=Nif5oz", "https://facebook.com/groups/lokerpabrikmalaysia/posts/3344556677889900", Facebook, false},
		{"https://www.facebook.com/groups/551234567890123/posts/1029384756102938/?fbclid=IwAR2kq9Zx5550pQmVbT7yLr", "https://facebook.com/groups/551234567890123/posts/1029384756102938", Facebook, false},
		{"https://www.facebook.com/permalink.php?story_fbid=pfbid0Lk5550QwErTy&id=100088555067890", "https://facebook.com/permalink.php?id=100088555067890&story_fbid=pfbid0Lk5550QwErTy", Facebook, false},
		{"https://m.facebook.com/story.php?story_fbid=pfbid0Lk5550QwErTy&id=100088555067890&mibextid=Nif5oz", "https://facebook.com/permalink.php?id=100088555067890&story_fbid=pfbid0Lk5550QwErTy", Facebook, false},
		{"https://www.facebook.com/photo.php?fbid=10160555012345&set=a.10150555000001&type=3", "https://facebook.com/photo.php?fbid=10160555012345", Facebook, false},
		{"https://www.facebook.com/ArunikaKaryaBahari/posts/pfbid037Xk5550pLmNoQrStUv?__cft__[0]=AZW5550xyz&__tn__=%2CO%2CP-R", "https://facebook.com/ArunikaKaryaBahari/posts/pfbid037Xk5550pLmNoQrStUv", Facebook, false},
		{"https://www.facebook.com/watch/?v=1055501234567890&ref=sharing", "https://facebook.com/watch?v=1055501234567890", Facebook, false},
		{"https://touch.facebook.com/reel/1055509876543210/?s=single_unit&sfnsn=mo", "https://facebook.com/reel/1055509876543210?s=single_unit", Facebook, false},
		{"https://fb.com/LokerKapalIkan/videos/1055501112223334/", "https://facebook.com/watch?v=1055501112223334", Facebook, false},
		{"https://m.facebook.com/video.php?v=1055501112223334&_rdr", "https://facebook.com/watch?v=1055501112223334", Facebook, false},
		{"https://www.facebook.com/LokerKapalIkan/videos/", "https://facebook.com/LokerKapalIkan/videos", Facebook, false},
		{"https://mobile.facebook.com/profile.php?id=100091555012345&rdid=Xk5550abc", "https://facebook.com/profile.php?id=100091555012345", Facebook, false},
		{"https://id-id.facebook.com/lokerjepang.resmi/", "https://facebook.com/lokerjepang.resmi", Facebook, false},
		{"https://www.facebook.com/share/p/15Xk5550aBc/?mibextid=WC7FNe", "https://facebook.com/share/p/15Xk5550aBc", Facebook, true},
		{"https://www.facebook.com/share/v/1A5550bCdE/", "https://facebook.com/share/v/1A5550bCdE", Facebook, true},
		{"https://fb.watch/t5550AbCdE/?mibextid=Nif5oz", "https://fb.watch/t5550AbCdE", Facebook, true},
		{"https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.loker-jepang555.example%2Fdaftar%2F%3Futm_source%3Dfacebook%26p%3D12&h=AT0x5550", "https://www.loker-jepang555.example/daftar?p=12", Website, false},

		// Instagram.
		{"https://www.instagram.com/p/C7zAb5550CdE/?igsh=d2FzcGFkYQ==", "https://instagram.com/p/C7zAb5550CdE", Instagram, false},
		{"https://www.instagram.com/p/C5dEf5550GhI/?utm_source=ig_share_sheet&igshid=MzRlODBiNWFlZA==", "https://instagram.com/p/C5dEf5550GhI", Instagram, false},
		{"https://www.instagram.com/reel/DB3xY5550Kq/?utm_source=ig_web_copy_link", "https://instagram.com/reel/DB3xY5550Kq", Instagram, false},
		{"https://instagram.com/reels/DB3xY5550Kq/", "https://instagram.com/reel/DB3xY5550Kq", Instagram, false},
		{"https://m.instagram.com/p/C6aBc5550DeF/?img_index=1", "https://instagram.com/p/C6aBc5550DeF", Instagram, false},
		{"https://www.instagram.com/jalur.visa.kerja/p/C9kLmN2oPqR/?hl=id", "https://instagram.com/p/C9kLmN2oPqR", Instagram, false},
		{"http://instagr.am/p/C8rSt5550UvW", "https://instagram.com/p/C8rSt5550UvW", Instagram, false},

		// TikTok.
		{"https://www.tiktok.com/@kerja.asean.id/video/7401234567890123456?is_from_webapp=1&sender_device=pc", "https://tiktok.com/@kerja.asean.id/video/7401234567890123456", TikTok, false},
		{"https://www.tiktok.com/@infolokersby/video/7398765012345678901?_r=1&_t=8oAbCdEfGh", "https://tiktok.com/@infolokersby/video/7398765012345678901", TikTok, false},
		{"https://m.tiktok.com/@InfoLokerSBY/video/7398765012345678901/?lang=id-ID", "https://tiktok.com/@infolokersby/video/7398765012345678901", TikTok, false},
		{"https://www.tiktok.com/@lokerkamboja/photo/7401234567890555555?web_id=7555", "https://tiktok.com/@lokerkamboja/photo/7401234567890555555", TikTok, false},
		{"https://vt.tiktok.com/ZSjQ7kLmN/", "https://vt.tiktok.com/ZSjQ7kLmN", TikTok, true},
		{"https://vm.tiktok.com/ZMr5550Ab/?_r=1", "https://vm.tiktok.com/ZMr5550Ab", TikTok, true},
		{"https://www.tiktok.com/t/ZTR5550xY/", "https://tiktok.com/t/ZTR5550xY", TikTok, true},
		{"https://www.tiktok.com/@lokerkamboja", "https://tiktok.com/@lokerkamboja", TikTok, false},

		// X / Twitter.
		{"https://twitter.com/infokerja_mlys/status/1798765432109876543", "https://x.com/infokerja_mlys/status/1798765432109876543", X, false},
		{"https://mobile.twitter.com/InfoKerja_Mlys/status/1798765432109876543?s=20", "https://x.com/infokerja_mlys/status/1798765432109876543", X, false},
		{"https://x.com/rantau_global/status/1820011223344556677?t=Zq5550abcXY&s=19", "https://x.com/rantau_global/status/1820011223344556677", X, false},
		{"https://www.x.com/ketawaaja_id/status/1816060606060606060?s=46", "https://x.com/ketawaaja_id/status/1816060606060606060", X, false},
		{"https://mobile.x.com/lokerkilat_88/status/1812345678901234567/photo/1", "https://x.com/lokerkilat_88/status/1812345678901234567", X, false},
		{"https://twitter.com/semestanawasena/status/1815556677889900112?ref_src=twsrc%5Etfw%7Ctwcamp%5Etweetembed&ref_url=https%3A%2F%2Fexample.com", "https://x.com/semestanawasena/status/1815556677889900112", X, false},
		{"http://twitter.com/#!/kerjaturki_id/status/1809988776655443322", "https://x.com/kerjaturki_id/status/1809988776655443322", X, false},
		{"http://twitter.com/#!/KerjaTurki_id?s=20", "https://x.com/kerjaturki_id", X, false},
		{"https://t.co/Ab5550cDeF", "https://t.co/Ab5550cDeF", Website, true},

		// Telegram.
		{"https://t.me/pmi_cerdas_info/1045", "https://t.me/pmi_cerdas_info/1045", Telegram, false},
		{"https://telegram.me/Jalur_Visa_Kerja/87", "https://t.me/jalur_visa_kerja/87", Telegram, false},
		{"https://www.t.me/s/tirtakencana_info/233", "https://t.me/tirtakencana_info/233", Telegram, false},
		{"https://t.me/infoloker_asean_update/412?single", "https://t.me/infoloker_asean_update/412", Telegram, false},
		{"https://t.me/+AbC5550dEfGhIj", "https://t.me/+AbC5550dEfGhIj", Telegram, false},
		{"https://t.me/joinchat/AbC5550dEfGhIj", "https://t.me/joinchat/AbC5550dEfGhIj", Telegram, false},

		// YouTube.
		{"https://youtu.be/Tw5550vlgAb?si=Qm7xLpR2aB", "https://youtube.com/watch?v=Tw5550vlgAb", YouTube, false},
		{"https://youtu.be/Tw5550vlgAb?t=42", "https://youtube.com/watch?v=Tw5550vlgAb", YouTube, false},
		{"https://www.youtube.com/watch?v=Rl5550SjSlr&feature=share", "https://youtube.com/watch?v=Rl5550SjSlr", YouTube, false},
		{"https://m.youtube.com/watch?feature=youtu.be&v=Rl5550SjSlr&t=1m2s&list=PL5550", "https://youtube.com/watch?v=Rl5550SjSlr", YouTube, false},
		{"https://youtube.com/shorts/Jp5550KrjaA?si=Xk29AbCdEfGh", "https://youtube.com/watch?v=Jp5550KrjaA", YouTube, false},
		{"https://www.youtube.com/live/Qk5550xYzAb?feature=shared", "https://youtube.com/watch?v=Qk5550xYzAb", YouTube, false},
		{"https://www.youtube-nocookie.com/embed/Qk5550xYzAb?start=30", "https://youtube.com/watch?v=Qk5550xYzAb", YouTube, false},
		{"https://www.youtube.com/@LokerLuarNegeri/videos?si=5550", "https://youtube.com/@LokerLuarNegeri/videos", YouTube, false},

		// WhatsApp.
		{"https://wa.me/6281255500371", "https://wa.me/6281255500371", WhatsApp, false},
		{"https://wa.me/+62%20812-5550-0371?text=Halo%20min%20mau%20daftar", "https://wa.me/6281255500371", WhatsApp, false},
		{"https://api.whatsapp.com/send?phone=6281255500371&text=Saya%20minat", "https://wa.me/6281255500371", WhatsApp, false},
		{"https://api.whatsapp.com/send/?phone=%2B6281255500371&text&type=phone_number&app_absent=0", "https://wa.me/6281255500371", WhatsApp, false},
		{"https://web.whatsapp.com/send?phone=855965550142", "https://wa.me/855965550142", WhatsApp, false},
		{"https://whatsapp.com/channel/0029VbAbk5550LokerKapal12/204", "https://whatsapp.com/channel/0029VbAbk5550LokerKapal12/204", WhatsApp, false},
		{"https://www.whatsapp.com/channel/0029VaCandra5550Sentosa1", "https://whatsapp.com/channel/0029VaCandra5550Sentosa1", WhatsApp, false},
		{"https://chat.whatsapp.com/Gx5550AbCdEfGh", "https://chat.whatsapp.com/Gx5550AbCdEfGh", WhatsApp, false},
		{"https://wa.me/message/ABC5550XYZ1", "https://wa.me/message/ABC5550XYZ1", WhatsApp, true},

		// Websites.
		{"https://www.eurasiapilarkencana-jobs.com/lowongan/gudang-polandia/?utm_source=facebook&utm_medium=paid&utm_campaign=eropa_q3", "https://www.eurasiapilarkencana-jobs.com/lowongan/gudang-polandia", Website, false},
		{"http://WWW.KP2MI.GO.ID:80/berita/pengumuman?UTM_SOURCE=twitter#lampiran", "https://www.kp2mi.go.id/berita/pengumuman", Website, false},
		{"https://www.lokerbali-harian.com:443/lowongan/housekeeping/", "https://www.lokerbali-harian.com/lowongan/housekeeping", Website, false},
		{"https://lokerjepang555.example:8443/daftar", "https://lokerjepang555.example:8443/daftar", Website, false},
		{"https://user:secret@lokerjepang555.example/daftar", "https://lokerjepang555.example/daftar", Website, false},
		{"https://loker.example\\@evil.example/", "https://loker.example/@evil.example", Website, false},
		{"https:\\\\loker.example\\lowongan\\?q=a\\b", "https://loker.example/lowongan?q=a%5Cb", Website, false},
		{"https://lokerjepang555.example", "https://lokerjepang555.example/", Website, false},
		{"https://lokerjepang555.example/?", "https://lokerjepang555.example/", Website, false},
		{"https://lokerjepang555.example/?p=123&utm_source=wa", "https://lokerjepang555.example/?p=123", Website, false},
		{"https://lokerjepang555.example/?z=1&a=2&m=3", "https://lokerjepang555.example/?a=2&m=3&z=1", Website, false},
		{"https://lokerjepang555.example/a//b/./c/../d/", "https://lokerjepang555.example/a/b/d", Website, false},
		{"https://lokerjepang555.example/%7Euser/%e2%82%ac/%2F/caf%C3%A9?q=a%2bb&r=%41", "https://lokerjepang555.example/~user/%E2%82%AC/%2F/caf%C3%A9?q=a%2Bb&r=A", Website, false},
		{"https://lokerjepang555.example/lowongan kerja/ü?q=ruang kosong", "https://lokerjepang555.example/lowongan%20kerja/%C3%BC?q=ruang%20kosong", Website, false},
		{"https://lokerluarnegeri-terbaru.blogspot.com/2025/07/lowongan-pabrik-taiwan-2025.html?m=1", "https://lokerluarnegeri-terbaru.blogspot.com/2025/07/lowongan-pabrik-taiwan-2025.html", Website, false},
		{"https://www.warta-hukum-nusantara.com/berita/2025/06/polisi-ungkap?amp=1", "https://www.warta-hukum-nusantara.com/berita/2025/06/polisi-ungkap", Website, false},
		{"https://lowongan.example/?fbclid=IwAR0&gclid=Cj0&msclkid=5550&dclid=x&_ga=2.1&srsltid=Af", "https://lowongan.example/", Website, false},
		{"https://LOKER-Kerja.example./Jobs", "https://loker-kerja.example/Jobs", Website, false},
		{"https://bücher.example/lowongan", "https://xn--bcher-kva.example/lowongan", Website, false},
		{"https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/", Website, false},
		{"https://ｌｏｋｅｒ.example/", "https://loker.example/", Website, false},
		{"http://203.0.113.7:8080/loker.php?id=5", "https://203.0.113.7:8080/loker.php?id=5", Website, false},
		{"http://0xCB.0.113.7/loker", "https://203.0.113.7/loker", Website, false},
		{"http://[2001:DB8:0:0::7]/loker", "https://[2001:db8::7]/loker", Website, false},
		{"https://bit.ly/3Loker555", "https://bit.ly/3Loker555", Website, true},
		{"https://s.id/LokerJepang555", "https://s.id/LokerJepang555", Website, true},
		{"https://www.google.com/url?sa=t&url=https%3A%2F%2Fm.facebook.com%2Fgroups%2F1%2Fpermalink%2F2%2F&ved=2a", "https://facebook.com/groups/1/posts/2", Facebook, false},
		{"  https://t.me/pmi_cerdas_info/1045\n", "https://t.me/pmi_cerdas_info/1045", Telegram, false},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Canonicalize(tt.raw)
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.raw, err)
			}
			if got.URL != tt.want || got.Platform != tt.platform || got.ShortLink != tt.short {
				t.Errorf("Canonicalize(%q)\n got  %s %s short=%v\n want %s %s short=%v",
					tt.raw, got.URL, got.Platform, got.ShortLink, tt.want, tt.platform, tt.short)
			}
			again, err := Canonicalize(got.URL)
			if err != nil || again != got {
				t.Errorf("not idempotent: %+v then %+v, %v", got, again, err)
			}
		})
	}
}

// TestSameAdManyForms: every form a reporter may paste of one ad lands on one key.
func TestSameAdManyForms(t *testing.T) {
	groups := [][]string{
		{
			"https://www.facebook.com/groups/lokermedan.sumut/posts/7788990011223344/?fbclid=IwZXh0bgNhZW0CMTEAAR5550xYz",
			"https://m.facebook.com/groups/lokermedan.sumut/permalink/7788990011223344/?ref=share&mibextid=Nif5oz",
			"http://web.facebook.com/groups/lokermedan.sumut/posts/7788990011223344?_rdc=1&_rdr",
			"https://FACEBOOK.com:443/groups/lokermedan.sumut//posts/7788990011223344/#comments",
		},
		{
			"https://youtu.be/Tw5550vlgAb?si=Qm7xLpR2aB",
			"https://www.youtube.com/watch?v=Tw5550vlgAb&feature=share",
			"https://m.youtube.com/shorts/Tw5550vlgAb",
			"http://youtube.com/watch?app=desktop&v=Tw5550vlgAb&t=10s",
		},
		{
			"https://wa.me/6281355502512",
			"https://api.whatsapp.com/send?phone=6281355502512&text=Mau%20daftar%20ABK",
			"https://wa.me/+62-813-5550-2512",
		},
		{
			"https://twitter.com/Rantau_Global/status/1820011223344556677",
			"https://x.com/rantau_global/status/1820011223344556677?t=Zq5550abcXY&s=19",
			"https://mobile.twitter.com/rantau_global/statuses/1820011223344556677/",
		},
	}
	for _, forms := range groups {
		first, err := Canonicalize(forms[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range forms[1:] {
			c, err := Canonicalize(f)
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", f, err)
			}
			if Key(c.URL) != Key(first.URL) {
				t.Errorf("%q → %s, want the same as %q → %s", f, c.URL, forms[0], first.URL)
			}
		}
	}
}

// TestDistinctAdsStayDistinct: a wrong merge would hide an ad from takedown.
func TestDistinctAdsStayDistinct(t *testing.T) {
	pairs := [][2]string{
		{"https://youtube.com/watch?v=Tw5550vlgAb", "https://youtube.com/watch?v=Tw5550vlgAB"},
		{"https://instagram.com/p/C7zAb5550CdE", "https://instagram.com/p/c7zab5550cde"},
		{"https://facebook.com/permalink.php?story_fbid=1&id=2", "https://facebook.com/permalink.php?story_fbid=1&id=3"},
		{"https://facebook.com/photo.php?fbid=1", "https://facebook.com/photo.php?fbid=2"},
		{"https://lokerjepang555.example/?p=123", "https://lokerjepang555.example/?p=124"},
		{"https://lokerjepang555.example/Lowongan", "https://lokerjepang555.example/lowongan"},
		{"https://www.lokerjepang555.example/", "https://lokerjepang555.example/"},
		{"https://lokerjepang555.example/a%2Fb", "https://lokerjepang555.example/a/b"},
		{"https://lokerjepang555.example/?q=a%2Bb", "https://lokerjepang555.example/?q=a+b"},
		{"https://lokerjepang555.example/?a=1&a=2", "https://lokerjepang555.example/?a=2&a=1"},
		{"https://lokerjepang555.example:8443/", "https://lokerjepang555.example/"},
		{"https://t.me/+AbC5550dEfGhIj", "https://t.me/+abc5550defghij"},
		{"https://vt.tiktok.com/ZSjQ7kLmN/", "https://vt.tiktok.com/zsjq7klmn/"},
		{"https://wa.me/6281255500371", "https://wa.me/6281255500372"},
		{"https://www.facebook.com/share/p/15Xk5550aBc/", "https://www.facebook.com/share/p/15Xk5550abc/"},
	}
	for _, p := range pairs {
		a, err1 := Canonicalize(p[0])
		b, err2 := Canonicalize(p[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("%v %v", err1, err2)
		}
		if a.URL == b.URL {
			t.Errorf("%q and %q both → %s", p[0], p[1], a.URL)
		}
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	tests := []struct{ raw, msg string }{
		{"", "is empty"},
		{"   ", "is empty"},
		{"www.facebook.com/groups/1/posts/2", "not an absolute URL"},
		{"/groups/1/posts/2", "not an absolute URL"},
		{"ftp://files.example/loker.pdf", `scheme "ftp" is not allowed`},
		{"javascript:alert(1)", `scheme "javascript" is not allowed`},
		{"file:///etc/passwd", `scheme "file" is not allowed`},
		{"https:facebook.com/x", "has no host"},
		{"https:///path", "has no host"},
		{"https://user@/path", "has no host"},
		{"https://" + strings.Repeat("a", 2050) + ".example/", "longer than 2048"},
		{"https://loker.example/a\x00b", "control character"},
		{"https://loker.example/\tx", "control character"},
		{"https://loker.example/\u0085x", "control character"},
		{"https://loker.example:99999/", "invalid port"},
		{"https://loker.example:0/", "invalid port"},
		{"https://loker.example:https/", "invalid port"},
		{"https://[::1/", "unterminated IPv6"},
		{"https://[fe80::1%25eth0]/", "invalid IPv6"},
		{"https://[127.0.0.1]/", "invalid IPv6"},
		{"https://256.1.1.1/", "invalid IPv4"},
		{"https://1.2.3.4.5/", "invalid IPv4"},
		{"https://lo ker.example/", "invalid"},
		{"https://loker..example/", "invalid host"},
		{"https://loker%zz.example/", "percent-encoding"},
		{"https://" + strings.Repeat("a", 64) + ".example/", "invalid host"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := Canonicalize(tt.raw)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Canonicalize(%q) = %v, want *Error", tt.raw, err)
			}
			if e.Field != "url" || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("Canonicalize(%q) = %q, want field url and %q", tt.raw, err, tt.msg)
			}
		})
	}
}

func TestKey(t *testing.T) {
	// echo -n https://t.me/pmi_cerdas_info/1045 | sha256sum
	const want = "6a16d844bf65e99d48ad98003b5ed62b0b4093afbd9f80d560bdd218cc4c589c"
	got := Key("https://t.me/pmi_cerdas_info/1045")
	if len(got) != 64 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Fatalf("Key = %q, want 64 lower-case hex digits", got)
	}
	if got != want {
		t.Errorf("Key = %s, want %s", got, want)
	}
	if Key("https://t.me/pmi_cerdas_info/1046") == got {
		t.Error("different URLs share a key")
	}
}

// TestDevCorpus: every URL of the development corpus canonicalizes, on the
// platform the corpus names, idempotently.
func TestDevCorpus(t *testing.T) {
	f, err := os.Open("testdata/dev_urls.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	platforms := map[string]string{"whatsapp_channel": WhatsApp}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		platform, raw, _ := strings.Cut(line, "\t")
		if p, ok := platforms[platform]; ok {
			platform = p
		}
		c, err := Canonicalize(raw)
		if err != nil {
			t.Errorf("Canonicalize(%q): %v", raw, err)
			continue
		}
		if c.Platform != platform {
			t.Errorf("Canonicalize(%q).Platform = %s, want %s", raw, c.Platform, platform)
		}
		if again, err := Canonicalize(c.URL); err != nil || again != c {
			t.Errorf("not idempotent: %+v then %+v, %v", c, again, err)
		}
		if strings.ContainsAny(c.URL, "#") || strings.Contains(c.URL, "utm_") || strings.Contains(c.URL, "fbclid") ||
			strings.Contains(c.URL, "igsh") || !strings.HasPrefix(c.URL, "https://") {
			t.Errorf("Canonicalize(%q) = %s keeps tracking or fragment", raw, c.URL)
		}
		n++
	}
	if n != 60 {
		t.Errorf("read %d corpus URLs, want 60", n)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		"https://www.facebook.com/groups/1/permalink/2/?fbclid=x#c",
		"http://0x7f.1/%7e/a/../b?utm_source=x&b=%zz&a",
		"https://youtu.be/abc?t=1", "https://api.whatsapp.com/send?phone=%2B62812&text=hi",
		"https://bücher.example/ü?ü=ü", "https://[::ffff:1.2.3.4]:80/", "https://t.me/s/Chan/1?single",
		"https://l.facebook.com/l.php?u=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3Dhttps%253A%252F%252Fx.example",
		"http://twitter.com/#!/a/status/1/photo/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := Canonicalize(raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field != "url" {
				t.Fatalf("Canonicalize(%q) error %v is not a url *Error", raw, err)
			}
			return
		}
		again, err := Canonicalize(c.URL)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q, which fails: %v", raw, c.URL, err)
		}
		if again != c {
			t.Fatalf("not idempotent:\n raw   %q\n first %+v\n again %+v", raw, c, again)
		}
		if !strings.HasPrefix(c.URL, "https://") || len(c.URL) > MaxLength {
			t.Fatalf("Canonicalize(%q) = %q", raw, c.URL)
		}
	})
}

// TestNestedLinkShims: shims are unwrapped to the end, however deep, so the
// result is the target's canonical URL (and stays it).
func TestNestedLinkShims(t *testing.T) {
	raw := "https://www.loker-jepang555.example/daftar/?fbclid=x"
	for range 8 {
		raw = "https://l.facebook.com/l.php?u=" + strings.NewReplacer("%", "%25", ":", "%3A", "/", "%2F", "?", "%3F", "&", "%26", "=", "%3D").Replace(raw) + "&h=AT0"
	}
	c, err := Canonicalize(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "https://www.loker-jepang555.example/daftar" || c.Platform != Website {
		t.Errorf("Canonicalize(8 nested shims) = %+v", c)
	}
	// A shim whose target is not a web URL stays the shim.
	c, err = Canonicalize("https://l.facebook.com/l.php?u=javascript%3Aalert(1)&h=AT0")
	if err != nil || c.URL != "https://l.facebook.com/l.php?h=AT0&u=javascript%3Aalert(1)" || c.Platform != Facebook {
		t.Errorf("shim to javascript: = %+v, %v", c, err)
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	urls := []string{
		"https://m.facebook.com/groups/887766554433221/permalink/1199887766554433/?ref=share&mibextid=Nif5oz",
		"https://www.tiktok.com/@kerja.asean.id/video/7401234567890123456?is_from_webapp=1&sender_device=pc",
		"https://youtu.be/Tw5550vlgAb?si=Qm7xLpR2aB",
		"https://www.eurasiapilarkencana-jobs.com/lowongan/gudang-polandia/?utm_source=facebook&utm_medium=paid",
	}
	for i := 0; b.Loop(); i++ {
		if _, err := Canonicalize(urls[i%len(urls)]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStripUserinfo(t *testing.T) {
	tests := []struct {
		raw, want string
		stripped  bool
	}{
		{"https://user:pass@lokerjepang555.example/daftar?id=1#top", "https://lokerjepang555.example/daftar?id=1#top", true},
		{"https://user@facebook.com/groups/1/posts/2/", "https://facebook.com/groups/1/posts/2/", true},
		{"HTTP://u:p@Example.COM:8080", "HTTP://Example.COM:8080", true},
		{"https://a:b@c:d@evil.example/x", "https://evil.example/x", true},
		{"https://:@host.example/", "https://host.example/", true},
		{`https:\\user:pass@host.example\path`, `https:\\host.example\path`, true},
		{"https://user:pass@[2001:db8::1]/ad", "https://[2001:db8::1]/ad", true},
		// '@' after the authority is not userinfo.
		{`https://loker.example\@evil.example/`, `https://loker.example\@evil.example/`, false},
		{"https://tiktok.com/@kerja/video/1", "https://tiktok.com/@kerja/video/1", false},
		{"https://host.example/?next=a@b", "https://host.example/?next=a@b", false},
		{"https://host.example#a@b", "https://host.example#a@b", false},
		{"https://host.example/", "https://host.example/", false},
		{"mailto:user@host.example", "mailto:user@host.example", false},
		{"ftp://user:pass@host.example/", "ftp://user:pass@host.example/", false},
		{"/relative@path", "/relative@path", false},
	}
	for _, tt := range tests {
		got, stripped := StripUserinfo(tt.raw)
		if got != tt.want || stripped != tt.stripped {
			t.Errorf("StripUserinfo(%q) = %q, %v; want %q, %v", tt.raw, got, stripped, tt.want, tt.stripped)
		}
		// Whatever was removed, the canonical form is the same.
		c1, err1 := Canonicalize(tt.raw)
		c2, err2 := Canonicalize(got)
		if (err1 == nil) != (err2 == nil) || c1 != c2 {
			t.Errorf("Canonicalize(%q) = %v, %v but without userinfo %v, %v", tt.raw, c1, err1, c2, err2)
		}
	}
}
