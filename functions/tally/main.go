// Tally is the Lambda function TallyFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.Tally(wiring.MustFromEnv(context.Background())))
}
