package conformance

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Check compares a result with the expectation and returns one line per
// difference (none when the result conforms).
func (e Expectation) Check(r Result) []string {
	var diffs []string
	if e.Status != r.Status {
		diffs = append(diffs, fmt.Sprintf("status: want %s, got %s", e.Status, r.Status))
	}
	if e.Output.Set && !jsonEqual(e.Output.Value, r.Output) {
		diffs = append(diffs, fmt.Sprintf("output: want %s, got %s", show(e.Output.Value), show(r.Output)))
	}
	if e.Error.Set && !stringEqual(e.Error.Value, r.Error) {
		diffs = append(diffs, fmt.Sprintf("error: want %s, got %s", show(e.Error.Value), showPtr(r.Error)))
	}
	if e.Cause.Set && !stringEqual(e.Cause.Value, r.Cause) {
		diffs = append(diffs, fmt.Sprintf("cause: want %s, got %s", show(e.Cause.Value), showPtr(r.Cause)))
	}
	if !sameStates(e.States, r.States, e.AnyOrder) {
		diffs = append(diffs, fmt.Sprintf("states: want %s, got %s", show(e.States), show(r.States)))
	}
	return diffs
}

// Differ compares two implementations' results for one case: final status,
// output (JSON-equal), error and the states entered. Output and error are
// left out where the case's expectation leaves them out (the documentation
// does not settle them); causes are never compared, their wording being
// each implementation's own.
func Differ(ours, theirs Result, exp Expectation) []string {
	var diffs []string
	if ours.Status != theirs.Status {
		diffs = append(diffs, fmt.Sprintf("status: ours %s, moto %s", ours.Status, theirs.Status))
	}
	if exp.Output.Set && !jsonEqual(ours.Output, theirs.Output) {
		diffs = append(diffs, fmt.Sprintf("output: ours %s, moto %s", show(ours.Output), show(theirs.Output)))
	}
	if exp.Error.Set && !ptrEqual(ours.Error, theirs.Error) {
		diffs = append(diffs, fmt.Sprintf("error: ours %s, moto %s", showPtr(ours.Error), showPtr(theirs.Error)))
	}
	if !sameStates(ours.States, theirs.States, exp.AnyOrder) {
		diffs = append(diffs, fmt.Sprintf("states: ours %s, moto %s", show(ours.States), show(theirs.States)))
	}
	return diffs
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(normalize(a), normalize(b)) }

// normalize turns any JSON-like value (json.Number, ints, typed slices)
// into what encoding/json decodes into any.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

func stringEqual(want any, got *string) bool {
	if want == nil {
		return got == nil
	}
	return got != nil && *got == want.(string)
}

func ptrEqual(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameStates(a, b []string, anyOrder bool) bool {
	if !anyOrder {
		return slices.Equal(a, b)
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

func showPtr(s *string) string {
	if s == nil {
		return "null"
	}
	return show(*s)
}

// Summary joins difference lines for a report.
func Summary(diffs []string) string { return "\n\t" + strings.Join(diffs, "\n\t") }
