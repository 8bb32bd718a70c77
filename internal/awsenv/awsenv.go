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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the SDK configuration from the environment.
func Load(ctx context.Context) (aws.Config, error) {
	// Each attempt of an SDK call is bounded well inside a function's
	// timeout (30 s by default), and the handlers' contexts end before
	// Lambda's deadline (package deadline).
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(SDKCallTimeout)))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// SDKCallTimeout bounds one attempt of an AWS SDK call.
const SDKCallTimeout = 8 * time.Second

// Must returns the value of the environment variable name or fails with a
// message naming it.
func Must(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}
