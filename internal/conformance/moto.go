package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
)

// MotoResult is one line of moto_runner.py's output.
type MotoResult struct {
	Name string `json:"name"`
	// Skipped says why moto did not run the case (it needs Lambda).
	Skipped string `json:"skipped"`
	Result
}

// RunMoto runs moto_runner.py on the cases directory with python and
// returns its results by case name.
func RunMoto(ctx context.Context, python, script, casesDir string) (map[string]MotoResult, error) {
	cmd := exec.CommandContext(ctx, python, script, casesDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tail := stderr.Bytes()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return nil, fmt.Errorf("run %s: %w\n%s", script, err, tail)
	}
	return ReadMotoResults(&stdout)
}

// ReadMotoResults parses moto_runner.py's JSON lines.
func ReadMotoResults(r io.Reader) (map[string]MotoResult, error) {
	out := map[string]MotoResult{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m MotoResult
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("moto results line %d: %w", line, err)
		}
		if m.Name == "" {
			return nil, fmt.Errorf("moto results line %d: no case name", line)
		}
		if m.States == nil {
			m.States = []string{}
		}
		out[m.Name] = m
	}
	return out, sc.Err()
}
