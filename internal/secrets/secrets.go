// Package secrets reads the keys functions use from AWS Secrets Manager at
// run time, so no secret is part of a function's configuration.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Getter is the Secrets Manager call used (the SDK client satisfies it).
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// String reads the current value of the secret id (name or ARN).
func String(ctx context.Context, sm Getter, id string) (string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", id, err)
	}
	if out.SecretString != nil {
		return *out.SecretString, nil
	}
	return string(out.SecretBinary), nil
}

// JSON reads a secret whose value is a JSON object into v.
func JSON(ctx context.Context, sm Getter, id string, v any) error {
	s, err := String(ctx, sm, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		// The value itself is never part of the message.
		return fmt.Errorf("read secret %s: its value is not the JSON object expected", id)
	}
	return nil
}
