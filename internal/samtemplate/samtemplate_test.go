package samtemplate

import (
	"strings"
	"testing"
)

const tpl = `
Parameters:
  Tiers:
    Type: Number
    Default: 2
Globals:
  Function:
    Environment:
      Variables:
        TABLE: !Ref Table
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: ByX
          KeySchema: [{AttributeName: PK, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a, b]}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  SubmitReportFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Submit:
          Type: HttpApi
          Properties: {Path: /reports, Method: POST}
        Approve:
          Type: HttpApi
          Properties:
            Path: /approvals/{id}
            Method: GET
            Auth:
              Authorizer: NONE
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub ${AWS::StackName}-flow
      DefinitionSubstitutions:
        Fn: !GetAtt SubmitReportFunction.Arn
        Tiers: !Ref Tiers
`

func TestParseReadsFunctionsRoutesTablesAndIntrinsics(t *testing.T) {
	tp, err := Parse([]byte(tpl))
	if err != nil {
		t.Fatal(err)
	}
	fs := tp.Functions()
	if len(fs) != 1 || fs[0].Dir != "functions/submitreport" || len(fs[0].Events) != 2 {
		t.Fatalf("functions = %+v", fs)
	}
	if ev := fs[0].Events[0]; ev.Name != "Approve" || !ev.Public || ev.Path != "/approvals/{id}" {
		t.Fatalf("public route = %+v", ev)
	}
	if ev := fs[0].Events[1]; ev.Public || ev.Method != "POST" {
		t.Fatalf("protected route = %+v", ev)
	}
	if ref, ok := fs[0].Environment["TABLE"].(map[string]any); !ok || ref["Ref"] != "Table" {
		t.Fatalf("globals environment = %v", fs[0].Environment)
	}
	in, ttl, err := tp.TableInput("Table", "t1")
	if err != nil || ttl != "ttl" || *in.TableName != "t1" || in.StreamSpecification == nil ||
		len(in.GlobalSecondaryIndexes) != 1 || len(in.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes) != 2 {
		t.Fatalf("table input = %+v ttl %q err %v", in, ttl, err)
	}
	env := Env{Region: "ap-southeast-3", Account: "000000000000", StackName: "tangkal", Parameters: map[string]string{}}
	sm := tp.StateMachines()[0]
	name, err := tp.StateMachineName(sm, env)
	if err != nil || name != "tangkal-flow" {
		t.Fatalf("name %q %v", name, err)
	}
	fn, err := tp.Resolve(sm.Substitutions["Fn"], env)
	if err != nil || fn != "arn:aws:lambda:ap-southeast-3:000000000000:function:SubmitReportFunction" {
		t.Fatalf("GetAtt = %q %v", fn, err)
	}
	env.Parameters["Tiers"] = "3"
	if v, _ := tp.Resolve(sm.Substitutions["Tiers"], env); v != "3" {
		t.Fatalf("parameter override = %q", v)
	}
	if _, err := tp.Resolve(map[string]any{"Ref": "Nope"}, env); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("unknown Ref: %v", err)
	}
}

func TestPlaceholders(t *testing.T) {
	got := strings.Join(Placeholders(`{"a":"${B}","c":"${A}","d":"${B}","e":"$.x","f":"States.Format('{}')"}`), ",")
	if got != "A,B" {
		t.Fatalf("placeholders = %s", got)
	}
}
