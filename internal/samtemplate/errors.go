package samtemplate

import (
	"errors"
	"strings"
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// DynamoDB answers a second UpdateTimeToLive with a ValidationException
// saying TTL is already enabled; that is success for us.
func isTTLAlreadyEnabled(err error) bool {
	return strings.Contains(err.Error(), "already enabled")
}
