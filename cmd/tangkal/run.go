package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/tangkal/tangkal/internal/localstack"
)

func init() {
	register("run", "start the local stack in the foreground (Ctrl-C stops it)", run)
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscanf(os.Getenv(name), "%d", &v); err == nil {
		return v
	}
	return def
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfg := localstack.Config{}
	fs.StringVar(&cfg.DataDir, "data", envOr("TANGKAL_DATA", ".local"), "folder for DynamoDB data, the signing key, the outbox and evidence")
	fs.IntVar(&cfg.APIPort, "api-port", envInt("TANGKAL_API_PORT", 3000), "HTTP API port")
	fs.IntVar(&cfg.DynamoDBPort, "dynamodb-port", envInt("TANGKAL_DYNAMODB_PORT", 8000), "DynamoDB Local port")
	fs.IntVar(&cfg.SFNPort, "sfn-port", envInt("TANGKAL_SFN_PORT", 8083), "Step Functions endpoint port")
	fs.StringVar(&cfg.Table, "table", envOr("TANGKAL_TABLE", "tangkal"), "DynamoDB table name")
	verbose := fs.Bool("v", false, "log every request and step as JSON on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	st, err := localstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	st.PrintReady(os.Stdout, cfg.DataDir)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping…")
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
