// PlatformAPI is the Lambda function PlatformApiFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.PlatformAPI(wiring.MustFromEnv(context.Background())))
}
