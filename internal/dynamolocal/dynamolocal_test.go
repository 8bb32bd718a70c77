package dynamolocal

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A relative data folder (as `make run` passes, .local/dynamodb) is the
// caller's, not the jar's: DynamoDB Local starts and writes its file there.
func TestStartWithARelativeDataFolder(t *testing.T) {
	if os.Getenv("CI") != "true" {
		if _, err := FindJar("."); err != nil {
			t.Skipf("DynamoDB Local not installed (run `make test`): %v", err)
		}
	}
	jar, err := FindJar(".")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := Start(ctx, Options{DataDir: filepath.Join(".local", "dynamodb"), Jar: jar})
	if err != nil {
		t.Fatalf("start with a relative data folder: %v", err)
	}
	srv.Stop()
	if _, err := os.Stat(filepath.Join(".local", "dynamodb")); err != nil {
		t.Fatalf("data folder not in the working folder: %v", err)
	}
}
