package asl

import (
	"testing"
)

// Examples from the input and output processing chapters of the Step
// Functions developer guide and the States Language specification.
func TestDataFlowDocExamples(t *testing.T) {
	ctx := mustDecode(t, `{"DayOfWeek":"TUESDAY","Execution":{"Id":"arn:exec"}}`)
	tests := []struct {
		name   string
		state  string
		input  string
		result string // task result; "" for Pass (uses PassResult)
		want   string
	}{
		{
			name:   "ResultPath combines result with input",
			state:  `{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Add","InputPath":"$.numbers","ResultPath":"$.sum","End":true}`,
			input:  `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}}`,
			result: `7`,
			want:   `{"title":"Numbers to add","numbers":{"val1":3,"val2":4},"sum":7}`,
		},
		{
			name:   "ResultPath builds intervening objects",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":"$.b.greeting","End":true}`,
			input:  `{"a":1}`,
			result: `"Hi!"`,
			want:   `{"a":1,"b":{"greeting":"Hi!"}}`,
		},
		{
			name:   "ResultPath overwrites an existing field",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":"$.master.detail","End":true}`,
			input:  `{"master":{"detail":[1,2,3]}}`,
			result: `6`,
			want:   `{"master":{"detail":6}}`,
		},
		{
			name:   "ResultPath adds a chain next to existing fields",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":"$.master.result.sum","End":true}`,
			input:  `{"master":{"detail":[1,2,3]}}`,
			result: `6`,
			want:   `{"master":{"detail":[1,2,3],"result":{"sum":6}}}`,
		},
		{
			name:   "ResultPath null discards the result",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":null,"End":true}`,
			input:  `{"a":1}`,
			result: `{"big":"result"}`,
			want:   `{"a":1}`,
		},
		{
			name:   "default ResultPath replaces the input",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","End":true}`,
			input:  `{"a":1}`,
			result: `{"r":2}`,
			want:   `{"r":2}`,
		},
		{
			name:   "OutputPath selects part of the combined output",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":"$.r","OutputPath":"$.r.v","End":true}`,
			input:  `{"a":1}`,
			result: `{"v":[1,2]}`,
			want:   `[1,2]`,
		},
		{
			name:   "OutputPath null yields an empty object",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","OutputPath":null,"End":true}`,
			input:  `{"a":1}`,
			result: `5`,
			want:   `{}`,
		},
		{
			name:  "Pass Result with ResultPath (spec example)",
			state: `{"Type":"Pass","Result":{"x-datum":0.381018,"y-datum":622.2269926397355},"ResultPath":"$.coords","End":true}`,
			input: `{"georefOf":"Home"}`,
			want:  `{"georefOf":"Home","coords":{"x-datum":0.381018,"y-datum":622.2269926397355}}`,
		},
		{
			name:  "Pass without Result copies its input",
			state: `{"Type":"Pass","End":true}`,
			input: `{"a":[1,{"b":null}]}`,
			want:  `{"a":[1,{"b":null}]}`,
		},
		{
			name:  "Pass InputPath null gives an empty effective input",
			state: `{"Type":"Pass","InputPath":null,"ResultPath":"$.x","End":true}`,
			input: `{"a":1}`,
			want:  `{"a":1,"x":{}}`,
		},
		{
			name:  "Parameters payload template (spec example)",
			state: `{"Type":"Pass","Parameters":{"flagged":true,"parts":{"first.$":"$.vals[0]","last3.$":"$.vals[-3:]"},"weekday.$":"$$.DayOfWeek","formattedOutput.$":"States.Format('Today is {}', $$.DayOfWeek)"},"End":true}`,
			input: `{"flagged":7,"vals":[0,10,20,30,40,50]}`,
			want:  `{"flagged":true,"parts":{"first":0,"last3":[30,40,50]},"weekday":"TUESDAY","formattedOutput":"Today is TUESDAY"}`,
		},
		{
			name:  "InputPath with several matches gathers them into an array",
			state: `{"Type":"Pass","InputPath":"$.a[0,1]","End":true}`,
			input: `{"a":[1,2,3,4]}`,
			want:  `[1,2]`,
		},
		{
			name:   "ResultSelector reshapes the result (developer guide example)",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::elasticmapreduce:createCluster.sync","ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"},"ResultPath":"$.EMROutput","End":true}`,
			input:  `{"cluster":"c"}`,
			result: `{"resourceType":"elasticmapreduce","resource":"createCluster.sync","output":{"SdkHttpMetadata":{"HttpStatusCode":200},"ClusterId":"AKIAIOSFODNN7EXAMPLE"}}`,
			want:   `{"cluster":"c","EMROutput":{"ClusterId":"AKIAIOSFODNN7EXAMPLE","ResourceType":"elasticmapreduce"}}`,
		},
		{
			name:   "ResultPath $ with context object in ResultSelector",
			state:  `{"Type":"Task","Resource":"arn:aws:states:::x","ResultSelector":{"id.$":"$$.Execution.Id","n.$":"$.n"},"End":true}`,
			input:  `{}`,
			result: `{"n":3}`,
			want:   `{"id":"arn:exec","n":3}`,
		},
		{
			name:  "Succeed applies InputPath and OutputPath only",
			state: `{"Type":"Succeed","InputPath":"$.a","OutputPath":"$.b"}`,
			input: `{"a":{"b":5}}`,
			want:  `5`,
		},
		{
			name:  "nested templates inside arrays are processed",
			state: `{"Type":"Pass","Parameters":{"list":[{"v.$":"$.x"},"lit",3]},"End":true}`,
			input: `{"x":"X"}`,
			want:  `{"list":[{"v":"X"},"lit",3]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := oneState(t, tt.state)
			raw := mustDecode(t, tt.input)
			before := jsonOf(t, raw)
			eff, err := s.Input(raw, ctx)
			if err != nil {
				t.Fatalf("Input: %v", err)
			}
			var result any
			switch {
			case s.Type == TypePass:
				result = s.PassResult(eff)
			case tt.result != "":
				if result, err = s.SelectResult(mustDecode(t, tt.result), ctx); err != nil {
					t.Fatalf("SelectResult: %v", err)
				}
			default:
				result = eff
			}
			out, err := s.Output(raw, result, ctx)
			if err != nil {
				t.Fatalf("Output: %v", err)
			}
			if got, want := jsonOf(t, out), canon(t, tt.want); got != want {
				t.Errorf("output = %s, want %s", got, want)
			}
			if after := jsonOf(t, raw); after != before {
				t.Errorf("raw input was modified: %s -> %s", before, after)
			}
		})
	}
}

func TestDataFlowErrors(t *testing.T) {
	tests := []struct {
		name   string
		state  string
		input  string
		result string
		want   string // error name
	}{
		{"ResultPath on a string input", `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":"$.x","End":true}`, `"foo"`, `1`, ErrResultPathMatchFailure},
		{"ResultPath through a scalar", `{"Type":"Task","Resource":"arn:aws:states:::x","ResultPath":"$.a.b","End":true}`, `{"a":1}`, `1`, ErrResultPathMatchFailure},
		{"InputPath selects nothing", `{"Type":"Task","Resource":"arn:aws:states:::x","InputPath":"$.missing","End":true}`, `{"a":1}`, ``, ErrRuntime},
		{"Parameters path selects nothing", `{"Type":"Task","Resource":"arn:aws:states:::x","Parameters":{"x.$":"$.missing"},"End":true}`, `{"a":1}`, ``, ErrRuntime},
		{"ResultSelector path selects nothing", `{"Type":"Task","Resource":"arn:aws:states:::x","ResultSelector":{"x.$":"$.missing"},"End":true}`, `{}`, `{"a":1}`, ErrRuntime},
		{"OutputPath selects nothing", `{"Type":"Task","Resource":"arn:aws:states:::x","OutputPath":"$.missing","End":true}`, `{}`, `{"a":1}`, ErrRuntime},
		{"intrinsic fails at run time", `{"Type":"Pass","Parameters":{"x.$":"States.ArrayLength($.a)"},"End":true}`, `{"a":"not an array"}`, ``, ErrIntrinsicFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := oneState(t, tt.state)
			raw := mustDecode(t, tt.input)
			eff, err := s.Input(raw, nil)
			if err == nil {
				result := s.PassResult(eff)
				if tt.result != "" {
					result, err = s.SelectResult(mustDecode(t, tt.result), nil)
				}
				if err == nil {
					_, err = s.Output(raw, result, nil)
				}
			}
			if got := statesErrName(err); got != tt.want {
				t.Fatalf("error = %v (name %q), want %s", err, got, tt.want)
			}
		})
	}
}
