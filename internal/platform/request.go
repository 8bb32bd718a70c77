package platform

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kind is the kind of notice sent to a platform.
type Kind string

// Notice kinds: the takedown request, then the escalation warnings.
const (
	KindTakedown Kind = "takedown"
	KindWarning1 Kind = "warning_1"
	KindWarning2 Kind = "warning_2"
	KindWarning3 Kind = "warning_3"
	// After warning 3 the ladder goes on with sanctions (Permenkominfo
	// 5/2020): the administrative fine recommendation (level 4), then the
	// access-blocking referral to the ministry (level 5).
	KindFine     Kind = "fine_recommendation"
	KindBlocking Kind = "blocking_referral"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindTakedown, KindWarning1, KindWarning2, KindWarning3, KindFine, KindBlocking:
		return true
	}
	return false
}

// DefaultLegalBasis is used when a Request carries none.
const DefaultLegalBasis = "Peraturan Menteri Komunikasi dan Informatika Nomor 5 Tahun 2020 tentang " +
	"Penyelenggara Sistem Elektronik Lingkup Privat (Pasal 13-15: kewajiban pemutusan akses atas " +
	"informasi elektronik yang dilarang); Undang-Undang Nomor 18 Tahun 2017 tentang Pelindungan " +
	"Pekerja Migran Indonesia; Undang-Undang Nomor 21 Tahun 2007 tentang Pemberantasan Tindak " +
	"Pidana Perdagangan Orang."

// Request is one notice to a platform about one ad.
type Request struct {
	CaseID   string
	Kind     Kind // defaults to KindTakedown
	Attempt  int  // 1 for the first notice of this kind
	URL      string
	Platform string
	Urgency  string
	Deadline time.Time
	// LegalBasis defaults to DefaultLegalBasis.
	LegalBasis string
	// Findings are the indicators and the stored copy the notice cites.
	Findings Findings
	// Evidence is an optional note written in the notice as it is (the
	// same text in both parts); Findings carry the reasons.
	Evidence string
	// Fine is what a fine recommendation proposes (KindFine).
	Fine Fine
	// Agency is the ministry an access-blocking referral is addressed to
	// (KindBlocking); the platform's warning 3 contacts get a copy.
	Agency Agency
}

// Fine is an administrative fine: an amount per item of content not
// taken down, times the items.
type Fine struct {
	PerItemIDR int64 `json:"per_item_idr"`
	Items      int   `json:"items"`
}

// TotalIDR is the fine's amount in rupiah.
func (f Fine) TotalIDR() int64 { return f.PerItemIDR * int64(f.Items) }

// Agency is a government agency a letter is addressed to.
type Agency struct {
	// ID names it in settings ("komdigi").
	ID   string `json:"id"`
	Name string `json:"name"`
	// Emails receive its letters.
	Emails []string `json:"emails"`
}

// IdempotencyKey is case id + ":" + kind + ":" + attempt. A task that runs
// twice sends the same key, and the platform deduplicates on it.
func (r Request) IdempotencyKey() string {
	k := r.Kind
	if k == "" {
		k = KindTakedown
	}
	return r.CaseID + ":" + string(k) + ":" + strconv.Itoa(r.Attempt)
}

func (r Request) normalized() (Request, error) {
	if r.Kind == "" {
		r.Kind = KindTakedown
	}
	if r.LegalBasis == "" {
		r.LegalBasis = DefaultLegalBasis
	}
	switch {
	case r.CaseID == "":
		return r, errors.New("request field case_id: required")
	case !r.Kind.Valid():
		return r, fmt.Errorf("request field kind: unknown kind %q", r.Kind)
	case r.Attempt < 1:
		return r, fmt.Errorf("request field attempt: must be at least 1, got %d", r.Attempt)
	case r.URL == "":
		return r, errors.New("request field url: required")
	case r.Platform == "":
		return r, errors.New("request field platform: required")
	case r.Deadline.IsZero():
		return r, errors.New("request field deadline: required")
	case r.Kind == KindFine && r.Fine.TotalIDR() <= 0:
		return r, errors.New("request field fine: a fine recommendation needs a positive amount")
	case r.Kind == KindBlocking && len(r.Agency.Emails) == 0:
		return r, errors.New("request field agency: an access-blocking referral needs the agency's address")
	}
	return r, nil
}

// Receipt is a platform's acknowledgement of a notice.
type Receipt struct {
	// PlatformRef is the platform's reference (webhook) or the message id
	// (email).
	PlatformRef    string    `json:"platform_ref"`
	Channel        string    `json:"channel"`
	IdempotencyKey string    `json:"idempotency_key"`
	SentAt         time.Time `json:"sent_at"`
}

// TransientError means the notice may succeed if sent again (429, 5xx,
// network failure). Step Functions sees it as the error "TransientError".
type TransientError struct {
	Platform   string
	StatusCode int // 0 for network errors
	Err        error
}

func (e *TransientError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("platform %s: transient failure: HTTP %d: %v", e.Platform, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("platform %s: transient failure: %v", e.Platform, e.Err)
}

func (e *TransientError) Unwrap() error { return e.Err }

// RejectedError means the platform refused the notice (4xx other than
// 429); sending it again will not help. Step Functions sees "RejectedError".
type RejectedError struct {
	Platform   string
	StatusCode int
	Message    string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("platform %s: rejected the notice: HTTP %d: %s", e.Platform, e.StatusCode, e.Message)
}

// IsTransient reports whether err (or an error it wraps) is a *TransientError.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
