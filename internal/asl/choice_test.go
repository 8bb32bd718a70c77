package asl

import (
	"fmt"
	"testing"
)

func choiceState(t *testing.T, rule string) *State {
	t.Helper()
	d := mustParse(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[`+rule+`],"Default":"No"},"Yes":{"Type":"Succeed"},"No":{"Type":"Succeed"}}}`)
	return d.States["C"]
}

func TestChoiceOperators(t *testing.T) {
	input := `{"s":"abc","n":10,"f":1.5,"b":true,"null":null,"ts":"2016-03-14T01:59:00Z","tsOff":"2016-03-14T02:59:00+01:00","other":"abd","m":10.0,"arr":[1,2]}`
	tests := []struct {
		rule string
		want bool
	}{
		{`"Variable":"$.s","StringEquals":"abc"`, true},
		{`"Variable":"$.s","StringEquals":"ABC"`, false},
		{`"Variable":"$.n","StringEquals":"10"`, false}, // type mismatch is false, not an error
		{`"Variable":"$.s","StringLessThan":"abd"`, true},
		{`"Variable":"$.s","StringGreaterThan":"abd"`, false},
		{`"Variable":"$.s","StringLessThanEquals":"abc"`, true},
		{`"Variable":"$.s","StringGreaterThanEquals":"abc"`, true},
		{`"Variable":"$.s","StringEqualsPath":"$.s"`, true},
		{`"Variable":"$.s","StringLessThanPath":"$.other"`, true},
		{`"Variable":"$.s","StringGreaterThanPath":"$.other"`, false},
		{`"Variable":"$.s","StringLessThanEqualsPath":"$.other"`, true},
		{`"Variable":"$.s","StringGreaterThanEqualsPath":"$.other"`, false},
		{`"Variable":"$.s","StringMatches":"a*"`, true},
		{`"Variable":"$.s","StringMatches":"*c"`, true},
		{`"Variable":"$.s","StringMatches":"a*d"`, false},
		{`"Variable":"$.s","StringMatches":"*"`, true},
		{`"Variable":"$.n","NumericEquals":10`, true},
		{`"Variable":"$.m","NumericEquals":10`, true},
		{`"Variable":"$.n","NumericLessThan":10.5`, true},
		{`"Variable":"$.n","NumericGreaterThan":9`, true},
		{`"Variable":"$.n","NumericLessThanEquals":10`, true},
		{`"Variable":"$.n","NumericGreaterThanEquals":11`, false},
		{`"Variable":"$.f","NumericEqualsPath":"$.f"`, true},
		{`"Variable":"$.f","NumericLessThanPath":"$.n"`, true},
		{`"Variable":"$.f","NumericGreaterThanPath":"$.n"`, false},
		{`"Variable":"$.f","NumericLessThanEqualsPath":"$.n"`, true},
		{`"Variable":"$.f","NumericGreaterThanEqualsPath":"$.n"`, false},
		{`"Variable":"$.s","NumericEquals":10`, false},
		{`"Variable":"$.n","NumericEqualsPath":"$.s"`, false},
		{`"Variable":"$.b","BooleanEquals":true`, true},
		{`"Variable":"$.b","BooleanEqualsPath":"$.b"`, true},
		{`"Variable":"$.s","BooleanEquals":true`, false},
		{`"Variable":"$.ts","TimestampEquals":"2016-03-14T01:59:00Z"`, true},
		{`"Variable":"$.tsOff","TimestampEquals":"2016-03-14T01:59:00Z"`, true}, // same instant
		{`"Variable":"$.ts","TimestampLessThan":"2016-03-14T02:00:00Z"`, true},
		{`"Variable":"$.ts","TimestampGreaterThan":"2016-03-14T02:00:00Z"`, false},
		{`"Variable":"$.ts","TimestampLessThanEquals":"2016-03-14T01:59:00Z"`, true},
		{`"Variable":"$.ts","TimestampGreaterThanEquals":"2016-03-14T01:59:00.5Z"`, false},
		{`"Variable":"$.ts","TimestampEqualsPath":"$.tsOff"`, true},
		{`"Variable":"$.ts","TimestampLessThanPath":"$.tsOff"`, false},
		{`"Variable":"$.ts","TimestampGreaterThanPath":"$.tsOff"`, false},
		{`"Variable":"$.ts","TimestampLessThanEqualsPath":"$.tsOff"`, true},
		{`"Variable":"$.ts","TimestampGreaterThanEqualsPath":"$.tsOff"`, true},
		{`"Variable":"$.s","TimestampEquals":"2016-03-14T01:59:00Z"`, false},
		{`"Variable":"$.ts","StringEquals":"2016-03-14T01:59:00Z"`, true}, // a timestamp is a string too
		{`"Variable":"$.null","IsNull":true`, true},
		{`"Variable":"$.s","IsNull":true`, false},
		{`"Variable":"$.s","IsNull":false`, true},
		{`"Variable":"$.s","IsPresent":true`, true},
		{`"Variable":"$.missing","IsPresent":true`, false},
		{`"Variable":"$.missing","IsPresent":false`, true},
		{`"Variable":"$.null","IsPresent":true`, true},
		{`"Variable":"$.n","IsNumeric":true`, true},
		{`"Variable":"$.s","IsNumeric":true`, false},
		{`"Variable":"$.s","IsString":true`, true},
		{`"Variable":"$.n","IsString":false`, true},
		{`"Variable":"$.b","IsBoolean":true`, true},
		{`"Variable":"$.ts","IsTimestamp":true`, true},
		{`"Variable":"$.s","IsTimestamp":true`, false},
		{`"Variable":"$.n","IsTimestamp":false`, true},
		{`"Variable":"$.arr[1]","NumericEquals":2`, true},
		{`"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.s","StringEquals":"abc"}]`, true},
		{`"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.s","StringEquals":"x"}]`, false},
		{`"Or":[{"Variable":"$.n","NumericGreaterThan":100},{"Variable":"$.s","StringEquals":"abc"}]`, true},
		{`"Or":[{"Variable":"$.n","NumericGreaterThan":100},{"Variable":"$.s","StringEquals":"x"}]`, false},
		{`"Not":{"Variable":"$.s","StringEquals":"abc"}`, false},
		{`"Not":{"Variable":"$.s","StringEquals":"x"}`, true},
		// Short circuit: the missing variable in the second rule is never read.
		{`"Or":[{"Variable":"$.b","BooleanEquals":true},{"Variable":"$.missing","StringEquals":"x"}]`, true},
		{`"And":[{"Variable":"$.b","BooleanEquals":false},{"Variable":"$.missing","StringEquals":"x"}]`, false},
	}
	in := mustDecode(t, input)
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			s := choiceState(t, `{`+tt.rule+`,"Next":"Yes"}`)
			next, err := s.ChooseNext(in)
			if err != nil {
				t.Fatalf("ChooseNext: %v", err)
			}
			if got := next == "Yes"; got != tt.want {
				t.Errorf("matched = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStringMatchesEscapes(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{`foo*.log`, "foo23.log", true},
		{`*.log`, "zebra.log", true},
		{`foo*.*`, "foobar.zebra", true},
		{`foo*.log`, "foo23.txt", false},
		{`a\\*b`, "a*b", true},
		{`a\\*b`, "axxb", false},
		{`a\\\\b`, `a\b`, true},
		{`*\\**`, "x*y", true},
		{`*\\**`, "xy", false},
		{``, "", true},
		{``, "x", false},
		{`**`, "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s~%s", tt.pattern, tt.value), func(t *testing.T) {
			s := choiceState(t, `{"Variable":"$.v","StringMatches":"`+tt.pattern+`","Next":"Yes"}`)
			next, err := s.ChooseNext(map[string]any{"v": tt.value})
			if err != nil {
				t.Fatal(err)
			}
			if got := next == "Yes"; got != tt.want {
				t.Errorf("matched = %v, want %v", got, tt.want)
			}
		})
	}
}

// The developer guide's Choice example, and the spec's DispatchEvent one.
func TestChoiceDocExamples(t *testing.T) {
	def := `{"StartAt":"DispatchEvent","States":{
	  "DispatchEvent":{"Type":"Choice","Choices":[
	    {"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Public"},
	    {"And":[{"Variable":"$.value","IsPresent":true},{"Variable":"$.value","IsNumeric":true},
	            {"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}],
	     "Next":"ValueInTwenties"},
	    {"Variable":"$.rating","NumericGreaterThanPath":"$.auditThreshold","Next":"StartAudit"}],
	   "Default":"RecordEvent"},
	  "Public":{"Type":"Succeed"},"ValueInTwenties":{"Type":"Succeed"},"StartAudit":{"Type":"Succeed"},"RecordEvent":{"Type":"Succeed"}}}`
	s := mustParse(t, def).States["DispatchEvent"]
	tests := []struct{ input, want string }{
		{`{"type":"Private","value":22}`, "ValueInTwenties"},
		{`{"type":"Public","value":22}`, "Public"},
		{`{"type":"Private","value":35,"rating":60,"auditThreshold":50}`, "StartAudit"},
		{`{"type":"Private","value":"22","rating":40,"auditThreshold":50}`, "RecordEvent"},
	}
	for _, tt := range tests {
		got, err := s.ChooseNext(mustDecode(t, tt.input))
		if err != nil {
			t.Fatalf("%s: %v", tt.input, err)
		}
		if got != tt.want {
			t.Errorf("%s: next = %s, want %s", tt.input, got, tt.want)
		}
	}
}

func TestChoiceErrors(t *testing.T) {
	t.Run("no match without Default", func(t *testing.T) {
		d := mustParse(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":1,"Next":"Y"}]},"Y":{"Type":"Succeed"}}}`)
		_, err := d.States["C"].ChooseNext(mustDecode(t, `{"a":2}`))
		if statesErrName(err) != ErrNoChoiceMatched {
			t.Fatalf("error = %v, want %s", err, ErrNoChoiceMatched)
		}
	})
	t.Run("missing variable", func(t *testing.T) {
		s := choiceState(t, `{"Variable":"$.missing","StringEquals":"x","Next":"Yes"}`)
		_, err := s.ChooseNext(mustDecode(t, `{}`))
		if statesErrName(err) != ErrRuntime {
			t.Fatalf("error = %v, want %s", err, ErrRuntime)
		}
	})
	t.Run("missing comparison path", func(t *testing.T) {
		s := choiceState(t, `{"Variable":"$.a","StringEqualsPath":"$.missing","Next":"Yes"}`)
		_, err := s.ChooseNext(mustDecode(t, `{"a":"x"}`))
		if statesErrName(err) != ErrRuntime {
			t.Fatalf("error = %v, want %s", err, ErrRuntime)
		}
	})
	t.Run("context variable", func(t *testing.T) {
		s := choiceState(t, `{"Variable":"$$.Execution.Name","StringEquals":"run","Next":"Yes"}`)
		next, err := s.ChooseNextWithContext(mustDecode(t, `{}`), mustDecode(t, `{"Execution":{"Name":"run"}}`))
		if err != nil || next != "Yes" {
			t.Fatalf("next = %q, err = %v", next, err)
		}
	})
}

func TestTimestampFormat(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"2016-03-14T01:59:00Z", true},
		{"2016-03-14T01:59:00.123Z", true},
		{"2016-03-14T01:59:00+07:00", true},
		{"2016-03-14T01:59:00-05:30", true},
		{"2016-03-14t01:59:00Z", false},
		{"2016-03-14T01:59:00z", false},
		{"2016-03-14T01:59:00", false},
		{"2016-03-14 01:59:00Z", false},
		{"2016-13-14T01:59:00Z", false},
		{"2016-03-14", false},
	}
	for _, tt := range tests {
		if _, ok := parseTimestamp(tt.s); ok != tt.ok {
			t.Errorf("parseTimestamp(%q) ok = %v, want %v", tt.s, ok, tt.ok)
		}
	}
}
