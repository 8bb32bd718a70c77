package deploycheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/tangkal/tangkal/internal/samtemplate"
)

// RequireEnv makes a missing SAM translator a failure instead of a skip
// (`make lint` sets it).
const RequireEnv = "TANGKAL_REQUIRE_SAM_TRANSLATOR"

// cfn is the transformed template: plain CloudFormation.
type cfn struct {
	Parameters map[string]map[string]any `json:"Parameters"`
	Conditions map[string]any            `json:"Conditions"`
	Resources  map[string]resource       `json:"Resources"`
	dir        string
}

type resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	Condition           string         `json:"Condition"`
	DependsOn           any            `json:"DependsOn"`
}

var (
	transformOnce sync.Once
	transformed   *cfn
	transformErr  error
	transformSkip string
)

// transformedTemplate runs infra/samtransform.py once per test binary.
func transformedTemplate(t *testing.T) *cfn {
	t.Helper()
	transformOnce.Do(func() {
		path, err := samtemplate.Find(".")
		if err != nil {
			transformErr = err
			return
		}
		dir := filepath.Dir(path)
		if err := exec.Command("python3", "-c", "import samtranslator").Run(); err != nil {
			transformSkip = "python3 with aws-sam-translator not found (pip install cfn-lint): " + err.Error()
			return
		}
		cmd := exec.Command("python3", filepath.Join(dir, "infra", "samtransform.py"), path)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			transformErr = err
			return
		}
		var c cfn
		if transformErr = json.Unmarshal(out, &c); transformErr == nil {
			c.dir = dir
			transformed = &c
		}
	})
	if transformSkip != "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatal(transformSkip)
		}
		t.Skip(transformSkip)
	}
	if transformErr != nil {
		t.Fatalf("SAM transform of template.yaml: %v", transformErr)
	}
	return transformed
}

// ofType lists the logical ids of resources of a type.
func (c *cfn) ofType(typ string) []string {
	var ids []string
	for id, r := range c.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
