package asl

import (
	"errors"
	"strings"
	"testing"
)

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// canon re-encodes a JSON text so texts compare independent of spacing.
func canon(t testing.TB, s string) string {
	t.Helper()
	return jsonOf(t, mustDecode(t, s))
}

func mustParse(t testing.TB, def string) *Definition {
	t.Helper()
	d, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

// oneState parses a machine made of a single state named "S" (plus an end
// state "E" when the state needs a Next).
func oneState(t testing.TB, state string) *State {
	t.Helper()
	end := ""
	if strings.Contains(state, `"E"`) {
		end = `,"E":{"Type":"Succeed"}`
	}
	d := mustParse(t, `{"StartAt":"S","States":{"S":`+state+end+`}}`)
	return d.States["S"]
}

func statesErrName(err error) string {
	var se *StatesError
	if errors.As(err, &se) {
		return se.Name
	}
	return ""
}
