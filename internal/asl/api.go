// Package asl is the deterministic core of tangkal's local Step Functions
// engine: it parses and validates Amazon States Language definitions
// (JSONPath query language, Standard workflows) and implements every piece of
// data processing a state performs, exactly in the order AWS performs it.
// It starts no goroutines, does no I/O and reads no clock: the runtime
// (package sfnlocal) drives executions and calls into this package.
//
// # Values
//
// Every JSON value handled here is the Go value that encoding/json produces
// when decoding with UseNumber:
//
//	object  map[string]any
//	array   []any
//	string  string
//	number  json.Number   (never float64; exact integers survive round trips)
//	boolean bool
//	null    nil
//
// Use Decode to obtain such values. Functions accept float64 and int values
// too (they are normalised where numbers are compared or computed), but they
// only ever return json.Number. Inputs are never mutated: results that
// differ from an input are fresh copies where they are modified.
//
// # Context object
//
// The ctx arguments are the "$$" context object as a JSON value, built by
// the runtime:
//
//	{"Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount"},
//	 "State": {"EnteredTime", "Name", "RetryCount"},
//	 "StateMachine": {"Id", "Name"},
//	 "Task": {"Token"},
//	 "Map": {"Item": {"Index", "Value"}}}
//
// # Data flow of one state
//
// For Task, Parallel and Map states the runtime calls, in order:
//
//	eff, err := s.Input(raw, ctx)            // InputPath, Parameters (not for Map)
//	// Map: items, err := s.Items(eff); per item: s.ItemInput(item, i, eff, ctx)
//	// ... run the task / branches / iterations, producing result ...
//	res, err := s.SelectResult(result, ctx)  // ResultSelector
//	out, err := s.Output(raw, res, ctx)      // ResultPath, OutputPath
//
// A Pass state uses s.PassResult(eff) as its result; a Choice state
// s.ChooseNext(eff) and then Output(raw, eff, ctx) (only OutputPath applies,
// since Choice has no ResultPath); Wait and Succeed likewise pass eff to Output.
// Errors returned by these functions are *StatesError values whose Name is
// the ASL error name (States.Runtime, States.ResultPathMatchFailure, ...).
// A failing task's error is matched with s.Retry and then s.Catch, and a
// matching Catcher's Output builds the input of its Next state.
package asl

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Error names defined by the Amazon States Language.
const (
	ErrALL                      = "States.ALL"
	ErrHeartbeatTimeout         = "States.HeartbeatTimeout"
	ErrTimeout                  = "States.Timeout"
	ErrTaskFailed               = "States.TaskFailed"
	ErrPermissions              = "States.Permissions"
	ErrResultPathMatchFailure   = "States.ResultPathMatchFailure"
	ErrParameterPathFailure     = "States.ParameterPathFailure"
	ErrBranchFailed             = "States.BranchFailed"
	ErrNoChoiceMatched          = "States.NoChoiceMatched"
	ErrIntrinsicFailure         = "States.IntrinsicFailure"
	ErrExceedToleratedFailure   = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed         = "States.ItemReaderFailed"
	ErrResultWriterFailed       = "States.ResultWriterFailed"
	ErrDataLimitExceeded        = "States.DataLimitExceeded"
	ErrRuntime                  = "States.Runtime"
	ErrQueryEvaluationError     = "States.QueryEvaluationError"
	ErrExecutionLimitExceeded   = "States.ExecutionLimitExceeded"
	ErrStatesBranchFailedPrefix = "States." // every name reserved by ASL starts with this
)

// State types.
const (
	TypeTask     = "Task"
	TypePass     = "Pass"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// MaxPayloadSize is the largest state input or output, in bytes of UTF-8 JSON.
const MaxPayloadSize = 262144

// Definition is a parsed and validated state machine, or one scope of it
// (a Parallel branch or a Map item processor).
type Definition struct {
	Comment        string
	StartAt        string
	Version        string
	TimeoutSeconds int // 0: no execution timeout
	QueryLanguage  string
	States         map[string]*State
	// ProcessorConfig is set on a Map state's ItemProcessor only.
	ProcessorConfig *ProcessorConfig
}

// ProcessorConfig is a Map state's ItemProcessor.ProcessorConfig.
type ProcessorConfig struct {
	Mode          string // always "INLINE" after Parse
	ExecutionType string
}

// State is one state of a Definition. Fields that a state's type does not
// allow are always zero after Parse.
//
// Path fields (InputPath, OutputPath, ResultPath, ItemsPath) hold "$" when
// the definition omits them and "" when the definition sets them to null.
type State struct {
	Name    string
	Type    string
	Comment string
	Next    string
	End     bool

	InputPath      string
	OutputPath     string
	ResultPath     string
	Parameters     any // payload template as written, nil if absent
	ResultSelector any // payload template as written, nil if absent

	// Pass
	Result    any
	HasResult bool

	// Task
	Resource             string
	TimeoutSeconds       *int
	TimeoutSecondsPath   string
	HeartbeatSeconds     *int
	HeartbeatSecondsPath string
	Credentials          any

	// Choice
	Choices []*ChoiceRule
	Default string

	// Wait
	Seconds       *int64
	Timestamp     string
	SecondsPath   string
	TimestampPath string

	// Fail
	Error     string
	Cause     string
	ErrorPath string
	CausePath string

	// Parallel
	Branches []*Definition

	// Map (inline)
	ItemProcessor                  *Definition // also filled from the legacy Iterator field
	ItemsPath                      string
	ItemSelector                   any // payload template; the legacy Parameters of a Map is stored here too
	MaxConcurrency                 int // 0: no limit
	MaxConcurrencyPath             string
	ToleratedFailurePercentage     *float64
	ToleratedFailurePercentagePath string
	ToleratedFailureCount          *int
	ToleratedFailureCountPath      string
	Label                          string

	// Retriers and Catchers hold the Retry and Catch fields (named apart
	// from the Retry and Catch methods).
	Retriers []Retrier
	Catchers []Catcher

	compiled *compiledState
}

// Retrier is one element of a state's Retry field, with defaults applied.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds int     // default 1
	MaxAttempts     int     // default 3; 0 means never retry
	BackoffRate     float64 // default 2.0
	MaxDelaySeconds int     // 0: no cap
	JitterStrategy  string  // "FULL" or "NONE" (default)
}

// Catcher is one element of a state's Catch field.
type Catcher struct {
	ErrorEquals []string
	Next        string
	// ResultPath is "$" when omitted and "" when null (the error output is
	// discarded and the state input passes through).
	ResultPath string

	resultPath *jsonPath
}

// ChoiceRule is a Choices element (with Next) or a nested rule inside
// And, Or or Not (without Next).
type ChoiceRule struct {
	Next string // top-level rules only

	And []*ChoiceRule
	Or  []*ChoiceRule
	Not *ChoiceRule

	Variable string // reference path of the value tested
	Operator string // e.g. "StringEquals", "NumericLessThanPath", "IsPresent"
	// Value is the operand as written: a literal, or the reference path for
	// operators ending in "Path".
	Value any

	valuePath *jsonPath
	variable  *jsonPath
	pattern   []patternPart // StringMatches
}

// ValidationError is one problem found by Parse.
type ValidationError struct {
	State   string // state name ("" for top-level fields)
	Field   string // JSON field name, e.g. "Next", "Retry[0].ErrorEquals"
	Message string
}

func (e *ValidationError) Error() string {
	switch {
	case e.State != "" && e.Field != "":
		return fmt.Sprintf("state %q: field %q: %s", e.State, e.Field, e.Message)
	case e.State != "":
		return fmt.Sprintf("state %q: %s", e.State, e.Message)
	case e.Field != "":
		return fmt.Sprintf("field %q: %s", e.Field, e.Message)
	}
	return e.Message
}

// StatesError is a runtime failure with an ASL error name, as it would
// appear in an execution's history (error and cause).
type StatesError struct {
	Name  string
	Cause string
}

func (e *StatesError) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Random is the source of randomness for retry jitter (JitterStrategy FULL),
// States.MathRandom without a seed and States.UUID. Tests may replace it
// with a deterministic source; it must be safe for concurrent use.
var Random func() uint64 = rand.Uint64

// Decode decodes one JSON value with numbers as json.Number. Trailing data
// after the value is an error.
func Decode(b []byte) (any, error) { return decode(b) }

// Parse parses and validates a state machine definition, rejecting what
// CreateStateMachine would reject. The error lists every problem found,
// each a *ValidationError, joined with errors.Join.
func Parse(def []byte) (*Definition, error) { return parse(def) }

// Input returns the state's effective input: InputPath applied to raw, then
// Parameters (Task, Pass, Parallel). For a Map state only InputPath applies;
// its Parameters/ItemSelector is applied per item by ItemInput.
func (s *State) Input(raw, ctx any) (any, error) { return s.input(raw, ctx) }

// Items returns the items a Map state iterates over: ItemsPath applied to the
// effective input. It must select an array (else States.Runtime).
func (s *State) Items(effectiveInput any) ([]any, error) { return s.items(effectiveInput) }

// ItemInput returns the input of one Map iteration: ItemSelector (or the
// legacy Parameters) evaluated with "$" = the Map's effective input and
// $$.Map.Item.Index / $$.Map.Item.Value set; without one it is the item.
func (s *State) ItemInput(item any, index int, effectiveInput, ctx any) (any, error) {
	return s.itemInput(item, index, effectiveInput, ctx)
}

// SelectResult applies ResultSelector (Task, Parallel, Map) to a result.
func (s *State) SelectResult(result, ctx any) (any, error) { return s.selectResult(result, ctx) }

// Output applies ResultPath (placing result into raw, the state's raw input)
// and then OutputPath. Types without ResultPath (Choice, Wait, Succeed) pass
// their effective input as result, which then becomes the output as is.
func (s *State) Output(raw, result, ctx any) (any, error) { return s.output(raw, result, ctx) }

// PassResult returns a Pass state's result: its Result field if set, else
// the effective input.
func (s *State) PassResult(effective any) any {
	if s.HasResult {
		return s.Result
	}
	return effective
}

// ChooseNext evaluates a Choice state's rules in order against its effective
// input and returns the Next of the first match, else Default, else a
// States.NoChoiceMatched error.
func (s *State) ChooseNext(input any) (string, error) { return s.chooseNext(input) }

// WaitUntil returns when a Wait state entered at now ends (Seconds,
// Timestamp, SecondsPath or TimestampPath against the effective input).
func (s *State) WaitUntil(input any, now time.Time) (time.Time, error) {
	return s.waitUntil(input, now)
}

// FailInfo returns a Fail state's error name and cause (Error/ErrorPath,
// Cause/CausePath evaluated against the effective input).
func (s *State) FailInfo(input any) (errName, cause string, err error) { return s.failInfo(input) }

// TaskTimeouts returns a Task state's timeout and heartbeat timeout
// (TimeoutSeconds(Path), HeartbeatSeconds(Path) against the effective input);
// 0 means none. A Task without TimeoutSeconds has no timeout.
func (s *State) TaskTimeouts(input any) (timeout, heartbeat time.Duration, err error) {
	return s.taskTimeouts(input)
}

// MapLimits returns a Map state's MaxConcurrency (0 = unlimited) and its
// tolerated failure percentage and count (their Path forms evaluated
// against the effective input). toleratedPct and toleratedCount are -1 when
// not set; see ToleranceExceeded.
func (s *State) MapLimits(input any) (maxConcurrency int, toleratedPct float64, toleratedCount int, err error) {
	return s.mapLimits(input)
}

// Retry decides whether a failed attempt with error errName is retried.
// attempts[i] is the number of retries already made by retrier i (a slice
// shorter than s.Retriers counts as zeros). On ok, the runtime waits delay and
// increments attempts[index].
func (s *State) Retry(errName string, attempts []int) (index int, delay time.Duration, ok bool) {
	return s.retry(errName, attempts)
}

// Catch returns the first catcher whose ErrorEquals matches errName.
func (s *State) Catch(errName string) (*Catcher, bool) { return s.catch(errName) }

// Output builds the input of the catcher's Next state: ResultPath applied to
// raw (the failed state's raw input) with errorOutput ({"Error","Cause"}).
func (c *Catcher) Output(raw, errorOutput any) (any, error) { return c.output(raw, errorOutput) }

// ErrorOutput returns the error output object {"Error": name, "Cause": cause}.
func ErrorOutput(name, cause string) map[string]any {
	return map[string]any{"Error": name, "Cause": cause}
}

// EvalPath evaluates a JSONPath expression (the subset Step Functions
// supports: $, .name, ['name'], [n], [-n], [a:b:c], [*], .*, .., [a,b],
// [?(@.x op v)] filters, .length()) against v. A definite path yields the
// single value; an indefinite one yields an array of matches. A path that
// selects nothing is a States.Runtime error for a definite path.
func EvalPath(path string, v any) (any, error) { return evalPath(path, v) }

// EvalIntrinsic evaluates an intrinsic function call such as
// States.Format('{}', $.x) with input as "$" and ctx as "$$".
func EvalIntrinsic(expr string, input, ctx any) (any, error) { return evalIntrinsic(expr, input, ctx) }

// CheckPayloadSize returns a States.DataLimitExceeded error if v, encoded
// as JSON, is larger than MaxPayloadSize bytes.
func CheckPayloadSize(v any) error { return checkPayloadSize(v) }

// Marshal encodes a value as compact JSON the way Step Functions does (no
// HTML escaping).
func Marshal(v any) ([]byte, error) { return marshal(v) }

var _ = json.Number("")
