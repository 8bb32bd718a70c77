// CheckCompliance is the Lambda function CheckComplianceFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.CheckCompliance(wiring.MustFromEnv(context.Background())))
}
