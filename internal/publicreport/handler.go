package publicreport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/ratelimit"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/store"
)

// Limits of the public channel.
const (
	// MaxBodyBytes caps a public report (text of up to 10,000 characters
	// fits; a reporter's own details are not asked for).
	MaxBodyBytes = 32 << 10
	// StatusLinkLifetime is how long a status link works.
	StatusLinkLifetime = 365 * 24 * time.Hour
)

// Subject is the reporter every public report is recorded under: public
// reports carry no account and nothing that identifies the sender.
const Subject = "public"

// Submission is the body of POST /public/reports: the ad, and the solved
// challenge. There is no field for the sender's name or contact.
type Submission struct {
	URL        string     `json:"url"`
	Platform   string     `json:"platform,omitempty"`
	Text       string     `json:"text,omitempty"`
	Category   string     `json:"category,omitempty"`
	Notes      string     `json:"notes,omitempty"`
	ObservedAt *time.Time `json:"observed_at,omitempty"`
	Challenge  string     `json:"challenge"`
	Nonce      string     `json:"nonce"`
}

// Receipt is the answer of POST /public/reports (202).
type Receipt struct {
	StatusURL string `json:"status_url"`
	Status    string `json:"status"`
	MessageID string `json:"message_id"`
	MessageEN string `json:"message_en"`
}

// Handler serves PublicReportsFunction's routes, none behind the JWT
// authorizer.
type Handler struct {
	Intake     report.Intake
	Challenges Challenges
	Limiter    *ratelimit.Limiter
	// Limit is each address's limit (class "public").
	Limit ratelimit.Limit
	// PublicURL is the base of status links; empty: the request's host.
	PublicURL string
	// ExtraReview is the policy PublicReportsExtraReview: public reports'
	// cases are marked for a further review before an approval request.
	ExtraReview bool
	Now         func() time.Time
}

func (h Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Route dispatches on the route key.
func (h Handler) Route(ctx context.Context, req api.Request) (api.Response, error) {
	if len(h.Challenges.Key) == 0 || h.Challenges.Bits < 1 {
		// No key, no channel: never hand out challenges anyone could forge.
		return api.Response{}, api.Errorf(404, "not_found", "", "the public channel is not enabled in this deployment")
	}
	switch req.RouteKey {
	case "GET /public/challenge":
		return h.Challenge(ctx, req)
	case "POST /public/reports":
		return h.Submit(ctx, req)
	case "GET /public/reports/{token}":
		return h.Status(ctx, req)
	}
	return api.Response{}, api.NotFound("route")
}

// limit takes a token from the caller's address bucket.
func (h Handler) limit(ctx context.Context, req api.Request) error {
	if h.Limiter == nil {
		return nil
	}
	d, err := h.Limiter.Take(ctx, ratelimit.Key("address", req.RequestContext.HTTP.SourceIP), h.Limit, 1)
	if err != nil {
		return err
	}
	if !d.Allowed {
		return ratelimit.Refuse(d)
	}
	return nil
}

// Challenge serves GET /public/challenge.
func (h Handler) Challenge(ctx context.Context, req api.Request) (api.Response, error) {
	return api.JSON(200, h.Challenges.Issue(h.now())), nil
}

// Submit serves POST /public/reports.
func (h Handler) Submit(ctx context.Context, req api.Request) (api.Response, error) {
	body, err := api.Body(req, MaxBodyBytes)
	if err != nil {
		return api.Response{}, err
	}
	if err := h.limit(ctx, req); err != nil {
		return api.Response{}, err
	}
	var ps Submission
	if err := api.DecodeStrict(body, &ps); err != nil {
		return api.Response{}, err
	}
	now := h.now()
	if ps.Challenge == "" {
		return api.Response{}, api.Invalid("challenge", "challenge is required: get one from GET /public/challenge")
	}
	exp, err := h.Challenges.Check(ps.Challenge, ps.Nonce, now)
	switch {
	case errors.Is(err, ErrWork):
		return api.Response{}, api.Invalid("nonce", "nonce does not solve the challenge (%s)", HowTo)
	case errors.Is(err, ErrExpired):
		return api.Response{}, api.Errorf(400, "challenge_expired", "challenge", "the challenge has expired; get a new one")
	case err != nil:
		return api.Response{}, api.Invalid("challenge", "challenge was not issued by this service")
	}
	s := report.Submission{URL: ps.URL, Platform: ps.Platform, Text: ps.Text, Category: ps.Category, Notes: ps.Notes, ObservedAt: ps.ObservedAt}
	c, err := s.Validate(now)
	if err != nil {
		return api.Response{}, err
	}
	if err := h.spend(ctx, ps.Challenge, exp); err != nil {
		return api.Response{}, err
	}
	r, err := h.Intake.SubmitFrom(ctx, auth.Principal{Subject: Subject}, report.Origin{Source: report.SourcePublic, ExtraReview: h.ExtraReview}, s, c, nil, "")
	if err != nil {
		return api.Response{}, err
	}
	token, err := h.capability(ctx, r, now)
	if err != nil {
		return api.Response{}, err
	}
	base := strings.TrimRight(h.PublicURL, "/")
	if base == "" {
		proto := api.Header(req, "X-Forwarded-Proto")
		if proto != "http" {
			proto = "https"
		}
		base = proto + "://" + req.RequestContext.DomainName
	}
	return api.JSON(202, Receipt{
		StatusURL: base + "/public/reports/" + token, Status: "received",
		MessageID: "Terima kasih. Laporan diterima dan akan diperiksa. Simpan tautan status ini: hanya tautan ini yang menunjukkan status laporan Anda.",
		MessageEN: "Thank you. The report was received and will be reviewed. Keep this status link: it is the only way to see your report's status.",
	}), nil
}

// spend records a used challenge until it expires: each solves one report.
func (h Handler) spend(ctx context.Context, challenge string, exp time.Time) error {
	sum := sha256.Sum256([]byte(challenge))
	_, err := h.Intake.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(h.Intake.Table.Name),
		Item: map[string]typesAV{
			"PK": s(store.SpentPK(hex.EncodeToString(sum[:]))), "SK": s(store.SKSpent), "expires_at": n(exp.Unix() + 60),
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if store.IsConditionFailed(err) {
		return api.Errorf(409, "challenge_used", "challenge", "this challenge was used already; get a new one")
	}
	if err != nil {
		return fmt.Errorf("spend challenge: %w", err)
	}
	return nil
}

// statusItem is PUBLIC#<sha256(token)>/STATUS: which report a status link
// shows. Only the token's hash is stored.
type statusItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	CaseID     string `dynamodbav:"case_id"`
	ReportID   string `dynamodbav:"report_id"`
	ReceivedAt string `dynamodbav:"received_at"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

func tokenPK(token string) string {
	sum := sha256.Sum256([]byte("tangkal-public-status\x00" + token))
	return store.PublicPK(hex.EncodeToString(sum[:]))
}

func (h Handler) capability(ctx context.Context, r report.Receipt, now time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("status token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	av, err := attributevalue.MarshalMap(statusItem{PK: tokenPK(token), SK: store.SKStatus, CaseID: r.CaseID, ReportID: r.ReportID,
		ReceivedAt: store.FormatTime(now), ExpiresAt: now.Add(StatusLinkLifetime).Unix()})
	if err != nil {
		return "", fmt.Errorf("encode status link: %w", err)
	}
	if _, err := h.Intake.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(h.Intake.Table.Name), Item: av}); err != nil {
		return "", fmt.Errorf("store status link: %w", err)
	}
	return token, nil
}

// Status is the answer of GET /public/reports/{token}: that report's
// status and outcome, nothing about the case's other reporters, the
// approvers or the platform's contacts.
type Status struct {
	Status     string `json:"status"`
	Outcome    string `json:"outcome,omitempty"`
	ReceivedAt string `json:"received_at"`
	ClosedAt   string `json:"closed_at,omitempty"`
	MessageID  string `json:"message_id"`
	MessageEN  string `json:"message_en"`
}

// Status serves GET /public/reports/{token}.
func (h Handler) Status(ctx context.Context, req api.Request) (api.Response, error) {
	token := req.PathParameters["token"]
	if len(token) != 43 {
		return api.Response{}, api.NotFound("report")
	}
	out, err := h.Intake.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(h.Intake.Table.Name), Key: store.Key(tokenPK(token), store.SKStatus),
	})
	if err != nil {
		return api.Response{}, fmt.Errorf("read status link: %w", err)
	}
	var it statusItem
	if out.Item == nil || attributevalue.UnmarshalMap(out.Item, &it) != nil || it.ExpiresAt < h.now().Unix() {
		return api.Response{}, api.NotFound("report")
	}
	c, err := h.Intake.Table.GetCase(ctx, it.CaseID)
	if err != nil {
		return api.Response{}, err
	}
	st := Public(c.Status)
	ans := Status{Status: st.Status, ReceivedAt: it.ReceivedAt, MessageID: st.ID, MessageEN: st.EN}
	if store.IsClosed(c.Status) {
		ans.Outcome, ans.ClosedAt = c.Status, c.ClosedAt
	}
	return api.JSON(200, ans), nil
}

// PublicStatus is how a case's status reads to a public reporter.
type PublicStatus struct{ Status, ID, EN string }

// Public maps a case status to what a public reporter is told.
func Public(status string) PublicStatus {
	switch status {
	case store.StatusReceived, store.StatusVerifying, store.StatusAwaitingApprove:
		return PublicStatus{"in_review", "Laporan sedang diperiksa.", "The report is being reviewed."}
	case store.StatusApproved, store.StatusTakedownSent, store.StatusEscalated, store.StatusManualQueue:
		return PublicStatus{"takedown_requested", "Permintaan penurunan konten telah dikirim ke platform.", "A takedown request was sent to the platform."}
	case store.StatusRemovedInTime, store.StatusRemovedLate:
		return PublicStatus{"removed", "Iklan sudah diturunkan. Terima kasih.", "The ad was taken down. Thank you."}
	case store.StatusNonCompliant:
		return PublicStatus{"closed", "Platform tidak menurunkan iklan setelah tiga peringatan; kasus dicatat untuk tindak lanjut.", "The platform did not remove the ad after three warnings; the case is recorded for follow-up."}
	case store.StatusDuplicate:
		return PublicStatus{"closed", "Iklan ini sudah dilaporkan sebelumnya dan ditangani dalam kasus lain.", "This ad was reported before and is handled in another case."}
	}
	return PublicStatus{"closed", "Pemeriksaan selesai tanpa permintaan penurunan.", "The review ended without a takedown request."}
}
