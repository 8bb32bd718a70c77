package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// FunctionSpec describes a stand-in Lambda function of a case
// (functions.json maps function names to specs). After failing FailTimes
// times (every time when -1) with ErrorType, it returns the sum of the
// input fields listed in Sum, or else its input unchanged.
type FunctionSpec struct {
	Echo         bool     `json:"echo"`
	Sum          []string `json:"sum"`
	FailTimes    int      `json:"failTimes"`
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	Then         string   `json:"then"`
}

// HandledError is the error the stand-in functions return; the Lambda Go
// runtime names it "HandledError" (its type name), as the error handling
// page's examples do.
type HandledError struct{ Message string }

func (e *HandledError) Error() string { return e.Message }

func parseFunctions(b []byte) (map[string]FunctionSpec, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var fns map[string]FunctionSpec
	if err := dec.Decode(&fns); err != nil {
		return nil, err
	}
	for name, f := range fns {
		if f.FailTimes != 0 && f.ErrorType != "HandledError" {
			return nil, fmt.Errorf("function %s: field \"errorType\": only \"HandledError\" is available, not %q", name, f.ErrorType)
		}
		if f.Then != "" && f.Then != "echo" {
			return nil, fmt.Errorf("function %s: field \"then\": only \"echo\" is available, not %q", name, f.Then)
		}
		if f.FailTimes < -1 {
			return nil, fmt.Errorf("function %s: field \"failTimes\": must be -1 (always) or a count, not %d", name, f.FailTimes)
		}
	}
	return fns, nil
}

// Function is a running stand-in function; it implements the Lambda Go
// runtime's Handler interface (Invoke).
type Function struct {
	spec  FunctionSpec
	mu    sync.Mutex
	calls int
}

// NewFunction returns a fresh function (its failure count starts at zero).
func NewFunction(spec FunctionSpec) *Function { return &Function{spec: spec} }

// Invoke runs the function on a JSON payload.
func (f *Function) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if f.spec.FailTimes == -1 || n <= f.spec.FailTimes {
		return nil, &HandledError{Message: f.spec.ErrorMessage}
	}
	if len(f.spec.Sum) == 0 {
		return payload, nil
	}
	var in map[string]float64
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, fmt.Errorf("sum: input must be an object of numbers: %w", err)
	}
	total := 0.0
	for _, k := range f.spec.Sum {
		v, ok := in[k]
		if !ok {
			return nil, errors.New("sum: input lacks field " + k)
		}
		total += v
	}
	return json.Marshal(total)
}
