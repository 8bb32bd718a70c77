package asl

import (
	"testing"
	"time"
)

// FuzzParse feeds arbitrary definitions to Parse and, when one parses,
// drives every state's data flow with a fixed input: nothing may panic.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:x","Parameters":{"a.$":"$.b","c.$":"States.Format('{}',$.d)"},"ResultSelector":{"x.$":"$[0]"},"ResultPath":"$.r","Retry":[{"ErrorEquals":["States.ALL"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"B"}],"Next":"B"},"B":{"Type":"Succeed"}}}`,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a","StringMatches":"x*"},{"Not":{"Variable":"$.b","IsPresent":true}}],"Next":"D"}],"Default":"D"},"D":{"Type":"Fail","ErrorPath":"$.e"}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.i","ItemSelector":{"v.$":"$$.Map.Item.Value"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Wait","SecondsPath":"$.s","End":true}}},"End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}],"End":true}}}`,
		`[]`, `{"StartAt":1}`, `{"StartAt":"A","States":{"A":null}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	input := map[string]any{"a": "xy", "b": []any{"1", 2.0}, "d": nil, "i": []any{1, 2}, "s": 1, "e": "E"}
	f.Fuzz(func(t *testing.T, def []byte) {
		d, err := Parse(def)
		if err != nil {
			return
		}
		exercise(d, input)
	})
}

func exercise(d *Definition, input any) {
	for _, s := range d.States {
		eff, err := s.Input(input, input)
		if err != nil {
			continue
		}
		_, _ = s.Output(input, s.PassResult(eff), input)
		_, _ = s.SelectResult(eff, input)
		_, _ = s.ChooseNext(eff)
		_, _ = s.WaitUntil(eff, time.Unix(0, 0))
		_, _, _ = s.FailInfo(eff)
		_, _, _ = s.TaskTimeouts(eff)
		_, _, _, _ = s.MapLimits(eff)
		_, _, _ = s.Retry("X", []int{1})
		if c, ok := s.Catch("X"); ok {
			_, _ = c.Output(input, ErrorOutput("X", "y"))
		}
		if s.Type == TypeMap {
			if items, err := s.Items(eff); err == nil {
				for i, it := range items {
					_, _ = s.ItemInput(it, i, eff, input)
				}
			}
			exercise(s.ItemProcessor, input)
		}
		for _, b := range s.Branches {
			exercise(b, input)
		}
	}
}

// FuzzEvalPath evaluates arbitrary paths and intrinsic calls: errors are
// fine, panics are not.
func FuzzEvalPath(f *testing.F) {
	for _, s := range []string{`$`, `$.a`, `$..b[0]`, `$.b[-1:]`, `$.b[?(@ > 1)]`, `$['a','b']`, `$.b.length()`,
		`$.b[?(@.x =~ /a.*/i && !(@.y))]`, `$.b[::-1]`, `$[*]`, `$.b[1:0:-1]`, `States.Format('{}', $.a)`, `States.Array(States.ArrayRange(1, 3, 1))`} {
		f.Add(s)
	}
	doc := map[string]any{"a": "xy", "b": []any{1, map[string]any{"x": "abc"}, []any{}, nil}}
	f.Fuzz(func(t *testing.T, path string) {
		_, _ = EvalPath(path, doc)
		_, _ = parseReferencePath(path)
		_, _ = EvalIntrinsic(path, doc, doc)
	})
}
