// StartWorkflow is the Lambda function StartWorkflowFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.StartWorkflow(wiring.MustFromEnv(context.Background())))
}
