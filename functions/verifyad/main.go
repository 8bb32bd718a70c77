// VerifyAd is the Lambda function VerifyAdFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.VerifyAd(wiring.MustFromEnv(context.Background())))
}
