// RecordReports is the Lambda function RecordReportsFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.RecordReports(wiring.MustFromEnv(context.Background())))
}
