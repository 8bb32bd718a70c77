package deploycheck

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/workflow"
)

func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }

func listOf(v any) []any { l, _ := v.([]any); return l }

// ref is the logical id a {"Ref": id} or {"Fn::GetAtt": [id, …]} names.
func ref(v any) string {
	m := mapOf(v)
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if att := listOf(m["Fn::GetAtt"]); len(att) > 0 {
		id, _ := att[0].(string)
		return id
	}
	return ""
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestEveryFunctionLogsAndTraces: each function writes JSON logs to a log
// group of the template that keeps them LogRetentionDays (not to one Lambda
// makes, kept for ever), and traces with X-Ray.
func TestEveryFunctionLogsAndTraces(t *testing.T) {
	c := transformedTemplate(t)
	fns := c.ofType("AWS::Lambda::Function")
	if len(fns) < 10 {
		t.Fatalf("%d functions after the transform", len(fns))
	}
	for _, id := range fns {
		t.Run(id, func(t *testing.T) {
			p := c.Resources[id].Properties
			lc := mapOf(p["LoggingConfig"])
			lg := ref(lc["LogGroup"])
			if c.Resources[lg].Type != "AWS::Logs::LogGroup" {
				t.Fatalf("LoggingConfig.LogGroup %v is not a log group of the template", lc["LogGroup"])
			}
			if lc["LogFormat"] != "JSON" {
				t.Errorf("LogFormat %v, want JSON (levels filtered by Lambda, AWS_LAMBDA_LOG_LEVEL set)", lc["LogFormat"])
			}
			if mapOf(p["TracingConfig"])["Mode"] != "Active" {
				t.Errorf("TracingConfig %v, want Mode Active", p["TracingConfig"])
			}
		})
	}
	for _, id := range c.ofType("AWS::StepFunctions::StateMachine") {
		if mapOf(c.Resources[id].Properties["TracingConfiguration"])["Enabled"] != true {
			t.Errorf("%s: tracing not enabled", id)
		}
		if ref(mapOf(listOf(mapOf(c.Resources[id].Properties["LoggingConfiguration"])["Destinations"])[0])["CloudWatchLogsLogGroup"].(map[string]any)["LogGroupArn"]) == "" {
			t.Errorf("%s: no log group of the template", id)
		}
	}
}

// TestEveryLogIsKeptForASetTime: every log group has a retention, and the
// HTTP API writes access logs to one.
func TestEveryLogIsKeptForASetTime(t *testing.T) {
	c := transformedTemplate(t)
	for _, id := range c.ofType("AWS::Logs::LogGroup") {
		if ref(c.Resources[id].Properties["RetentionInDays"]) != "LogRetentionDays" {
			t.Errorf("%s: RetentionInDays %v, want the LogRetentionDays parameter", id, c.Resources[id].Properties["RetentionInDays"])
		}
	}
	stages := c.ofType("AWS::ApiGatewayV2::Stage")
	if len(stages) == 0 {
		t.Fatal("no HTTP API stage")
	}
	for _, id := range stages {
		als := mapOf(c.Resources[id].Properties["AccessLogSettings"])
		if c.Resources[ref(als["DestinationArn"])].Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s: access logs go to %v, not a log group of the template", id, als["DestinationArn"])
		}
		if f, _ := als["Format"].(string); !json.Valid([]byte(f)) || strings.Contains(f, "sourceIp") {
			t.Errorf("%s: access log format %q: want JSON without the caller's address", id, f)
		}
	}
}

// metric is one metric an alarm watches.
type metric struct {
	Namespace, Name string
	Dims            map[string]string // dimension → logical id or literal
}

// alarmMetrics lists what an alarm watches: its metric, or every metric of
// its math.
func alarmMetrics(r resource) []metric {
	dims := func(v any) map[string]string {
		out := map[string]string{}
		for _, d := range listOf(v) {
			dm := mapOf(d)
			val := ref(dm["Value"])
			if val == "" {
				val = fmt.Sprint(dm["Value"])
			}
			out[fmt.Sprint(dm["Name"])] = val
		}
		return out
	}
	name := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return jsonText(v)
	}
	p := r.Properties
	if p["MetricName"] != nil {
		return []metric{{name(p["Namespace"]), name(p["MetricName"]), dims(p["Dimensions"])}}
	}
	var out []metric
	for _, q := range listOf(p["Metrics"]) {
		m := mapOf(mapOf(mapOf(q)["MetricStat"])["Metric"])
		if m != nil {
			out = append(out, metric{name(m["Namespace"]), name(m["MetricName"]), dims(m["Dimensions"])})
		}
	}
	return out
}

// TestLossAndStallRaiseAlarms: every path on which work is lost or stalls
// has an alarm, and every alarm notifies the topic AlarmEmail subscribes to.
func TestLossAndStallRaiseAlarms(t *testing.T) {
	c := transformedTemplate(t)
	topics := c.ofType("AWS::SNS::Topic")
	if len(topics) != 1 {
		t.Fatalf("SNS topics %v, want one for the alarms", topics)
	}
	topic := topics[0]
	subscribed := false
	for _, id := range c.ofType("AWS::SNS::Subscription") {
		p := c.Resources[id].Properties
		subscribed = subscribed || (ref(p["TopicArn"]) == topic && p["Protocol"] == "email" && ref(p["Endpoint"]) == "AlarmEmail")
	}
	if !subscribed {
		t.Errorf("no e-mail subscription of %s to the AlarmEmail parameter", topic)
	}
	watched := map[string]bool{} // "namespace metric dim=value"
	for _, id := range c.ofType("AWS::CloudWatch::Alarm") {
		r := c.Resources[id]
		notifies := false
		for _, a := range listOf(r.Properties["AlarmActions"]) {
			notifies = notifies || ref(a) == topic
		}
		if !notifies {
			t.Errorf("%s does not notify %s", id, topic)
		}
		for _, m := range alarmMetrics(r) {
			watched[m.Namespace+" "+m.Name] = true
			for k, v := range m.Dims {
				watched[m.Namespace+" "+m.Name+" "+k+"="+v] = true
			}
		}
	}
	var want []string
	for _, sm := range c.ofType("AWS::StepFunctions::StateMachine") {
		for _, m := range []string{"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"} {
			want = append(want, "AWS/States "+m+" StateMachineArn="+sm)
		}
	}
	for _, id := range c.ofType("AWS::Lambda::EventSourceMapping") {
		dest := mapOf(mapOf(mapOf(c.Resources[id].Properties["DestinationConfig"])["OnFailure"])["Destination"])
		if q := ref(dest); q != "" {
			want = append(want, "AWS/SQS ApproximateNumberOfMessagesVisible QueueName="+q)
		} else {
			t.Errorf("%s: no dead-letter destination", id)
		}
	}
	for _, fn := range c.ofType("AWS::Lambda::Function") {
		want = append(want, "AWS/Lambda Errors FunctionName="+fn, "AWS/Lambda Throttles FunctionName="+fn)
	}
	for _, api := range c.ofType("AWS::ApiGatewayV2::Api") {
		want = append(want, "AWS/ApiGateway 5xx ApiId="+api)
	}
	// Cases moved to the manual queue: counted from CloseCase's log line.
	closeLogs := ref(mapOf(c.Resources["CloseCaseFunction"].Properties["LoggingConfig"])["LogGroup"])
	filtered := false
	for _, id := range c.ofType("AWS::Logs::MetricFilter") {
		p := c.Resources[id].Properties
		pattern, _ := p["FilterPattern"].(string)
		if ref(p["LogGroupName"]) != closeLogs || !strings.Contains(pattern, `"`+workflow.ManualQueueLog+`"`) {
			continue
		}
		filtered = true
		for _, tr := range listOf(p["MetricTransformations"]) {
			want = append(want, alarmMetrics(resource{Properties: map[string]any{"Namespace": mapOf(tr)["MetricNamespace"], "MetricName": mapOf(tr)["MetricName"]}})[0].Namespace+" "+fmt.Sprint(mapOf(tr)["MetricName"]))
		}
	}
	if !filtered {
		t.Errorf("no metric filter on CloseCase's log group %s counting %q", closeLogs, workflow.ManualQueueLog)
	}
	for _, w := range want {
		if !watched[w] {
			t.Errorf("no alarm watches %s", w)
		}
	}
}

// TestEvidenceIsLockedAndOnlyReachedOverTLS: each bucket refuses plain
// HTTP; each Object Lock bucket locks what is written by default; the
// evidence bucket for EvidenceRetentionYears (governance mode), with its
// noncurrent versions expiring.
func TestEvidenceIsLockedAndOnlyReachedOverTLS(t *testing.T) {
	c := transformedTemplate(t)
	tlsOnly := map[string]bool{}
	for _, id := range c.ofType("AWS::S3::BucketPolicy") {
		p := c.Resources[id].Properties
		for _, s := range listOf(mapOf(p["PolicyDocument"])["Statement"]) {
			sm := mapOf(s)
			cond := jsonText(sm["Condition"])
			if sm["Effect"] == "Deny" && sm["Principal"] == "*" && strings.Contains(cond, `"aws:SecureTransport":"false"`) &&
				strings.Contains(jsonText(sm["Action"]), "s3:*") && len(listOf(sm["Resource"])) == 2 {
				tlsOnly[ref(p["Bucket"])] = true
			}
		}
	}
	buckets := c.ofType("AWS::S3::Bucket")
	for _, id := range buckets {
		t.Run(id, func(t *testing.T) {
			p := c.Resources[id].Properties
			if !tlsOnly[id] {
				t.Error("no bucket policy denying requests without TLS (aws:SecureTransport false) on the bucket and its objects")
			}
			if p["ObjectLockEnabled"] == true {
				rule := mapOf(mapOf(mapOf(p["ObjectLockConfiguration"])["Rule"])["DefaultRetention"])
				if rule["Mode"] == nil || (rule["Years"] == nil && rule["Days"] == nil) {
					t.Errorf("Object Lock without a default retention (%v): objects are not locked unless each write asks", p["ObjectLockConfiguration"])
				}
			}
		})
	}
	ev := c.Resources["EvidenceBucket"].Properties
	rule := mapOf(mapOf(mapOf(ev["ObjectLockConfiguration"])["Rule"])["DefaultRetention"])
	if rule["Mode"] != "GOVERNANCE" || ref(rule["Years"]) != "EvidenceRetentionYears" {
		t.Errorf("EvidenceBucket default retention %v, want GOVERNANCE for EvidenceRetentionYears", rule)
	}
	noncurrent := false
	for _, r := range listOf(mapOf(ev["LifecycleConfiguration"])["Rules"]) {
		noncurrent = noncurrent || (mapOf(r)["Status"] == "Enabled" && mapOf(r)["NoncurrentVersionExpiration"] != nil)
	}
	if !noncurrent {
		t.Error("EvidenceBucket has no enabled lifecycle rule for noncurrent versions")
	}
}

// TestWhatCannotBeRecreatedIsKept: the table, the user pool and the keys
// survive a stack deletion or replacement; the table also refuses
// deletion; MFA is required.
func TestWhatCannotBeRecreatedIsKept(t *testing.T) {
	c := transformedTemplate(t)
	for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::KMS::Key", "AWS::S3::Bucket"} {
		ids := c.ofType(typ)
		if len(ids) == 0 {
			t.Errorf("no %s", typ)
		}
		for _, id := range ids {
			if r := c.Resources[id]; r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
				t.Errorf("%s: DeletionPolicy %q, UpdateReplacePolicy %q, want Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
			}
		}
	}
	for _, id := range c.ofType("AWS::DynamoDB::Table") {
		if c.Resources[id].Properties["DeletionProtectionEnabled"] != true {
			t.Errorf("%s: DeletionProtectionEnabled not true", id)
		}
	}
	for _, id := range c.ofType("AWS::Cognito::UserPool") {
		if p := c.Resources[id].Properties; p["MfaConfiguration"] != "ON" {
			t.Errorf("%s: MfaConfiguration %v, want ON (approvers and admins must use MFA; Cognito cannot require it per group)", id, p["MfaConfiguration"])
		}
	}
}

// TestSendingIsScopedToTheConfiguredIdentity: ses:SendEmail is allowed on
// the SenderIdentity parameter's identity only (this account's other
// identities only under the SES sandbox condition), with nothing else of
// SES granted.
func TestSendingIsScopedToTheConfiguredIdentity(t *testing.T) {
	c := transformedTemplate(t)
	senders := 0
	for _, id := range c.ofType("AWS::Lambda::Function") {
		sts, err := c.grants(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			for _, a := range s.Action {
				if !strings.HasPrefix(strings.ToLower(a), "ses:") {
					continue
				}
				if a != "ses:SendEmail" {
					t.Errorf("%s is granted %s: only ses:SendEmail is needed", id, a)
					continue
				}
				senders++
				for _, r := range s.Resource {
					txt := jsonText(r)
					switch {
					case r == "*":
						t.Errorf("%s: ses:SendEmail on \"*\"", id)
					case strings.Contains(txt, `"Fn::If":["InSesSandbox"`):
					case !strings.Contains(txt, `{"Ref":"SenderIdentity"}`):
						t.Errorf("%s: ses:SendEmail on %s, not the SenderIdentity parameter's identity", id, txt)
					}
				}
			}
		}
	}
	if senders == 0 {
		t.Fatal("no function may send e-mail")
	}
}
