// PublicReports serves the public channel: GET /public/challenge, POST
// /public/reports and GET /public/reports/{token}, without an account.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.PublicReports(wiring.MustFromEnv(context.Background())))
}
