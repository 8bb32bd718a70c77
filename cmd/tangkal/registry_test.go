package main

import (
	"context"
	"testing"
)

// Without --endpoint the registry goes where the AWS SDK resolves
// DynamoDB (AWS itself, or AWS_ENDPOINT_URL_DYNAMODB), never to a
// hard-wired local address.
func TestRegistryLoadUsesTheSDKsResolutionWithoutEndpoint(t *testing.T) {
	t.Setenv("AWS_REGION", "ap-southeast-3")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	db, err := dynamoClient(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if ep := db.Options().BaseEndpoint; ep != nil {
		t.Errorf("no --endpoint: base endpoint %q, want none (the SDK's AWS endpoint)", *ep)
	}
	if db.Options().Region != "ap-southeast-3" {
		t.Errorf("region %q, want the environment's", db.Options().Region)
	}
	local, err := dynamoClient(context.Background(), "http://127.0.0.1:8000")
	if err != nil {
		t.Fatal(err)
	}
	if ep := local.Options().BaseEndpoint; ep == nil || *ep != "http://127.0.0.1:8000" {
		t.Errorf("--endpoint: base endpoint %v, want it", ep)
	}
}
