package asl

import (
	"strings"
	"testing"
	"time"
)

func TestWaitUntil(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	input := mustDecode(t, `{"s":90,"ts":"2026-02-01T00:00:00+07:00","bad":"soon","neg":-1,"frac":1.5}`)
	tests := []struct {
		state   string
		want    time.Time
		wantErr string
	}{
		{`{"Type":"Wait","Seconds":10,"End":true}`, now.Add(10 * time.Second), ""},
		{`{"Type":"Wait","Seconds":0,"End":true}`, now, ""},
		{`{"Type":"Wait","Timestamp":"2016-03-14T01:59:00Z","End":true}`, time.Date(2016, 3, 14, 1, 59, 0, 0, time.UTC), ""},
		{`{"Type":"Wait","SecondsPath":"$.s","End":true}`, now.Add(90 * time.Second), ""},
		{`{"Type":"Wait","TimestampPath":"$.ts","End":true}`, time.Date(2026, 1, 31, 17, 0, 0, 0, time.UTC), ""},
		{`{"Type":"Wait","TimestampPath":"$.bad","End":true}`, time.Time{}, ErrRuntime},
		{`{"Type":"Wait","SecondsPath":"$.neg","End":true}`, time.Time{}, ErrRuntime},
		{`{"Type":"Wait","SecondsPath":"$.frac","End":true}`, time.Time{}, ErrRuntime},
		{`{"Type":"Wait","SecondsPath":"$.missing","End":true}`, time.Time{}, ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			got, err := oneState(t, tt.state).WaitUntil(input, now)
			if tt.wantErr != "" {
				if statesErrName(err) != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("WaitUntil = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestFailInfo(t *testing.T) {
	input := mustDecode(t, `{"Error":"CustomError","Cause":"it broke","n":5,"name":"x"}`)
	tests := []struct {
		state, errName, cause, wantErr string
	}{
		{`{"Type":"Fail","Error":"ErrorA","Cause":"Kaiju attack"}`, "ErrorA", "Kaiju attack", ""},
		{`{"Type":"Fail"}`, "", "", ""},
		{`{"Type":"Fail","ErrorPath":"$.Error","CausePath":"$.Cause"}`, "CustomError", "it broke", ""},
		{`{"Type":"Fail","Error":"Err","CausePath":"States.Format('failed for {}', $.name)"}`, "Err", "failed for x", ""},
		{`{"Type":"Fail","ErrorPath":"$.n"}`, "", "", ErrRuntime},
		{`{"Type":"Fail","ErrorPath":"$.missing"}`, "", "", ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			e, c, err := oneState(t, tt.state).FailInfo(input)
			if tt.wantErr != "" {
				if statesErrName(err) != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || e != tt.errName || c != tt.cause {
				t.Fatalf("FailInfo = %q, %q, %v", e, c, err)
			}
		})
	}
}

func TestTaskTimeouts(t *testing.T) {
	input := mustDecode(t, `{"t":300,"h":60,"zero":0}`)
	tests := []struct {
		state              string
		timeout, heartbeat time.Duration
		wantErr            string
	}{
		{`{"Type":"Task","Resource":"arn:aws:x","End":true}`, 0, 0, ""},
		{`{"Type":"Task","Resource":"arn:aws:x","TimeoutSeconds":300,"HeartbeatSeconds":60,"End":true}`, 300 * time.Second, 60 * time.Second, ""},
		{`{"Type":"Task","Resource":"arn:aws:x","TimeoutSecondsPath":"$.t","HeartbeatSecondsPath":"$.h","End":true}`, 300 * time.Second, 60 * time.Second, ""},
		{`{"Type":"Task","Resource":"arn:aws:x","TimeoutSecondsPath":"$.zero","End":true}`, 0, 0, ErrRuntime},
		{`{"Type":"Task","Resource":"arn:aws:x","HeartbeatSecondsPath":"$.missing","End":true}`, 0, 0, ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			to, hb, err := oneState(t, tt.state).TaskTimeouts(input)
			if tt.wantErr != "" {
				if statesErrName(err) != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || to != tt.timeout || hb != tt.heartbeat {
				t.Fatalf("TaskTimeouts = %v, %v, %v", to, hb, err)
			}
		})
	}
}

const proc = `"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`

func TestMapState(t *testing.T) {
	s := oneState(t, `{"Type":"Map","InputPath":"$.detail","ItemsPath":"$.shipped",
	  "ItemSelector":{"parcel.$":"$$.Map.Item.Value","index.$":"$$.Map.Item.Index","courier.$":"$.delivery-partner","exec.$":"$$.Execution.Id"},
	  "MaxConcurrency":0,`+proc+`,"ResultPath":"$.detail.shipped","End":true}`)
	raw := mustDecode(t, `{"ship-date":"2016-03-14T01:59:00Z","detail":{"delivery-partner":"UQS","shipped":[{"prod":"R31","dest-code":9511,"quantity":1344},{"prod":"S39","dest-code":9511,"quantity":40}]}}`)
	ctx := mustDecode(t, `{"Execution":{"Id":"arn:exec"}}`)
	eff, err := s.Input(raw, ctx)
	if err != nil {
		t.Fatal(err)
	}
	items, err := s.Items(eff)
	if err != nil || len(items) != 2 {
		t.Fatalf("Items = %v, %v", items, err)
	}
	var results []any
	for i, it := range items {
		in, err := s.ItemInput(it, i, eff, ctx)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, in)
	}
	want := `{"parcel":{"prod":"S39","dest-code":9511,"quantity":40},"index":1,"courier":"UQS","exec":"arn:exec"}`
	if got := jsonOf(t, results[1]); got != canon(t, want) {
		t.Errorf("item input = %s, want %s", got, canon(t, want))
	}
	out, err := s.Output(raw, results, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(jsonOf(t, out), `"index":0`) || !strings.Contains(jsonOf(t, out), `"ship-date"`) {
		t.Errorf("output = %s", jsonOf(t, out))
	}

	t.Run("items must be an array", func(t *testing.T) {
		m := oneState(t, `{"Type":"Map","ItemsPath":"$.x",`+proc+`,"End":true}`)
		if _, err := m.Items(mustDecode(t, `{"x":{"a":1}}`)); statesErrName(err) != ErrRuntime {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("without ItemSelector the item is the input", func(t *testing.T) {
		m := oneState(t, `{"Type":"Map",`+proc+`,"End":true}`)
		got, err := m.ItemInput("a", 0, []any{"a"}, nil)
		if err != nil || got != "a" {
			t.Fatalf("got %v, %v", got, err)
		}
	})
}

func TestMapLimits(t *testing.T) {
	input := mustDecode(t, `{"mc":5,"pct":25.5,"cnt":3,"bad":-2}`)
	tests := []struct {
		state   string
		mc      int
		pct     float64
		cnt     int
		wantErr string
	}{
		{`{"Type":"Map",` + proc + `,"End":true}`, 0, -1, -1, ""},
		{`{"Type":"Map","MaxConcurrency":2,"ToleratedFailurePercentage":10,"ToleratedFailureCount":1,` + proc + `,"End":true}`, 2, 10, 1, ""},
		{`{"Type":"Map","MaxConcurrencyPath":"$.mc","ToleratedFailurePercentagePath":"$.pct","ToleratedFailureCountPath":"$.cnt",` + proc + `,"End":true}`, 5, 25.5, 3, ""},
		{`{"Type":"Map","MaxConcurrencyPath":"$.bad",` + proc + `,"End":true}`, 0, 0, 0, ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			mc, pct, cnt, err := oneState(t, tt.state).MapLimits(input)
			if tt.wantErr != "" {
				if statesErrName(err) != tt.wantErr {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || mc != tt.mc || pct != tt.pct || cnt != tt.cnt {
				t.Fatalf("MapLimits = %d, %v, %d, %v", mc, pct, cnt, err)
			}
		})
	}
	for _, tt := range []struct {
		failed, total int
		pct           float64
		cnt           int
		want          bool
	}{
		{0, 10, -1, -1, false}, {1, 10, -1, -1, true}, {1, 10, 10, -1, false}, {2, 10, 10, -1, true},
		{3, 10, -1, 3, false}, {4, 10, -1, 3, true}, {2, 10, 50, 1, true}, {10, 10, 100, -1, false},
	} {
		if got := ToleranceExceeded(tt.failed, tt.total, tt.pct, tt.cnt); got != tt.want {
			t.Errorf("ToleranceExceeded(%d,%d,%v,%d) = %v", tt.failed, tt.total, tt.pct, tt.cnt, got)
		}
	}
}

// The "complex retry scenario" of the States Language specification.
func TestRetrySpecScenario(t *testing.T) {
	s := oneState(t, `{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:task:X","Next":"E",
	  "Retry":[{"ErrorEquals":["ErrorA","ErrorB"],"IntervalSeconds":1,"BackoffRate":2,"MaxAttempts":2},{"ErrorEquals":["ErrorC"],"IntervalSeconds":5}],
	  "Catch":[{"ErrorEquals":["States.ALL"],"Next":"E"}]}`)
	attempts := make([]int, len(s.Retriers))
	steps := []struct {
		err   string
		ok    bool
		delay time.Duration
	}{
		{"ErrorA", true, 1 * time.Second},
		{"ErrorB", true, 2 * time.Second},
		{"ErrorC", true, 5 * time.Second},
		{"ErrorB", false, 0},
	}
	for i, st := range steps {
		idx, delay, ok := s.Retry(st.err, attempts)
		if ok != st.ok || delay != st.delay {
			t.Fatalf("step %d (%s): ok=%v delay=%v, want ok=%v delay=%v", i, st.err, ok, delay, st.ok, st.delay)
		}
		if ok {
			attempts[idx]++
		}
	}
	if c, ok := s.Catch("ErrorB"); !ok || c.Next != "E" {
		t.Fatalf("Catch = %v, %v", c, ok)
	}
}

func TestRetryDelays(t *testing.T) {
	tests := []struct {
		retrier string
		want    []time.Duration // delays for attempts 0.. until retries stop
	}{
		{`{"ErrorEquals":["X"]}`, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}},
		{`{"ErrorEquals":["X"],"IntervalSeconds":3,"MaxAttempts":2,"BackoffRate":2.0,"MaxDelaySeconds":4}`, []time.Duration{3 * time.Second, 4 * time.Second}},
		{`{"ErrorEquals":["X"],"IntervalSeconds":2,"BackoffRate":1.5,"MaxAttempts":3}`, []time.Duration{2 * time.Second, 3 * time.Second, 4500 * time.Millisecond}},
		{`{"ErrorEquals":["X"],"MaxAttempts":0}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.retrier, func(t *testing.T) {
			s := oneState(t, `{"Type":"Task","Resource":"arn:aws:x","Retry":[`+tt.retrier+`],"End":true}`)
			attempts := []int{0}
			var got []time.Duration
			for {
				_, d, ok := s.Retry("X", attempts)
				if !ok {
					break
				}
				got = append(got, d)
				attempts[0]++
			}
			if len(got) != len(tt.want) {
				t.Fatalf("delays = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("delays = %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("full jitter stays within the backoff", func(t *testing.T) {
		old := Random
		defer func() { Random = old }()
		for _, r := range []uint64{0, 1 << 63, ^uint64(0)} {
			Random = func() uint64 { return r }
			d := RetryDelay(Retrier{IntervalSeconds: 4, BackoffRate: 2, JitterStrategy: "FULL"}, 1)
			if d < 0 || d > 8*time.Second {
				t.Errorf("jittered delay %v outside [0, 8s]", d)
			}
		}
		Random = func() uint64 { return 1 << 63 }
		if d := RetryDelay(Retrier{IntervalSeconds: 4, BackoffRate: 2, JitterStrategy: "FULL"}, 1); d != 4*time.Second {
			t.Errorf("half-way jitter = %v, want 4s", d)
		}
	})
}

func TestErrorMatching(t *testing.T) {
	tests := []struct {
		equals []string
		err    string
		want   bool
	}{
		{[]string{"States.ALL"}, "Lambda.ServiceException", true},
		{[]string{"States.ALL"}, "States.Timeout", true},
		{[]string{"States.ALL"}, "States.Runtime", false},
		{[]string{"States.ALL"}, "States.DataLimitExceeded", false},
		{[]string{"States.TaskFailed"}, "MyError", true},
		{[]string{"States.TaskFailed"}, "States.Timeout", false},
		{[]string{"States.TaskFailed"}, "States.HeartbeatTimeout", true},
		{[]string{"States.Timeout"}, "States.Timeout", true},
		{[]string{"ErrorA", "ErrorB"}, "ErrorB", true},
		{[]string{"ErrorA"}, "errora", false},
	}
	for _, tt := range tests {
		if got := ErrorMatches(tt.equals, tt.err); got != tt.want {
			t.Errorf("ErrorMatches(%v, %s) = %v, want %v", tt.equals, tt.err, got, tt.want)
		}
	}
	s := oneState(t, `{"Type":"Task","Resource":"arn:aws:x","Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}`)
	if _, _, ok := s.Retry(ErrRuntime, nil); ok {
		t.Error("States.Runtime must never be retried")
	}
}

func TestCatcherOutput(t *testing.T) {
	errOut := ErrorOutput("java.lang.Exception", "boom")
	raw := mustDecode(t, `{"a":1}`)
	tests := []struct {
		catcher, want string
	}{
		{`{"ErrorEquals":["States.ALL"],"Next":"E"}`, `{"Error":"java.lang.Exception","Cause":"boom"}`},
		{`{"ErrorEquals":["States.ALL"],"ResultPath":"$.error-info","Next":"E"}`, `{"a":1,"error-info":{"Error":"java.lang.Exception","Cause":"boom"}}`},
		{`{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"E"}`, `{"a":1}`},
	}
	for _, tt := range tests {
		s := oneState(t, `{"Type":"Task","Resource":"arn:aws:x","Catch":[`+tt.catcher+`],"End":true}`)
		c, ok := s.Catch("java.lang.Exception")
		if !ok {
			t.Fatalf("%s did not catch", tt.catcher)
		}
		out, err := c.Output(raw, errOut)
		if err != nil || jsonOf(t, out) != canon(t, tt.want) {
			t.Errorf("%s: output = %s, %v; want %s", tt.catcher, jsonOf(t, out), err, tt.want)
		}
	}
	s := oneState(t, `{"Type":"Task","Resource":"arn:aws:x","Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"E"}],"End":true}`)
	c, _ := s.Catch("X")
	if _, err := c.Output("a string", errOut); statesErrName(err) != ErrResultPathMatchFailure {
		t.Errorf("err = %v, want %s", err, ErrResultPathMatchFailure)
	}
	if _, ok := s.Catch(ErrRuntime); ok {
		t.Error("States.ALL caught States.Runtime")
	}
}

func TestPayloadSize(t *testing.T) {
	// {"s":"…"} is 8 bytes plus the string.
	if err := CheckPayloadSize(map[string]any{"s": strings.Repeat("x", MaxPayloadSize-8)}); err != nil {
		t.Errorf("exactly %d bytes rejected: %v", MaxPayloadSize, err)
	}
	err := CheckPayloadSize(map[string]any{"s": strings.Repeat("x", MaxPayloadSize-7)})
	if statesErrName(err) != ErrDataLimitExceeded {
		t.Errorf("err = %v, want %s", err, ErrDataLimitExceeded)
	}
	// Multi-byte characters count in UTF-8 bytes.
	err = CheckPayloadSize(strings.Repeat("é", MaxPayloadSize/2))
	if statesErrName(err) != ErrDataLimitExceeded {
		t.Errorf("err = %v, want %s", err, ErrDataLimitExceeded)
	}
}

func TestDecodeKeepsNumbersExact(t *testing.T) {
	v := mustDecode(t, `{"big":12345678901234567890,"f":1.10}`)
	if got := jsonOf(t, v); got != `{"big":12345678901234567890,"f":1.10}` {
		t.Errorf("round trip = %s", got)
	}
	if _, err := Decode([]byte(`{} {}`)); err == nil {
		t.Error("trailing data accepted")
	}
	if got := jsonOf(t, map[string]any{"h": "<&>"}); got != `{"h":"<&>"}` {
		t.Errorf("HTML escaped: %s", got)
	}
}
