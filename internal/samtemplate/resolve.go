package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Env is what the local stack knows about its pretend AWS account.
type Env struct {
	Region, Account, StackName string
	// Parameters override the template's parameter defaults.
	Parameters map[string]string
}

// FunctionARN is the ARN a function gets in env.
func (e Env) FunctionARN(logicalID string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", e.Region, e.Account, logicalID)
}

// Parameter returns a parameter's value: the override, else the default.
func (t *Template) Parameter(name string, env Env) (string, error) {
	if v, ok := env.Parameters[name]; ok {
		return v, nil
	}
	p, ok := t.Parameters[name].(map[string]any)
	if !ok {
		return "", fmt.Errorf("template has no parameter %s", name)
	}
	d, ok := p["Default"]
	if !ok {
		return "", fmt.Errorf("parameter %s has no default; set it", name)
	}
	return fmt.Sprint(d), nil
}

// Resolve evaluates the intrinsics the local stack needs: Ref to a
// parameter or pseudo parameter, GetAtt <Function>.Arn, Sub over those.
func (t *Template) Resolve(v any, env Env) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			switch ref {
			case "AWS::Region":
				return env.Region, nil
			case "AWS::AccountId":
				return env.Account, nil
			case "AWS::StackName":
				return env.StackName, nil
			case "AWS::Partition":
				return "aws", nil
			}
			if _, ok := t.Parameters[ref]; ok {
				return t.Parameter(ref, env)
			}
			if r, ok := t.Resources[ref]; ok && r.Type == "AWS::Serverless::Function" {
				return ref, nil
			}
			return "", fmt.Errorf("cannot resolve Ref %s locally", ref)
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			id, attr := fmt.Sprint(ga[0]), fmt.Sprint(ga[1])
			if r, ok := t.Resources[id]; ok && r.Type == "AWS::Serverless::Function" && attr == "Arn" {
				return env.FunctionARN(id), nil
			}
			return "", fmt.Errorf("cannot resolve GetAtt %s.%s locally", id, attr)
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			var err error
			out := subRe.ReplaceAllStringFunc(sub, func(m string) string {
				name := m[2 : len(m)-1]
				var r string
				if strings.Contains(name, ".") {
					parts := strings.SplitN(name, ".", 2)
					r, err = t.Resolve(map[string]any{"Fn::GetAtt": []any{parts[0], parts[1]}}, env)
				} else {
					r, err = t.Resolve(map[string]any{"Ref": name}, env)
				}
				return r
			})
			return out, err
		}
	}
	return "", fmt.Errorf("cannot resolve %v locally", v)
}

var subRe = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// placeholderRe finds ${Name} placeholders in an ASL definition.
var placeholderRe = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Placeholders lists the ${X} names used in a definition, sorted.
func Placeholders(def string) []string {
	seen := map[string]bool{}
	for _, m := range placeholderRe.FindAllStringSubmatch(def, -1) {
		seen[m[1]] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Definition reads a state machine's ASL file and fills its placeholders
// from DefinitionSubstitutions, as CloudFormation does.
func (t *Template) Definition(sm StateMachine, env Env) (string, error) {
	b, err := os.ReadFile(filepath.Join(t.Dir, sm.DefinitionURI))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", sm.DefinitionURI, err)
	}
	values := map[string]string{}
	for k, v := range sm.Substitutions {
		if values[k], err = t.Resolve(v, env); err != nil {
			return "", fmt.Errorf("substitution %s: %w", k, err)
		}
	}
	var missing []string
	def := placeholderRe.ReplaceAllStringFunc(string(b), func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: no DefinitionSubstitutions for %s", sm.DefinitionURI, strings.Join(missing, ", "))
	}
	return def, nil
}

// StateMachineName is the name the template gives a state machine.
func (t *Template) StateMachineName(sm StateMachine, env Env) (string, error) {
	r := t.Resources[sm.LogicalID]
	if n, ok := r.Properties["Name"]; ok {
		return t.Resolve(n, env)
	}
	return sm.LogicalID, nil
}
