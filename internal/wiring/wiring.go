// Package wiring builds every Lambda handler from its dependencies. The
// functions' main packages call it with dependencies read from the
// environment; the local stack calls it with local ones. There is one way to
// build each handler, so AWS and the local stack run the same code.
package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/awsenv"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/history"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/slack"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/workflow"
)

// Deps are what the handlers need.
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
	SlackApprovers  []string
	SlackSecret     []byte
	Links           *approval.Signer
	ApproverTiers   [][]string
	Sender          string
	// EvidenceLinks signs the evidence links in notices and checks them
	// on GET /evidence/{sha256}.
	EvidenceLinks *evidence.Links
}

// FromEnv reads Deps from a Lambda environment. Settings a function does
// not use may be missing; the handlers that need them fail at build time.
func FromEnv(ctx context.Context) (Deps, error) {
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return Deps{}, err
	}
	table := os.Getenv("TANGKAL_TABLE")
	if table == "" {
		return Deps{}, fmt.Errorf("environment variable TANGKAL_TABLE is not set")
	}
	d := Deps{
		Table:           store.Table{DB: dynamodb.NewFromConfig(cfg), Name: table},
		Now:             time.Now,
		SFN:             sfn.NewFromConfig(cfg),
		StateMachineARN: os.Getenv("TANGKAL_STATE_MACHINE_ARN"),
		Fetcher:         safefetch.New(safefetch.Options{}),
		Mailer:          outbox.NewSES(sesv2.NewFromConfig(cfg)),
		Sender:          os.Getenv("TANGKAL_SENDER"),
		ApproverTiers:   ParseTiers(os.Getenv("TANGKAL_APPROVERS")),
	}
	if b := os.Getenv("TANGKAL_EVIDENCE_BUCKET"); b != "" {
		d.Evidence = evidence.S3{Client: s3.NewFromConfig(cfg), Bucket: b}
	}
	if d.Rules, err = risk.DefaultRules(); err != nil {
		return Deps{}, fmt.Errorf("load risk rules: %w", err)
	}
	pc, err := PlatformConfig(os.Getenv("TANGKAL_PLATFORMS"))
	if err != nil {
		return Deps{}, err
	}
	if s := os.Getenv(evidence.LinkSecretEnv); s != "" {
		life, err := evidence.LifetimeDays(os.Getenv(evidence.LinkDaysEnv))
		if err != nil {
			return Deps{}, err
		}
		if d.EvidenceLinks, err = evidence.NewLinks([]byte(s), os.Getenv("TANGKAL_PUBLIC_URL"), life); err != nil {
			return Deps{}, err
		}
	}
	d.Platforms = &platform.Client{Config: pc, Mailer: d.Mailer, From: d.Sender, Secret: webhookSecret,
		Names: platform.IndicatorNames(d.Rules)}
	if d.EvidenceLinks != nil {
		d.Platforms.EvidenceLinks = d.EvidenceLinks
	}
	if s := os.Getenv(approval.SecretEnv); s != "" {
		if d.Links, err = approval.NewSigner([]byte(s), os.Getenv("TANGKAL_PUBLIC_URL")); err != nil {
			return Deps{}, err
		}
	}
	if s := os.Getenv("TANGKAL_SLACK_SIGNING_SECRET"); s != "" && s != "disabled" {
		d.SlackSecret = []byte(s)
	}
	return d, nil
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

// PlatformConfig is the bundled platform configuration, or the JSON given.
func PlatformConfig(override string) (platform.Config, error) {
	if strings.TrimSpace(override) != "" {
		return platform.Parse([]byte(override))
	}
	return platform.Default()
}

// MustFromEnv is FromEnv for a function's main: a configuration error is
// logged as JSON and ends the process.
func MustFromEnv(ctx context.Context) Deps {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	d, err := FromEnv(ctx)
	if err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	return d
}

type apiHandler = func(context.Context, api.Request) (api.Response, error)

// SubmitReport is SubmitReportFunction's handler.
func SubmitReport(d Deps) apiHandler {
	h := report.Handler{Intake: report.Intake{Table: d.Table, Now: d.Now}}
	return api.Handle(h.Submit)
}

// CasesAPI is CasesApiFunction's handler.
// GET /stats/compliance covers the configured platforms (the bundled
// configuration when Deps has no platform client).
func CasesAPI(d Deps) apiHandler {
	r := audit.Reader{Table: d.Table, Now: d.Now}
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
	done := workflow.Completer{SFN: d.SFN}.Decided
	r := workflow.Router{
		Approvals: &approval.Handler{Store: st, Signer: d.Links, Decided: done, Now: d.Now},
		Slack:     workflow.SlackHandler{Verifier: slack.Verifier{Secret: d.SlackSecret, Now: d.Now}, Store: st, Decided: done},
	}
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
	return workflow.Recorder{Table: d.Table, Now: d.Now}.Record
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
		"SubmitReportFunction":    SubmitReport(d),
		"CasesApiFunction":        CasesAPI(d),
		"ApprovalsFunction":       Approvals(d),
		"EvidenceFunction":        Evidence(d),
		"StartWorkflowFunction":   StartWorkflow(d),
		"RecordReportsFunction":   RecordReports(d),
		"VerifyAdFunction":        VerifyAd(d),
		"RequestApprovalFunction": RequestApproval(d),
		"SendTakedownFunction":    SendTakedown(d),
		"CheckComplianceFunction": CheckCompliance(d),
		"EscalateFunction":        Escalate(d),
		"CloseCaseFunction":       CloseCase(d),
	}
}
