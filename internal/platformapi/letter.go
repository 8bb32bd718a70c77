package platformapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/store"
)

// Mailer sends an e-mail.
type Mailer interface {
	Send(ctx context.Context, e outbox.Email) (string, error)
}

// MailDecision tells the platform the agency's decision on its objection
// in a letter to its notice address: Bahasa Indonesia first, then English.
func MailDecision(cfg platform.Config, m Mailer, from string, a platform.Agency, clock func() time.Time) func(ctx context.Context, c *store.Case, decision, reasons string) error {
	return func(ctx context.Context, c *store.Case, decision, reasons string) error {
		p, err := cfg.Get(c.Platform)
		if err != nil {
			return err
		}
		to := p.Contacts(platform.KindTakedown)
		if len(to) == 0 {
			to = p.Contacts(platform.KindWarning1)
		}
		if len(to) == 0 {
			return fmt.Errorf("platform %s: no address to write to", p.ID)
		}
		now := time.Now()
		if clock != nil {
			now = clock()
		}
		number := fmt.Sprintf("TKL/%s/SG/%d", c.ID, now.In(platform.Jakarta).Year())
		id, en := "ditolak", "dismissed"
		nextID := "Proses eskalasi dilanjutkan dari tahap terakhir; batas waktu baru akan disampaikan dalam surat berikutnya."
		nextEN := "The escalation resumes where it stopped; the next letter gives the new deadline."
		if decision == store.ObjectionUpheld {
			id, en = "diterima", "upheld"
			nextID, nextEN = "Kasus ini ditutup; Anda tidak perlu menurunkan konten tersebut.", "The case is closed; you need not remove the content."
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Nomor / Number: %s\nTanggal: %s\nDate: %s\nKepada / To: %s\n\n", number, platform.TanggalID(now), platform.DateEN(now), p.DisplayName)
		fmt.Fprintf(&b, "BAHASA INDONESIA\n\nDengan hormat,\n\nSanggahan %s atas permintaan penurunan konten kasus %s (%s) telah diputuskan oleh %s: sanggahan %s.\n\nAlasan: %s\n\n%s\n\nHormat kami,\n%s\n\n",
			p.DisplayName, c.ID, c.CanonicalURL, a.Name, id, reasons, nextID, platform.Signatory)
		fmt.Fprintf(&b, "ENGLISH\n\nDear Sir or Madam,\n\n%s decided %s's objection to the takedown request of case %s (%s): the objection is %s.\n\nReasons: %s\n\n%s\n\nYours faithfully,\n%s\n",
			a.Name, p.DisplayName, c.ID, c.CanonicalURL, en, reasons, nextEN, platform.Signatory)
		_, err = m.Send(ctx, outbox.Email{
			From: from, To: to, Text: b.String(),
			Subject: fmt.Sprintf("Keputusan atas Sanggah – Nomor %s – Decision on the objection", number),
			Headers: map[string]string{outbox.IdempotencyHeader: c.ID + ":objection-decision", "X-Tangkal-Case": c.ID},
		})
		return err
	}
}

// MailQuestion forwards a platform's question about a notice to the
// agency's addresses: Bahasa Indonesia first, then English.
func MailQuestion(m Mailer, from string, a platform.Agency) func(ctx context.Context, n *store.OpenNotice, question string) error {
	return func(ctx context.Context, n *store.OpenNotice, question string) error {
		if len(a.Emails) == 0 {
			return nil
		}
		text := fmt.Sprintf("Yth. %s,\n\nPlatform %s meminta informasi tambahan atas surat %s (kasus %s, %s):\n\n%s\n\n"+
			"Mohon jawab platform dengan menyebutkan nomor surat tersebut.\n\n---\n\nDear %s,\n\nThe platform %s asks for more information about letter %s (case %s, %s):\n\n%s\n\n"+
			"Please answer the platform quoting that letter number.\n\n%s\n",
			a.Name, n.Platform, n.LetterNumber, n.Ref, n.URL, question, a.Name, n.Platform, n.LetterNumber, n.Ref, n.URL, question, platform.Signatory)
		_, err := m.Send(ctx, outbox.Email{
			From: from, To: a.Emails, Text: text,
			Subject: fmt.Sprintf("Permintaan informasi dari %s – Nomor %s – Request for information", n.Platform, n.LetterNumber),
			Headers: map[string]string{"X-Tangkal-Case": n.Ref},
		})
		return err
	}
}
