// SendTakedown is the Lambda function SendTakedownFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.SendTakedown(wiring.MustFromEnv(context.Background())))
}
