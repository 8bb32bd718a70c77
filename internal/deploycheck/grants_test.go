package deploycheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tangkal/tangkal/internal/awsenv"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/wiring"
)

// servicePrefix is each SDK service package's IAM prefix.
var servicePrefix = map[string]string{
	"dynamodb": "dynamodb", "dynamodbstreams": "dynamodb", "sfn": "states", "sesv2": "ses", "s3": "s3",
	"kms": "kms", "secretsmanager": "secretsmanager", "ssm": "ssm", "sqs": "sqs", "sns": "sns",
	"cloudwatch": "cloudwatch", "sts": "sts", "lambda": "lambda",
}

// iamActions are the operations whose IAM actions are not prefix:Name.
var iamActions = map[string][]string{
	// A transaction is authorised item by item, by the item's own action.
	"dynamodb.TransactWriteItems": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"},
	"dynamodb.TransactGetItems":   {"dynamodb:GetItem"},
	"s3.ListObjectsV2":            {"s3:ListBucket"},
	"s3.ListObjects":              {"s3:ListBucket"},
	"s3.HeadObject":               {"s3:GetObject"},
	"s3.HeadBucket":               {"s3:ListBucket"},
	"s3.CopyObject":               {"s3:GetObject", "s3:PutObject"},
	"s3.DeleteObjects":            {"s3:DeleteObject"},
	"s3.ListObjectVersions":       {"s3:ListBucketVersions"},
	"lambda.Invoke":               {"lambda:InvokeFunction"},
}

// taskTokenActions have no resource type: AWS documents them on "*", and a
// grant on the state machine's ARN does not authorise them.
var taskTokenActions = map[string]bool{"states:SendTaskSuccess": true, "states:SendTaskFailure": true, "states:SendTaskHeartbeat": true}

func actionsOf(op operation) ([]string, error) {
	if a, ok := iamActions[op.String()]; ok {
		return a, nil
	}
	p, ok := servicePrefix[op.Service]
	if !ok {
		return nil, fmt.Errorf("no IAM prefix known for SDK service %q: add it to servicePrefix", op.Service)
	}
	return []string{p + ":" + op.Name}, nil
}

// configuredBy are the services whose every call acts on a resource a
// variable names: wiring builds their clients' users (the evidence and
// anchor stores, the anchor's MAC, the secrets read while configuring)
// only when such a variable is set, so a function whose environment sets
// none needs no grant for them, whatever its code could reach.
// TestConfiguredServicesNeedTheirVariable checks that. Calls made while
// configuring (through wiring.FromEnv) must be covered here.
var configuredBy = map[string]*regexp.Regexp{
	"secretsmanager": regexp.MustCompile(`^TANGKAL_\w*SECRETS?_(ARN|ARNS|ID|IDS)$`),
	"s3":             regexp.MustCompile(`^TANGKAL_(EVIDENCE|ANCHOR)_BUCKET$`),
	"kms":            regexp.MustCompile(`^TANGKAL_ANCHOR_KEY_ID$`),
	"lambda":         regexp.MustCompile(`^TANGKAL_INVOKE_SELF$`),
}

// configSourceEnv names where the run-time configuration is kept
// (configstore.SourceEnv): its calls (through internal/configstore) go to
// SSM or to S3 by the value's scheme, and only there.
const configSourceEnv = "TANGKAL_CONFIG_SOURCE"

// configSourceScheme is the scheme of configSourceEnv's value that sends
// configstore's calls to each service.
var configSourceScheme = map[string]string{"ssm": "ssm:", "s3": "s3://"}

// viaConfigStore tells whether a call chain reads the run-time
// configuration.
func viaConfigStore(ch []string) bool {
	for _, f := range ch {
		if strings.Contains(f, "internal/configstore.") {
			return true
		}
	}
	return false
}

// literalPrefix is the literal start of an environment value as the
// template gives it: a string, or the template string of an Fn::Sub.
func literalPrefix(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		switch sub := x["Fn::Sub"].(type) {
		case string:
			return sub
		case []any:
			if len(sub) > 0 {
				s, _ := sub[0].(string)
				return s
			}
		}
	}
	return ""
}

// statement is one IAM policy statement, as the template gives it.
type statement struct {
	Effect   string
	Action   []string
	Resource []any
}

// grants collects the Allow statements of a function's role: inline
// policies, managed policies defined in the template and the AWS managed
// policies SAM attaches (by what they are documented to grant).
func (c *cfn) grants(fnID string) ([]statement, error) {
	fn := c.Resources[fnID]
	roleRef, _ := fn.Properties["Role"].(map[string]any)
	att, _ := roleRef["Fn::GetAtt"].([]any)
	if len(att) != 2 {
		return nil, fmt.Errorf("%s: Role is %v, not a role of this template", fnID, fn.Properties["Role"])
	}
	roleID, _ := att[0].(string)
	role, ok := c.Resources[roleID]
	if !ok || role.Type != "AWS::IAM::Role" {
		return nil, fmt.Errorf("%s: role %s not in the template", fnID, roleID)
	}
	var out []statement
	pols, _ := role.Properties["Policies"].([]any)
	for _, p := range pols {
		pm, _ := p.(map[string]any)
		out = append(out, statements(pm["PolicyDocument"])...)
	}
	arns, _ := role.Properties["ManagedPolicyArns"].([]any)
	for _, a := range arns {
		switch v := a.(type) {
		case string:
			out = append(out, awsManaged[strings.TrimPrefix(v, "arn:aws:iam::aws:policy/")]...)
		case map[string]any:
			if id, ok := v["Ref"].(string); ok && c.Resources[id].Type == "AWS::IAM::ManagedPolicy" {
				out = append(out, statements(c.Resources[id].Properties["PolicyDocument"])...)
			}
		}
	}
	for _, id := range c.ofType("AWS::IAM::Policy") {
		p := c.Resources[id]
		roles, _ := p.Properties["Roles"].([]any)
		for _, r := range roles {
			if m, ok := r.(map[string]any); ok && m["Ref"] == roleID {
				out = append(out, statements(p.Properties["PolicyDocument"])...)
			}
		}
	}
	return out, nil
}

// awsManaged are the AWS managed policies SAM attaches, by their documented
// grants (only the actions; their resources are "*").
var awsManaged = map[string][]statement{
	"service-role/AWSLambdaBasicExecutionRole": {{Effect: "Allow", Action: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []any{"*"}}},
	"AWSXrayWriteOnlyAccess":                   {{Effect: "Allow", Action: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"}, Resource: []any{"*"}}},
	"service-role/AWSLambdaDynamoDBExecutionRole": {{Effect: "Allow", Action: []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
		"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []any{"*"}}},
}

// statements reads a policy document; a statement under Fn::If counts in
// both branches (it is granted in some deployment).
func statements(doc any) []statement {
	d, _ := doc.(map[string]any)
	var out []statement
	var add func(v any)
	add = func(v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if br, ok := m["Fn::If"].([]any); ok && len(br) == 3 {
			add(br[1])
			add(br[2])
			return
		}
		s := statement{Effect: fmt.Sprint(m["Effect"])}
		s.Action = stringsOf(m["Action"])
		switch r := m["Resource"].(type) {
		case []any:
			s.Resource = r
		case nil:
		default:
			s.Resource = []any{r}
		}
		out = append(out, s)
	}
	switch st := d["Statement"].(type) {
	case []any:
		for _, s := range st {
			add(s)
		}
	default:
		add(st)
	}
	return out
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// allows tells whether the statements allow action, and whether one of
// them allows it on "*".
func allows(sts []statement, action string) (granted, onStar bool) {
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); !ok {
				continue
			}
			granted = true
			for _, r := range s.Resource {
				onStar = onStar || r == "*"
			}
		}
	}
	return granted, onStar
}

// environment is a function's variables after the transform (Globals
// merged in).
func (c *cfn) environment(fnID string) map[string]any {
	env, _ := c.Resources[fnID].Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

// missingGrants checks every function of the transformed template against
// the operations its program can reach, and returns what is not granted.
func missingGrants(c *cfn, reached map[string]reach) []string {
	var problems []string
	for _, id := range c.ofType("AWS::Lambda::Function") {
		dir := strings.TrimPrefix(samtemplate.FunctionDir(id), "functions/")
		r, ok := reached[dir]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no program functions/%s was analysed", id, dir))
			continue
		}
		for _, u := range r.Unseen {
			problems = append(problems, fmt.Sprintf("%s calls %s, which calls AWS where the analysis cannot see: teach reach_test.go its operations", id, u))
		}
		sts, err := c.grants(id)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		need := map[operation][]string{}
		configured := func(op operation, ch []string) {
			if scheme, ok := configSourceScheme[op.Service]; ok && viaConfigStore(ch) {
				if v, set := c.environment(id)[configSourceEnv]; set && strings.HasPrefix(literalPrefix(v), scheme) {
					need[op] = append(ch[:len(ch):len(ch)], "(configured by "+configSourceEnv+")")
				}
				return
			}
			pat, ok := configuredBy[op.Service]
			if !ok {
				need[op] = ch
				return
			}
			for name := range c.environment(id) {
				if pat.MatchString(name) {
					need[op] = append(ch[:len(ch):len(ch)], "(configured by "+name+")")
				}
			}
		}
		for op, ch := range r.Handler {
			configured(op, ch)
		}
		for op, ch := range r.Config {
			if _, ok := configuredBy[op.Service]; !ok && !(configSourceScheme[op.Service] != "" && viaConfigStore(ch)) {
				problems = append(problems, fmt.Sprintf("%s: wiring.FromEnv calls %s while configuring (%s); say in configuredBy which variable makes it do so", id, op, strings.Join(ch, " → ")))
				continue
			}
			configured(op, ch)
		}
		for op, ch := range need {
			actions, err := actionsOf(op)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", id, err))
				continue
			}
			for _, a := range actions {
				granted, onStar := allows(sts, a)
				switch {
				case !granted:
					problems = append(problems, fmt.Sprintf("%s calls %s (%s), but its role does not allow %s", id, op, strings.Join(ch, " → "), a))
				case taskTokenActions[a] && !onStar:
					problems = append(problems, fmt.Sprintf("%s calls %s: %s must be allowed on \"*\" (task tokens have no resource type)", id, op, a))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// TestEveryReachableCallIsGranted derives, from each functions/<name>
// program, every AWS SDK operation its code can reach (through its wiring:
// the handler and everything it is handed) and checks that the role SAM
// makes for the function allows it. A new call cannot ship without its
// permission.
func TestEveryReachableCallIsGranted(t *testing.T) {
	c := transformedTemplate(t)
	reached := reachableOperations(t, c.dir)
	for _, p := range missingGrants(c, reached) {
		t.Error(p)
	}
	// What the analysis must see, or it sees nothing: the calls the
	// review found, and the ones each workflow step exists to make.
	for dir, op := range map[string]string{
		"requestapproval": "sfn.SendTaskSuccess", "approvals": "sfn.SendTaskSuccess", "startworkflow": "sfn.StartExecution",
		"sendtakedown": "sesv2.SendEmail", "verifyad": "s3.PutObject", "anchor": "kms.GenerateMac", "casesapi": "dynamodb.Query",
	} {
		found := false
		for o := range reached[dir].Handler {
			found = found || o.String() == op
		}
		if !found {
			t.Errorf("functions/%s: the analysis does not see %s", dir, op)
		}
	}
}

// The check fails when a grant goes: each of these removals from the
// transformed template must be reported.
func TestRemovedGrantsAreReported(t *testing.T) {
	c := transformedTemplate(t)
	reached := reachableOperations(t, c.dir)
	tests := []struct {
		name, role, action string
		narrow             bool // keep the action, on the state machine only
		want               string
	}{
		{"task token", "RequestApprovalFunctionRole", "states:SendTaskSuccess", false, "RequestApprovalFunction calls sfn.SendTaskSuccess"},
		{"task token on the state machine only", "ApprovalsFunctionRole", "states:SendTaskSuccess", true, `states:SendTaskSuccess must be allowed on "*"`},
		{"start", "StartWorkflowFunctionRole", "states:StartExecution", false, "StartWorkflowFunction calls sfn.StartExecution"},
		{"evidence", "VerifyAdFunctionRole", "s3:PutObject", false, "VerifyAdFunction calls s3.PutObject"},
		{"transaction item", "SubmitReportFunctionRole", "dynamodb:ConditionCheckItem", false, "SubmitReportFunction calls dynamodb.TransactWriteItems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mutated := withoutAction(t, c, tt.role, tt.action, tt.narrow)
			got := missingGrants(mutated, reached)
			for _, p := range got {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("removing %s from %s: problems %q, want one containing %q", tt.action, tt.role, got, tt.want)
		})
	}
}

// withoutAction copies the template with action taken out of a role's
// inline policies (or, narrow, restricted to the state machine's ARN).
func withoutAction(t *testing.T, c *cfn, roleID, action string, narrow bool) *cfn {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m cfn
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m.dir = c.dir
	role, ok := m.Resources[roleID]
	if !ok {
		t.Fatalf("no %s", roleID)
	}
	pols, _ := role.Properties["Policies"].([]any)
	changed := false
	for _, p := range pols {
		doc, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
		sts, _ := doc["Statement"].([]any)
		for _, s := range sts {
			sm := s.(map[string]any)
			acts := stringsOf(sm["Action"])
			var keep []any
			for _, a := range acts {
				if a == action {
					changed = true
					if narrow {
						sts = append(sts, map[string]any{"Effect": "Allow", "Action": a, "Resource": map[string]any{"Ref": "TakedownStateMachine"}})
					}
					continue
				}
				keep = append(keep, a)
			}
			sm["Action"] = keep
		}
		doc["Statement"] = sts
	}
	if !changed {
		t.Fatalf("%s has no inline grant of %s to remove", roleID, action)
	}
	return &m
}

// MarshalJSON lets withoutAction copy a template.
func (c cfn) MarshalJSON() ([]byte, error) {
	type plain cfn
	return json.Marshal(plain(c))
}

// TestConfiguredServicesNeedTheirVariable backs configuredBy: with no
// variable matching its patterns, wiring.FromEnv makes no AWS call at all
// and builds nothing that would call S3 or KMS.
func TestConfiguredServicesNeedTheirVariable(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Header.Get("X-Amz-Target")+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"SecretString":"{}","Name":"x","ARN":"x"}`))
	}))
	t.Cleanup(aws.Close)
	t.Setenv("AWS_ENDPOINT_URL", aws.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "sample")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sample")
	t.Setenv("AWS_REGION", "ap-southeast-3")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("TANGKAL_TABLE", "tangkal")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	configure := func(t *testing.T) (wiring.Deps, []string) {
		mu.Lock()
		calls = nil
		mu.Unlock()
		d, err := wiring.FromEnv(ctx)
		if err != nil {
			t.Fatalf("FromEnv: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		return d, calls
	}
	d, got := configure(t)
	if len(got) > 0 {
		t.Fatalf("FromEnv called AWS with no variable asking it to: %v", got)
	}
	if d.Evidence != nil || d.Anchor != nil || d.AnchorMAC != nil {
		t.Fatalf("with no bucket or key configured, FromEnv built evidence %v, anchor %v, MAC %v: S3 and KMS calls would need grants", d.Evidence, d.Anchor, d.AnchorMAC)
	}
	// Not vacuous: the stand-in sees the SDK's calls under this
	// environment, and the stores appear once their variables are set.
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: awssdk.String("x")}); err != nil {
		t.Fatalf("the stand-in does not answer: %v", err)
	}
	mu.Lock()
	n := len(calls)
	mu.Unlock()
	if n == 0 {
		t.Fatal("a Secrets Manager call did not reach the stand-in")
	}
	t.Setenv("TANGKAL_EVIDENCE_BUCKET", "evidence")
	t.Setenv("TANGKAL_ANCHOR_BUCKET", "anchor")
	t.Setenv("TANGKAL_ANCHOR_KEY_ID", "key")
	if d, _ = configure(t); d.Evidence == nil || d.Anchor == nil || d.AnchorMAC == nil {
		t.Fatalf("with bucket and key configured: evidence %v, anchor %v, MAC %v", d.Evidence, d.Anchor, d.AnchorMAC)
	}
}
