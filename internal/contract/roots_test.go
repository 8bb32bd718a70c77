package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/secretsim"
	"github.com/tangkal/tangkal/internal/testenv"
	"github.com/tangkal/tangkal/internal/wiring"
)

// The deployment the comparison assumes: Slack switched on, as an operator
// does it with the template's parameters.
var deployedParameters = map[string]string{
	"SenderEmail": "tangkal@kp2mi.go.id",
}

// deployedAgencies is the agencies' configuration an operator keeps in SSM
// next to the platforms' (ConfigParameterPath + "agencies").
const deployedAgencies = `{"agencies":[{"id":"kp2mi","name_id":"K","name_en":"K","channels":{"email":true,"slack_channel":"C0TAKEDOWNS"},
	"members":[{"email":"approver@kp2mi.go.id","slack":"U0SAMPLE","role":"approver"}]}],
	"policies":[{"name":"p","require":["kp2mi"],"tiers":[{"role":"approver","window_seconds":3600,"reminder_seconds":1800}]}]}`

// TestCompositionRootsAgree builds the handlers' dependencies both ways: as
// a Lambda function does (wiring.FromEnv, under the environment
// template.yaml gives the functions, with Secrets Manager played by a
// stand-in that speaks its protocol) and as the local stack does. A
// dependency one root sets and the other leaves empty is a feature that
// works in one place only.
func TestCompositionRootsAgree(t *testing.T) {
	tpl := loadTemplate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localstack.Start(ctx, localstack.Config{DynamoDBEndpoint: testenv.Endpoint(t), Table: testenv.UniqueName(t, "roots")})
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(st.Close)

	sm := httptest.NewServer(secretsManagerStandIn(t))
	t.Cleanup(sm.Close)
	for k, v := range functionEnvironment(t, tpl) {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	// The platform configuration kept in SSM: the bundled file, larger
	// than the 4 KiB an environment variable could hold.
	bundled, err := os.ReadFile(filepath.Join(tpl.Dir, "data", "platforms.json"))
	if err != nil || len(bundled) <= 4096 {
		t.Fatalf("data/platforms.json: %d bytes, %v", len(bundled), err)
	}
	// Its display name changed there, as an operator changes it.
	kept := strings.Replace(string(bundled), `"display_name": "Facebook"`, `"display_name": "Facebook (from SSM)"`, 1)
	params := ssmStandIn(map[string]string{"/tangkal/config/platforms": kept, "/tangkal/config/agencies": deployedAgencies})
	t.Cleanup(params.Close)
	t.Setenv("AWS_ENDPOINT_URL_SSM", params.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "sample")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sample")
	t.Setenv("AWS_REGION", localstack.Region)
	deployed, err := wiring.FromEnv(ctx)
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}

	dv, lv := reflect.ValueOf(deployed), reflect.ValueOf(st.Deps)
	for i := 0; i < dv.NumField(); i++ {
		name := dv.Type().Field(i).Name
		inAWS, locally := isSet(dv.Field(i)), isSet(lv.Field(i))
		switch {
		case locally && !inAWS:
			t.Errorf("Deps.%s: the local stack sets it, wiring.FromEnv leaves it empty (it would not work when deployed)", name)
		case inAWS && !locally:
			t.Errorf("Deps.%s: wiring.FromEnv sets it, the local stack leaves it empty (it cannot be tried locally)", name)
		}
	}
	if a, ok := deployed.Agencies.Agency("kp2mi"); !ok || len(a.Members) != 1 || a.Members[0].Slack != "U0SAMPLE" {
		t.Errorf("FromEnv agencies %+v, want the configuration kept in SSM", deployed.Agencies)
	}
	if p, err := deployed.Platforms.Config.Get("facebook"); err != nil || p.DisplayName != "Facebook (from SSM)" {
		t.Errorf("FromEnv platform facebook %+v (%v): want the configuration kept in SSM", p.DisplayName, err)
	}
}

func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		return v.Len() > 0
	}
	return !v.IsZero()
}

// functionEnvironment is the union of every function's environment in
// template.yaml, resolved as CloudFormation would with deployedParameters:
// resources become sample names, secrets' ARNs the stand-in's.
func functionEnvironment(t *testing.T, tpl *samtemplate.Template) map[string]string {
	t.Helper()
	env := samtemplate.Env{Region: localstack.Region, Account: localstack.Account, StackName: localstack.StackName, Parameters: deployedParameters}
	out := map[string]string{}
	var unresolved []string
	for _, f := range tpl.Functions() {
		for k, v := range f.Environment {
			s, ok := resolveSample(tpl, v, env)
			if !ok {
				unresolved = append(unresolved, fmt.Sprintf("%s.%s = %v", f.LogicalID, k, v))
				continue
			}
			out[k] = s
		}
	}
	sort.Strings(unresolved)
	if len(unresolved) > 0 {
		t.Fatalf("cannot resolve these environment values (teach resolveSample their form):\n%s", strings.Join(unresolved, "\n"))
	}
	return out
}

var subRe = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

func resolveSample(tpl *samtemplate.Template, v any, env samtemplate.Env) (string, bool) {
	if s, err := tpl.Resolve(v, env); err == nil {
		return s, true
	}
	m, _ := v.(map[string]any)
	if ref, ok := m["Ref"].(string); ok {
		if r, ok := tpl.Resources[ref]; ok {
			if r.Type == "AWS::SecretsManager::Secret" {
				return "arn:aws:secretsmanager:" + env.Region + ":" + env.Account + ":secret:" + ref, true
			}
			if r.Type == "AWS::Cognito::UserPool" {
				return env.Region + "_SamplePool", true // what Ref gives: <region>_<id>
			}
			return "sample-" + strings.ToLower(ref), true
		}
	}
	if sub, ok := m["Fn::Sub"].(string); ok {
		if strings.Contains(sub, "{{resolve:secretsmanager:") {
			return "sample-secret-value-resolved-at-deploy-time-0123456789", true // a dynamic reference, resolved at deploy time
		}
		return subRe.ReplaceAllStringFunc(sub, func(ref string) string {
			name := ref[2 : len(ref)-1]
			if name == "AWS::URLSuffix" {
				return "amazonaws.com"
			}
			if s, ok := resolveSample(tpl, map[string]any{"Ref": name}, env); ok {
				return s
			}
			return "sample"
		}), true
	}
	if args, ok := m["Fn::Join"].([]any); ok && len(args) == 2 {
		sep, _ := args[0].(string)
		if ref, ok := args[1].(map[string]any)["Ref"].(string); ok {
			if s, err := tpl.Parameter(ref, env); err == nil {
				return strings.Join(strings.Split(s, ","), sep), true
			}
		}
	}
	if args, ok := m["Fn::If"].([]any); ok && len(args) == 3 {
		return resolveSample(tpl, args[2], env)
	}
	return "", false
}

// secretsManagerStandIn answers as Secrets Manager does (the local
// stack's stand-in): the Slack app's keys for every secret asked, which
// are also long enough for every HMAC key.
func secretsManagerStandIn(t *testing.T) http.Handler {
	sm := secretsim.New(nil)
	sm.Fallback = func(string) (string, bool) {
		return `{"signing_secret": "sample-signing-secret", "bot_token": "xoxb-sample"}`, true
	}
	return sm
}

// ssmStandIn answers GetParameter as SSM does (JSON 1.1, AmazonSSM.*).
func ssmStandIn(params map[string]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		v, ok := params[in.Name]
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || !ok {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"__type": "ParameterNotFound", "message": in.Name})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": in.Name, "Value": v, "Type": "String", "Version": 1}})
	}))
}

// TestFunctionsLinkNoLocalMachinery: what runs in Lambda links neither the
// template parser nor the local stack or test support.
func TestFunctionsLinkNoLocalMachinery(t *testing.T) {
	tpl := loadTemplate(t)
	cmd := exec.Command("go", "list", "-deps", "./functions/...")
	cmd.Dir = tpl.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"/internal/samtemplate", "/internal/testenv", "/internal/dynamolocal", "/internal/localstack", "/internal/localapi", "/internal/sfnlocal", "/internal/platformsim", "/internal/secretsim"} {
			if strings.HasSuffix(pkg, banned) {
				t.Errorf("the functions link %s", pkg)
			}
		}
	}
}
