// Approvals is the Lambda function ApprovalsFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.Approvals(wiring.MustFromEnv(context.Background())))
}
