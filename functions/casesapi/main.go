// CasesApi serves the read API: cases, histories, related cases, entities
// and compliance figures.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.CasesAPI(wiring.MustFromEnv(context.Background())))
}
