package asl

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

type operandType int

const (
	opString operandType = iota
	opNumber
	opBool
	opTimestamp
	opPattern
	opTypeTest // Is*: boolean literal, no Path form
)

var operators = map[string]operandType{
	"StringEquals": opString, "StringLessThan": opString, "StringGreaterThan": opString,
	"StringLessThanEquals": opString, "StringGreaterThanEquals": opString,
	"StringMatches": opPattern,
	"NumericEquals": opNumber, "NumericLessThan": opNumber, "NumericGreaterThan": opNumber,
	"NumericLessThanEquals": opNumber, "NumericGreaterThanEquals": opNumber,
	"BooleanEquals":   opBool,
	"TimestampEquals": opTimestamp, "TimestampLessThan": opTimestamp, "TimestampGreaterThan": opTimestamp,
	"TimestampLessThanEquals": opTimestamp, "TimestampGreaterThanEquals": opTimestamp,
	"IsNull": opTypeTest, "IsPresent": opTypeTest, "IsNumeric": opTypeTest, "IsString": opTypeTest,
	"IsBoolean": opTypeTest, "IsTimestamp": opTypeTest,
}

// operatorOf splits "NumericLessThanPath" into ("NumericLessThan", true).
func operatorOf(key string) (base string, isPath bool, ok bool) {
	if t, found := operators[key]; found {
		return key, false, true
	} else if b, cut := strings.CutSuffix(key, "Path"); cut {
		if t, found = operators[b]; found && t != opTypeTest && t != opPattern {
			return b, true, true
		}
	}
	return "", false, false
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// parseTimestamp parses a timestamp as Step Functions accepts them: RFC 3339
// with an uppercase T and either Z or a numeric offset.
func parseTimestamp(s string) (time.Time, bool) {
	if !timestampRE.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// patternPart is a piece of a StringMatches pattern: literal text or a "*".
type patternPart struct {
	star bool
	text string
}

func compilePattern(s string) ([]patternPart, error) {
	parts := []patternPart{}
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, patternPart{text: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, fmt.Errorf("open escape backslash in pattern %q (only \\* and \\\\ are escapes)", s)
			}
			b.WriteByte(s[i+1])
			i++
		case '*':
			flush()
			parts = append(parts, patternPart{star: true})
		default:
			b.WriteByte(s[i])
		}
	}
	flush()
	return parts, nil
}

func matchPattern(parts []patternPart, s string) bool {
	if len(parts) == 0 {
		return s == ""
	}
	if !parts[0].star {
		if !strings.HasPrefix(s, parts[0].text) {
			return false
		}
		return matchPattern(parts[1:], s[len(parts[0].text):])
	}
	rest := parts[1:]
	for len(rest) > 0 && rest[0].star {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return true
	}
	for i := 0; i <= len(s); i++ {
		if matchPattern(rest, s[i:]) {
			return true
		}
	}
	return false
}

func (p *parser) choice(s *State, m map[string]any) {
	arr, ok := m["Choices"].([]any)
	if !ok || len(arr) == 0 {
		p.add(s.Name, "Choices", "is required and must be a non-empty array")
	}
	for i, e := range arr {
		f := fmt.Sprintf("Choices[%d]", i)
		rm, ok := e.(map[string]any)
		if !ok {
			p.add(s.Name, f, "must be an object")
			continue
		}
		if r := p.choiceRule(s.Name, f, rm, true); r != nil {
			s.Choices = append(s.Choices, r)
		}
	}
	if v, ok := m["Default"]; ok {
		d, ok := v.(string)
		if !ok || d == "" {
			p.add(s.Name, "Default", "must be a non-empty string")
		}
		s.Default = d
	}
}

func (p *parser) choiceRule(state, field string, m map[string]any, top bool) *ChoiceRule {
	r := &ChoiceRule{}
	var ops []string
	for _, k := range sortedKeys(m) {
		switch k {
		case "Next":
			if !top {
				p.add(state, field+".Next", "a nested choice rule must not have Next")
			}
		case "Comment", "Variable", "And", "Or", "Not":
		default:
			if _, _, ok := operatorOf(k); ok {
				ops = append(ops, k)
			} else {
				p.add(state, field+"."+k, "unknown field in a choice rule")
			}
		}
	}
	if top {
		next, ok := m["Next"].(string)
		if !ok || next == "" {
			p.add(state, field+".Next", "is required and must be a non-empty string")
		}
		r.Next = next
	}
	nBool := 0
	for _, k := range []string{"And", "Or", "Not"} {
		if _, ok := m[k]; ok {
			nBool++
		}
	}
	_, hasVar := m["Variable"]
	switch {
	case nBool > 1 || (nBool == 1 && (hasVar || len(ops) > 0)):
		p.add(state, field, "a choice rule must be exactly one of And, Or, Not, or a Variable with one comparison operator")
		return r
	case nBool == 1:
		if v, ok := m["Not"]; ok {
			nm, ok := v.(map[string]any)
			if !ok {
				p.add(state, field+".Not", "must be an object")
				return r
			}
			r.Not = p.choiceRule(state, field+".Not", nm, false)
			return r
		}
		key := "And"
		if _, ok := m["Or"]; ok {
			key = "Or"
		}
		arr, ok := m[key].([]any)
		if !ok || len(arr) == 0 {
			p.add(state, field+"."+key, "must be a non-empty array of choice rules")
			return r
		}
		var subs []*ChoiceRule
		for i, e := range arr {
			sm, ok := e.(map[string]any)
			if !ok {
				p.add(state, fmt.Sprintf("%s.%s[%d]", field, key, i), "must be an object")
				continue
			}
			subs = append(subs, p.choiceRule(state, fmt.Sprintf("%s.%s[%d]", field, key, i), sm, false))
		}
		if key == "And" {
			r.And = subs
		} else {
			r.Or = subs
		}
		return r
	}
	if !hasVar {
		p.add(state, field+".Variable", "is required in a comparison choice rule")
		return r
	}
	vs, ok := m["Variable"].(string)
	if !ok {
		p.add(state, field+".Variable", "must be a path string")
		return r
	}
	r.Variable = vs
	jp, err := parsePath(vs)
	if err != nil {
		p.add(state, field+".Variable", "%v", err)
	}
	r.variable = jp
	if len(ops) != 1 {
		p.add(state, field, "a choice rule must have exactly one comparison operator, found %d", len(ops))
		return r
	}
	key := ops[0]
	r.Operator = key
	r.Value = m[key]
	base, isPath, _ := operatorOf(key)
	f := field + "." + key
	if isPath {
		s, ok := r.Value.(string)
		if !ok {
			p.add(state, f, "must be a path string")
			return r
		}
		if r.valuePath, err = parsePath(s); err != nil {
			p.add(state, f, "%v", err)
		}
		return r
	}
	switch operators[base] {
	case opString:
		if _, ok := r.Value.(string); !ok {
			p.add(state, f, "must be a string, got %s", jsonType(r.Value))
		}
	case opPattern:
		s, ok := r.Value.(string)
		if !ok {
			p.add(state, f, "must be a string, got %s", jsonType(r.Value))
			return r
		}
		if r.pattern, err = compilePattern(s); err != nil {
			p.add(state, f, "%v", err)
		}
	case opNumber:
		if !isNumber(r.Value) {
			p.add(state, f, "must be a number, got %s", jsonType(r.Value))
		}
	case opBool, opTypeTest:
		if _, ok := r.Value.(bool); !ok {
			p.add(state, f, "must be a boolean, got %s", jsonType(r.Value))
		}
	case opTimestamp:
		s, _ := r.Value.(string)
		if _, ok := parseTimestamp(s); !ok {
			p.add(state, f, "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, got %s", mustJSON(r.Value))
		}
	}
	return r
}

// chooseNext picks the transition of a Choice state.
func (s *State) chooseNext(input any) (string, error) { return s.ChooseNextWithContext(input, nil) }

// ChooseNextWithContext is ChooseNext for rules whose paths may refer to
// the context object ("$$...").
func (s *State) ChooseNextWithContext(input, ctx any) (string, error) {
	for _, r := range s.Choices {
		ok, err := r.eval(input, ctx)
		if err != nil {
			return "", err
		}
		if ok {
			return r.Next, nil
		}
	}
	if s.Default != "" {
		return s.Default, nil
	}
	return "", &StatesError{Name: ErrNoChoiceMatched, Cause: "No Matches!"}
}

// Matches evaluates one choice rule against input.
func (r *ChoiceRule) Matches(input, ctx any) (bool, error) { return r.eval(input, ctx) }

func (r *ChoiceRule) eval(input, ctx any) (bool, error) {
	switch {
	case r.Not != nil:
		ok, err := r.Not.eval(input, ctx)
		return !ok, err
	case len(r.And) > 0:
		for _, sub := range r.And {
			ok, err := sub.eval(input, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case len(r.Or) > 0:
		for _, sub := range r.Or {
			ok, err := sub.eval(input, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if err := r.ensureCompiled(); err != nil {
		return false, err
	}
	base, isPath, _ := operatorOf(r.Operator)
	v, err := evalDoc(r.variable, input, ctx)
	if err != nil {
		if base == "IsPresent" {
			want, _ := r.Value.(bool)
			return !want, nil
		}
		return false, &StatesError{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable)}
	}
	operand := r.Value
	if isPath {
		operand, err = evalDoc(r.valuePath, input, ctx)
		if err != nil {
			return false, &StatesError{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%v': The choice state's condition path references an invalid value.", r.Value)}
		}
	}
	switch operators[base] {
	case opTypeTest:
		want, _ := operand.(bool)
		var is bool
		switch base {
		case "IsNull":
			is = v == nil
		case "IsPresent":
			is = true
		case "IsNumeric":
			is = isNumber(v)
		case "IsString":
			_, is = v.(string)
		case "IsBoolean":
			_, is = v.(bool)
		case "IsTimestamp":
			str, isStr := v.(string)
			if isStr {
				_, is = parseTimestamp(str)
			}
		}
		return is == want, nil
	case opPattern:
		str, ok := v.(string)
		return ok && matchPattern(r.pattern, str), nil
	case opBool:
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	case opString:
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return cmpResult(base, compareStrings(a, b)), nil
	case opNumber:
		if !isNumber(v) || !isNumber(operand) {
			return false, nil
		}
		a, ok1 := toRat(v)
		b, ok2 := toRat(operand)
		if !ok1 || !ok2 {
			return false, nil
		}
		return cmpResult(base, a.Cmp(b)), nil
	case opTimestamp:
		as, ok1 := v.(string)
		bs, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		return cmpResult(base, a.Compare(b)), nil
	}
	return false, nil
}

// ensureCompiled compiles rules built by hand rather than by Parse.
func (r *ChoiceRule) ensureCompiled() error {
	var err error
	if r.variable == nil {
		if r.variable, err = parsePath(r.Variable); err != nil {
			return runtimeErr("%v", err)
		}
	}
	base, isPath, ok := operatorOf(r.Operator)
	if !ok {
		return runtimeErr("unknown choice operator %q", r.Operator)
	}
	if isPath && r.valuePath == nil {
		s, _ := r.Value.(string)
		if r.valuePath, err = parsePath(s); err != nil {
			return runtimeErr("%v", err)
		}
	}
	if base == "StringMatches" && r.pattern == nil {
		s, _ := r.Value.(string)
		if r.pattern, err = compilePattern(s); err != nil {
			return runtimeErr("%v", err)
		}
	}
	return nil
}

func cmpResult(op string, c int) bool {
	switch {
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	}
	return c == 0
}

// evalDoc evaluates a path against the input, or the context for "$$".
func evalDoc(jp *jsonPath, input, ctx any) (any, error) {
	if jp.context {
		return jp.eval(ctx)
	}
	return jp.eval(input)
}
