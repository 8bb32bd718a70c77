package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

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
