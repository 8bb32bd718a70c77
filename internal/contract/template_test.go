package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tangkal/tangkal/internal/api"
	"github.com/tangkal/tangkal/internal/approval"
	"github.com/tangkal/tangkal/internal/asl"
	"github.com/tangkal/tangkal/internal/samtemplate"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
	"github.com/tangkal/tangkal/internal/wiring"
)

var env = samtemplate.Env{Region: "ap-southeast-3", Account: "000000000000", StackName: "tangkal"}

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// handlerConstructors reads wiring.Handlers' map literal: logical id →
// the wiring constructor that builds its handler.
func handlerConstructors(t *testing.T, root string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join(root, "internal", "wiring"), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Name.Name != "Handlers" || fn.Recv != nil {
					continue
				}
				ast.Inspect(fn, func(n ast.Node) bool {
					kv, ok := n.(*ast.KeyValueExpr)
					if !ok {
						return true
					}
					key, ok1 := kv.Key.(*ast.BasicLit)
					call, ok2 := kv.Value.(*ast.CallExpr)
					if ok1 && ok2 {
						if id, ok := call.Fun.(*ast.Ident); ok {
							s, _ := strconv.Unquote(key.Value)
							out[s] = id.Name
						}
					}
					return true
				})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("could not read the map literal of wiring.Handlers")
	}
	return out
}

// mainCalls reads a function's main.go: the wiring constructors it calls
// and whether it starts the Lambda runtime.
func mainCalls(t *testing.T, path string) (ctors []string, starts bool, pkg string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				switch {
				case x.Name == "wiring" && sel.Sel.Name != "MustFromEnv" && sel.Sel.Name != "FromEnv":
					ctors = append(ctors, sel.Sel.Name)
				case x.Name == "lambda" && sel.Sel.Name == "Start":
					starts = true
				}
			}
		}
		return true
	})
	return ctors, starts, f.Name.Name
}

// invokedByStateMachines lists the functions a state machine's
// DefinitionSubstitutions refer to.
func invokedByStateMachines(tpl *samtemplate.Template) map[string]string {
	out := map[string]string{} // function → substitution key
	for _, sm := range tpl.StateMachines() {
		for key, v := range sm.Substitutions {
			if m, ok := v.(map[string]any); ok {
				if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
					out[ga[0].(string)] = key
				}
			}
		}
	}
	return out
}

func TestEveryFunctionHasItsFolderMainAndHandler(t *testing.T) {
	tpl := loadTemplate(t)
	ctors := handlerConstructors(t, tpl.Dir)
	handlers := wiring.Handlers(wiring.Deps{})
	invoked := invokedByStateMachines(tpl)
	fns := tpl.Functions()
	if len(fns) < 8 {
		t.Fatalf("template has %d functions; expected the whole workflow", len(fns))
	}
	for _, f := range fns {
		t.Run(f.LogicalID, func(t *testing.T) {
			if f.Dir != samtemplate.FunctionDir(f.LogicalID) {
				t.Fatalf("Dir %s, want %s", f.Dir, samtemplate.FunctionDir(f.LogicalID))
			}
			r := tpl.Resources[f.LogicalID]
			if r.Metadata["BuildMethod"] != "makefile" || r.Properties["CodeUri"] != "." {
				t.Errorf("Metadata.BuildMethod %v, CodeUri %v: want makefile and . (the Makefile's build-%s rule builds it)", r.Metadata["BuildMethod"], r.Properties["CodeUri"], f.LogicalID)
			}
			main := filepath.Join(tpl.Dir, f.Dir, "main.go")
			called, starts, pkg := mainCalls(t, main)
			want, ok := ctors[f.LogicalID]
			if !ok {
				t.Fatalf("wiring.Handlers has no entry %q", f.LogicalID)
			}
			if _, ok := handlers[f.LogicalID]; !ok {
				t.Fatalf("wiring.Handlers(d) has no handler for %s", f.LogicalID)
			}
			if pkg != "main" || !starts || !slices.Contains(called, want) {
				t.Fatalf("%s: package %s, lambda.Start %v, wiring calls %v; want package main starting wiring.%s (as wiring.Handlers does)", main, pkg, starts, called, want)
			}
			if len(called) != 1 {
				t.Fatalf("%s builds %v; one function, one handler", main, called)
			}
			if len(f.Events) == 0 && invoked[f.LogicalID] == "" {
				t.Fatalf("%s has no event source and no state machine invokes it", f.LogicalID)
			}
		})
	}
	// And back: no folder and no handler without a function in the template.
	dirs, _ := filepath.Glob(filepath.Join(tpl.Dir, "functions", "*"))
	inTemplate := map[string]bool{}
	for _, f := range fns {
		inTemplate[f.Dir] = true
	}
	for _, d := range dirs {
		if rel, _ := filepath.Rel(tpl.Dir, d); !inTemplate[filepath.ToSlash(rel)] {
			t.Errorf("folder %s has no function in template.yaml", rel)
		}
	}
	for id := range handlers {
		if tpl.Resources[id].Type != "AWS::Serverless::Function" {
			t.Errorf("wiring.Handlers has %s, which template.yaml does not define", id)
		}
	}
}

// apiHandler is the shape of every HTTP API function's handler.
type apiHandler = func(context.Context, api.Request) (api.Response, error)

// openData are the public routes whose answer is public by nature (counts
// without personal data, the bundles' public key): they answer anyone.
// Every other public route checks a signature of its own.
var openData = map[string]bool{"GET /exports/transparency": true, "GET /exports/awareness": true, "GET /exports/bundle-key": true}

func TestEveryRouteIsDispatchedByItsHandler(t *testing.T) {
	tpl := loadTemplate(t)
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "contract")
	if err := testenv.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	links, err := approval.NewSigner([]byte(strings.Repeat("k", 32)), "https://api.example")
	if err != nil {
		t.Fatal(err)
	}
	handlers := wiring.Handlers(wiring.Deps{Table: store.Table{DB: db, Name: name}, Links: links, ConsoleKey: []byte(strings.Repeat("c", 32))})
	routes := 0
	for _, f := range tpl.Functions() {
		for _, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			routes++
			key := e.Method + " " + e.Path
			t.Run(key, func(t *testing.T) {
				h, ok := handlers[f.LogicalID].(apiHandler)
				if !ok {
					t.Fatalf("%s's handler is %T, not an HTTP API handler", f.LogicalID, handlers[f.LogicalID])
				}
				req := api.Request{Version: "2.0", RouteKey: key, RawPath: e.Path, PathParameters: map[string]string{}}
				req.RequestContext.HTTP.Method = e.Method
				req.RequestContext.RouteKey = key
				for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(e.Path, -1) {
					req.PathParameters[m[1]] = "x"
				}
				resp, err := h(context.Background(), req)
				if err != nil {
					t.Fatalf("handler error: %v", err)
				}
				// The console refuses a browser without a session by sending it
				// to sign in.
				toSignIn := resp.StatusCode == 303 && strings.HasPrefix(resp.Headers["Location"], "/console/")
				switch {
				case e.Public && toSignIn && strings.HasPrefix(e.Path, "/console"):
				case !e.Public && resp.StatusCode != 401:
					t.Fatalf("%s without a token = %d %s; want 401 (the route is dispatched and checks the caller)", key, resp.StatusCode, resp.Body)
				case e.Public && openData[key] && resp.StatusCode != 200 && resp.StatusCode != 404:
					t.Fatalf("open data %s without credentials = %d %s; want 200 (or 404: not configured)", key, resp.StatusCode, resp.Body)
				case e.Public && !openData[key] && (resp.StatusCode == 404 && strings.Contains(resp.Body, "no route") || resp.StatusCode >= 500 || resp.StatusCode < 400):
					t.Fatalf("public %s without credentials = %d %s; want a refusal from its handler", key, resp.StatusCode, resp.Body)
				}
			})
		}
	}
	if routes < 9 {
		t.Fatalf("only %d routes in template.yaml", routes)
	}
	// A route the template does not have is not served by accident.
	h := handlers["CasesApiFunction"].(apiHandler)
	resp, _ := h(context.Background(), api.Request{RouteKey: "DELETE /cases/{id}"})
	if resp.StatusCode != 404 {
		t.Fatalf("unrouted key answered %d", resp.StatusCode)
	}
}

func TestStateMachineSubstitutionsAndTasks(t *testing.T) {
	tpl := loadTemplate(t)
	sms := tpl.StateMachines()
	if len(sms) == 0 {
		t.Fatal("no state machine in template.yaml")
	}
	handlers := wiring.Handlers(wiring.Deps{})
	for _, sm := range sms {
		t.Run(sm.LogicalID, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(tpl.Dir, sm.DefinitionURI))
			if err != nil {
				t.Fatal(err)
			}
			used := samtemplate.Placeholders(string(raw))
			var keys []string
			for k := range sm.Substitutions {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, u := range used {
				if !slices.Contains(keys, u) {
					t.Errorf("%s uses ${%s}, which DefinitionSubstitutions lacks", sm.DefinitionURI, u)
				}
			}
			for _, k := range keys {
				if !slices.Contains(used, k) {
					t.Errorf("DefinitionSubstitutions key %s is not used in %s", k, sm.DefinitionURI)
				}
			}
			if !json.Valid(raw) {
				t.Fatalf("%s is not valid JSON before substitution", sm.DefinitionURI)
			}
			def, err := tpl.Definition(sm, env)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := asl.Parse([]byte(def))
			if err != nil {
				t.Fatalf("asl.Parse after substitution: %v", err)
			}
			// Every Task calls a function of the template, with a payload
			// its handler's input type accepts, and selects only fields its
			// output has.
			var rawDef struct {
				States map[string]json.RawMessage
			}
			_ = json.Unmarshal(raw, &rawDef)
			invokes := 0
			for _, st := range allStates(parsed) {
				if st.Type != "Task" {
					continue
				}
				params, _ := st.Parameters.(map[string]any)
				fnArn, _ := params["FunctionName"].(string)
				id := ""
				for _, f := range tpl.Functions() {
					if env.FunctionARN(f.LogicalID) == fnArn {
						id = f.LogicalID
					}
				}
				if id == "" {
					t.Errorf("state %s: FunctionName %q is no function of template.yaml", st.Name, fnArn)
					continue
				}
				invokes++
				// A Lambda that timed out or was throttled, or Lambda's own
				// hiccup, is retried, never sent to a Catch (manual_queue).
				for _, e := range lambdaTransientErrors {
					listed := false
					for _, r := range st.Retriers {
						listed = listed || slices.Contains(r.ErrorEquals, e)
					}
					if !listed {
						t.Errorf("state %s: no Retry lists %s", st.Name, e)
					}
				}
				if !hasInvokePolicy(tpl, sm.LogicalID, id) {
					t.Errorf("state %s calls %s, but %s has no LambdaInvokePolicy for it", st.Name, id, sm.LogicalID)
				}
				in, out := handlerTypes(t, handlers[id])
				payload, _ := params["Payload"].(map[string]any)
				for k := range payload {
					if f := strings.TrimSuffix(k, ".$"); !slices.Contains(jsonFields(in), f) {
						t.Errorf("state %s sends %q to %s, whose input %s has no such field (has %v)", st.Name, f, id, in, jsonFields(in))
					}
				}
				sel, _ := st.ResultSelector.(map[string]any)
				for _, v := range sel {
					p, _ := v.(string)
					if f, ok := strings.CutPrefix(p, "$.Payload."); ok && !slices.Contains(jsonFields(out), f) {
						t.Errorf("state %s selects %q from %s, whose output %s has no such field", st.Name, p, id, out)
					}
				}
			}
			if invokes == 0 {
				t.Fatal("no Task invokes a function")
			}
		})
	}
}

// lambdaTransientErrors are the errors every Lambda task retries by name:
// a function past its timeout (Sandbox.Timedout) and Lambda's service errors.
var lambdaTransientErrors = []string{"Sandbox.Timedout", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

func allStates(d *asl.Definition) []*asl.State {
	var out []*asl.State
	for _, s := range d.States {
		out = append(out, s)
		for _, b := range s.Branches {
			out = append(out, allStates(b)...)
		}
		if s.ItemProcessor != nil {
			out = append(out, allStates(s.ItemProcessor)...)
		}
	}
	return out
}

func hasInvokePolicy(tpl *samtemplate.Template, sm, fn string) bool {
	pols, _ := tpl.Resources[sm].Properties["Policies"].([]any)
	for _, p := range pols {
		m, _ := p.(map[string]any)
		inv, _ := m["LambdaInvokePolicy"].(map[string]any)
		if ref, _ := inv["FunctionName"].(map[string]any); ref != nil && ref["Ref"] == fn {
			return true
		}
	}
	return false
}

// handlerTypes are a Lambda handler's event and result types.
func handlerTypes(t *testing.T, h any) (reflect.Type, reflect.Type) {
	t.Helper()
	ft := reflect.TypeOf(h)
	if ft == nil || ft.Kind() != reflect.Func || ft.NumIn() != 2 || ft.NumOut() != 2 {
		t.Fatalf("handler %T is not func(ctx, in) (out, error)", h)
	}
	return ft.In(1), ft.Out(0)
}

func jsonFields(t reflect.Type) []string {
	var out []string
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...) // promoted fields
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

func TestMakefileBuildsEachFunctionForSAM(t *testing.T) {
	tpl := loadTemplate(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			// What `sam build` runs for BuildMethod: makefile, as a dry run.
			cmd := exec.Command("make", "-s", "-n", "build-"+f.LogicalID, "ARTIFACTS_DIR=/tmp/sam-artifacts")
			cmd.Dir = tpl.Dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n build-%s: %v\n%s", f.LogicalID, err, out)
			}
			line := string(out)
			for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc", "-trimpath", "-o /tmp/sam-artifacts/bootstrap"} {
				if !strings.Contains(line, want) {
					t.Errorf("build-%s does not use %s: %s", f.LogicalID, want, line)
				}
			}
			m := regexp.MustCompile(`\./functions/[^\s]+`).FindString(line)
			if m == "" {
				t.Fatalf("build-%s builds no ./functions package: %s", f.LogicalID, line)
			}
			if pkg := strings.TrimPrefix(m, "./"); pkg != f.Dir {
				t.Errorf("build-%s builds %s, but the function's main is in %s", f.LogicalID, pkg, f.Dir)
			}
			if _, err := os.Stat(filepath.Join(tpl.Dir, m, "main.go")); err != nil {
				t.Errorf("build-%s builds %s, which has no main.go: %v", f.LogicalID, m, err)
			}
		})
	}
}

// Secrets reach functions by name only (<NAME>_ARN), never as values
// resolved into their environment at deploy time, where the console and
// GetFunctionConfiguration show them and a rotation needs a redeploy; each
// function may read exactly the secrets it names.
func TestSecretsReachFunctionsByNameOnly(t *testing.T) {
	tpl := loadTemplate(t)
	for _, f := range tpl.Functions() {
		granted := map[string]bool{}
		pols, _ := tpl.Resources[f.LogicalID].Properties["Policies"].([]any)
		for _, p := range pols {
			m, _ := p.(map[string]any)
			g, _ := m["AWSSecretsManagerGetSecretValuePolicy"].(map[string]any)
			arn, _ := g["SecretArn"].(map[string]any)
			if ref, ok := arn["Ref"].(string); ok {
				granted[ref] = true
			}
		}
		named := map[string]bool{}
		for k, v := range f.Environment {
			if strings.Contains(fmt.Sprint(v), "resolve:secretsmanager") {
				t.Errorf("%s.%s resolves a secret into the environment", f.LogicalID, k)
			}
			m, _ := v.(map[string]any)
			ref, _ := m["Ref"].(string)
			if tpl.Resources[ref].Type != "AWS::SecretsManager::Secret" {
				continue
			}
			if !strings.HasSuffix(k, "_ARN") {
				t.Errorf("%s.%s names secret %s but is not a *_ARN variable", f.LogicalID, k, ref)
			}
			named[ref] = true
			if !granted[ref] {
				t.Errorf("%s reads secret %s (%s) without secretsmanager:GetSecretValue on it", f.LogicalID, ref, k)
			}
		}
		for ref := range granted {
			if !named[ref] {
				t.Errorf("%s may read secret %s, which its environment does not name", f.LogicalID, ref)
			}
		}
	}
}
