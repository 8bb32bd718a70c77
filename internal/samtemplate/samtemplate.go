// Package samtemplate reads template.yaml, the single description of what
// tangkal runs, so the local stack and the contract tests derive functions,
// routes, stream sources, tables and state machines from it rather than from
// a second list.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed SAM template.
type Template struct {
	// Dir is the folder holding template.yaml; relative URIs resolve against it.
	Dir        string
	Globals    map[string]any
	Parameters map[string]any
	Resources  map[string]Resource
}

// Resource is one entry of Resources.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Function is an AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Dir is the Go package that holds its main, relative to the template:
	// functions/<logical id without "Function", lower-case>.
	Dir    string
	Events []Event
	// Environment is the merged Globals and function environment, unresolved.
	Environment map[string]any
	// Timeout in seconds (the function's, else Globals'; 0 if neither).
	Timeout int
}

// Event is one event source of a function.
type Event struct {
	Name   string
	Type   string // HttpApi, DynamoDB, ...
	Method string // HttpApi
	Path   string // HttpApi
	// Public is true for an HttpApi route with Auth.Authorizer NONE.
	Public     bool
	Properties map[string]any
}

// StateMachine is an AWS::Serverless::StateMachine.
type StateMachine struct {
	LogicalID     string
	DefinitionURI string // relative to the template's folder
	Substitutions map[string]any
	Type          string
}

// Find walks up from dir to the first folder holding template.yaml.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find template: %w", err)
	}
	for {
		p := filepath.Join(abs, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", errors.New("template.yaml not found in this folder or its parents")
		}
		abs = parent
	}
}

// Load parses the template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	t.Dir = filepath.Dir(path)
	return t, nil
}

// LoadNearest finds template.yaml from the working folder upwards and loads it.
func LoadNearest() (*Template, error) {
	p, err := Find(".")
	if err != nil {
		return nil, err
	}
	return Load(p)
}

// Parse reads a template, turning short-form intrinsics (!Ref, !GetAtt, !Sub,
// ...) into their long forms ({"Ref": ...}, {"Fn::GetAtt": ...}).
func Parse(b []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	if len(root.Content) == 0 {
		return nil, errors.New("empty template")
	}
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	t := &Template{Resources: map[string]Resource{}}
	t.Globals, _ = doc["Globals"].(map[string]any)
	t.Parameters, _ = doc["Parameters"].(map[string]any)
	res, _ := doc["Resources"].(map[string]any)
	for id, raw := range res {
		m, _ := raw.(map[string]any)
		r := Resource{}
		r.Type, _ = m["Type"].(string)
		r.Properties, _ = m["Properties"].(map[string]any)
		r.Metadata, _ = m["Metadata"].(map[string]any)
		if r.Properties == nil {
			r.Properties = map[string]any{}
		}
		t.Resources[id] = r
	}
	return t, nil
}

func convert(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
		} else {
			v = n.Value
		}
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := strings.TrimPrefix(n.Tag, "!")
		if name == "GetAtt" {
			if s, ok := v.(string); ok {
				parts := strings.SplitN(s, ".", 2)
				l := make([]any, len(parts))
				for i, p := range parts {
					l[i] = p
				}
				v = l
			}
		}
		if name == "Ref" || name == "Condition" {
			return map[string]any{name: v}, nil
		}
		return map[string]any{"Fn::" + name: v}, nil
	}
	return v, nil
}

// Functions lists the template's Lambda functions, sorted by logical id.
func (t *Template) Functions() []Function {
	var out []Function
	globalEnv := map[string]any{}
	if g, ok := t.Globals["Function"].(map[string]any); ok {
		globalEnv = envVars(g)
	}
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		f := Function{LogicalID: id, Dir: FunctionDir(id), Environment: map[string]any{}}
		for k, v := range globalEnv {
			f.Environment[k] = v
		}
		for k, v := range envVars(r.Properties) {
			f.Environment[k] = v
		}
		if g, ok := t.Globals["Function"].(map[string]any); ok {
			if n, ok := g["Timeout"].(int); ok {
				f.Timeout = n
			}
		}
		if n, ok := r.Properties["Timeout"].(int); ok {
			f.Timeout = n
		}
		evs, _ := r.Properties["Events"].(map[string]any)
		for name, raw := range evs {
			m, _ := raw.(map[string]any)
			e := Event{Name: name}
			e.Type, _ = m["Type"].(string)
			e.Properties, _ = m["Properties"].(map[string]any)
			if e.Properties == nil {
				e.Properties = map[string]any{}
			}
			e.Method, _ = e.Properties["Method"].(string)
			e.Path, _ = e.Properties["Path"].(string)
			if auth, ok := e.Properties["Auth"].(map[string]any); ok {
				e.Public = auth["Authorizer"] == "NONE"
			}
			f.Events = append(f.Events, e)
		}
		sort.Slice(f.Events, func(i, j int) bool { return f.Events[i].Name < f.Events[j].Name })
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// FunctionDir maps a logical id to its Go package folder:
// SubmitReportFunction → functions/submitreport.
func FunctionDir(logicalID string) string {
	return "functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

func envVars(props map[string]any) map[string]any {
	env, _ := props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

// StateMachines lists the template's state machines, sorted by logical id.
func (t *Template) StateMachines() []StateMachine {
	var out []StateMachine
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::StateMachine" {
			continue
		}
		sm := StateMachine{LogicalID: id}
		sm.DefinitionURI, _ = r.Properties["DefinitionUri"].(string)
		sm.Substitutions, _ = r.Properties["DefinitionSubstitutions"].(map[string]any)
		sm.Type, _ = r.Properties["Type"].(string)
		out = append(out, sm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}
