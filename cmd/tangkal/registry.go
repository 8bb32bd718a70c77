package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/store"
)

func init() {
	register("registry", "licensed-recruiter registry: `registry load --csv FILE` loads or refreshes it in DynamoDB", registryCmd)
}

func registryCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "load" {
		return errors.New("usage: tangkal registry load --csv FILE [--endpoint URL] [--table NAME]")
	}
	fs := flag.NewFlagSet("registry load", flag.ContinueOnError)
	csvPath := fs.String("csv", "", "registry CSV (company_name, licence_number, status, city, phone, valid_until)")
	endpoint := fs.String("endpoint", "", "DynamoDB endpoint, e.g. http://127.0.0.1:8000 for the local stack (default: the AWS SDK's own resolution, AWS_ENDPOINT_URL_DYNAMODB included)")
	table := fs.String("table", envDefault("TANGKAL_TABLE", "tangkal"), "DynamoDB table")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *csvPath == "" {
		return errors.New("registry load: flag --csv is required")
	}
	f, err := os.Open(*csvPath)
	if err != nil {
		return fmt.Errorf("registry load: %w", err)
	}
	defer f.Close()
	reg, err := registry.ParseCSV(f)
	if err != nil {
		return fmt.Errorf("registry load %s: %w", *csvPath, err)
	}
	db, err := dynamoClient(ctx, *endpoint)
	if err != nil {
		return err
	}
	n, err := registry.Load(ctx, store.Table{DB: db, Name: *table}, reg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "loaded %d licensed recruiters into %s\n", n, *table)
	return nil
}

// dynamoClient returns a DynamoDB client for endpoint: empty, the SDK's
// normal resolution (AWS, credentials and region from the environment or
// profile). A local endpoint without AWS credentials in the environment
// gets DynamoDB Local's dummy ones.
func dynamoClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS config: %w", err)
		}
		if cfg.Region == "" {
			return nil, errors.New("no AWS region: set AWS_REGION (or AWS_PROFILE), or pass --endpoint for a local DynamoDB")
		}
		return dynamodb.NewFromConfig(cfg), nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("flag --endpoint %q is not a URL", endpoint)
	}
	opts := []func(*config.LoadOptions) error{}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("ap-southeast-3"))
	}
	local := u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"
	if local && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

func envDefault(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
