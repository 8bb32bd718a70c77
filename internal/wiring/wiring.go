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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/audit"
	"github.com/tangkal/tangkal/internal/awsenv"
	"github.com/tangkal/tangkal/internal/report"
	"github.com/tangkal/tangkal/internal/store"
)

// Deps are what the handlers need.
type Deps struct {
	AWS   aws.Config
	Table store.Table
	Now   func() time.Time
}

// FromEnv reads Deps from a Lambda environment.
func FromEnv(ctx context.Context) (Deps, error) {
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return Deps{}, err
	}
	table := os.Getenv("TANGKAL_TABLE")
	if table == "" {
		return Deps{}, fmt.Errorf("environment variable TANGKAL_TABLE is not set")
	}
	return Deps{AWS: cfg, Table: store.Table{DB: dynamodb.NewFromConfig(cfg), Name: table}, Now: time.Now}, nil
}

// SubmitReport is SubmitReportFunction's handler.
func SubmitReport(d Deps) func(context.Context, api.Request) (api.Response, error) {
	h := report.Handler{Intake: report.Intake{Table: d.Table, Now: d.Now}}
	return api.Handle(h.Submit)
}

// CasesAPI is CasesApiFunction's handler.
func CasesAPI(d Deps) func(context.Context, api.Request) (api.Response, error) {
	r := audit.Reader{Table: d.Table}
	return api.Handle(r.Route)
}

// Handlers maps each function's logical id in template.yaml to its handler.
func Handlers(d Deps) map[string]any {
	return map[string]any{
		"SubmitReportFunction": SubmitReport(d),
		"CasesApiFunction":     CasesAPI(d),
	}
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
