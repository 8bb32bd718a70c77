// Anchor is the Lambda function AnchorFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.Anchor(wiring.MustFromEnv(context.Background())))
}
