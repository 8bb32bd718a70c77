// SubmitReport serves POST /reports: intake of reported ads.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.SubmitReport(wiring.MustFromEnv(context.Background())))
}
