// RequestApproval is the Lambda function RequestApprovalFunction of template.yaml.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.RequestApproval(wiring.MustFromEnv(context.Background())))
}
