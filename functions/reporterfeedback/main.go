// ReporterFeedback tells reporters of their cases' outcomes and keeps their
// accuracy records, from the table's stream.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.ReporterFeedback(wiring.MustFromEnv(context.Background())))
}
