package localstack

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The handlers log through slog's default logger; keep test output for
	// failures (set TANGKAL_TEST_LOGS=1 to see the JSON logs).
	if os.Getenv("TANGKAL_TEST_LOGS") == "" {
		slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}
