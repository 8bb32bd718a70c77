package asl

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	def := `{
	  "Comment":"takedown-like machine","StartAt":"Verify","TimeoutSeconds":3600,"Version":"1.0","QueryLanguage":"JSONPath",
	  "States":{
	    "Verify":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"verify","Payload.$":"$"},
	      "ResultSelector":{"verdict.$":"$.Payload.verdict"},"ResultPath":"$.verify","TimeoutSeconds":30,"HeartbeatSeconds":10,
	      "Retry":[{"ErrorEquals":["Lambda.ServiceException"],"IntervalSeconds":2,"MaxAttempts":6,"BackoffRate":2,"MaxDelaySeconds":60,"JitterStrategy":"FULL"},
	               {"ErrorEquals":["States.ALL"]}],
	      "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.error","Next":"Failed"},{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"Failed"}],
	      "Next":"Route"},
	    "Route":{"Type":"Choice","Choices":[{"Variable":"$.verify.verdict","StringEquals":"illegal","Next":"Approve"}],"Default":"Done"},
	    "Approve":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"token.$":"$$.Task.Token"},"TimeoutSecondsPath":"$.sla","Next":"Fan"},
	    "Fan":{"Type":"Parallel","Branches":[
	        {"StartAt":"B1","States":{"B1":{"Type":"Pass","End":true}}},
	        {"StartAt":"B2","States":{"B2":{"Type":"Wait","SecondsPath":"$.delay","Next":"B3"},"B3":{"Type":"Succeed"}}}],
	      "Next":"Each"},
	    "Each":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},"MaxConcurrency":2,
	      "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Next":"WaitUntil"},
	    "WaitUntil":{"Type":"Wait","TimestampPath":"$.deadline","Next":"Done"},
	    "Done":{"Type":"Succeed"},
	    "Failed":{"Type":"Fail","ErrorPath":"$.error.Error","Cause":"verification failed"}
	  }}`
	d := mustParse(t, def)
	if d.StartAt != "Verify" || d.TimeoutSeconds != 3600 || len(d.States) != 8 {
		t.Fatalf("unexpected definition: %+v", d)
	}
	v := d.States["Verify"]
	if v.ResultPath != "$.verify" || v.InputPath != "$" || v.OutputPath != "$" || *v.TimeoutSeconds != 30 || *v.HeartbeatSeconds != 10 {
		t.Errorf("Verify paths/timeouts wrong: %+v", v)
	}
	if got := v.Retriers[1]; got.IntervalSeconds != 1 || got.MaxAttempts != 3 || got.BackoffRate != 2.0 || got.JitterStrategy != "NONE" {
		t.Errorf("retrier defaults = %+v", got)
	}
	if v.Catchers[1].ResultPath != "" || v.Catchers[0].ResultPath != "$.error" {
		t.Errorf("catcher result paths = %q, %q", v.Catchers[0].ResultPath, v.Catchers[1].ResultPath)
	}
	m := d.States["Each"]
	if m.ItemProcessor == nil || m.ItemProcessor.ProcessorConfig.Mode != "INLINE" || m.MaxConcurrency != 2 || m.ItemsPath != "$.items" {
		t.Errorf("Map parsed wrong: %+v", m)
	}
	if len(d.States["Fan"].Branches) != 2 {
		t.Errorf("branches = %d", len(d.States["Fan"].Branches))
	}
}

func TestParseLegacyMap(t *testing.T) {
	d := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","Parameters":{"x.$":"$$.Map.Item.Value"},"Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	m := d.States["M"]
	if m.ItemProcessor == nil || m.ItemSelector == nil || m.Parameters != nil {
		t.Fatalf("legacy Map fields not normalised: %+v", m)
	}
	got, err := m.ItemInput("a", 0, map[string]any{}, nil)
	if err != nil || jsonOf(t, got) != `{"x":"a"}` {
		t.Fatalf("ItemInput = %v, %v", got, err)
	}
}

func TestParseRejects(t *testing.T) {
	const end = `"E":{"Type":"Succeed"}`
	tests := []struct {
		name, def  string
		state, msg string // a *ValidationError with this state and message fragment
	}{
		{"not JSON", `{`, "", "not valid JSON"},
		{"missing StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "", "StartAt"},
		{"unknown StartAt", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`, "", "does not match any state"},
		{"missing States", `{"StartAt":"A"}`, "", "States"},
		{"unknown top-level field", `{"StartAt":"A","Foo":1,"States":{"A":{"Type":"Succeed"}}}`, "", "not allowed"},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, "", "JSONata is not supported by the local engine"},
		{"JSONata in a state", `{"StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"JSONata","End":true}}}`, "A", "JSONata is not supported"},
		{"unknown Next", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "A", "MISSING_TRANSITION_TARGET"},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "A", "either Next or"},
		{"both Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"E","End":true},` + end + `}}`, "A", "both Next and End"},
		{"Next on Succeed", `{"StartAt":"A","States":{"A":{"Type":"Succeed","Next":"E"},` + end + `}}`, "A", "not supported by a Succeed state"},
		{"End on Choice", `{"StartAt":"A","States":{"A":{"Type":"Choice","End":true,"Choices":[{"Variable":"$.a","IsPresent":true,"Next":"E"}]},` + end + `}}`, "A", "not supported by a Choice state"},
		{"Resource on Pass", `{"StartAt":"A","States":{"A":{"Type":"Pass","Resource":"arn:aws:x","End":true}}}`, "A", "not supported by a Pass state"},
		{"ResultPath on Fail", `{"StartAt":"A","States":{"A":{"Type":"Fail","ResultPath":"$.x"}}}`, "A", "not supported by a Fail state"},
		{"Retry on Pass", `{"StartAt":"A","States":{"A":{"Type":"Pass","Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`, "A", "not supported by a Pass state"},
		{"Catch on Wait", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"E"}],"Next":"E"},` + end + `}}`, "A", "not supported by a Wait state"},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Magic","End":true}}}`, "A", "unknown state type"},
		{"Choice without Choices", `{"StartAt":"A","States":{"A":{"Type":"Choice","Default":"E"},` + end + `}}`, "A", "Choices"},
		{"Wait with two fields", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "A", "exactly one of"},
		{"Wait with none", `{"StartAt":"A","States":{"A":{"Type":"Wait","End":true}}}`, "A", "exactly one of"},
		{"Wait bad timestamp", `{"StartAt":"A","States":{"A":{"Type":"Wait","Timestamp":"tomorrow","End":true}}}`, "A", "RFC 3339"},
		{"Wait negative seconds", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":-1,"End":true}}}`, "A", "between 0"},
		{"States.ALL not alone", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Retry":[{"ErrorEquals":["States.ALL","X"]}],"End":true}}}`, "A", "alone"},
		{"States.ALL not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Catch":[{"ErrorEquals":["States.ALL"],"Next":"E"},{"ErrorEquals":["X"],"Next":"E"}],"End":true},` + end + `}}`, "A", "last"},
		{"empty ErrorEquals", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Retry":[{"ErrorEquals":[]}],"End":true}}}`, "A", "non-empty"},
		{"BackoffRate below 1", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}`, "A", "BackoffRate"},
		{"bad JitterStrategy", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"SOME"}],"End":true}}}`, "A", "FULL or NONE"},
		{"IntervalSeconds zero", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Retry":[{"ErrorEquals":["X"],"IntervalSeconds":0}],"End":true}}}`, "A", "IntervalSeconds"},
		{"Catch without Next", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Catch":[{"ErrorEquals":["X"]}],"End":true}}}`, "A", "Next"},
		{"Catch to unknown state", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Catch":[{"ErrorEquals":["X"],"Next":"Nope"}],"End":true}}}`, "A", "MISSING_TRANSITION_TARGET"},
		{"ResultPath with filter", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[?(@.b)]","End":true}}}`, "A", "reference path"},
		{"ResultPath with wildcard", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, "A", "reference path"},
		{"ResultPath into context", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$$.a","End":true}}}`, "A", "$$"},
		{"invalid InputPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`, "A", "must begin with '$'"},
		{"invalid OutputPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","OutputPath":"$.a[","End":true}}}`, "A", "invalid JSONPath"},
		{"unreachable state", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Pass","End":true}}}`, "B", "is not reachable"},
		{"long state name", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"` + strings.Repeat("x", 81) + `"},"` + strings.Repeat("x", 81) + `":{"Type":"Succeed"}}}`, strings.Repeat("x", 81), "longer than 80"},
		{"Next across a Parallel scope", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"E"}}}],"Next":"E"},` + end + `}}`, "B", "MISSING_TRANSITION_TARGET"},
		{"Next into a Parallel scope", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}}}`, "A", "MISSING_TRANSITION_TARGET"},
		{"invalid state inside a branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass"}}}],"End":true}}}`, "B", "either Next or"},
		{"duplicate state name across scopes", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],"End":true}}}`, "P", "duplicate state name"},
		{"empty Branches", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[],"End":true}}}`, "P", "Branches"},
		{"Map without processor", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, "M", "ItemProcessor"},
		{"distributed Map", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, "M", "not supported locally"},
		{"ItemReader", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, "M", "DISTRIBUTED"},
		{"Map processor Next outside", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"E"}}},"Next":"E"},` + end + `}}`, "P", "MISSING_TRANSITION_TARGET"},
		{"ItemSelector and Parameters", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{},"Parameters":{},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, "M", "cannot be used together"},
		{"ToleratedFailurePercentage over 100", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailurePercentage":101,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, "M", "between 0 and 100"},
		{"TimeoutSeconds and Path", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","TimeoutSeconds":5,"TimeoutSecondsPath":"$.t","End":true}}}`, "A", "cannot be used together"},
		{"heartbeat not below timeout", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}`, "A", "smaller than TimeoutSeconds"},
		{"Task without Resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, "A", "Resource"},
		{"Fail Error and ErrorPath", `{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"X","ErrorPath":"$.e"}}}`, "A", "cannot be used together"},
		{"Parameters not an object", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":[1],"End":true}}}`, "A", "must be a JSON object"},
		{"dynamic field not a string", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":5},"End":true}}}`, "A", "must be a STRING"},
		{"dynamic field bad path", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"$.a["},"End":true}}}`, "A", "invalid JSONPath"},
		{"duplicate after .$ stripping", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"$.a","x":1},"End":true}}}`, "A", "duplicate field"},
		{"Assign (variables)", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"End":true}}}`, "A", "not supported by the local engine"},
		{"choice rule without operator", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","Next":"E"}]},` + end + `}}`, "C", "exactly one comparison operator"},
		{"choice rule with two operators", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"IsString":true,"Next":"E"}]},` + end + `}}`, "C", "exactly one comparison operator"},
		{"choice rule without Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true}],"Default":"E"},` + end + `}}`, "C", "Next"},
		{"nested rule with Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true,"Next":"E"},"Next":"E"}]},` + end + `}}`, "C", "must not have Next"},
		{"NumericEquals with a string", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"E"}]},` + end + `}}`, "C", "must be a number"},
		{"TimestampEquals not a timestamp", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","TimestampEquals":"yesterday","Next":"E"}]},` + end + `}}`, "C", "RFC 3339"},
		{"IsNull with a string", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":"true","Next":"E"}]},` + end + `}}`, "C", "must be a boolean"},
		{"unknown operator", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringContains":"x","Next":"E"}]},` + end + `}}`, "C", "unknown field"},
		{"empty And", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[],"Next":"E"}]},` + end + `}}`, "C", "non-empty"},
		{"Choice Default unknown", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"Next":"E"}],"Default":"Nope"},` + end + `}}`, "C", "MISSING_TRANSITION_TARGET"},
		{"StringMatchesPath is not an operator", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringMatchesPath":"$.b","Next":"E"}]},` + end + `}}`, "C", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			if err == nil {
				t.Fatal("Parse accepted an invalid definition")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			found := false
			for _, e := range flatten(err) {
				var v *ValidationError
				if errors.As(e, &v) && v.State == tt.state && strings.Contains(v.Error(), tt.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error for state %q containing %q in:\n%v", tt.state, tt.msg, err)
			}
		})
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"X"},"B":{"Type":"Task","End":true}}}`))
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(flatten(err)); n < 3 {
		t.Errorf("got %d problems, want at least 3 (bad Next, missing Resource, unreachable B):\n%v", n, err)
	}
	var ve *ValidationError
	errors.As(err, &ve)
	if !strings.HasPrefix(ve.Error(), `state "`) {
		t.Errorf("message %q does not name the state", ve.Error())
	}
}

func TestValidationErrorFormat(t *testing.T) {
	e := &ValidationError{State: "X", Field: "Next", Message: "bad"}
	if got := e.Error(); got != `state "X": field "Next": bad` {
		t.Errorf("Error() = %q", got)
	}
}
