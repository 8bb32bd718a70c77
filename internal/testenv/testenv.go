// Package testenv gives tests a real DynamoDB Local.
//
// `make test` starts one DynamoDB Local for the whole run and exports its
// endpoint as TANGKAL_DYNAMODB_ENDPOINT. A plain `go test` without it starts
// one per test binary. Tests never skip silently in CI: when CI=true and no
// DynamoDB Local can be had, the test fails.
package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/dynamolocal"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/store"
)

// EndpointEnv names the variable that holds a running DynamoDB Local's URL.
const EndpointEnv = dynamolocal.EndpointEnv

var (
	once     sync.Once
	endpoint string
	startErr error
	counter  atomic.Int64
)

// Endpoint returns the URL of a DynamoDB Local, starting one if needed.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if e := os.Getenv(EndpointEnv); e != "" {
			endpoint = e
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
		if err != nil {
			startErr = err
			return
		}
		endpoint = srv.Endpoint
		// The process dies with the test binary (Pdeathsig).
	})
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("DynamoDB Local is required: %v", startErr)
		}
		t.Skipf("DynamoDB Local unavailable (run `make test`): %v", startErr)
	}
	return endpoint
}

// AWSConfig returns an SDK config with static local credentials and every
// service pointed at the given endpoint.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "ap-southeast-3",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// DynamoDB returns a client for the test DynamoDB Local.
func DynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(AWSConfig(Endpoint(t)))
}

// UniqueName returns a table-safe name unique to this test process and call.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 120 {
		name = name[:120]
	}
	return fmt.Sprintf("%s-%s-%d-%d", prefix, name, os.Getpid(), counter.Add(1))
}

// CreateTable creates a table called name with the schema of CasesTable in
// the nearest template.yaml, so tests use the table AWS gets.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	t, err := samtemplate.LoadNearest()
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return t.CreateTable(ctx, db, store.TableLogicalID, name)
}
