package conformance

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const casesDir = "../../conformance/cases"

func TestLoadCasesReadsTheSuite(t *testing.T) {
	cases, err := LoadCases(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Fatalf("the suite has %d cases, want at least 60", len(cases))
	}
	lambda := 0
	for _, c := range cases {
		if c.NeedsLambda() {
			lambda++
		}
		if len(c.Name) > 80 {
			t.Errorf("case %s: name longer than 80 characters cannot name a state machine", c.Name)
		}
	}
	if lambda == 0 || lambda == len(cases) {
		t.Errorf("%d of %d cases need Lambda; want some, not all", lambda, len(cases))
	}
	for _, file := range []string{"moto_known_bugs.json", "engine_known_gaps.json"} {
		notes, err := LoadNotes(filepath.Join(casesDir, "..", file))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, c := range cases {
			names[c.Name] = true
		}
		for name, reason := range notes {
			if !names[name] {
				t.Errorf("%s lists %s, which is not a case", file, name)
			}
			if strings.TrimSpace(reason) == "" {
				t.Errorf("%s: %s has no reason", file, name)
			}
		}
	}
}

func TestParseExpectationNamesTheBadField(t *testing.T) {
	tests := []struct {
		name, json, field string
	}{
		{"unknown field", `{"status":"SUCCEEDED","states":[],"source":"s","outptu":1}`, `"outptu"`},
		{"bad status", `{"status":"DONE","states":[],"source":"s"}`, `"status"`},
		{"no states", `{"status":"FAILED","source":"s"}`, `"states"`},
		{"no source", `{"status":"FAILED","states":[]}`, `"source"`},
		{"error not a string", `{"status":"FAILED","states":[],"source":"s","error":3}`, `"error"`},
		{"bad order", `{"status":"FAILED","states":[],"source":"s","statesOrder":"sorted"}`, `"statesOrder"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseExpectation([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

func str(s string) *string { return &s }

func TestExpectationCheck(t *testing.T) {
	exp := func(js string) Expectation {
		t.Helper()
		e, err := parseExpectation([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ok := Result{Status: "SUCCEEDED", Output: map[string]any{"n": 2.0}, States: []string{"A", "B"}}
	failed := Result{Status: "FAILED", Error: str("E"), Cause: str("c"), States: []string{"A"}}
	tests := []struct {
		name  string
		exp   string
		got   Result
		diffs []string // prefixes of the expected difference lines
	}{
		{"same", `{"status":"SUCCEEDED","output":{"n":2},"error":null,"states":["A","B"],"source":"s"}`, ok, nil},
		{"2 and 2.0 are JSON-equal", `{"status":"SUCCEEDED","output":{"n":2.0},"states":["A","B"],"source":"s"}`, ok, nil},
		{"output differs", `{"status":"SUCCEEDED","output":{"n":3},"states":["A","B"],"source":"s"}`, ok, []string{"output:"}},
		{"absent output is not checked", `{"status":"FAILED","error":"E","states":["A"],"source":"s"}`, failed, nil},
		{"null error wanted", `{"status":"FAILED","error":null,"states":["A"],"source":"s"}`, failed, []string{"error:"}},
		{"cause checked when present", `{"status":"FAILED","error":"E","cause":"other","states":["A"],"source":"s"}`, failed, []string{"cause:"}},
		{"status and states", `{"status":"SUCCEEDED","states":["A","B"],"source":"s"}`, failed, []string{"status:", "states:"}},
		{"order matters", `{"status":"SUCCEEDED","states":["B","A"],"source":"s"}`, ok, []string{"states:"}},
		{"any order", `{"status":"SUCCEEDED","states":["B","A"],"statesOrder":"any","source":"s"}`, ok, nil},
		{"any order still counts", `{"status":"SUCCEEDED","states":["A","A","B"],"statesOrder":"any","source":"s"}`, ok, []string{"states:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs := exp(tt.exp).Check(tt.got)
			if len(diffs) != len(tt.diffs) {
				t.Fatalf("differences %q, want %d starting %q", diffs, len(tt.diffs), tt.diffs)
			}
			for i, d := range diffs {
				if !strings.HasPrefix(d, tt.diffs[i]) {
					t.Errorf("difference %q, want it to start %q", d, tt.diffs[i])
				}
			}
		})
	}
}

func TestDiffer(t *testing.T) {
	all := Expectation{Output: Field{Set: true}, Error: Field{Set: true}}
	anyOrder := all
	anyOrder.AnyOrder = true
	base := Result{Status: "FAILED", Error: str("E"), Cause: str("ours"), States: []string{"P", "A", "B"}}
	tests := []struct {
		name   string
		theirs Result
		exp    Expectation
		want   int
	}{
		{"causes are not compared", Result{Status: "FAILED", Error: str("E"), Cause: str("theirs"), States: []string{"P", "A", "B"}}, all, 0},
		{"error differs", Result{Status: "FAILED", Error: str("States.Runtime"), States: []string{"P", "A", "B"}}, all, 1},
		{"null error", Result{Status: "FAILED", States: []string{"P", "A", "B"}}, all, 1},
		{"error the case leaves open", Result{Status: "FAILED", Error: str("States.Runtime"), States: []string{"P", "A", "B"}}, Expectation{}, 0},
		{"interleaving allowed", Result{Status: "FAILED", Error: str("E"), States: []string{"P", "B", "A"}}, anyOrder, 0},
		{"interleaving not allowed", Result{Status: "FAILED", Error: str("E"), States: []string{"P", "B", "A"}}, all, 1},
		{"everything", Result{Status: "SUCCEEDED", Output: []any{}, States: []string{}}, all, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := Differ(base, tt.theirs, tt.exp); len(d) != tt.want {
				t.Fatalf("differences %q, want %d", d, tt.want)
			}
		})
	}
}

func TestReadMotoResults(t *testing.T) {
	in := `{"name": "a", "status": "SUCCEEDED", "output": "R1", "error": null, "cause": null, "states": ["C", "R1"]}

{"name": "b", "skipped": "needs a Lambda function"}
`
	got, err := ReadMotoResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got["a"].Output != "R1" || got["a"].Error != nil || len(got["a"].States) != 2 {
		t.Errorf("a = %+v", got["a"])
	}
	if got["b"].Skipped == "" {
		t.Errorf("b = %+v, want skipped", got["b"])
	}
	if _, err := ReadMotoResults(strings.NewReader(`{"status":"FAILED"}`)); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a line without name: error %v, want one naming line 1", err)
	}
}

func TestFunctionSpecs(t *testing.T) {
	t.Run("fails then echoes", func(t *testing.T) {
		f := NewFunction(FunctionSpec{FailTimes: 2, ErrorType: "HandledError", ErrorMessage: "error"})
		for i := 0; i < 2; i++ {
			var he *HandledError
			if _, err := f.Invoke(context.Background(), []byte(`{}`)); !errors.As(err, &he) || he.Message != "error" {
				t.Fatalf("call %d: error %v, want HandledError", i+1, err)
			}
		}
		out, err := f.Invoke(context.Background(), []byte(`{"a":1}`))
		if err != nil || string(out) != `{"a":1}` {
			t.Fatalf("third call: %s, %v", out, err)
		}
	})
	t.Run("sum", func(t *testing.T) {
		out, err := NewFunction(FunctionSpec{Sum: []string{"val1", "val2"}}).Invoke(context.Background(), []byte(`{"val1":3,"val2":4}`))
		if err != nil || string(out) != "7" {
			t.Fatalf("sum: %s, %v", out, err)
		}
	})
	t.Run("bad specs name the field", func(t *testing.T) {
		for _, js := range []string{`{"F":{"failTimes":1,"errorType":"Other"}}`, `{"F":{"then":"sum"}}`, `{"F":{"failTimes":-2,"errorType":"HandledError"}}`, `{"F":{"retrun":1}}`} {
			if _, err := parseFunctions([]byte(js)); err == nil {
				t.Errorf("%s: accepted", js)
			}
		}
	})
}

// TestMotoKnownBugs runs the suite on moto (TANGKAL_CONFORMANCE_MOTO=1)
// and checks moto against the expected values: every disagreement must be
// listed in moto_known_bugs.json, and every listed case must still
// disagree (else the entry is stale).
func TestMotoKnownBugs(t *testing.T) {
	moto := motoResults(t)
	cases, err := LoadCases(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	bugs, err := LoadNotes(filepath.Join(casesDir, "..", "moto_known_bugs.json"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, c := range cases {
		m, ok := moto[c.Name]
		switch {
		case !ok:
			t.Errorf("%s: moto_runner.py printed no result", c.Name)
			continue
		case m.Skipped != "":
			if !c.NeedsLambda() {
				t.Errorf("%s: moto skipped a case that needs no Lambda: %s", c.Name, m.Skipped)
			}
			continue
		}
		ran++
		diffs := c.Expected.Check(m.Result)
		reason, known := bugs[c.Name]
		switch {
		case len(diffs) > 0 && !known:
			t.Errorf("%s: moto disagrees with the expected values (%s); fix the case or list the moto bug in moto_known_bugs.json:%s", c.Name, c.Expected.Source, Summary(diffs))
		case len(diffs) > 0:
			t.Logf("%s: known moto bug (%s):%s", c.Name, reason, Summary(diffs))
		case known:
			t.Errorf("%s: moto now agrees with the expected values; remove it from moto_known_bugs.json", c.Name)
		}
	}
	t.Logf("moto ran %d cases; %d known moto bugs", ran, len(bugs))
}

var motoCache struct {
	results map[string]MotoResult
	err     error
	done    bool
}

// motoResults runs moto_runner.py once per test binary, or skips the test
// unless TANGKAL_CONFORMANCE_MOTO=1.
func motoResults(t *testing.T) map[string]MotoResult {
	t.Helper()
	if os.Getenv("TANGKAL_CONFORMANCE_MOTO") != "1" {
		t.Skip("set TANGKAL_CONFORMANCE_MOTO=1 to compare with moto (needs python3 with moto)")
	}
	if !motoCache.done {
		python := os.Getenv("PYTHON")
		if python == "" {
			python = "python3"
		}
		motoCache.results, motoCache.err = RunMoto(context.Background(), python, filepath.Join(casesDir, "..", "moto_runner.py"), casesDir)
		motoCache.done = true
	}
	if motoCache.err != nil {
		t.Fatal(motoCache.err)
	}
	return motoCache.results
}
