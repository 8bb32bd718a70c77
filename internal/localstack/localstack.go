// Package localstack runs tangkal on one machine without an AWS account:
// DynamoDB Local, the HTTP API from template.yaml, the local Step Functions
// engine running the real ASL file, the table's stream feeding the workflow
// starter, and local stand-ins for the platforms, e-mail and Slack.
package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/evidence"
	"github.com/tangkal/tangkal/internal/localapi"
	"github.com/tangkal/tangkal/internal/outbox"
	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/platformsim"
	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/safefetch"
	"github.com/tangkal/tangkal/internal/samtemplate"
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
	// Parameters override template parameters (e.g. ApprovalTimeoutSeconds).
	Parameters map[string]string
	// Approvers are the approver tiers (default two local tiers).
	Approvers [][]string
	// Platforms sets the simulated platforms' behaviour by platform id.
	Platforms map[string]platformsim.Behavior
	// Clock, when set, replaces the persisted offset clock (tests).
	Clock sfnlocal.Clock
	Log   *slog.Logger
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
	// EvidenceLinks signs the evidence links in notices to platforms.
	EvidenceLinks *evidence.Links

	invoker timedInvoker
	closers []func()
}

// Region and account of the local stack.
const (
	Region    = "ap-southeast-3"
	Account   = "000000000000"
	StackName = "tangkal"
)

// AWSConfig returns an SDK config with local credentials for endpoint.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Start brings the stack up and returns when every service answers.
func Start(ctx context.Context, cfg Config) (st *Stack, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if cfg.Table == "" {
		cfg.Table = "tangkal"
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	dataDir := cfg.DataDir
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "tangkal-local-"); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { os.RemoveAll(dataDir) })
	}
	if cfg.Template == "" {
		if cfg.Template, err = samtemplate.Find("."); err != nil {
			return nil, err
		}
	}
	if s.Template, err = samtemplate.Load(cfg.Template); err != nil {
		return nil, err
	}
	env := samtemplate.Env{Region: Region, Account: Account, StackName: StackName, Parameters: cfg.Parameters}

	// DynamoDB Local and the table.
	s.DynamoDBURL = cfg.DynamoDBEndpoint
	if s.DynamoDBURL == "" {
		opts := dynamolocal.Options{Port: cfg.DynamoDBPort}
		if cfg.DataDir != "" {
			opts.DataDir = filepath.Join(cfg.DataDir, "dynamodb")
		}
		srv, err := dynamolocal.Start(ctx, opts)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { srv.Stop() })
		s.DynamoDBURL = srv.Endpoint
	}
	db := dynamodb.NewFromConfig(AWSConfig(s.DynamoDBURL))
	s.Table = store.Table{DB: db, Name: cfg.Table}
	if err := s.Template.CreateTable(ctx, db, store.TableLogicalID, cfg.Table); err != nil {
		return nil, err
	}

	// Keys: local JWTs, approval links, platform webhooks.
	jwtKey, err := auth.LoadOrCreateKey(KeyPath(dataDir))
	if err != nil {
		return nil, err
	}
	s.Signer = auth.Signer{Key: jwtKey}
	linkKey, err := auth.LoadOrCreateKey(filepath.Join(dataDir, "auth", "approval.key"))
	if err != nil {
		return nil, err
	}
	webhookKey, err := auth.LoadOrCreateKey(filepath.Join(dataDir, "auth", "webhook.key"))
	if err != nil {
		return nil, err
	}
	slackKey, err := auth.LoadOrCreateKey(filepath.Join(dataDir, "auth", "slack.key"))
	if err != nil {
		return nil, err
	}
	evidenceKey, err := auth.LoadOrCreateKey(filepath.Join(dataDir, "auth", "evidence.key"))
	if err != nil {
		return nil, err
	}

	// Listeners first: handlers need to know the public URLs.
	apiL, err := listen(cfg.APIPort)
	if err != nil {
		return nil, fmt.Errorf("HTTP API port: %w", err)
	}
	sfnL, err := listen(cfg.SFNPort)
	if err != nil {
		apiL.Close()
		return nil, fmt.Errorf("Step Functions port: %w", err)
	}
	outL, err := listen(cfg.OutboxPort)
	if err != nil {
		apiL.Close()
		sfnL.Close()
		return nil, fmt.Errorf("outbox port: %w", err)
	}
	simL, err := listen(cfg.PlatformPort)
	if err != nil {
		apiL.Close()
		sfnL.Close()
		outL.Close()
		return nil, fmt.Errorf("platform simulator port: %w", err)
	}
	s.APIURL, s.SFNURL = "http://"+apiL.Addr().String(), "http://"+sfnL.Addr().String()
	s.OutboxURL, s.PlatformURL = "http://"+outL.Addr().String(), "http://"+simL.Addr().String()

	// The clock every local part shares, so waits and deadlines agree.
	clock := cfg.Clock
	if clock == nil {
		clock = sfnlocal.NewOffsetClock(0)
	}
	now := clock.Now

	// Stand-ins: outbox (e-mail and Slack) and the simulated platforms.
	if s.Outbox, err = outbox.NewFolder(filepath.Join(dataDir, "outbox")); err != nil {
		return nil, err
	}
	s.Outbox.Now = now
	pc, err := platform.Default()
	if err != nil {
		return nil, err
	}
	secrets := map[string][]byte{}
	for id := range pc.Platforms {
		secrets[id] = []byte(hex.EncodeToString(webhookKey))
	}
	simOpts := platformsim.Options{Config: pc, Secrets: secrets, Now: now, Behaviors: cfg.Platforms}
	if cfg.DataDir != "" {
		// The platforms' side survives a restart like everything else.
		simOpts.StatePath = filepath.Join(cfg.DataDir, "platformsim.json")
	}
	if s.Sim, err = platformsim.New(simOpts); err != nil {
		return nil, err
	}
	simAddr := simL.Addr().String()
	routes := map[string]string{}
	for _, p := range pc.Platforms {
		for _, h := range p.Hosts {
			routes[strings.ToLower(h)] = "http://" + simAddr
		}
		for _, raw := range []string{p.WebhookURL, p.StatusURL} {
			if h := hostOf(raw); h != "" {
				routes[h] = "http://" + simAddr
			}
		}
	}

	// Handlers, built exactly as in AWS but with local dependencies.
	links, err := approval.NewSigner([]byte(hex.EncodeToString(linkKey)), s.APIURL)
	if err != nil {
		return nil, err
	}
	s.Links = links
	days, err := s.Template.Parameter("EvidenceLinkDays", env)
	if err != nil {
		return nil, err
	}
	lifetime, err := evidence.LifetimeDays(days)
	if err != nil {
		return nil, err
	}
	if s.EvidenceLinks, err = evidence.NewLinks([]byte(hex.EncodeToString(evidenceKey)), s.APIURL, lifetime); err != nil {
		return nil, err
	}
	approvers := cfg.Approvers
	if len(approvers) == 0 {
		approvers = [][]string{{"approver@kp2mi.local"}, {"director@kp2mi.local"}}
	}
	rules, err := risk.DefaultRules()
	if err != nil {
		return nil, err
	}
	// As after a deployment: the licensed-recruiter registry is loaded
	// into the table once (`tangkal registry load` refreshes it).
	if reg, err := registry.FromDynamoDB(ctx, db, cfg.Table); err != nil {
		return nil, err
	} else if reg.Len() == 0 {
		if _, err := registry.Load(ctx, db, cfg.Table, registry.Default()); err != nil {
			return nil, err
		}
	}
	s.StateMachineARN = fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s-takedown", Region, Account, StackName)
	deps := wiring.Deps{
		Table: s.Table, Now: now,
		SFN:             sfn.NewFromConfig(AWSConfig(s.SFNURL)),
		StateMachineARN: s.StateMachineARN,
		Fetcher:         safefetch.New(safefetch.Options{Routes: routes, Clock: now}),
		Evidence:        evidence.Folder{Dir: filepath.Join(dataDir, "evidence")},
		Rules:           rules,
		Platforms: &platform.Client{Config: pc, Mailer: s.Outbox, From: "tangkal@kp2mi.local", Now: now,
			HTTP:   &http.Client{Timeout: 30 * time.Second, Transport: pinned{routes: routes}},
			Secret: func(string) []byte { return []byte(hex.EncodeToString(webhookKey)) },
			Names:  platform.IndicatorNames(rules), EvidenceLinks: s.EvidenceLinks},
		Mailer: s.Outbox, Slack: s.Outbox, SlackChannel: "#takedown-approvals",
		SlackApprovers: []string{"U0LOCALAPPROVER"}, SlackSecret: []byte(hex.EncodeToString(slackKey)),
		Links: links, ApproverTiers: approvers, Sender: "tangkal@kp2mi.local",
		EvidenceLinks: s.EvidenceLinks,
	}
	s.Functions = sfnlocal.NewRegistry()
	invoker := timedInvoker{inner: s.Functions, timeouts: map[string]time.Duration{}}
	s.invoker = invoker
	handlers := wiring.Handlers(deps)
	for _, f := range s.Template.Functions() {
		h, ok := handlers[f.LogicalID]
		if !ok {
			return nil, fmt.Errorf("function %s in template.yaml has no handler in package wiring", f.LogicalID)
		}
		// Each call gets its own handler instance, as concurrent Lambda
		// invocations get their own execution environments.
		s.Functions.RegisterFunc(f.LogicalID, h)
		invoker.timeouts[f.LogicalID] = time.Duration(f.Timeout) * time.Second
	}

	// The Step Functions engine with the template's state machines.
	if s.Engine, err = sfnlocal.New(sfnlocal.Config{
		DynamoDB: db, TablePrefix: cfg.Table + "-", Clock: clock, Invoker: invoker,
		Region: Region, AccountID: Account, Logger: cfg.Log,
	}); err != nil {
		return nil, err
	}
	if err := s.Engine.Start(ctx); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Engine.Close)
	s.serve(sfnL, s.Engine.Handler())
	for _, sm := range s.Template.StateMachines() {
		if err := s.deploy(ctx, sm, env); err != nil {
			return nil, err
		}
	}

	// Serve.
	apiSrv, err := localapi.New(s.Template, invoker, s.Signer, now, cfg.Log)
	if err != nil {
		return nil, err
	}
	s.serve(apiL, apiSrv)
	s.serve(outL, s.Outbox.Handler())
	s.serve(simL, s.Sim)

	// The table's stream feeds the functions with DynamoDB events
	// (StartWorkflow, RecordReports), as Lambda's event source mappings do:
	// one reader per function, each with its own checkpoints.
	for _, f := range s.Template.Functions() {
		for _, ev := range f.Events {
			if ev.Type != "DynamoDB" {
				continue
			}
			sm, err := newStreamer(s, f.LogicalID, ev, filepath.Join(dataDir, "stream-"+f.LogicalID+".json"), cfg.Log)
			if err != nil {
				return nil, err
			}
			s.closers = append(s.closers, sm.close)
		}
	}
	return s, nil
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
	fmt.Fprintf(w, "API: %s\n", s.APIURL)
	fmt.Fprintf(w, "DynamoDB: %s\n", s.DynamoDBURL)
	fmt.Fprintf(w, "Step Functions: %s\n", s.SFNURL)
	fmt.Fprintf(w, "Outbox: %s\n", s.OutboxURL)
	fmt.Fprintf(w, "Platforms: %s\n", s.PlatformURL)
	fmt.Fprintf(w, "# data kept in %s\n", dataDir)
	fmt.Fprintln(w, "# tokens: go run ./cmd/tangkal token --role reporter|approver|auditor|admin")
	fmt.Fprintf(w, "# approval e-mails and Slack messages: open %s\n", s.OutboxURL)
	fmt.Fprintf(w, "# move time forward (deadlines, approval timeouts): go run ./cmd/tangkal clock advance 24h --endpoint %s\n", s.SFNURL)
}

// Close stops everything, newest first.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

var _ = rand.Read

// timedInvoker gives each invocation the function's timeout from
// template.yaml as its context deadline, as Lambda does: a call stuck on a
// dependency fails after Timeout instead of hanging the task.
type timedInvoker struct {
	inner    *sfnlocal.Registry
	timeouts map[string]time.Duration
}

func (t timedInvoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	if d := t.timeouts[sfnlocal.FunctionName(function)]; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return t.inner.Invoke(ctx, function, payload)
}
