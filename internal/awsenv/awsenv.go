// Package awsenv builds the AWS SDK configuration and reads the settings a
// function needs from its environment. In AWS the SDK finds everything
// itself; locally AWS_ENDPOINT_URL_<SERVICE> variables (which the SDK reads
// natively) point the same calls at DynamoDB Local and the local Step
// Functions endpoint.
package awsenv

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the SDK configuration from the environment.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// Must returns the value of the environment variable name or fails with a
// message naming it.
func Must(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}
