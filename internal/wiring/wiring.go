// Package wiring builds every Lambda handler from its dependencies. The
// functions' main packages call it with dependencies read from the
// environment; the local stack calls it with local ones. There is one way to
// build each handler, so AWS and the local stack run the same code.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/awsenv"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/feedback"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/logging"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/publicreport"
	"github.com/tangkal/tangkal/internal/ratelimit"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/secrets"
	"github.com/tangkal/tangkal/internal/slack"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/workflow"
)

// Deps are what the handlers need. Build makes them, for AWS (FromEnv) and
// for the local stack alike.
type Deps struct {
	Table           store.Table
	Now             func() time.Time
	SFN             *sfn.Client
	StateMachineARN string
	Fetcher         *safefetch.Fetcher
	Evidence        evidence.Store
	Rules           risk.Rules
	Platforms       *platform.Client
	Mailer          outbox.Mailer
	Slack           outbox.SlackPoster
	SlackChannel    string
	// SlackApprovers maps Slack user ids to the approver each one is.
	SlackApprovers map[string]string
	SlackSecret    []byte
	// SlackNow is the clock Slack's request timestamps are checked
	// against: nil is real time, never the local stack's movable clock,
	// since Slack signs with its own (tests of fixed samples set it).
	SlackNow      func() time.Time
	Links         *approval.Signer
	ApproverTiers [][]string
	Sender        string
	// CursorKey signs the read API's paging cursors.
	CursorKey []byte
	// Tokens verifies bearer tokens sent with approval decisions.
	Tokens auth.Verifier
	// EvidenceLinks signs the evidence links in notices and checks them
	// on GET /evidence/{sha256}.
	EvidenceLinks *evidence.Links
	// RateLimits are the request limits of each reporter class (and of
	// each address on the public channel).
	RateLimits ratelimit.Classes
	// PublicChallenges issues and checks the public channel's
	// proof-of-work challenges.
	PublicChallenges publicreport.Challenges
	// PublicExtraReview is the policy that public reports' cases get a
	// further review before an approval request.
	PublicExtraReview bool
	// PublicReportURL is the base of public status links (empty: the
	// request's own host).
	PublicReportURL string
}

// Settings are what a deployment configures: the template's parameters as
// they reach the functions' environment, or the local stack's values.
type Settings struct {
	Table           string
	StateMachineARN string
	// Sender is the From address of approval requests and notices.
	Sender string
	// PublicURL is the base URL of the HTTP API in approval links.
	PublicURL string
	// PlatformsJSON overrides the bundled platform configuration.
	PlatformsJSON  string
	ApproverTiers  [][]string
	SlackChannel   string
	SlackApprovers map[string]string
	// UserPoolID and UserPoolClientID name the Cognito pool whose tokens
	// approvers may send with a decision.
	UserPoolID, UserPoolClientID string
	// EvidenceLinkLifetime is how long a link to an evidence copy in a
	// notice works (0: evidence.DefaultLinkLifetime).
	EvidenceLinkLifetime time.Duration
	// RateLimits is the spec of the rate limits per reporter class
	// (ratelimit.Parse; empty: ratelimit.DefaultSpec).
	RateLimits string
	// PublicChallengeBits is the public channel's proof-of-work
	// difficulty (0: publicreport.DefaultBits).
	PublicChallengeBits int
	// PublicExtraReview: see Deps.
	PublicExtraReview bool
	// PublicReportURL: see Deps.
	PublicReportURL string
}

// Secrets are the keys the handlers use.
type Secrets struct {
	// ApprovalKey signs approval links.
	ApprovalKey []byte
	// WebhookKey is the key that signs webhooks to a platform.
	WebhookKey func(platform string) []byte
	// SlackSigningSecret verifies Slack's requests; SlackBotToken posts.
	SlackSigningSecret []byte
	SlackBotToken      string
	// CursorKey signs the read API's paging cursors.
	CursorKey []byte
	// EvidenceLinkKey signs links to evidence copies in notices.
	EvidenceLinkKey []byte
	// PublicChallengeKey signs the public channel's challenges.
	PublicChallengeKey []byte
}

// Services are the clients and stand-ins handlers talk to: AWS's in a
// deployment, local endpoints and stand-ins in the local stack.
type Services struct {
	DynamoDB *dynamodb.Client
	SFN      *sfn.Client
	Mailer   outbox.Mailer
	Evidence evidence.Store
	// Slack posts messages; nil means Slack's Web API with the bot token.
	Slack outbox.SlackPoster
	// Fetch configures the SSRF-safe fetcher (the local stack pins the
	// simulated platforms' hosts).
	Fetch safefetch.Options
	// PlatformHTTP sends webhooks and status queries (nil: the default).
	PlatformHTTP *http.Client
	// Tokens verifies bearer tokens handlers check themselves; nil means
	// the Cognito pool of Settings.
	Tokens auth.Verifier
	Now    func() time.Time
}

// SlackPostURL is Slack's Web API method that posts a message.
const SlackPostURL = "https://slack.com/api/chat.postMessage"

// Build is the one composition root: it makes the handlers' dependencies
// from settings, secrets and services.
func Build(st Settings, sec Secrets, svc Services) (Deps, error) {
	if st.Table == "" {
		return Deps{}, errors.New("build: no table name (TANGKAL_TABLE)")
	}
	now := svc.Now
	if now == nil {
		now = time.Now
	}
	d := Deps{
		Table: store.Table{DB: svc.DynamoDB, Name: st.Table}, Now: now,
		SFN: svc.SFN, StateMachineARN: st.StateMachineARN,
		Fetcher:  safefetch.New(svc.Fetch),
		Evidence: svc.Evidence, Mailer: svc.Mailer, Sender: st.Sender,
		ApproverTiers: st.ApproverTiers, CursorKey: sec.CursorKey, Tokens: svc.Tokens,
	}
	var err error
	if d.RateLimits, err = ratelimit.Parse(st.RateLimits); err != nil {
		return Deps{}, err
	}
	d.PublicExtraReview, d.PublicReportURL = st.PublicExtraReview, st.PublicReportURL
	if len(sec.PublicChallengeKey) > 0 {
		bits := st.PublicChallengeBits
		if bits == 0 {
			bits = publicreport.DefaultBits
		}
		if bits < 1 || bits > publicreport.MaxBits {
			return Deps{}, fmt.Errorf("public challenge difficulty %d bits: want 1 to %d", bits, publicreport.MaxBits)
		}
		d.PublicChallenges = publicreport.Challenges{Key: sec.PublicChallengeKey, Bits: bits}
	}
	if d.Tokens == nil && st.UserPoolID != "" {
		if d.Tokens, err = auth.NewCognito(st.UserPoolID, st.UserPoolClientID); err != nil {
			return Deps{}, err
		}
	}
	if d.Rules, err = risk.DefaultRules(); err != nil {
		return Deps{}, fmt.Errorf("load risk rules: %w", err)
	}
	pc, err := PlatformConfig(st.PlatformsJSON)
	if err != nil {
		return Deps{}, err
	}
	if len(sec.EvidenceLinkKey) > 0 {
		if d.EvidenceLinks, err = evidence.NewLinks(sec.EvidenceLinkKey, st.PublicURL, st.EvidenceLinkLifetime); err != nil {
			return Deps{}, err
		}
	}
	d.Platforms = &platform.Client{Config: pc, Mailer: svc.Mailer, From: st.Sender, Now: svc.Now, HTTP: svc.PlatformHTTP,
		Secret: sec.WebhookKey, Names: platform.IndicatorNames(d.Rules), EvidenceLinks: d.EvidenceLinks}
	if len(sec.ApprovalKey) > 0 {
		if d.Links, err = approval.NewSigner(sec.ApprovalKey, st.PublicURL); err != nil {
			return Deps{}, err
		}
	}
	if len(sec.SlackSigningSecret) > 0 {
		d.SlackSecret = sec.SlackSigningSecret
		d.SlackApprovers = st.SlackApprovers
		d.SlackChannel = st.SlackChannel
		d.Slack = svc.Slack
		if d.Slack == nil && sec.SlackBotToken != "" {
			d.Slack = &outbox.SlackHTTP{URL: SlackPostURL, Token: sec.SlackBotToken}
		}
	}
	return d, nil
}

// FromEnv reads Deps from a Lambda environment (variables set by
// template.yaml, Slack's keys from Secrets Manager). Settings a function
// does not use may be missing; the handlers that need them fail at build
// time.
func FromEnv(ctx context.Context) (Deps, error) {
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return Deps{}, err
	}
	st := Settings{
		Table: os.Getenv("TANGKAL_TABLE"), StateMachineARN: os.Getenv("TANGKAL_STATE_MACHINE_ARN"),
		Sender: os.Getenv("TANGKAL_SENDER"), PublicURL: os.Getenv("TANGKAL_PUBLIC_URL"),
		PlatformsJSON: os.Getenv("TANGKAL_PLATFORMS"), ApproverTiers: ParseTiers(os.Getenv("TANGKAL_APPROVERS")),
		SlackChannel: os.Getenv("TANGKAL_SLACK_CHANNEL"), RateLimits: os.Getenv("TANGKAL_RATE_LIMITS"),
		UserPoolID: os.Getenv("TANGKAL_USER_POOL_ID"), UserPoolClientID: os.Getenv("TANGKAL_USER_POOL_CLIENT_ID"),
	}
	if st.SlackApprovers, err = ParseSlackApprovers(os.Getenv("TANGKAL_SLACK_APPROVERS")); err != nil {
		return Deps{}, err
	}
	if st.EvidenceLinkLifetime, err = evidence.LifetimeDays(os.Getenv(evidence.LinkDaysEnv)); err != nil {
		return Deps{}, err
	}
	if st.PublicChallengeBits, st.PublicExtraReview, err = PublicSettings(os.Getenv("TANGKAL_PUBLIC_CHALLENGE_BITS"), os.Getenv("TANGKAL_PUBLIC_EXTRA_REVIEW")); err != nil {
		return Deps{}, err
	}
	st.PublicReportURL = os.Getenv("TANGKAL_PUBLIC_REPORT_URL")
	sec := Secrets{
		ApprovalKey: []byte(os.Getenv(approval.SecretEnv)), WebhookKey: webhookSecret,
		CursorKey:          audit.CursorKey(os.Getenv("TANGKAL_CURSOR_SECRET"), os.Getenv(approval.SecretEnv)),
		EvidenceLinkKey:    []byte(os.Getenv(evidence.LinkSecretEnv)),
		PublicChallengeKey: []byte(os.Getenv("TANGKAL_PUBLIC_SECRET")),
	}
	if id := os.Getenv("TANGKAL_SLACK_SECRET_ARN"); id != "" {
		var slackKeys struct {
			SigningSecret string `json:"signing_secret"`
			BotToken      string `json:"bot_token"`
		}
		if err := secrets.JSON(ctx, secretsmanager.NewFromConfig(cfg), id, &slackKeys); err != nil {
			return Deps{}, fmt.Errorf("Slack keys: %w", err)
		}
		sec.SlackSigningSecret, sec.SlackBotToken = []byte(slackKeys.SigningSecret), slackKeys.BotToken
	}
	svc := Services{
		DynamoDB: dynamodb.NewFromConfig(cfg), SFN: sfn.NewFromConfig(cfg),
		Mailer: outbox.NewSES(sesv2.NewFromConfig(cfg)),
	}
	if b := os.Getenv("TANGKAL_EVIDENCE_BUCKET"); b != "" {
		svc.Evidence = evidence.S3{Client: s3.NewFromConfig(cfg), Bucket: b}
	}
	return Build(st, sec, svc)
}

// webhookSecret reads a platform's own secret variable, else the shared one.
func webhookSecret(name string) []byte {
	if v := os.Getenv(name); v != "" {
		return []byte(v)
	}
	return []byte(os.Getenv("TANGKAL_WEBHOOK_SECRET"))
}

// ParseTiers reads approver tiers: tiers separated by commas, addresses of
// one tier by '|'.
func ParseTiers(s string) [][]string {
	var tiers [][]string
	for _, tier := range strings.Split(s, ",") {
		var t []string
		for _, a := range strings.Split(tier, "|") {
			if a = strings.TrimSpace(a); a != "" {
				t = append(t, a)
			}
		}
		if len(t) > 0 {
			tiers = append(tiers, t)
		}
	}
	return tiers
}

// ParseSlackApprovers reads "U0123=approver@agency.go.id,U0456=…": which
// Slack user is which approver.
func ParseSlackApprovers(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		user, who, ok := strings.Cut(pair, "=")
		user, who = strings.TrimSpace(user), strings.ToLower(strings.TrimSpace(who))
		if !ok || user == "" || who == "" {
			return nil, fmt.Errorf("TANGKAL_SLACK_APPROVERS: %q is not SLACKUSERID=approver-address", pair)
		}
		m[user] = who
	}
	return m, nil
}

// PlatformConfig is the bundled platform configuration, or the JSON given.
func PlatformConfig(override string) (platform.Config, error) {
	if strings.TrimSpace(override) != "" {
		return platform.Parse([]byte(override))
	}
	return platform.Default()
}

// MustFromEnv is FromEnv for a function's main: logs are JSON with each
// line's case, execution, state and request; a configuration error is
// logged and ends the process.
func MustFromEnv(ctx context.Context) Deps {
	slog.SetDefault(logging.New(os.Stdout))
	d, err := FromEnv(ctx)
	if err != nil {
		slog.ErrorContext(ctx, "configuration", "err", err)
		os.Exit(1)
	}
	return d
}

type apiHandler = func(context.Context, api.Request) (api.Response, error)

// SubmitReport is SubmitReportFunction's handler.
func SubmitReport(d Deps) apiHandler {
	h := report.Handler{
		Intake: report.Intake{Table: d.Table, Now: d.Now}, Classes: d.RateLimits,
		Limiter:  &ratelimit.Limiter{Table: d.Table, Now: d.Now},
		Profiles: &report.Profiles{Table: d.Table, Now: d.Now},
	}
	if d.Fetcher != nil {
		h.CheckCallback = d.Fetcher.CheckURL
	}
	return api.Handle(h.Route)
}

// PublicSettings reads the public channel's difficulty (bits; empty: the
// default) and its extra-review policy ("true"/"false"; empty: true).
func PublicSettings(bits, extraReview string) (int, bool, error) {
	n := 0
	if strings.TrimSpace(bits) != "" {
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(bits)); err != nil {
			return 0, false, fmt.Errorf("TANGKAL_PUBLIC_CHALLENGE_BITS %q: %w", bits, err)
		}
	}
	switch strings.TrimSpace(extraReview) {
	case "", "true":
		return n, true, nil
	case "false":
		return n, false, nil
	}
	return 0, false, fmt.Errorf("TANGKAL_PUBLIC_EXTRA_REVIEW %q: want true or false", extraReview)
}

// PublicReports is PublicReportsFunction's handler: the public channel.
func PublicReports(d Deps) apiHandler {
	h := publicreport.Handler{
		Intake: report.Intake{Table: d.Table, Now: d.Now}, Challenges: d.PublicChallenges,
		Limiter: &ratelimit.Limiter{Table: d.Table, Now: d.Now}, Limit: d.RateLimits.For(ratelimit.ClassPublic),
		PublicURL: d.PublicReportURL, ExtraReview: d.PublicExtraReview, Now: d.Now,
	}
	return api.Handle(h.Route)
}

// CasesAPI is CasesApiFunction's handler.
// GET /stats/compliance covers the configured platforms (the bundled
// configuration when Deps has no platform client).
func CasesAPI(d Deps) apiHandler {
	r := audit.Reader{Table: d.Table, Now: d.Now}
	r.CursorKey = d.CursorKey
	if len(r.CursorKey) == 0 {
		slog.Warn("no TANGKAL_CURSOR_SECRET: paging cursors are signed with a key of this instance only")
	}
	if d.Platforms != nil {
		r.Platforms = d.Platforms.Config.IDs()
	} else if pc, err := platform.Default(); err == nil {
		r.Platforms = pc.IDs()
	}
	return api.Handle(r.Route)
}

// Evidence is EvidenceFunction's handler: the evidence copies notices
// link to, for platforms holding a signed link.
func Evidence(d Deps) apiHandler {
	srv := &evidence.Server{Links: d.EvidenceLinks, Now: d.Now}
	if r, ok := d.Evidence.(evidence.Reader); ok {
		srv.Store = r
	}
	return api.Handle(srv.Serve)
}

func (d Deps) approvals() *approval.Store {
	return &approval.Store{Table: d.Table, Log: &history.Log{Table: d.Table, Now: d.Now}, Now: d.Now}
}

// Approvals is ApprovalsFunction's handler.
func Approvals(d Deps) apiHandler {
	st := d.approvals()
	done := approval.Completer{SFN: d.SFN}.Decided
	r := approval.Router{
		Approvals: &approval.Handler{Store: st, Signer: d.Links, Decided: done, Now: d.Now},
		Slack:     approval.SlackHandler{Verifier: slack.Verifier{Secret: d.SlackSecret, Now: d.SlackNow}, Store: st, Decided: done},
	}
	r.Approvals.Tokens = d.Tokens
	return api.Handle(r.Route)
}

func (d Deps) assessors() *workflow.Assessors {
	return &workflow.Assessors{Table: d.Table, Rules: d.Rules}
}

func (d Deps) steps() *workflow.Steps {
	return &workflow.Steps{
		Table: d.Table, Now: d.Now, Fetcher: d.Fetcher, Evidence: d.Evidence, Assessors: d.assessors(),
		Platforms: d.Platforms, Approvals: d.approvals(), Links: d.Links, Tasks: d.SFN, Mailer: d.Mailer,
		Slack: d.Slack, SlackChannel: d.SlackChannel, SlackApprovers: d.SlackApprovers,
		ApproverTiers: d.ApproverTiers, Sender: d.Sender,
	}
}

// StartWorkflow is StartWorkflowFunction's handler.
func StartWorkflow(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return workflow.Launcher{SFN: d.SFN, StateMachineARN: d.StateMachineARN}.Start
}

// RecordReports is RecordReportsFunction's handler.
func RecordReports(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return report.Recorder{Table: d.Table, Now: d.Now}.Record
}

// ReporterFeedback is ReporterFeedbackFunction's handler: webhooks and
// e-mails to reporters, and their accuracy records, from the stream.
func ReporterFeedback(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return feedback.Notifier{Table: d.Table, Fetcher: d.Fetcher, Mailer: d.Mailer, Sender: d.Sender, Now: d.Now}.Handle
}

// VerifyAd is VerifyAdFunction's handler.
func VerifyAd(d Deps) func(context.Context, workflow.CaseInput) (workflow.VerifyOutput, error) {
	return d.steps().VerifyAd
}

// RequestApproval is RequestApprovalFunction's handler.
func RequestApproval(d Deps) func(context.Context, workflow.ApprovalInput) (workflow.ApprovalOutput, error) {
	return d.steps().RequestApproval
}

// SendTakedown is SendTakedownFunction's handler.
func SendTakedown(d Deps) func(context.Context, workflow.NoticeInput) (workflow.NoticeOutput, error) {
	return d.steps().SendTakedown
}

// CheckCompliance is CheckComplianceFunction's handler.
func CheckCompliance(d Deps) func(context.Context, workflow.CheckInput) (workflow.CheckOutput, error) {
	return d.steps().CheckCompliance
}

// Escalate is EscalateFunction's handler.
func Escalate(d Deps) func(context.Context, workflow.NoticeInput) (workflow.NoticeOutput, error) {
	return d.steps().Escalate
}

// CloseCase is CloseCaseFunction's handler.
func CloseCase(d Deps) func(context.Context, workflow.CloseInput) (struct{}, error) {
	return d.steps().CloseCase
}

// Handlers maps each function's logical id in template.yaml to its handler.
func Handlers(d Deps) map[string]any {
	return map[string]any{
		"SubmitReportFunction":     SubmitReport(d),
		"PublicReportsFunction":    PublicReports(d),
		"CasesApiFunction":         CasesAPI(d),
		"ApprovalsFunction":        Approvals(d),
		"EvidenceFunction":         Evidence(d),
		"StartWorkflowFunction":    StartWorkflow(d),
		"RecordReportsFunction":    RecordReports(d),
		"ReporterFeedbackFunction": ReporterFeedback(d),
		"VerifyAdFunction":         VerifyAd(d),
		"RequestApprovalFunction":  RequestApproval(d),
		"SendTakedownFunction":     SendTakedown(d),
		"CheckComplianceFunction":  CheckCompliance(d),
		"EscalateFunction":         Escalate(d),
		"CloseCaseFunction":        CloseCase(d),
	}
}
