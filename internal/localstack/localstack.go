// Package localstack runs tangkal on one machine without an AWS account:
// DynamoDB Local, the HTTP API from template.yaml, the local Step Functions
// engine running the real ASL file, the table's stream feeding the workflow
// starter, and local stand-ins for the platforms, e-mail and Slack.
package localstack

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/agency"
	"github.com/tangkal/tangkal/internal/anchor"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/console"
	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/localapi"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/secretsim"
	"github.com/tangkal/tangkal/internal/sfnlocal"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/wiring"
)

// Config of a local stack. Zero ports pick free ones.
type Config struct {
	// DataDir keeps DynamoDB's data, keys, the outbox and the evidence.
	// Empty: a temporary folder and in-memory data (tests).
	DataDir string
	// DynamoDBEndpoint uses a running DynamoDB Local instead of starting one.
	DynamoDBEndpoint string
	DynamoDBPort     int
	APIPort          int
	SFNPort          int
	OutboxPort       int
	PlatformPort     int
	// Table is the table's name (default "tangkal"); the engine's tables
	// take it as prefix.
	Table string
	// Template is the path of template.yaml (default: found upwards).
	Template string
	// Parameters override template parameters (e.g. EvidenceLinkDays).
	Parameters map[string]string
	// Agencies overrides the bundled agencies and approval policies
	// (data/agencies.yaml), as the document kept in the run-time
	// configuration (TANGKAL_CONFIG_SOURCE) does in AWS.
	Agencies string
	// Platforms sets the simulated platforms' behaviour by platform id.
	Platforms map[string]platformsim.Behavior
	// Routes pin further host names to local addresses ("http://host:port"),
	// as the simulated platforms are pinned: e.g. a reporter's callback
	// receiver in tests. Loopback stays refused for every other name.
	Routes map[string]string
	// Clock, when set, replaces the persisted offset clock (tests).
	Clock sfnlocal.Clock
	// Timeouts override functions' template Timeout by logical id (tests
	// that need a function to run out of time quickly).
	Timeouts map[string]time.Duration
	Log      *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	APIURL      string
	DynamoDBURL string
	SFNURL      string
	OutboxURL   string
	PlatformURL string
	Table       store.Table
	Signer      auth.Signer
	Template    *samtemplate.Template
	Functions   *sfnlocal.Registry
	Engine      *sfnlocal.Engine
	Sim         *platformsim.Sim
	Outbox      *outbox.Folder
	// StateMachineARN is the takedown workflow.
	StateMachineARN string
	// Links signs approval links (tests use it to forge and check links).
	Links *approval.Signer
	// Deps are the handlers' dependencies, built by wiring.Build as in AWS.
	Deps wiring.Deps
	// EvidenceLinks signs the evidence links in notices to platforms.
	EvidenceLinks *evidence.Links
	// ConsoleURL is the web console; Members are who its local sign-in
	// page offers.
	ConsoleURL string
	Members    []console.Member
	// Secrets is the Secrets Manager stand-in the handlers read their keys
	// from (tests rotate keys with Put), at SecretsURL.
	Secrets    *secretsim.Server
	SecretsURL string

	invoker   timedInvoker
	closers   []func()
	streamers []*streamer
	async     *sync.WaitGroup
}

// Region and account of the local stack.
const (
	Region    = "ap-southeast-3"
	Account   = "000000000000"
	StackName = "tangkal"
)

// Local settings that stand in for the template's parameters.
const (
	localSender   = "tangkal@kp2mi.local"
	localBotToken = "xoxb-local"
)

// LocalAgencyEmail is the deciding agency's (Komdigi's) address locally:
// objections to decide and access-blocking referrals land in the outbox.
const LocalAgencyEmail = "komdigi@komdigi.local"

// AWSConfig returns an SDK config with local credentials for endpoint.
//
// Its retryer has no client-side retry quota: in AWS every concurrent
// request runs in its own Lambda instance with its own client and quota,
// while here one process serves them all through one client, and a burst
// of concurrent transactions on one item (DynamoDB Local answers lock
// waits with a retryable 500 that real DynamoDB does not give) would
// drain a shared quota and fail requests AWS would have served.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.RateLimiter = awsratelimit.None
				o.MaxAttempts = 8
			})
		},
	}
}

// keys are the local stack's secrets, kept under the data folder.
type keys struct {
	jwt, approval, webhook, slack, cursor, evidence, anchor, pseudonym, console, bundle, public []byte
}

func loadKeys(dataDir string) (keys, error) {
	var k keys
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"signing.key", &k.jwt}, {"approval.key", &k.approval}, {"webhook.key", &k.webhook}, {"slack.key", &k.slack}, {"cursor.key", &k.cursor}, {"evidence.key", &k.evidence}, {"anchor.key", &k.anchor}, {"pseudonym.key", &k.pseudonym}, {"console.key", &k.console}, {"bundle.key", &k.bundle}, {"public.key", &k.public}} {
		key, err := auth.LoadOrCreateKey(filepath.Join(dataDir, "auth", f.name))
		if err != nil {
			return keys{}, err
		}
		// Handlers get keys as text, as Secrets Manager hands them over.
		*f.dst = key
		if f.name != "signing.key" && f.name != "cursor.key" && f.name != "anchor.key" {
			*f.dst = []byte(hex.EncodeToString(key))
		}
	}
	return k, nil
}

// listeners are the stack's ports, opened first: handlers need the public URLs.
type listeners struct{ api, sfn, outbox, sim net.Listener }

func (s *Stack) listen(cfg Config) (listeners, error) {
	var ls listeners
	for _, l := range []struct {
		name string
		port int
		dst  *net.Listener
	}{{"HTTP API", cfg.APIPort, &ls.api}, {"Step Functions", cfg.SFNPort, &ls.sfn}, {"outbox", cfg.OutboxPort, &ls.outbox}, {"platform simulator", cfg.PlatformPort, &ls.sim}} {
		lis, err := listen(l.port)
		if err != nil {
			return ls, fmt.Errorf("%s port: %w", l.name, err)
		}
		*l.dst = lis
		s.closers = append(s.closers, func() { lis.Close() })
	}
	s.APIURL, s.SFNURL = "http://"+ls.api.Addr().String(), "http://"+ls.sfn.Addr().String()
	s.ConsoleURL = s.APIURL + "/console/"
	s.OutboxURL, s.PlatformURL = "http://"+ls.outbox.Addr().String(), "http://"+ls.sim.Addr().String()
	return ls, nil
}

// Start brings the stack up and returns when every service answers.
func Start(ctx context.Context, cfg Config) (st *Stack, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if cfg.Table == "" {
		cfg.Table = "tangkal"
	}
	s := &Stack{async: &sync.WaitGroup{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	dataDir, err := s.dataDir(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.loadTemplate(cfg); err != nil {
		return nil, err
	}
	if err := s.startDynamoDB(ctx, cfg); err != nil {
		return nil, err
	}
	k, err := loadKeys(dataDir)
	if err != nil {
		return nil, err
	}
	s.Signer = auth.Signer{Key: k.jwt}
	ls, err := s.listen(cfg)
	if err != nil {
		return nil, err
	}
	// The clock every local part shares, so waits and deadlines agree.
	clock := cfg.Clock
	if clock == nil {
		clock = sfnlocal.NewOffsetClock(0)
	}
	routes, err := s.startStandIns(cfg, dataDir, k, clock.Now)
	if err != nil {
		return nil, err
	}
	if err := s.loadRegistry(ctx); err != nil {
		return nil, err
	}
	if s.Deps, err = s.build(cfg, dataDir, k, routes, clock.Now); err != nil {
		return nil, err
	}
	if err := s.registerFunctions(cfg); err != nil {
		return nil, err
	}
	if err := s.startEngine(ctx, cfg, clock, ls.sfn); err != nil {
		return nil, err
	}
	apiSrv, err := localapi.New(s.Template, s.invoker, s.Signer, clock.Now, cfg.Log)
	if err != nil {
		return nil, err
	}
	s.serve(ls.api, apiSrv)
	s.serve(ls.outbox, s.Outbox.Handler())
	s.serve(ls.sim, s.Sim)
	if err := s.startStreams(cfg, dataDir); err != nil {
		return nil, err
	}
	return s, nil
}

// dataDir is cfg.DataDir, or a temporary folder removed on Close.
func (s *Stack) dataDir(cfg Config) (string, error) {
	if cfg.DataDir != "" {
		return cfg.DataDir, nil
	}
	dir, err := os.MkdirTemp("", "tangkal-local-")
	if err != nil {
		return "", err
	}
	s.closers = append(s.closers, func() { os.RemoveAll(dir) })
	return dir, nil
}

func (s *Stack) loadTemplate(cfg Config) error {
	path := cfg.Template
	if path == "" {
		var err error
		if path, err = samtemplate.Find("."); err != nil {
			return err
		}
	}
	t, err := samtemplate.Load(path)
	if err != nil {
		return err
	}
	s.Template = t
	return nil
}

// startDynamoDB starts DynamoDB Local (unless cfg names a running one) and
// creates the table from the template.
func (s *Stack) startDynamoDB(ctx context.Context, cfg Config) error {
	s.DynamoDBURL = cfg.DynamoDBEndpoint
	if s.DynamoDBURL == "" {
		opts := dynamolocal.Options{Port: cfg.DynamoDBPort}
		if cfg.DataDir != "" {
			opts.DataDir = filepath.Join(cfg.DataDir, "dynamodb")
		}
		srv, err := dynamolocal.Start(ctx, opts)
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() { srv.Stop() })
		s.DynamoDBURL = srv.Endpoint
	}
	db := dynamodb.NewFromConfig(AWSConfig(s.DynamoDBURL))
	s.Table = store.Table{DB: db, Name: cfg.Table}
	return s.Template.CreateTable(ctx, db, store.TableLogicalID, cfg.Table)
}

// startStandIns opens the outbox (e-mail and Slack) and the simulated
// platforms, and returns the host pins that send the platforms' traffic
// to the simulator.
func (s *Stack) startStandIns(cfg Config, dataDir string, k keys, now func() time.Time) (map[string]string, error) {
	var err error
	if s.Outbox, err = outbox.NewFolder(filepath.Join(dataDir, "outbox")); err != nil {
		return nil, err
	}
	s.Outbox.Now = now
	dir, err := agency.Load(cfg.Agencies)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for _, a := range dir.Agencies {
		for _, m := range a.Members {
			if m.Slack != "" {
				users[m.Slack] = m.Name + " (" + a.Short() + ")"
			}
		}
	}
	// Slack's stand-in signs interactions with the app's signing secret
	// and real time, as Slack does.
	s.Outbox.Slack = &outbox.SlackStandIn{Path: filepath.Join(dataDir, "slack.json"), InteractURL: s.APIURL + "/slack/interactions",
		Secret: k.slack, Token: localBotToken, BaseURL: s.OutboxURL, Users: users}
	pc, err := platform.Default()
	if err != nil {
		return nil, err
	}
	secrets := map[string][]byte{}
	for id := range pc.Platforms {
		secrets[id] = k.webhook
	}
	simOpts := platformsim.Options{Config: pc, Secrets: secrets, Now: now, Behaviors: cfg.Platforms,
		// The platforms' teams answer through the platform API, with a
		// platform-role token of their own platform.
		API: &platformsim.API{URL: s.APIURL, Token: func(id string) (string, error) {
			return s.Signer.IssuePlatform(id, time.Hour)
		}}}
	if cfg.DataDir != "" {
		// The platforms' side survives a restart like everything else.
		simOpts.StatePath = filepath.Join(cfg.DataDir, "platformsim.json")
	}
	if s.Sim, err = platformsim.New(simOpts); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Sim.Close)
	routes := map[string]string{}
	for _, p := range pc.Platforms {
		for _, h := range p.Hosts {
			routes[strings.ToLower(h)] = s.PlatformURL
		}
		for _, raw := range []string{p.WebhookURL, p.StatusURL} {
			if h := hostOf(raw); h != "" {
				routes[h] = s.PlatformURL
			}
		}
	}
	for h, target := range cfg.Routes {
		routes[strings.ToLower(h)] = target
	}
	return routes, nil
}

// loadRegistry loads the bundled licensed-recruiter registry into an empty
// table once, as an operator does after a deployment (`tangkal registry
// load` refreshes it).
func (s *Stack) loadRegistry(ctx context.Context) error {
	reg, err := registry.FromDynamoDB(ctx, s.Table)
	if err != nil || reg.Len() > 0 {
		return err
	}
	_, err = registry.Load(ctx, s.Table, registry.Default())
	return err
}

// build makes the handlers' dependencies with wiring.Build, as in AWS:
// only the endpoints, the stand-ins and the keys are the local stack's.
func (s *Stack) build(cfg Config, dataDir string, k keys, routes map[string]string, now func() time.Time) (wiring.Deps, error) {
	s.StateMachineARN = fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s-takedown", Region, Account, StackName)
	env := samtemplate.Env{Region: Region, Account: Account, StackName: StackName, Parameters: cfg.Parameters}
	days, err := s.Template.Parameter("EvidenceLinkDays", env)
	if err != nil {
		return wiring.Deps{}, err
	}
	lifetime, err := evidence.LifetimeDays(days)
	if err != nil {
		return wiring.Deps{}, err
	}
	fine, err := s.Template.Parameter("FinePerItemIdr", env)
	if err != nil {
		return wiring.Deps{}, err
	}
	window, err := s.Template.Parameter("ObjectionWindowSeconds", env)
	if err != nil {
		return wiring.Deps{}, err
	}
	objectionAgency, err := s.Template.Parameter("ObjectionAgency", env)
	if err != nil {
		return wiring.Deps{}, err
	}
	finePerItem, objectionWindow, err := wiring.ParseSanctions(fine, window)
	if err != nil {
		return wiring.Deps{}, err
	}
	retentionDays, err := s.Template.Parameter("ReporterContactRetentionDays", env)
	if err != nil {
		return wiring.Deps{}, err
	}
	retention, err := report.RetentionDays(retentionDays)
	if err != nil {
		return wiring.Deps{}, err
	}
	rateLimits, err := s.Template.Parameter("ReporterRateLimits", env)
	if err != nil {
		return wiring.Deps{}, err
	}
	var publicSettings [3]string
	for i, name := range []string{"PublicChallengeBits", "PublicReportsExtraReview", "ApprovalBaseUrl"} {
		if publicSettings[i], err = s.Template.Parameter(name, env); err != nil {
			return wiring.Deps{}, err
		}
	}
	bits, extraReview, err := wiring.PublicSettings(publicSettings[0], publicSettings[1])
	if err != nil {
		return wiring.Deps{}, err
	}
	st := wiring.Settings{
		FinePerItemIDR: finePerItem, ObjectionWindow: objectionWindow,
		ObjectionAgency: objectionAgency, AgencyEmails: []string{LocalAgencyEmail},
		EvidenceLinkLifetime: lifetime, RateLimits: rateLimits, ContactRetention: retention,
		PublicChallengeBits: bits, PublicExtraReview: extraReview, PublicReportURL: publicSettings[2],
		Table: cfg.Table, StateMachineARN: s.StateMachineARN, Sender: localSender, PublicURL: s.APIURL,
		AgenciesJSON: cfg.Agencies, SlackAPIURL: s.OutboxURL + "/api/",
	}
	// The keys are read as in AWS, from Secrets Manager (its local
	// stand-in, holding the data folder's keys), under the template's
	// secret names; only the anchor's MAC key is given (KMS in AWS).
	if err := s.startSecrets(k); err != nil {
		return wiring.Deps{}, err
	}
	st.SecretIDs = wiring.SecretIDs{
		Approval: "ApprovalSigningSecret", Webhook: "PlatformWebhookSecret", EvidenceLink: "EvidenceLinkSecret",
		Cursor: "CursorSigningSecret", Pseudonym: "PseudonymSecret", Console: "ConsoleSessionSecret",
		Bundle: "BundleSigningSecret", Slack: "SlackAppSecret", PublicChallenge: "PublicChallengeSecret",
	}
	sec := wiring.Secrets{AnchorKey: k.anchor}
	dir, err := agency.Load(cfg.Agencies)
	if err != nil {
		return wiring.Deps{}, err
	}
	s.Members = LocalMembers(dir)
	svc := wiring.Services{
		DynamoDB: s.Table.DB, SFN: sfn.NewFromConfig(AWSConfig(s.SFNURL)),
		Mailer: s.Outbox, InvokeAsync: s.invokeApprovalsAsync, Evidence: evidence.Folder{Dir: filepath.Join(dataDir, "evidence")},
		Fetch:        safefetch.Options{Routes: routes, Clock: now},
		PlatformHTTP: &http.Client{Timeout: 30 * time.Second, Transport: pinned{routes: routes}},
		Tokens:       auth.LocalVerifier{Signer: s.Signer},
		// The history's external copy: a write-once folder (S3 with
		// Object Lock in AWS).
		Anchor:         anchor.Folder{Dir: filepath.Join(dataDir, "anchor")},
		ConsoleMembers: s.Members,
		Now:            now,
		SecretsManager: secretsmanager.NewFromConfig(AWSConfig(s.SecretsURL)),
	}
	d, err := wiring.Build(st, sec, svc)
	if err != nil {
		return wiring.Deps{}, err
	}
	s.Links, s.EvidenceLinks = d.Links, d.EvidenceLinks
	return d, nil
}

// startSecrets serves the Secrets Manager stand-in with the local keys.
func (s *Stack) startSecrets(k keys) error {
	slackKeys, _ := json.Marshal(map[string]string{"signing_secret": string(k.slack), "bot_token": localBotToken})
	s.Secrets = secretsim.New(map[string]string{
		"ApprovalSigningSecret": string(k.approval), "PlatformWebhookSecret": string(k.webhook),
		"EvidenceLinkSecret": string(k.evidence), "CursorSigningSecret": string(k.cursor),
		"PseudonymSecret": string(k.pseudonym), "ConsoleSessionSecret": string(k.console),
		"BundleSigningSecret": string(k.bundle), "SlackAppSecret": string(slackKeys),
		"PublicChallengeSecret": string(k.public),
	})
	l, err := listen(0)
	if err != nil {
		return fmt.Errorf("secrets port: %w", err)
	}
	s.closers = append(s.closers, func() { l.Close() })
	s.SecretsURL = "http://" + l.Addr().String()
	s.serve(l, s.Secrets)
	return nil
}

// LocalMembers are the people the local console's sign-in page offers: a
// reporter, every configured approver (with their agencies), an auditor and an
// admin. Approvers sign in with their configured address, so the requests
// mailed to them are the ones in their inbox.
func LocalMembers(dir agency.Directory) []console.Member {
	ms := []console.Member{{Subject: "ngo-sari", Name: "Sari (LSM / NGO)", Roles: []string{auth.Reporter}}}
	for _, a := range dir.Agencies {
		for _, m := range a.Members {
			if m.Email == "" {
				continue // Slack-only members decide in Slack
			}
			name, _, _ := strings.Cut(m.Email, "@")
			ms = append(ms, console.Member{Subject: a.ID + "-" + name, Email: m.Email, Name: m.Email + " (" + m.Role + ")",
				Roles: []string{auth.Approver}, Agency: a.Short()})
		}
	}
	return append(ms,
		console.Member{Subject: "auditor-1", Email: "auditor@bpk.local", Name: "Auditor (BPK)", Roles: []string{auth.Auditor}},
		console.Member{Subject: "admin-1", Email: "admin@kp2mi.local", Name: "Admin", Roles: []string{auth.Admin}})
}

// registerFunctions registers a handler for every function of the
// template, each with its template Timeout.
func (s *Stack) registerFunctions(cfg Config) error {
	s.Functions = sfnlocal.NewRegistry()
	s.invoker = timedInvoker{inner: s.Functions, timeouts: map[string]time.Duration{}}
	handlers := wiring.Handlers(s.Deps)
	for _, f := range s.Template.Functions() {
		h, ok := handlers[f.LogicalID]
		if !ok {
			return fmt.Errorf("function %s in template.yaml has no handler in package wiring", f.LogicalID)
		}
		// Each call gets its own handler instance, as concurrent Lambda
		// invocations get their own execution environments.
		s.Functions.RegisterFunc(f.LogicalID, h)
		s.invoker.timeouts[f.LogicalID] = time.Duration(f.Timeout) * time.Second
		if d, ok := cfg.Timeouts[f.LogicalID]; ok {
			s.invoker.timeouts[f.LogicalID] = d
		}
	}
	return nil
}

// startEngine runs the Step Functions engine with the template's state
// machines.
func (s *Stack) startEngine(ctx context.Context, cfg Config, clock sfnlocal.Clock, l net.Listener) error {
	var err error
	if s.Engine, err = sfnlocal.New(sfnlocal.Config{
		DynamoDB: s.Table.DB, TablePrefix: cfg.Table + "-", Clock: clock, Invoker: s.invoker,
		Region: Region, AccountID: Account, Logger: cfg.Log,
	}); err != nil {
		return err
	}
	if err := s.Engine.Start(ctx); err != nil {
		return err
	}
	s.closers = append(s.closers, s.Engine.Close)
	s.serve(l, s.Engine.Handler())
	env := samtemplate.Env{Region: Region, Account: Account, StackName: StackName, Parameters: cfg.Parameters}
	for _, sm := range s.Template.StateMachines() {
		if err := s.deploy(ctx, sm, env); err != nil {
			return err
		}
	}
	return nil
}

// startStreams feeds the table's stream to the functions with DynamoDB
// events (StartWorkflow, RecordReports), as Lambda's event source mappings
// do: one reader per function, each with its own checkpoints.
func (s *Stack) startStreams(cfg Config, dataDir string) error {
	for _, f := range s.Template.Functions() {
		for _, ev := range f.Events {
			if ev.Type != "DynamoDB" {
				continue
			}
			sm, err := newStreamer(s, f.LogicalID, ev, filepath.Join(dataDir, "stream-"+f.LogicalID+".json"), cfg.Log)
			if err != nil {
				return err
			}
			s.closers = append(s.closers, sm.close)
			s.streamers = append(s.streamers, sm)
		}
	}
	return nil
}

// Settle waits until the stack has nothing left to do: every stream
// reader has handed over all that was written, and no workflow runs;
// again until a round finds nothing new, since workflows write to the
// table and so feed the streams. A benchmark times one call on a stack
// at rest with it, as a request arriving after a quiet spell meets it.
func (s *Stack) Settle(ctx context.Context) error {
	for last := -1; ; {
		since, total := time.Now(), 0
		for _, sm := range s.streamers {
			for {
				ok, n := sm.caughtUp(since)
				if ok {
					total += n
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("stream reader of %s still busy: %w", sm.function, ctx.Err())
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
		if err := s.Engine.WaitIdle(ctx); err != nil {
			return err
		}
		if total == last {
			return nil
		}
		last = total
	}
}

func hostOf(raw string) string {
	raw = strings.TrimPrefix(strings.TrimPrefix(raw, "https://"), "http://")
	if i := strings.IndexAny(raw, "/?#"); i >= 0 {
		raw = raw[:i]
	}
	return strings.ToLower(raw)
}

// deploy creates (or updates) a state machine from the template.
func (s *Stack) deploy(ctx context.Context, sm samtemplate.StateMachine, env samtemplate.Env) error {
	def, err := s.Template.Definition(sm, env)
	if err != nil {
		return err
	}
	name, err := s.Template.StateMachineName(sm, env)
	if err != nil {
		return err
	}
	client := sfn.NewFromConfig(AWSConfig(s.SFNURL))
	_, err = client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def),
		RoleArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s-role", Account, name)),
	})
	if err == nil {
		return nil
	}
	if !strings.Contains(err.Error(), "StateMachineAlreadyExists") {
		return fmt.Errorf("create state machine %s: %w", name, err)
	}
	arn := fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", Region, Account, name)
	if _, err := client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def)}); err != nil {
		return fmt.Errorf("update state machine %s: %w", name, err)
	}
	return nil
}

// KeyPath is where the local token signing key lives under a data folder.
func KeyPath(dataDir string) string { return filepath.Join(dataDir, "auth", "signing.key") }

func listen(port int) (net.Listener, error) {
	return net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
}

func (s *Stack) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "local server:", err)
		}
	}()
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

// pinned sends requests for the simulated platforms' hosts to the
// simulator, keeping the Host header, the way DNS would in real life.
type pinned struct{ routes map[string]string }

func (p pinned) RoundTrip(r *http.Request) (*http.Response, error) {
	target, ok := p.routes[strings.ToLower(r.URL.Hostname())]
	if !ok {
		return nil, fmt.Errorf("local stack: no route to %s (only simulated platforms are reachable)", r.URL.Host)
	}
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme = "http"
	r2.URL.Host = strings.TrimPrefix(target, "http://")
	return http.DefaultTransport.RoundTrip(r2)
}

// Token issues a local token for sub with roles.
func (s *Stack) Token(sub string, roles ...string) (string, error) {
	return s.Signer.Issue(sub, roles, 12*time.Hour)
}

// PrintReady prints one line per service, for people and scripts.
func (s *Stack) PrintReady(w io.Writer, dataDir string) {
	fmt.Fprintf(w, "Console: %s\n", s.ConsoleURL)
	fmt.Fprintf(w, "API: %s\n", s.APIURL)
	fmt.Fprintf(w, "DynamoDB: %s\n", s.DynamoDBURL)
	fmt.Fprintf(w, "Step Functions: %s\n", s.SFNURL)
	fmt.Fprintf(w, "Outbox: %s\n", s.OutboxURL)
	fmt.Fprintf(w, "Platforms: %s\n", s.PlatformURL)
	fmt.Fprintf(w, "# data kept in %s\n", dataDir)
	fmt.Fprintf(w, "# console: open %s and choose a member on the local sign-in page\n", s.ConsoleURL)
	fmt.Fprintln(w, "# tokens: go run ./cmd/tangkal token --role reporter|approver|auditor|admin, or --role platform --sub facebook")
	fmt.Fprintf(w, "# approval e-mails: open %s (Mailpit's JSON API: %s/api/v1/messages); Slack: %s/slack\n", s.OutboxURL, s.OutboxURL, s.OutboxURL)
	fmt.Fprintf(w, "# move time forward (deadlines, approval timeouts): go run ./cmd/tangkal clock advance 24h --endpoint %s\n", s.SFNURL)
}

// invokeApprovalsAsync runs the Approvals function with payload after
// the current request, as Lambda's asynchronous Invoke does in AWS.
func (s *Stack) invokeApprovalsAsync(ctx context.Context, payload []byte) error {
	if s.async == nil {
		return errors.New("local stack: not started")
	}
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		ctx := context.WithoutCancel(ctx)
		if _, err := s.invoker.Invoke(ctx, "ApprovalsFunction", payload); err != nil {
			slog.ErrorContext(ctx, "asynchronous invocation of ApprovalsFunction failed", "err", err.Error())
		}
	}()
	return nil
}

// Close stops everything, newest first.
func (s *Stack) Close() {
	if s.async != nil {
		s.async.Wait()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// timedInvoker gives each invocation the function's timeout from
// template.yaml as its context deadline, as Lambda does: a call stuck on a
// dependency fails after Timeout instead of hanging the task. A function
// still running at its deadline fails as Lambda fails it, with
// Sandbox.Timedout (what the workflow's Retry lists name).
type timedInvoker struct {
	inner    *sfnlocal.Registry
	timeouts map[string]time.Duration
}

// SandboxTimedOut is the error Lambda reports for a function that ran
// past its Timeout.
const SandboxTimedOut = "Sandbox.Timedout"

func (t timedInvoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	d := t.timeouts[sfnlocal.FunctionName(function)]
	if d <= 0 {
		return t.inner.Invoke(ctx, function, payload)
	}
	fctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := t.inner.Invoke(fctx, function, payload)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if ctx.Err() == nil && errors.Is(fctx.Err(), context.DeadlineExceeded) {
			// It returned, but only once its time was up: Lambda would
			// have stopped it.
			return nil, &sfnlocal.FunctionError{Type: SandboxTimedOut, Message: fmt.Sprintf("Task timed out after %.2f seconds", d.Seconds())}
		}
		return r.out, r.err
	case <-fctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &sfnlocal.FunctionError{Type: SandboxTimedOut, Message: fmt.Sprintf("Task timed out after %.2f seconds", d.Seconds())}
	}
}
