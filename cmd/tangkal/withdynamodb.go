package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/tangkal/tangkal/internal/dynamolocal"
)

func init() {
	register("with-dynamodb", "run a command with an in-memory DynamoDB Local (endpoint in TANGKAL_DYNAMODB_ENDPOINT)", withDynamoDB)
}

func withDynamoDB(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("with-dynamodb", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: tangkal with-dynamodb -- COMMAND [ARGS...]")
	}
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(os.Stderr, "DynamoDB: %s\n", srv.Endpoint)
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), dynamolocal.EndpointEnv+"="+srv.Endpoint)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			srv.Stop()
			os.Exit(exit.ExitCode())
		}
		return err
	}
	return nil
}
