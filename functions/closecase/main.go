// CloseCase is the Lambda function CloseCaseFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.CloseCase(wiring.MustFromEnv(context.Background())))
}
