// Evidence serves the stored copies of ads that notices link to
// (GET /evidence/{sha256}?exp=&sig=), for platforms holding a signed link.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tangkal/tangkal/internal/wiring"
)

func main() {
	lambda.Start(wiring.Evidence(wiring.MustFromEnv(context.Background())))
}
