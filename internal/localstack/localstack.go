// Package localstack runs tangkal on one machine without an AWS account:
// DynamoDB Local, the HTTP API from template.yaml, the local Step Functions
// engine running the real ASL file, the table's stream feeding the workflow
// starter, and local stand-ins for the platforms, e-mail and Slack.
package localstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/localapi"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/sfnlocal"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/wiring"
)

// Config of a local stack. Zero ports pick free ones.
type Config struct {
	// DataDir keeps DynamoDB's data, the signing key, the outbox and the
	// evidence. Empty: everything in memory (tests).
	DataDir string
	// DynamoDBEndpoint uses a running DynamoDB Local instead of starting one.
	DynamoDBEndpoint string
	DynamoDBPort     int
	APIPort          int
	SFNPort          int
	// Table is the table's name (default "tangkal").
	Table string
	// Template is the path of template.yaml (default: found upwards).
	Template string
	Log      *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	APIURL      string
	DynamoDBURL string
	Table       store.Table
	Signer      auth.Signer
	Template    *samtemplate.Template
	SFNURL      string
	Functions   *sfnlocal.Registry

	extraLines []string
	closers    []func()
}

// Region and account of the local stack.
const (
	Region  = "ap-southeast-3"
	Account = "000000000000"
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
	if cfg.Template == "" {
		if cfg.Template, err = samtemplate.Find("."); err != nil {
			return nil, err
		}
	}
	if s.Template, err = samtemplate.Load(cfg.Template); err != nil {
		return nil, err
	}

	// DynamoDB Local.
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

	// Local token signing key.
	key := make([]byte, 32)
	if cfg.DataDir != "" {
		if key, err = auth.LoadOrCreateKey(KeyPath(cfg.DataDir)); err != nil {
			return nil, err
		}
	} else if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	s.Signer = auth.Signer{Key: key}

	// Functions, in-process, under their template names.
	deps := wiring.Deps{AWS: AWSConfig(s.DynamoDBURL), Table: s.Table, Now: time.Now}
	s.Functions = sfnlocal.NewRegistry()
	handlers := wiring.Handlers(deps)
	for _, f := range s.Template.Functions() {
		h, ok := handlers[f.LogicalID]
		if !ok {
			return nil, fmt.Errorf("function %s in template.yaml has no local handler in package wiring", f.LogicalID)
		}
		s.Functions.Register(f.LogicalID, lambda.NewHandler(h))
	}

	// HTTP API.
	apiSrv, err := localapi.New(s.Template, s.Functions, s.Signer, nil, cfg.Log)
	if err != nil {
		return nil, err
	}
	if s.APIURL, err = s.serve(cfg.APIPort, apiSrv); err != nil {
		return nil, fmt.Errorf("HTTP API: %w", err)
	}
	return s, nil
}

// KeyPath is where the local token signing key lives under a data folder.
func KeyPath(dataDir string) string { return filepath.Join(dataDir, "auth", "signing.key") }

func (s *Stack) serve(port int, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", err
	}
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
	return "http://" + l.Addr().String(), nil
}

// Token issues a local token for sub with roles.
func (s *Stack) Token(sub string, roles ...string) (string, error) {
	return s.Signer.Issue(sub, roles, 12*time.Hour)
}

// Close stops everything, newest first.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// PrintReady prints one line per service, for people and scripts.
func (s *Stack) PrintReady(w io.Writer, dataDir string) {
	fmt.Fprintf(w, "API: %s\n", s.APIURL)
	fmt.Fprintf(w, "DynamoDB: %s\n", s.DynamoDBURL)
	if s.SFNURL != "" {
		fmt.Fprintf(w, "Step Functions: %s\n", s.SFNURL)
	}
	for _, l := range s.extraLines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "# data kept in %s; tokens: go run ./cmd/tangkal token --role reporter|approver|auditor|admin\n", dataDir)
}
