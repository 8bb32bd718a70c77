package conformance

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/tangkal/tangkal/internal/sfnlocal"
	"github.com/tangkal/tangkal/internal/testenv"
)

// engineClock drives sfnlocal's manual clock one second at a time.
type engineClock struct{ e *sfnlocal.Engine }

func (c engineClock) Settle(ctx context.Context) error { return c.e.WaitIdle(ctx) }

func (c engineClock) Advance(ctx context.Context) error {
	_, err := c.e.Advance(ctx, time.Second)
	return err
}

// TestEngineConformance runs every case on tangkal's engine through the
// Step Functions API (AWS SDK → HTTP → sfnlocal on DynamoDB Local) and
// checks the outcome against expected.json. Cases listed in
// engine_known_gaps.json are reported, not failed, while they still differ;
// once one conforms the test fails until it is removed from the list.
// With TANGKAL_CONFORMANCE_MOTO=1 each outcome is also compared with moto's.
func TestEngineConformance(t *testing.T) {
	cases, err := LoadCases(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	gaps, err := LoadNotes(filepath.Join(casesDir, "..", "engine_known_gaps.json"))
	if err != nil {
		t.Fatal(err)
	}
	bugs, err := LoadNotes(filepath.Join(casesDir, "..", "moto_known_bugs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var moto map[string]MotoResult
	t.Run("moto", func(t *testing.T) { moto = motoResults(t) })

	reg := sfnlocal.NewRegistry()
	logger := slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	eng, err := sfnlocal.New(sfnlocal.Config{
		DynamoDB:    testenv.DynamoDB(t),
		TablePrefix: testenv.UniqueName(t, "conf") + "-",
		Clock:       sfnlocal.NewManualClock(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)),
		Invoker:     reg,
		Logger:      logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(eng.Handler())
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
	})
	client := sfn.NewFromConfig(testenv.AWSConfig(srv.URL))
	clock := engineClock{eng}

	var mu sync.Mutex
	var conform, gapCount, motoDiffs int
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				if c.NeedsLambda() {
					// The registry is shared: cases with functions run one
					// at a time, before the parallel ones.
					for name, spec := range c.Functions {
						reg.Register(name, NewFunction(spec))
					}
				} else {
					t.Parallel()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				ours, err := Run(ctx, client, clock, c)
				if err != nil {
					t.Fatal(err)
				}
				diffs := c.Expected.Check(ours)
				gap, knownGap := gaps[c.Name]
				switch {
				case len(diffs) > 0 && knownGap:
					t.Logf("known engine gap (%s):%s", gap, Summary(diffs))
				case len(diffs) > 0:
					t.Errorf("does not conform to %s:%s", c.Expected.Source, Summary(diffs))
				case knownGap:
					t.Errorf("conforms now: remove it from engine_known_gaps.json")
				}
				mu.Lock()
				if len(diffs) == 0 {
					conform++
				} else if knownGap {
					gapCount++
				}
				mu.Unlock()

				m, ok := moto[c.Name]
				if moto == nil || c.NeedsLambda() {
					return
				}
				if !ok {
					t.Errorf("moto_runner.py printed no result for this case")
					return
				}
				mdiffs := Differ(ours, m.Result, c.Expected)
				bug, knownBug := bugs[c.Name]
				switch {
				case len(mdiffs) > 0 && knownBug:
					t.Logf("differs from moto, a known moto bug (%s):%s", bug, Summary(mdiffs))
				case len(mdiffs) > 0 && knownGap:
					t.Logf("differs from moto because of the known engine gap:%s", Summary(mdiffs))
				case len(mdiffs) > 0:
					t.Errorf("our engine and moto differ (list a moto bug in moto_known_bugs.json if moto contradicts the AWS documentation):%s", Summary(mdiffs))
				case knownBug:
					t.Logf("agrees with moto although moto_known_bugs.json lists it (%s); the entry may be trimmed", bug)
				}
				if len(mdiffs) > 0 {
					mu.Lock()
					motoDiffs++
					mu.Unlock()
				}
			})
		}
	})
	t.Logf("%d of %d cases conform; %d known engine gaps; %d differ from moto", conform, len(cases), gapCount, motoDiffs)
}

// testWriter sends the engine's error logs to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
