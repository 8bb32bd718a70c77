package asl

import "testing"

const benchDef = `{"StartAt":"T","States":{
  "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","InputPath":"$.case","Parameters":{"FunctionName":"verify","Payload":{"id.$":"$.id","url.$":"$.url","token.$":"$$.Task.Token","msg.$":"States.Format('case {} at {}', $.id, $.url)"}},
    "ResultSelector":{"verdict.$":"$.Payload.verdict","score.$":"$.Payload.score"},"ResultPath":"$.case.verify","Retry":[{"ErrorEquals":["States.TaskFailed"]}],"Next":"C"},
  "C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.case.verify.verdict","StringEquals":"illegal"},{"Variable":"$.case.verify.score","NumericGreaterThanEquals":0.8}],"Next":"D"}],"Default":"D"},
  "D":{"Type":"Succeed"}}}`

func BenchmarkParse(b *testing.B) {
	def := []byte(benchDef)
	for b.Loop() {
		if _, err := Parse(def); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTaskDataFlow measures one Task state's full input and output
// processing (InputPath, Parameters with an intrinsic, ResultSelector,
// ResultPath) plus the following Choice.
func BenchmarkTaskDataFlow(b *testing.B) {
	d := mustParse(b, benchDef)
	task, choice := d.States["T"], d.States["C"]
	raw := mustDecode(b, `{"case":{"id":"c-1","url":"https://example.com/ad/1"},"other":[1,2,3]}`)
	ctx := mustDecode(b, `{"Task":{"Token":"tok"},"Execution":{"Id":"arn:e"}}`)
	result := mustDecode(b, `{"Payload":{"verdict":"illegal","score":0.93},"StatusCode":200}`)
	for b.Loop() {
		if _, err := task.Input(raw, ctx); err != nil {
			b.Fatal(err)
		}
		sel, err := task.SelectResult(result, ctx)
		if err != nil {
			b.Fatal(err)
		}
		out, err := task.Output(raw, sel, ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := choice.ChooseNext(out); err != nil {
			b.Fatal(err)
		}
	}
}
