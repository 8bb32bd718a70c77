// Package conformance holds the harness of the Step Functions conformance
// suite: it loads the cases under conformance/cases (a definition, an
// input and the expected outcome taken from the AWS documentation or from
// an independent implementation), runs them on any Step Functions API
// endpoint through the AWS SDK, and compares outcomes with the expectation
// and with moto's interpreter.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Statuses an execution can end with.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Case is one conformance case, read from its directory.
type Case struct {
	Name       string
	Dir        string
	Definition string // the state machine definition (ASL JSON)
	Input      string // the execution input (JSON)
	Expected   Expectation
	// Functions are the Lambda functions the definition calls, by name;
	// empty when the case needs none (only such cases run on moto).
	Functions map[string]FunctionSpec
}

// NeedsLambda reports whether the case calls Lambda functions.
func (c Case) NeedsLambda() bool { return len(c.Functions) > 0 }

// Field is an expected value that may be absent from expected.json (then it
// is not checked). A present null is Set with a nil Value.
type Field struct {
	Set   bool
	Value any
}

// Expectation is a case's expected.json.
type Expectation struct {
	Status string
	Output Field // JSON value
	Error  Field // string or null
	Cause  Field // string or null
	// States lists the names of the states entered, in history order.
	States []string
	// AnyOrder is set when the states of concurrent branches or iterations
	// may interleave ("statesOrder": "any"); States is then compared as a
	// multiset.
	AnyOrder bool
	Source   string
	Note     string
}

// Result is the outcome of one execution.
type Result struct {
	Status string   `json:"status"`
	Output any      `json:"output"`
	Error  *string  `json:"error"`
	Cause  *string  `json:"cause"`
	States []string `json:"states"`
}

// LoadCases reads every case directory under dir, sorted by name.
func LoadCases(dir string) ([]Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	var cases []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := LoadCase(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("read cases: no case directories in %s", dir)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// LoadCase reads one case directory.
func LoadCase(dir string) (Case, error) {
	c := Case{Name: filepath.Base(dir), Dir: dir}
	def, err := os.ReadFile(filepath.Join(dir, "definition.asl.json"))
	if err != nil {
		return c, fmt.Errorf("case %s: %w", c.Name, err)
	}
	if !json.Valid(def) {
		return c, fmt.Errorf("case %s: definition.asl.json is not valid JSON", c.Name)
	}
	in, err := os.ReadFile(filepath.Join(dir, "input.json"))
	if err != nil {
		return c, fmt.Errorf("case %s: %w", c.Name, err)
	}
	if !json.Valid(in) {
		return c, fmt.Errorf("case %s: input.json is not valid JSON", c.Name)
	}
	c.Definition, c.Input = string(def), string(bytes.TrimSpace(in))
	exp, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		return c, fmt.Errorf("case %s: %w", c.Name, err)
	}
	if c.Expected, err = parseExpectation(exp); err != nil {
		return c, fmt.Errorf("case %s: expected.json: %w", c.Name, err)
	}
	fn, err := os.ReadFile(filepath.Join(dir, "functions.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("case %s: %w", c.Name, err)
	default:
		if c.Functions, err = parseFunctions(fn); err != nil {
			return c, fmt.Errorf("case %s: functions.json: %w", c.Name, err)
		}
	}
	return c, nil
}

func parseExpectation(b []byte) (Expectation, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Expectation{}, err
	}
	var e Expectation
	for k, v := range raw {
		var err error
		switch k {
		case "status":
			err = json.Unmarshal(v, &e.Status)
		case "output":
			e.Output.Set = true
			e.Output.Value, err = decodeJSON(v)
		case "error", "cause":
			f := &e.Error
			if k == "cause" {
				f = &e.Cause
			}
			var s *string
			if err = json.Unmarshal(v, &s); err == nil {
				f.Set = true
				if s != nil {
					f.Value = *s
				}
			}
		case "states":
			err = json.Unmarshal(v, &e.States)
		case "statesOrder":
			var order string
			if err = json.Unmarshal(v, &order); err == nil && order != "any" {
				err = fmt.Errorf("must be \"any\" when present, not %q", order)
			}
			e.AnyOrder = true
		case "source":
			err = json.Unmarshal(v, &e.Source)
		case "note":
			err = json.Unmarshal(v, &e.Note)
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return e, fmt.Errorf("field %q: %w", k, err)
		}
	}
	switch e.Status {
	case StatusSucceeded, StatusFailed, StatusTimedOut, StatusAborted:
	default:
		return e, fmt.Errorf("field \"status\": %q is not an execution status", e.Status)
	}
	if e.States == nil {
		return e, errors.New(`field "states": required`)
	}
	if e.Source == "" {
		return e, errors.New(`field "source": required (where the expected values come from)`)
	}
	return e, nil
}

// decodeJSON decodes one JSON value (numbers as float64, so that 2 and
// 2.0 compare equal).
func decodeJSON(b []byte) (any, error) {
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

// LoadNotes reads a JSON object of case name → reason (the known moto bugs
// and the known engine gaps). A missing file is an empty list.
func LoadNotes(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	notes := map[string]string{}
	if err := json.Unmarshal(b, &notes); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return notes, nil
}
