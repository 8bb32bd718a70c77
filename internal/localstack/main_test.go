package localstack

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
)

func TestMain(m *testing.M) {
	// The handlers log through slog's default logger. Test output stays
	// quiet; the last warnings and errors are printed when a test fails, so
	// a failure shows what the handlers saw (TANGKAL_TEST_LOGS=1 shows every
	// JSON log line as it happens).
	var tail *logTail
	if os.Getenv("TANGKAL_TEST_LOGS") == "" {
		tail = &logTail{max: 300}
		slog.SetDefault(slog.New(slog.NewJSONHandler(tail, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	code := m.Run()
	if code != 0 && tail != nil {
		lines := tail.last()
		fmt.Fprintf(os.Stderr, "last %d warnings and errors the handlers logged:\n", len(lines))
		for _, l := range lines {
			os.Stderr.Write(l)
		}
	}
	os.Exit(code)
}

// logTail keeps the last max log lines.
type logTail struct {
	mu    sync.Mutex
	max   int
	lines [][]byte
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		l.lines = append(l.lines, append([]byte(nil), line...))
	}
	if n := len(l.lines) - l.max; n > 0 {
		l.lines = append([][]byte(nil), l.lines[n:]...)
	}
	return len(p), nil
}

// last is a copy of the lines kept (stacks may still be logging).
func (l *logTail) last() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.lines...)
}
