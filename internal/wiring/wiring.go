// Package wiring builds every Lambda handler from its dependencies. The
// functions' main packages call it with dependencies read from the
// environment; the local stack calls it with local ones. There is one way to
// build each handler, so AWS and the local stack run the same code.
package wiring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/awsenv"
	"github.com/tangkal/tangkal/internal/bundle"
	"github.com/tangkal/tangkal/internal/configstore"
	"github.com/tangkal/tangkal/internal/console"
	"github.com/tangkal/tangkal/internal/deadline"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/export"
	"github.com/tangkal/tangkal/internal/feedback"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/logging"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/platformapi"
	"github.com/tangkal/tangkal/internal/publicreport"
	"github.com/tangkal/tangkal/internal/ratelimit"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/secrets"
	"github.com/tangkal/tangkal/internal/slack"
	"github.com/tangkal/tangkal/internal/stats"
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
	// Slack calls Slack's Web API (slack-go); nil while Slack is off.
	Slack approval.SlackMessenger
	// Agencies are the agencies, their members and channels, and the
	// approval policies (the run-time configuration's, else data/agencies.yaml).
	Agencies    agency.Directory
	SlackSecret []byte
	// InvokeAsync hands a payload to the Approvals function itself, to run
	// after the current request answered (Slack's 3 seconds).
	InvokeAsync func(ctx context.Context, payload []byte) error
	// SlackNow is the clock Slack's request timestamps are checked
	// against: nil is real time, never the local stack's movable clock,
	// since Slack signs with its own (tests of fixed samples set it).
	SlackNow func() time.Time
	Links    *approval.Signer
	Sender   string
	// CursorKey signs the read API's paging cursors.
	CursorKey []byte
	// Tokens verifies bearer tokens sent with approval decisions.
	Tokens auth.Verifier
	// EvidenceLinks signs the evidence links in notices and checks them
	// on GET /evidence/{sha256}.
	EvidenceLinks *evidence.Links
	// Anchor is the append-only store every event's hash is copied to;
	// AnchorMAC makes and checks its records' MACs.
	Anchor    anchor.Store
	AnchorMAC anchor.MAC
	// PseudonymKey keys reporters' pseudonyms.
	PseudonymKey []byte
	// ContactRetention is how long reporters' names and contacts are
	// kept (0: report.DefaultContactRetention).
	ContactRetention time.Duration
	// ConsoleKey signs the console's sessions and CSRF tokens.
	ConsoleKey []byte
	// SignIn is how people sign in to the console: the Cognito hosted UI
	// in AWS, the local members page in the local stack.
	SignIn console.SignIn
	// Sanctions configure the ladder after warning 3 (the fine per item,
	// the agency receiving blocking referrals and deciding objections).
	Sanctions workflow.Sanctions
	// ObjectionWindow is how long after the takedown request a platform
	// may object.
	ObjectionWindow time.Duration
	// BundleKey signs evidence bundles (Ed25519).
	BundleKey *bundle.Key
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
	// ConfigSource is where the platform and agency configuration is
	// kept (configstore.SourceEnv: ssm:/path/ or s3://bucket/prefix/);
	// empty, or no document there: the bundled data/platforms.json and
	// data/agencies.yaml.
	ConfigSource string
	// AgenciesJSON, when not blank, is the agencies' document itself (the
	// local stack's tests); it takes the place of ConfigSource's.
	AgenciesJSON string
	// SlackAPIURL is Slack's Web API ("" in AWS: Slack's own; locally the
	// Slack stand-in).
	SlackAPIURL string
	// UserPoolID and UserPoolClientID name the Cognito pool whose tokens
	// approvers may send with a decision.
	UserPoolID, UserPoolClientID string
	// EvidenceLinkLifetime is how long a link to an evidence copy in a
	// notice works (0: evidence.DefaultLinkLifetime).
	EvidenceLinkLifetime time.Duration
	// AnchorBucket is the Object Lock bucket of the history's external
	// copy, AnchorKeyID the KMS HMAC key of its MACs.
	AnchorBucket, AnchorKeyID string
	// ConsoleAuthDomain is the Cognito hosted UI's base URL and
	// ConsoleClientID its app client for the console; ConsoleURL the
	// console's public URL (empty: from each request's host).
	ConsoleAuthDomain, ConsoleClientID, ConsoleURL string
	// FinePerItemIDR is the administrative fine recommended per item
	// (0: workflow.DefaultFinePerItemIDR).
	FinePerItemIDR int64
	// ObjectionAgency names the agency deciding objections and receiving
	// blocking referrals ("komdigi"); AgencyEmails are its addresses.
	ObjectionAgency string
	AgencyEmails    []string
	// ObjectionWindow is how long a platform may object (0: a day).
	ObjectionWindow time.Duration
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
	// SecretIDs name the secrets Build reads at run time through
	// Services.SecretsManager; each one set replaces the matching value
	// of Secrets.
	SecretIDs SecretIDs
	// ContactRetention is how long reporters' names and contacts are kept
	// (0: report.DefaultContactRetention).
	ContactRetention time.Duration
}

// SecretIDs are Secrets Manager secret ids (names or ARNs): what a
// function's environment carries instead of the secrets themselves.
type SecretIDs struct {
	Approval, Webhook, EvidenceLink, Cursor, Pseudonym, Console, Bundle string
	// PublicChallenge signs the public channel's proof-of-work challenges.
	PublicChallenge string
	// Slack holds the Slack app's keys as JSON {"signing_secret","bot_token"}.
	Slack string
	// PlatformWebhooks are platforms' own webhook secrets, by the
	// variable name the platform configuration gives (webhook_secret_env).
	PlatformWebhooks map[string]string
}

// Environment variables naming the secrets (each <NAME>_ARN, e.g.
// TANGKAL_APPROVAL_SECRET_ARN); the secrets are read at run time.
const (
	ApprovalSecretARNEnv     = approval.SecretEnv + "_ARN"
	WebhookSecretARNEnv      = "TANGKAL_WEBHOOK_SECRET_ARN"
	EvidenceLinkSecretARNEnv = evidence.LinkSecretEnv + "_ARN"
	CursorSecretARNEnv       = "TANGKAL_CURSOR_SECRET_ARN"
	PseudonymSecretARNEnv    = "TANGKAL_PSEUDONYM_SECRET_ARN"
	ConsoleSecretARNEnv      = "TANGKAL_CONSOLE_SECRET_ARN"
	BundleSecretARNEnv       = BundleSecretEnv + "_ARN"
	SlackSecretARNEnv        = "TANGKAL_SLACK_SECRET_ARN"
	PublicSecretARNEnv       = PublicSecretEnv + "_ARN"
)

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
	// AnchorKey is the local MAC key of the history's external copy (in
	// AWS the key stays in KMS: Settings.AnchorKeyID).
	AnchorKey []byte
	// PseudonymKey keys reporters' pseudonyms (HMAC-SHA256).
	PseudonymKey []byte
	// ConsoleKey signs the console's sessions and CSRF tokens.
	ConsoleKey []byte
	// BundleSecret is what the Ed25519 key of evidence bundles is
	// derived from.
	BundleSecret []byte
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
	// InvokeAsync runs the Approvals function again asynchronously with
	// a payload (AWS: lambda Invoke, InvocationType Event, on itself;
	// locally: the same function in a goroutine).
	InvokeAsync func(ctx context.Context, payload []byte) error
	// Fetch configures the SSRF-safe fetcher (the local stack pins the
	// simulated platforms' hosts).
	Fetch safefetch.Options
	// PlatformHTTP sends webhooks and status queries (nil: the default).
	PlatformHTTP *http.Client
	// Tokens verifies bearer tokens handlers check themselves; nil means
	// the Cognito pool of Settings.
	Tokens auth.Verifier
	// Anchor is the history's external copy (the local stack's folder);
	// nil means S3 (Settings.AnchorBucket).
	Anchor anchor.Store
	// S3 and KMS clients, when Settings name a bucket or key.
	S3  *s3.Client
	KMS *kms.Client
	// SSM reads configuration documents kept in SSM parameters.
	SSM configstore.SSMGetter
	// SecretsManager reads the secrets Settings.SecretIDs name (the
	// local stack's stand-in speaks the same protocol).
	SecretsManager secrets.Getter
	// ConsoleMembers, when set, replace the hosted UI with the local
	// sign-in page listing them (the local stack only).
	ConsoleMembers []console.Member
	Now            func() time.Time
}

// Build is the one composition root: it makes the handlers' dependencies
// from settings, secrets and services.
func Build(st Settings, sec Secrets, svc Services) (Deps, error) {
	if st.Table == "" {
		return Deps{}, errors.New("build: no table name (TANGKAL_TABLE)")
	}
	keys, err := readSecrets(st.SecretIDs, sec, svc.SecretsManager)
	if err != nil {
		return Deps{}, err
	}
	sec = keys.values(sec)
	now := svc.Now
	if now == nil {
		now = time.Now
	}
	d := Deps{
		Table: store.Table{DB: svc.DynamoDB, Name: st.Table}, Now: now,
		SFN: svc.SFN, StateMachineARN: st.StateMachineARN,
		Fetcher:  safefetch.New(svc.Fetch),
		Evidence: svc.Evidence, Mailer: svc.Mailer, Sender: st.Sender,
		CursorKey: sec.CursorKey, Tokens: svc.Tokens, InvokeAsync: svc.InvokeAsync,
		PseudonymKey: sec.PseudonymKey, ContactRetention: st.ContactRetention,
		ConsoleKey: sec.ConsoleKey,
	}
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
	switch {
	case len(svc.ConsoleMembers) > 0:
		d.SignIn = console.LocalSignIn{Members: svc.ConsoleMembers}
	case st.ConsoleAuthDomain != "" && st.ConsoleClientID != "" && st.UserPoolID != "":
		v, err := auth.NewCognito(st.UserPoolID, st.ConsoleClientID)
		if err != nil {
			return Deps{}, fmt.Errorf("console sign-in: %w", err)
		}
		d.SignIn = console.HostedUI{Domain: st.ConsoleAuthDomain, ClientID: st.ConsoleClientID, ConsoleURL: st.ConsoleURL, Tokens: v}
	}
	if d.Tokens == nil && st.UserPoolID != "" {
		if d.Tokens, err = auth.NewCognito(st.UserPoolID, st.UserPoolClientID); err != nil {
			return Deps{}, err
		}
	}
	d.Anchor = svc.Anchor
	if d.Anchor == nil && st.AnchorBucket != "" && svc.S3 != nil {
		d.Anchor = anchor.S3{Client: svc.S3, Bucket: st.AnchorBucket}
	}
	switch {
	case len(sec.AnchorKey) > 0:
		d.AnchorMAC = anchor.HMAC{Key: sec.AnchorKey}
	case st.AnchorKeyID != "" && svc.KMS != nil:
		d.AnchorMAC = anchor.KMS{Client: svc.KMS, KeyID: st.AnchorKeyID}
	}
	if len(sec.BundleSecret) > 0 {
		if d.BundleKey, err = bundle.KeyFromSecret(sec.BundleSecret); err != nil {
			return Deps{}, err
		}
	}
	if d.Rules, err = risk.DefaultRules(); err != nil {
		return Deps{}, fmt.Errorf("load risk rules: %w", err)
	}
	src := configstore.Source{Location: st.ConfigSource, SSM: svc.SSM}
	if svc.S3 != nil {
		src.S3 = svc.S3
	}
	if d.Agencies, err = AgencyConfig(src, st.AgenciesJSON); err != nil {
		return Deps{}, err
	}
	pc, err := PlatformConfig(src)
	if err != nil {
		return Deps{}, err
	}
	if keys.evidence != nil {
		// Links signed before a rotation verify until they expire.
		keys.evidence.Grace = max(secrets.DefaultGrace, st.EvidenceLinkLifetime)
		if d.EvidenceLinks, err = evidence.NewRingLinks(keys.evidence, st.PublicURL, st.EvidenceLinkLifetime); err != nil {
			return Deps{}, err
		}
	}
	d.Sanctions = workflow.Sanctions{FinePerItemIDR: st.FinePerItemIDR, Agency: Agency(st.ObjectionAgency, st.AgencyEmails)}
	if d.Sanctions.FinePerItemIDR <= 0 {
		d.Sanctions.FinePerItemIDR = workflow.DefaultFinePerItemIDR
	}
	d.ObjectionWindow = st.ObjectionWindow
	if d.ObjectionWindow <= 0 {
		d.ObjectionWindow = platformapi.DefaultObjectionWindow
	}
	d.Platforms = &platform.Client{Config: pc, Mailer: svc.Mailer, From: st.Sender, Now: svc.Now, HTTP: svc.PlatformHTTP,
		Secret: keys.webhookKey(sec.WebhookKey), Names: platform.IndicatorNames(d.Rules), EvidenceLinks: d.EvidenceLinks}
	if keys.approval != nil {
		if d.Links, err = approval.NewRingSigner(keys.approval, st.PublicURL); err != nil {
			return Deps{}, err
		}
	}
	if len(sec.SlackSigningSecret) > 0 {
		d.SlackSecret = sec.SlackSigningSecret
		if sec.SlackBotToken != "" {
			d.Slack = slack.NewClient(sec.SlackBotToken, st.SlackAPIURL, nil)
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
		ConfigSource: os.Getenv(configstore.SourceEnv),
		UserPoolID:   os.Getenv("TANGKAL_USER_POOL_ID"), UserPoolClientID: os.Getenv("TANGKAL_USER_POOL_CLIENT_ID"),
		AnchorBucket: os.Getenv("TANGKAL_ANCHOR_BUCKET"), AnchorKeyID: os.Getenv("TANGKAL_ANCHOR_KEY_ID"),
		ConsoleAuthDomain: os.Getenv("TANGKAL_CONSOLE_AUTH_DOMAIN"), ConsoleClientID: os.Getenv("TANGKAL_CONSOLE_CLIENT_ID"),
		ConsoleURL: os.Getenv("TANGKAL_CONSOLE_URL"),
		RateLimits: os.Getenv("TANGKAL_RATE_LIMITS"),
	}
	if st.EvidenceLinkLifetime, err = evidence.LifetimeDays(os.Getenv(evidence.LinkDaysEnv)); err != nil {
		return Deps{}, err
	}
	if st.ContactRetention, err = report.RetentionDays(os.Getenv(report.ContactRetentionEnv)); err != nil {
		return Deps{}, err
	}
	if st.FinePerItemIDR, st.ObjectionWindow, err = ParseSanctions(os.Getenv("TANGKAL_FINE_PER_ITEM_IDR"), os.Getenv("TANGKAL_OBJECTION_WINDOW_SECONDS")); err != nil {
		return Deps{}, err
	}
	st.ObjectionAgency, st.AgencyEmails = os.Getenv("TANGKAL_OBJECTION_AGENCY"), splitList(os.Getenv("TANGKAL_AGENCY_EMAILS"))
	if st.PublicChallengeBits, st.PublicExtraReview, err = PublicSettings(os.Getenv("TANGKAL_PUBLIC_CHALLENGE_BITS"), os.Getenv("TANGKAL_PUBLIC_EXTRA_REVIEW")); err != nil {
		return Deps{}, err
	}
	st.PublicReportURL = os.Getenv("TANGKAL_PUBLIC_REPORT_URL")
	// Secrets are read at run time from Secrets Manager: the environment
	// names them (<NAME>_ARN). A secret given as a value instead (events/
	// env.json for sam local invoke) is used only when no ARN names it.
	st.SecretIDs = SecretIDs{
		Approval: os.Getenv(ApprovalSecretARNEnv), Webhook: os.Getenv(WebhookSecretARNEnv),
		EvidenceLink: os.Getenv(EvidenceLinkSecretARNEnv), Cursor: os.Getenv(CursorSecretARNEnv),
		Pseudonym: os.Getenv(PseudonymSecretARNEnv), Console: os.Getenv(ConsoleSecretARNEnv),
		Bundle: os.Getenv(BundleSecretARNEnv), Slack: os.Getenv(SlackSecretARNEnv),
		PublicChallenge:  os.Getenv(PublicSecretARNEnv),
		PlatformWebhooks: platformWebhookARNs(os.Environ()),
	}
	sec := Secrets{
		ApprovalKey: []byte(os.Getenv(approval.SecretEnv)), WebhookKey: webhookSecret,
		CursorKey:          audit.CursorKey(os.Getenv("TANGKAL_CURSOR_SECRET"), os.Getenv(approval.SecretEnv)),
		EvidenceLinkKey:    []byte(os.Getenv(evidence.LinkSecretEnv)),
		PseudonymKey:       []byte(os.Getenv("TANGKAL_PSEUDONYM_SECRET")),
		ConsoleKey:         []byte(os.Getenv("TANGKAL_CONSOLE_SECRET")),
		BundleSecret:       []byte(os.Getenv(BundleSecretEnv)),
		PublicChallengeKey: []byte(os.Getenv(PublicSecretEnv)),
	}
	svc := Services{
		DynamoDB: dynamodb.NewFromConfig(cfg), SFN: sfn.NewFromConfig(cfg),
		Mailer: outbox.NewSES(sesv2.NewFromConfig(cfg)),
		S3:     s3.NewFromConfig(cfg), KMS: kms.NewFromConfig(cfg),
		SecretsManager: secretsmanager.NewFromConfig(cfg),
		SSM:            ssm.NewFromConfig(cfg),
	}
	// Only a function the template lets invoke itself (ApprovalsFunction:
	// Slack's 3-second answer, the work after it) gets the invoker.
	if os.Getenv(SelfInvokeEnv) == "true" {
		svc.InvokeAsync = selfInvoker(lambdasvc.NewFromConfig(cfg))
	}
	if b := os.Getenv("TANGKAL_EVIDENCE_BUCKET"); b != "" {
		svc.Evidence = evidence.S3{Client: svc.S3, Bucket: b}
	}
	return Build(st, sec, svc)
}

// BundleSecretEnv holds the secret the evidence bundles' signing key is
// derived from.
const BundleSecretEnv = "TANGKAL_BUNDLE_SECRET"

// PublicSecretEnv is the key signing the public channel's challenges
// (given as a value only for sam local invoke; see PublicSecretARNEnv).
const PublicSecretEnv = "TANGKAL_PUBLIC_SECRET"

// platformWebhookARNs are the platforms' own webhook secrets named in the
// environment: TANGKAL_WEBHOOK_SECRET_<PLATFORM>_ARN, by the variable name
// without _ARN (what the platform configuration's webhook_secret_env says).
func platformWebhookARNs(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutSuffix(k, "_ARN"); ok && v != "" && strings.HasPrefix(name, "TANGKAL_WEBHOOK_SECRET_") {
			m[name] = v
		}
	}
	return m
}

// webhookSecret reads a platform's own secret variable, else the shared
// one (values given directly: sam local invoke).
func webhookSecret(name string) []byte {
	if v := os.Getenv(name); v != "" {
		return []byte(v)
	}
	return []byte(os.Getenv("TANGKAL_WEBHOOK_SECRET"))
}

// DefaultAgency is the agency deciding objections and receiving
// blocking referrals when none is configured.
const DefaultAgency = "komdigi"

// agencyNames are the agencies' names in letters, until the agencies
// file names them.
var agencyNames = map[string]string{DefaultAgency: "Kementerian Komunikasi dan Digital (Komdigi)"}

// Agency is the agency id (default komdigi) with its name and addresses.
func Agency(id string, emails []string) platform.Agency {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		id = DefaultAgency
	}
	name := agencyNames[id]
	if name == "" {
		name = strings.ToUpper(id)
	}
	return platform.Agency{ID: id, Name: name, Emails: emails}
}

// ParseSanctions reads the fine per item (rupiah) and the objection
// window (seconds); empty values take the defaults.
func ParseSanctions(fine, windowSeconds string) (int64, time.Duration, error) {
	var f int64
	var w time.Duration
	if fine != "" {
		if _, err := fmt.Sscan(fine, &f); err != nil || f <= 0 {
			return 0, 0, fmt.Errorf("TANGKAL_FINE_PER_ITEM_IDR: %q is not a positive amount of rupiah", fine)
		}
	}
	if windowSeconds != "" {
		var n int64
		if _, err := fmt.Sscan(windowSeconds, &n); err != nil || n <= 0 {
			return 0, 0, fmt.Errorf("TANGKAL_OBJECTION_WINDOW_SECONDS: %q is not a positive number of seconds", windowSeconds)
		}
		w = time.Duration(n) * time.Second
	}
	return f, w, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// SelfInvokeEnv is "true" in a function the template grants
// lambda:InvokeFunction on itself.
const SelfInvokeEnv = "TANGKAL_INVOKE_SELF"

// selfInvoker invokes the running function itself asynchronously (its
// name is the one Lambda sets in AWS_LAMBDA_FUNCTION_NAME).
func selfInvoker(c *lambdasvc.Client) func(ctx context.Context, payload []byte) error {
	return func(ctx context.Context, payload []byte) error {
		name := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
		if name == "" {
			return errors.New("invoke self: AWS_LAMBDA_FUNCTION_NAME is not set (not running in Lambda)")
		}
		_, err := c.Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: aws.String(name), InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload})
		if err != nil {
			return fmt.Errorf("invoke %s asynchronously: %w", name, err)
		}
		return nil
	}
}

// AgencyConfig is the agencies' directory and approval policies: doc when
// it is not blank, else the document kept at src (read when an execution
// environment starts), else the bundled data/agencies.yaml. As with the
// platforms, a document there that cannot be read or checked is an error.
func AgencyConfig(src configstore.Source, doc string) (agency.Directory, error) {
	if strings.TrimSpace(doc) != "" {
		return agency.Load(doc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, found, err := src.Document(ctx, configstore.Agencies)
	if err != nil {
		return agency.Directory{}, fmt.Errorf("agency configuration: %w", err)
	}
	if !found {
		return agency.Default()
	}
	d, err := agency.Parse(b)
	if err != nil {
		return agency.Directory{}, fmt.Errorf("agency configuration in %s: %w", src.Where(configstore.Agencies), err)
	}
	return d, nil
}

// PlatformConfig is the platform configuration kept at src, read when an
// execution environment starts (and kept for its life), else the bundled
// one. A document there that cannot be read or parsed is an error: a
// deployment never runs on the bundled file by accident.
func PlatformConfig(src configstore.Source) (platform.Config, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, found, err := src.Document(ctx, configstore.Platforms)
	if err != nil {
		return platform.Config{}, fmt.Errorf("platform configuration: %w", err)
	}
	if !found {
		return platform.Default()
	}
	pc, err := platform.Parse(b)
	if err != nil {
		return platform.Config{}, fmt.Errorf("platform configuration in %s: %w", src.Where(configstore.Platforms), err)
	}
	return pc, nil
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

// withinDeadline runs h with its context ending a little before the
// function's own deadline (deadline.Reserve), so a slow platform, mail
// server or AWS call fails as an error the workflow classifies and
// retries, not as Lambda's Sandbox.Timedout with the work half done.
func withinDeadline[In, Out any](h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		ctx, cancel := deadline.Reserve(ctx)
		defer cancel()
		return h(ctx, in)
	}
}

// SubmitReport is SubmitReportFunction's handler.
func SubmitReport(d Deps) apiHandler {
	h := report.Handler{
		Intake: d.intake(), Classes: d.RateLimits,
		Limiter:  &ratelimit.Limiter{Table: d.Table, Now: d.Now},
		Profiles: &report.Profiles{Table: d.Table, Now: d.Now},
	}
	if d.Fetcher != nil {
		h.CheckCallback = d.Fetcher.CheckURL
	}
	return withinDeadline(api.Handle(h.Route))
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
		Intake: d.intake(), Challenges: d.PublicChallenges,
		Limiter: &ratelimit.Limiter{Table: d.Table, Now: d.Now}, Limit: d.RateLimits.For(ratelimit.ClassPublic),
		PublicURL: d.PublicReportURL, ExtraReview: d.PublicExtraReview, Now: d.Now,
	}
	return withinDeadline(api.Handle(h.Route))
}

// intake is how reports are recorded, by the API and the console alike;
// each handler (one per Lambda instance) remembers the claims it read.
func (d Deps) intake() report.Intake {
	if len(d.PseudonymKey) == 0 {
		slog.Warn("no TANGKAL_PSEUDONYM_SECRET: reporters' pseudonyms are unkeyed hashes")
	}
	return report.Intake{Table: d.Table, Now: d.Now, PseudonymKey: d.PseudonymKey, ContactRetention: d.ContactRetention, Claims: report.NewClaimCache()}
}

// CasesAPI is CasesApiFunction's handler.
// GET /stats/compliance covers the configured platforms (the bundled
// configuration when Deps has no platform client).
func CasesAPI(d Deps) apiHandler {
	return withinDeadline(api.Handle(d.reader().Route))
}

// reader is the read API, for CasesApiFunction and the console alike.
func (d Deps) reader() audit.Reader {
	r := audit.Reader{Table: d.Table, Now: d.Now}
	r.CursorKey = d.CursorKey
	if len(r.CursorKey) == 0 {
		slog.Warn("no TANGKAL_CURSOR_SECRET: paging cursors are signed with a key of this instance only")
	}
	if d.Anchor != nil && d.AnchorMAC != nil {
		r.Anchors = &anchor.Verifier{Store: d.Anchor, MAC: d.AnchorMAC, Now: d.Now}
	}
	if d.Platforms != nil {
		r.Platforms = d.Platforms.Config.IDs()
	} else if pc, err := platform.Default(); err == nil {
		r.Platforms = pc.IDs()
	}
	b := bundle.Maker{Table: d.Table, Anchors: r.Anchors, Links: d.EvidenceLinks, Key: d.BundleKey, Now: d.Now}
	r.Extra = map[string]api.HandlerFunc{
		"GET /cases/{id}/bundle":  b.Serve,
		"GET /exports/bundle-key": b.PublishedKey,
	}
	x := export.Exports{Table: d.Table, Platforms: r.Platforms, Rules: d.Rules, Now: d.Now}
	r.Extra["GET /exports/transparency"] = x.Transparency
	r.Extra["GET /exports/awareness"] = x.Awareness
	return r
}

// Console is ConsoleFunction's handler: the web console's pages, calling
// the same domain packages as the JSON API.
func Console(d Deps) apiHandler {
	c := &console.Console{
		Key: d.ConsoleKey, SignIn: d.SignIn, Table: d.Table, Now: d.Now,
		Intake: d.intake(), Reader: d.reader(),
		Approvals: d.approvals(), Decided: d.afterAct().Done, Inbox: console.AgencyInbox{Approvals: d.approvals()},
		Agencies: d.Agencies, Rules: d.Rules,
	}
	if d.Platforms != nil {
		c.Platforms = d.Platforms.Config
	}
	return withinDeadline(c.Handle)
}

// Evidence is EvidenceFunction's handler: the evidence copies notices
// link to, for platforms holding a signed link.
func Evidence(d Deps) apiHandler {
	srv := &evidence.Server{Links: d.EvidenceLinks, Now: d.Now}
	if r, ok := d.Evidence.(evidence.Reader); ok {
		srv.Store = r
	}
	return withinDeadline(api.Handle(srv.Serve))
}

// afterAct is what follows each recorded act on an approval, for every
// channel alike: the outcome to the workflow when the policy settles,
// Slack messages updated.
func (d Deps) afterAct() approval.AfterAct {
	return approval.AfterAct{Completer: approval.Completer{SFN: d.SFN, Store: d.approvals(), Now: d.Now}, Slack: d.Slack, Agencies: d.Agencies, Now: d.Now}
}

func (d Deps) approvals() *approval.Store {
	return &approval.Store{Table: d.Table, Log: &history.Log{Table: d.Table, Now: d.Now}, Now: d.Now}
}

// Approvals is ApprovalsFunction's handler.
func Approvals(d Deps) apiHandler {
	st := d.approvals()
	after := d.afterAct()
	sh := approval.SlackHandler{Verifier: slack.Verifier{Secret: d.SlackSecret, Now: d.SlackNow}, Store: st, Slack: d.Slack, After: after}
	if d.InvokeAsync != nil {
		sh.Async = func(ctx context.Context, job approval.SlackJob) error {
			body, err := json.Marshal(job)
			if err != nil {
				return err
			}
			payload, err := json.Marshal(api.Request{Version: "2.0", RouteKey: approval.AsyncRouteKey, Body: string(body)})
			if err != nil {
				return err
			}
			return d.InvokeAsync(ctx, payload)
		}
	}
	r := approval.Router{
		Approvals: &approval.Handler{Store: st, Signer: d.Links, Decided: after.Done, Now: d.Now},
		Slack:     sh,
		Inbox:     approval.Inbox{Store: st, Decided: after.Done},
	}
	r.Approvals.Tokens = d.Tokens
	return withinDeadline(api.Handle(r.Route))
}

func (d Deps) assessors() *workflow.Assessors {
	return &workflow.Assessors{Table: d.Table, Rules: d.Rules}
}

func (d Deps) steps() *workflow.Steps {
	return &workflow.Steps{
		Table: d.Table, Now: d.Now, Fetcher: d.Fetcher, Evidence: d.Evidence, Assessors: d.assessors(),
		Platforms: d.Platforms, Approvals: d.approvals(), Links: d.Links, Tasks: d.SFN, Mailer: d.Mailer,
		Slack: d.Slack, Agencies: d.Agencies, Rules: d.Rules, Sender: d.Sender, Sanctions: d.Sanctions,
	}
}

// PlatformAPI is PlatformApiFunction's handler: platforms list and answer
// their notices; the deciding agency decides objections.
func PlatformAPI(d Deps) apiHandler {
	h := platformapi.Handler{Table: d.Table, Now: d.Now, ObjectionWindow: d.ObjectionWindow, Agency: d.Sanctions.Agency.ID}
	if d.SFN != nil {
		h.Tasks = d.SFN
	}
	if d.Platforms != nil && d.Mailer != nil {
		h.Notify = platformapi.MailDecision(d.Platforms.Config, d.Mailer, d.Sender, d.Sanctions.Agency, d.Now)
		h.Forward = platformapi.MailQuestion(d.Mailer, d.Sender, d.Sanctions.Agency)
	}
	return withinDeadline(api.Handle(h.Route))
}

// RequestObjectionDecision is RequestObjectionDecisionFunction's handler.
func RequestObjectionDecision(d Deps) func(context.Context, workflow.ObjectionInput) (workflow.ObjectionOutput, error) {
	return withinDeadline(d.steps().RequestObjectionDecision)
}

// StartWorkflow is StartWorkflowFunction's handler.
func StartWorkflow(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return withinDeadline(workflow.Launcher{SFN: d.SFN, StateMachineARN: d.StateMachineARN}.Start)
}

// RecordReports is RecordReportsFunction's handler.
func RecordReports(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return withinDeadline(report.Recorder{Table: d.Table, Now: d.Now}.Record)
}

// Anchor is AnchorFunction's handler: every history event's hash to the
// external copy, and the daily signed digest of all heads.
func Anchor(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	w := anchor.Writer{Store: d.Anchor, MAC: d.AnchorMAC, Now: d.Now}
	return withinDeadline(func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if w.Store == nil || w.MAC == nil {
			return events.DynamoDBEventResponse{}, errors.New("anchor: no store or MAC key (TANGKAL_ANCHOR_BUCKET, TANGKAL_ANCHOR_KEY_ID)")
		}
		return w.Handle(ctx, ev)
	})
}

// Tally is TallyFunction's handler: the counters of the exports and
// figures, from every history event on the stream.
func Tally(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return withinDeadline(stats.Tally{Table: d.Table, Now: d.Now}.Handle)
}

// ReporterFeedback is ReporterFeedbackFunction's handler: webhooks and
// e-mails to reporters, and their accuracy records, from the stream.
func ReporterFeedback(d Deps) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return withinDeadline(feedback.Notifier{Table: d.Table, Fetcher: d.Fetcher, Mailer: d.Mailer, Sender: d.Sender, Now: d.Now}.Handle)
}

// VerifyAd is VerifyAdFunction's handler.
func VerifyAd(d Deps) func(context.Context, workflow.CaseInput) (workflow.VerifyOutput, error) {
	return withinDeadline(d.steps().VerifyAd)
}

// RequestApproval is RequestApprovalFunction's handler.
func RequestApproval(d Deps) func(context.Context, workflow.ApprovalInput) (workflow.ApprovalOutput, error) {
	return withinDeadline(d.steps().RequestApproval)
}

// SendTakedown is SendTakedownFunction's handler.
func SendTakedown(d Deps) func(context.Context, workflow.NoticeInput) (workflow.NoticeOutput, error) {
	return withinDeadline(d.steps().SendTakedown)
}

// CheckCompliance is CheckComplianceFunction's handler.
func CheckCompliance(d Deps) func(context.Context, workflow.CheckInput) (workflow.CheckOutput, error) {
	return withinDeadline(d.steps().CheckCompliance)
}

// Escalate is EscalateFunction's handler.
func Escalate(d Deps) func(context.Context, workflow.NoticeInput) (workflow.NoticeOutput, error) {
	return withinDeadline(d.steps().Escalate)
}

// CloseCase is CloseCaseFunction's handler.
func CloseCase(d Deps) func(context.Context, workflow.CloseInput) (struct{}, error) {
	return withinDeadline(d.steps().CloseCase)
}

// Handlers maps each function's logical id in template.yaml to its handler.
func Handlers(d Deps) map[string]any {
	return map[string]any{
		"SubmitReportFunction":             SubmitReport(d),
		"CasesApiFunction":                 CasesAPI(d),
		"ApprovalsFunction":                Approvals(d),
		"EvidenceFunction":                 Evidence(d),
		"ConsoleFunction":                  Console(d),
		"StartWorkflowFunction":            StartWorkflow(d),
		"RecordReportsFunction":            RecordReports(d),
		"AnchorFunction":                   Anchor(d),
		"TallyFunction":                    Tally(d),
		"VerifyAdFunction":                 VerifyAd(d),
		"RequestApprovalFunction":          RequestApproval(d),
		"SendTakedownFunction":             SendTakedown(d),
		"CheckComplianceFunction":          CheckCompliance(d),
		"EscalateFunction":                 Escalate(d),
		"CloseCaseFunction":                CloseCase(d),
		"PlatformApiFunction":              PlatformAPI(d),
		"RequestObjectionDecisionFunction": RequestObjectionDecision(d),
		"PublicReportsFunction":            PublicReports(d),
		"ReporterFeedbackFunction":         ReporterFeedback(d),
	}
}

// keyRings are the secrets read at run time: those that sign links and
// webhooks are re-read every few minutes (secrets.Ring), so a rotation
// reaches running functions; the others are read when an execution
// environment starts.
type keyRings struct {
	approval, evidence, webhook *secrets.Ring
	platformWebhooks            map[string]*secrets.Ring
	cursor, pseudonym, console  []byte
	bundle, public              []byte
	slackSigning                []byte
	slackBot                    string
}

// readSecrets reads every secret ids names, or takes sec's values.
func readSecrets(ids SecretIDs, sec Secrets, sm secrets.Getter) (keyRings, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var k keyRings
	ring := func(id string, static []byte) (*secrets.Ring, error) {
		switch {
		case id != "" && sm != nil:
			return secrets.NewRing(ctx, sm, id)
		case id != "":
			return nil, fmt.Errorf("secret %s: no Secrets Manager client to read it with", id)
		case len(static) > 0:
			return secrets.Static(static), nil
		}
		return nil, nil
	}
	value := func(id string, static []byte) ([]byte, error) {
		r, err := ring(id, static)
		if r == nil || err != nil {
			return nil, err
		}
		return r.Current().Value, nil
	}
	var err error
	if k.approval, err = ring(ids.Approval, sec.ApprovalKey); err != nil {
		return k, err
	}
	if k.evidence, err = ring(ids.EvidenceLink, sec.EvidenceLinkKey); err != nil {
		return k, err
	}
	if k.webhook, err = ring(ids.Webhook, nil); err != nil {
		return k, err
	}
	for env, id := range ids.PlatformWebhooks {
		r, err := ring(id, nil)
		if err != nil {
			return k, err
		}
		if k.platformWebhooks == nil {
			k.platformWebhooks = map[string]*secrets.Ring{}
		}
		k.platformWebhooks[env] = r
	}
	if k.cursor, err = value(ids.Cursor, sec.CursorKey); err != nil {
		return k, err
	}
	if len(k.cursor) == 0 && k.approval != nil {
		k.cursor = audit.CursorKey("", string(k.approval.Current().Value))
	}
	if k.pseudonym, err = value(ids.Pseudonym, sec.PseudonymKey); err != nil {
		return k, err
	}
	if k.console, err = value(ids.Console, sec.ConsoleKey); err != nil {
		return k, err
	}
	if k.bundle, err = value(ids.Bundle, sec.BundleSecret); err != nil {
		return k, err
	}
	if k.public, err = value(ids.PublicChallenge, sec.PublicChallengeKey); err != nil {
		return k, err
	}
	k.slackSigning, k.slackBot = sec.SlackSigningSecret, sec.SlackBotToken
	if ids.Slack != "" {
		if sm == nil {
			return k, fmt.Errorf("secret %s: no Secrets Manager client to read it with", ids.Slack)
		}
		var slackKeys struct {
			SigningSecret string `json:"signing_secret"`
			BotToken      string `json:"bot_token"`
		}
		if err := secrets.JSON(ctx, sm, ids.Slack, &slackKeys); err != nil {
			return k, fmt.Errorf("Slack keys: %w", err)
		}
		k.slackSigning, k.slackBot = []byte(slackKeys.SigningSecret), slackKeys.BotToken
	}
	return k, nil
}

// values puts what was read into sec.
func (k keyRings) values(sec Secrets) Secrets {
	sec.CursorKey, sec.PseudonymKey, sec.ConsoleKey, sec.BundleSecret = k.cursor, k.pseudonym, k.console, k.bundle
	sec.PublicChallengeKey = k.public
	sec.SlackSigningSecret, sec.SlackBotToken = k.slackSigning, k.slackBot
	return sec
}

// webhookKey is the key that signs a platform's webhooks: its own secret,
// else the shared one (current versions, re-read as they rotate), else
// what fallback gives.
func (k keyRings) webhookKey(fallback func(string) []byte) func(string) []byte {
	return func(env string) []byte {
		if r := k.platformWebhooks[env]; r != nil {
			return r.Current().Value
		}
		if fallback != nil {
			if v := fallback(env); len(v) > 0 {
				return v
			}
		}
		if k.webhook != nil {
			return k.webhook.Current().Value
		}
		return nil
	}
}
