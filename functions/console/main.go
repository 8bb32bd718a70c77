// Console is the Lambda function ConsoleFunction of template.yaml: the web
// console's pages.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.Console(wiring.MustFromEnv(context.Background())))
}
