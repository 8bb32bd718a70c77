// Escalate is the Lambda function EscalateFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.Escalate(wiring.MustFromEnv(context.Background())))
}
