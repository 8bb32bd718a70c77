// RequestObjectionDecision is the Lambda function RequestObjectionDecisionFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.RequestObjectionDecision(wiring.MustFromEnv(context.Background())))
}
