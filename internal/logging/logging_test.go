package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestRecordsCarryTheContextsIDs(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() context.Context
		want map[string]string
		not  []string
	}{
		{"case, execution and state", func() context.Context {
			return With(context.Background(), CaseID, "c_1", Execution, "arn:exec:c_1", State, "VerifyAd")
		}, map[string]string{CaseID: "c_1", Execution: "arn:exec:c_1", State: "VerifyAd"}, []string{RequestID}},
		{"empty values are left out, a later value wins", func() context.Context {
			return With(With(context.Background(), CaseID, "c_1", State, ""), CaseID, "c_2")
		}, map[string]string{CaseID: "c_2"}, []string{State}},
		{"Lambda's request id", func() context.Context {
			return lambdacontext.NewContext(With(context.Background(), CaseID, "c_3"), &lambdacontext.LambdaContext{AwsRequestID: "req-9"})
		}, map[string]string{CaseID: "c_3", RequestID: "req-9"}, nil},
		{"an API request id set by the handler wins over Lambda's", func() context.Context {
			return With(lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-9"}), RequestID, "api-1")
		}, map[string]string{RequestID: "api-1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(Handler{slog.NewJSONHandler(&buf, nil)})
			log.InfoContext(tt.ctx(), "hello", "extra", 1)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("not one JSON line: %q", buf.String())
			}
			for k, v := range tt.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %q (line %s)", k, line[k], v, buf.String())
				}
			}
			for _, k := range tt.not {
				if _, ok := line[k]; ok {
					t.Errorf("%s present: %s", k, buf.String())
				}
			}
			if line["extra"] != float64(1) || line["msg"] != "hello" {
				t.Errorf("the record's own attributes are lost: %s", buf.String())
			}
		})
	}
}

func TestLevelFollowsLambdasLogLevel(t *testing.T) {
	for name, want := range map[string]slog.Level{"": slog.LevelInfo, "DEBUG": slog.LevelDebug, "trace": slog.LevelDebug, "WARN": slog.LevelWarn, "ERROR": slog.LevelError, "FATAL": slog.LevelError, "nonsense": slog.LevelInfo} {
		if got := Level(name); got != want {
			t.Errorf("Level(%q) = %v, want %v", name, got, want)
		}
	}
}

// What Lambda's log-level filtering reads from each line: "level" and an
// RFC 3339 "timestamp"; and the level AWS_LAMBDA_LOG_LEVEL names holds.
func TestNewWritesWhatLambdaFilters(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages written, of debug, info, warn, error
	}{
		{"", []string{"info", "warn", "error"}},
		{"DEBUG", []string{"debug", "info", "warn", "error"}},
		{"WARN", []string{"warn", "error"}},
		{"ERROR", []string{"error"}},
	}
	for _, tt := range tests {
		t.Run("level "+tt.level, func(t *testing.T) {
			t.Setenv("AWS_LAMBDA_LOG_LEVEL", tt.level)
			var buf bytes.Buffer
			log := New(&buf)
			ctx := context.Background()
			log.DebugContext(ctx, "debug")
			log.InfoContext(ctx, "info")
			log.WarnContext(ctx, "warn")
			log.ErrorContext(ctx, "error")
			var got []string
			for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
				if len(l) == 0 {
					continue
				}
				var line map[string]any
				if err := json.Unmarshal(l, &line); err != nil {
					t.Fatalf("not JSON: %q", l)
				}
				ts, _ := line[TimestampKey].(string)
				if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
					t.Errorf("timestamp %q is not RFC 3339: %s", ts, l)
				}
				if _, ok := line["time"]; ok {
					t.Errorf("a second time key: %s", l)
				}
				if lv, _ := line["level"].(string); !strings.EqualFold(lv, line["msg"].(string)) {
					t.Errorf("level %q for %q", lv, line["msg"])
				}
				got = append(got, line["msg"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("written %v, want %v", got, tt.want)
			}
		})
	}
}
