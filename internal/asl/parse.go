package asl

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

const (
	maxStateNameLen = 80
	maxSeconds      = 99999999
	maxDelayLimit   = 31622400
)

type compiledState struct {
	inputPath, outputPath, resultPath *jsonPath // nil: null in the definition
	parameters, resultSelector        *template
	itemSelector                      *template
	itemsPath                         *jsonPath
	timeoutPath, heartbeatPath        *jsonPath
	secondsPath, timestampPath        *jsonPath
	maxConcPath                       *jsonPath
	tolPctPath, tolCountPath          *jsonPath
	errorPath, causePath              *template
	timestamp                         string
}

type scopeKind int

const (
	scopeTop scopeKind = iota
	scopeBranch
	scopeProcessor
)

type parser struct {
	errs  []*ValidationError
	names map[string]bool // every state name in the machine
}

func (p *parser) add(state, field, format string, args ...any) {
	p.errs = append(p.errs, &ValidationError{State: state, Field: field, Message: fmt.Sprintf(format, args...)})
}

func parse(def []byte) (*Definition, error) {
	v, err := decode(def)
	if err != nil {
		return nil, errors.Join(&ValidationError{Message: "the definition is not valid JSON: " + err.Error()})
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.Join(&ValidationError{Message: "the definition must be a JSON object, got " + jsonType(v)})
	}
	p := &parser{names: map[string]bool{}}
	d := p.scope(m, scopeTop, "", "")
	if len(p.errs) > 0 {
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return d, nil
}

var scopeFields = map[scopeKind][]string{
	scopeTop:       {"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"},
	scopeBranch:    {"Comment", "StartAt", "States"},
	scopeProcessor: {"Comment", "StartAt", "States", "ProcessorConfig"},
}

// scope parses a state machine or a nested one. owner/field locate it in
// messages (the Parallel or Map state and its field).
func (p *parser) scope(m map[string]any, kind scopeKind, owner, field string) *Definition {
	d := &Definition{States: map[string]*State{}}
	prefix := field
	if prefix != "" {
		prefix += "."
	}
	allowed := scopeFields[kind]
	for _, k := range sortedKeys(m) {
		if !contains(allowed, k) {
			p.add(owner, prefix+k, "field is not allowed here (allowed: %s)", strings.Join(allowed, ", "))
		}
	}
	d.Comment = p.str(m, owner, prefix+"Comment", "Comment")
	if v, ok := m["Version"]; ok {
		if s, ok := v.(string); !ok || s != "1.0" {
			p.add(owner, prefix+"Version", "must be the string \"1.0\"")
		}
		d.Version = "1.0"
	}
	if kind == scopeTop {
		if v, ok := m["TimeoutSeconds"]; ok {
			n, ok := toInt(v)
			if !ok || n < 0 || n > maxSeconds {
				p.add("", "TimeoutSeconds", "must be an integer between 0 and %d", maxSeconds)
			}
			d.TimeoutSeconds = int(n)
		}
		if v, ok := m["QueryLanguage"]; ok {
			d.QueryLanguage = p.queryLanguage(v, "", "QueryLanguage")
		}
	}
	if kind == scopeProcessor {
		d.ProcessorConfig = &ProcessorConfig{Mode: "INLINE"}
		if v, ok := m["ProcessorConfig"]; ok {
			pc, ok := v.(map[string]any)
			if !ok {
				p.add(owner, prefix+"ProcessorConfig", "must be an object")
			} else {
				for _, k := range sortedKeys(pc) {
					switch k {
					case "Mode":
						mode, _ := pc[k].(string)
						switch mode {
						case "INLINE":
						case "DISTRIBUTED":
							p.add(owner, prefix+"ProcessorConfig.Mode", "DISTRIBUTED Map is not supported locally; use INLINE")
						default:
							p.add(owner, prefix+"ProcessorConfig.Mode", "must be INLINE or DISTRIBUTED")
						}
					case "ExecutionType":
						p.add(owner, prefix+"ProcessorConfig.ExecutionType", "is only allowed with DISTRIBUTED mode, which is not supported locally")
					default:
						p.add(owner, prefix+"ProcessorConfig."+k, "field is not allowed here")
					}
				}
			}
		}
	}
	startAt, hasStart := m["StartAt"].(string)
	if !hasStart {
		p.add(owner, prefix+"StartAt", "is required and must be a string")
	}
	d.StartAt = startAt
	statesV, ok := m["States"].(map[string]any)
	if !ok || len(statesV) == 0 {
		p.add(owner, prefix+"States", "is required and must be a non-empty object")
		return d
	}
	for _, name := range sortedKeys(statesV) {
		if utf8.RuneCountInString(name) > maxStateNameLen {
			p.add(name, "", "state name is longer than %d characters", maxStateNameLen)
		}
		if name == "" {
			p.add(owner, prefix+"States", "a state name must not be empty")
		}
		if p.names[name] {
			p.add(name, "", "duplicate state name: names must be unique across the whole state machine")
		}
		p.names[name] = true
		sm, ok := statesV[name].(map[string]any)
		if !ok {
			p.add(name, "", "a state must be a JSON object")
			continue
		}
		if s := p.state(name, sm); s != nil {
			d.States[name] = s
		}
	}
	if hasStart {
		if _, ok := statesV[startAt]; !ok {
			p.add(owner, prefix+"StartAt", "MISSING_TRANSITION_TARGET: StartAt %q does not match any state", startAt)
		}
	}
	p.transitions(d, statesV)
	return d
}

// transitions checks every transition target and that every state is
// reachable from StartAt.
func (p *parser) transitions(d *Definition, raw map[string]any) {
	check := func(state, field, target string) {
		if target == "" {
			return
		}
		if _, ok := raw[target]; !ok {
			p.add(state, field, "MISSING_TRANSITION_TARGET: Missing 'Next' target: %q is not a state of this scope", target)
		}
	}
	for _, name := range sortedKeys(raw) {
		s := d.States[name]
		if s == nil {
			continue
		}
		check(name, "Next", s.Next)
		check(name, "Default", s.Default)
		for i, c := range s.Choices {
			check(name, fmt.Sprintf("Choices[%d].Next", i), c.Next)
		}
		for i, c := range s.Catchers {
			check(name, fmt.Sprintf("Catch[%d].Next", i), c.Next)
		}
	}
	if _, ok := d.States[d.StartAt]; !ok {
		return
	}
	seen := map[string]bool{d.StartAt: true}
	queue := []string{d.StartAt}
	for len(queue) > 0 {
		s := d.States[queue[0]]
		queue = queue[1:]
		if s == nil {
			continue
		}
		targets := []string{s.Next, s.Default}
		for _, c := range s.Choices {
			targets = append(targets, c.Next)
		}
		for _, c := range s.Catchers {
			targets = append(targets, c.Next)
		}
		for _, t := range targets {
			if t != "" && !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	var unreachable []string
	for name := range raw {
		if !seen[name] {
			unreachable = append(unreachable, name)
		}
	}
	sort.Strings(unreachable)
	for _, name := range unreachable {
		p.add(name, "", "MISSING_TRANSITION_TARGET: State %q is not reachable", name)
	}
}

func (p *parser) queryLanguage(v any, state, field string) string {
	s, _ := v.(string)
	switch s {
	case "JSONPath":
	case "JSONata":
		p.add(state, field, "JSONata is not supported by the local engine; use JSONPath")
	default:
		p.add(state, field, "must be \"JSONPath\" or \"JSONata\"")
	}
	return s
}

var commonFields = []string{"Type", "Comment", "QueryLanguage"}

var typeFields = map[string][]string{
	TypeTask: {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Resource",
		"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials"},
	TypePass:    {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"},
	TypeChoice:  {"InputPath", "OutputPath", "Choices", "Default"},
	TypeWait:    {"Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
	TypeSucceed: {"InputPath", "OutputPath"},
	TypeFail:    {"Error", "Cause", "ErrorPath", "CausePath"},
	TypeParallel: {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Branches",
		"Retry", "Catch"},
	TypeMap: {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath",
		"ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
		"ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label", "Retry", "Catch"},
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (p *parser) state(name string, m map[string]any) *State {
	typ, ok := m["Type"].(string)
	if !ok {
		p.add(name, "Type", "is required and must be a string")
		return nil
	}
	allowed, known := typeFields[typ]
	if !known {
		p.add(name, "Type", "unknown state type %q", typ)
		return nil
	}
	s := &State{Name: name, Type: typ, InputPath: "$", OutputPath: "$", ResultPath: "$", compiled: &compiledState{}}
	c := s.compiled
	for _, k := range sortedKeys(m) {
		if contains(commonFields, k) || contains(allowed, k) {
			continue
		}
		switch k {
		case "Assign":
			p.add(name, k, "workflow variables (Assign) are not supported by the local engine")
		case "Arguments", "Output":
			p.add(name, k, "is a JSONata field; JSONata is not supported by the local engine")
		case "ItemReader", "ItemBatcher", "ResultWriter":
			if typ == TypeMap {
				p.add(name, k, "is only available in DISTRIBUTED Map, which is not supported locally")
				continue
			}
			p.add(name, k, "field is not supported by a %s state", typ)
		default:
			p.add(name, k, "field is not supported by a %s state", typ)
		}
	}
	s.Comment = p.str(m, name, "Comment", "Comment")
	if v, ok := m["QueryLanguage"]; ok {
		p.queryLanguage(v, name, "QueryLanguage")
	}

	// transitions
	switch typ {
	case TypeChoice, TypeSucceed, TypeFail:
	default:
		next, hasNext := m["Next"]
		end, hasEnd := m["End"]
		if hasNext {
			s.Next, ok = next.(string)
			if !ok || s.Next == "" {
				p.add(name, "Next", "must be a non-empty string")
			}
		}
		if hasEnd {
			s.End, ok = end.(bool)
			if !ok {
				p.add(name, "End", "must be a boolean")
			}
		}
		switch {
		case s.Next != "" && s.End:
			p.add(name, "End", "a state cannot have both Next and End: true")
		case s.Next == "" && !s.End && !(hasNext && !ok):
			p.add(name, "Next", "a %s state must have either Next or \"End\": true", typ)
		}
	}

	// input and output processing
	if contains(allowed, "InputPath") {
		s.InputPath, c.inputPath = p.pathField(m, name, "InputPath", false)
		s.OutputPath, c.outputPath = p.pathField(m, name, "OutputPath", false)
	}
	if contains(allowed, "ResultPath") {
		s.ResultPath, c.resultPath = p.pathField(m, name, "ResultPath", true)
	}
	if v, ok := m["Parameters"]; ok && contains(allowed, "Parameters") {
		t, errs := compileTemplate(v, "Parameters", true)
		p.addAll(name, errs)
		if typ == TypeMap {
			s.ItemSelector, c.itemSelector = v, t
		} else {
			s.Parameters, c.parameters = v, t
		}
	}
	if v, ok := m["ResultSelector"]; ok && contains(allowed, "ResultSelector") {
		t, errs := compileTemplate(v, "ResultSelector", true)
		p.addAll(name, errs)
		s.ResultSelector, c.resultSelector = v, t
	}
	if contains(allowed, "Retry") {
		p.retriers(s, m)
		p.catchers(s, m)
	}

	switch typ {
	case TypePass:
		s.Result, s.HasResult = m["Result"]
	case TypeTask:
		p.task(s, m)
	case TypeChoice:
		p.choice(s, m)
	case TypeWait:
		p.wait(s, m)
	case TypeFail:
		s.Error = p.str(m, name, "Error", "Error")
		s.Cause = p.str(m, name, "Cause", "Cause")
		s.ErrorPath, c.errorPath = p.dynamicString(m, name, "ErrorPath", "Error")
		s.CausePath, c.causePath = p.dynamicString(m, name, "CausePath", "Cause")
	case TypeParallel:
		branches, ok := m["Branches"].([]any)
		if !ok || len(branches) == 0 {
			p.add(name, "Branches", "is required and must be a non-empty array")
		}
		for i, b := range branches {
			bm, ok := b.(map[string]any)
			if !ok {
				p.add(name, fmt.Sprintf("Branches[%d]", i), "must be an object")
				continue
			}
			s.Branches = append(s.Branches, p.scope(bm, scopeBranch, name, fmt.Sprintf("Branches[%d]", i)))
		}
	case TypeMap:
		p.mapState(s, m)
	}
	return s
}

func (p *parser) addAll(state string, errs []*ValidationError) {
	for _, e := range errs {
		e.State = state
		p.errs = append(p.errs, e)
	}
}

func (p *parser) str(m map[string]any, state, field, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.add(state, field, "must be a string, got %s", jsonType(v))
	}
	return s
}

// pathField reads an optional path field that may be null.
func (p *parser) pathField(m map[string]any, state, field string, reference bool) (string, *jsonPath) {
	return p.pathValue(m, field, state, field, reference)
}

func (p *parser) pathValue(m map[string]any, key, state, field string, reference bool) (string, *jsonPath) {
	v, ok := m[key]
	if !ok {
		jp, _ := parsePath("$")
		return "$", jp
	}
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		p.add(state, field, "must be a string or null, got %s", jsonType(v))
		return "$", nil
	}
	var jp *jsonPath
	var err error
	if reference {
		jp, err = parseReferencePath(s)
		if err == nil && jp.context {
			err = errors.New("must not begin with \"$$\"")
		}
	} else {
		jp, err = parsePath(s)
	}
	if err != nil {
		p.add(state, field, "%v", err)
		return s, nil
	}
	return s, jp
}

// refPath reads an optional reference path field (no null).
func (p *parser) refPath(m map[string]any, state, field string) (string, *jsonPath) {
	v, ok := m[field]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		p.add(state, field, "must be a reference path string, got %s", jsonType(v))
		return "", nil
	}
	jp, err := parseReferencePath(s)
	if err != nil {
		p.add(state, field, "%v", err)
		return s, nil
	}
	return s, jp
}

// dynamicString reads ErrorPath/CausePath: a reference path or an intrinsic.
func (p *parser) dynamicString(m map[string]any, state, field, literal string) (string, *template) {
	v, ok := m[field]
	if !ok {
		return "", nil
	}
	if _, both := m[literal]; both {
		p.add(state, field, "cannot be used together with %s", literal)
	}
	s, ok := v.(string)
	if !ok {
		p.add(state, field, "must be a string, got %s", jsonType(v))
		return "", nil
	}
	if strings.HasPrefix(s, "$") {
		jp, err := parseReferencePath(s)
		if err != nil {
			p.add(state, field, "%v", err)
			return s, nil
		}
		return s, &template{kind: tmplPath, path: jp, key: field, src: s}
	}
	call, err := parseIntrinsic(s)
	if err != nil {
		p.add(state, field, "must be a reference path or an intrinsic function: %v", err)
		return s, nil
	}
	return s, &template{kind: tmplIntrinsic, call: call, key: field, src: s}
}

func (p *parser) intField(m map[string]any, state, field string, lo, hi int64) (*int64, bool) {
	key := field
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		key = field[i+1:]
	}
	v, ok := m[key]
	if !ok {
		return nil, false
	}
	n, ok := toInt(v)
	if !ok || n < lo || n > hi {
		p.add(state, field, "must be an integer between %d and %d, got %s", lo, hi, mustJSON(v))
		return nil, true
	}
	return &n, true
}

func (p *parser) task(s *State, m map[string]any) {
	c := s.compiled
	res, ok := m["Resource"].(string)
	switch {
	case !ok || res == "":
		p.add(s.Name, "Resource", "is required and must be a non-empty string")
	case !strings.HasPrefix(res, "arn:"):
		p.add(s.Name, "Resource", "must be an ARN (arn:...), got %q", res)
	}
	s.Resource = res
	if n, ok := p.intField(m, s.Name, "TimeoutSeconds", 1, maxSeconds); n != nil {
		v := int(*n)
		s.TimeoutSeconds = &v
	} else if ok {
		s.TimeoutSeconds = nil
	}
	s.TimeoutSecondsPath, c.timeoutPath = p.refPath(m, s.Name, "TimeoutSecondsPath")
	if n, _ := p.intField(m, s.Name, "HeartbeatSeconds", 1, maxSeconds); n != nil {
		v := int(*n)
		s.HeartbeatSeconds = &v
	}
	s.HeartbeatSecondsPath, c.heartbeatPath = p.refPath(m, s.Name, "HeartbeatSecondsPath")
	if _, a := m["TimeoutSeconds"]; a {
		if _, b := m["TimeoutSecondsPath"]; b {
			p.add(s.Name, "TimeoutSecondsPath", "cannot be used together with TimeoutSeconds")
		}
	}
	if _, a := m["HeartbeatSeconds"]; a {
		if _, b := m["HeartbeatSecondsPath"]; b {
			p.add(s.Name, "HeartbeatSecondsPath", "cannot be used together with HeartbeatSeconds")
		}
	}
	if s.TimeoutSeconds != nil && s.HeartbeatSeconds != nil && *s.HeartbeatSeconds >= *s.TimeoutSeconds {
		p.add(s.Name, "HeartbeatSeconds", "must be smaller than TimeoutSeconds")
	}
	if v, ok := m["Credentials"]; ok {
		if _, isObj := v.(map[string]any); !isObj {
			p.add(s.Name, "Credentials", "must be an object")
		}
		s.Credentials = v
	}
}

func (p *parser) wait(s *State, m map[string]any) {
	c := s.compiled
	count := 0
	for _, k := range []string{"Seconds", "Timestamp", "SecondsPath", "TimestampPath"} {
		if _, ok := m[k]; ok {
			count++
		}
	}
	if count != 1 {
		p.add(s.Name, "", "a Wait state must have exactly one of Seconds, Timestamp, SecondsPath or TimestampPath")
	}
	if n, _ := p.intField(m, s.Name, "Seconds", 0, maxSeconds); n != nil {
		s.Seconds = n
	}
	if v, ok := m["Timestamp"]; ok {
		str, _ := v.(string)
		if _, ok := parseTimestamp(str); !ok {
			p.add(s.Name, "Timestamp", "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, got %s", mustJSON(v))
		}
		s.Timestamp = str
	}
	s.SecondsPath, c.secondsPath = p.refPath(m, s.Name, "SecondsPath")
	s.TimestampPath, c.timestampPath = p.refPath(m, s.Name, "TimestampPath")
}

func (p *parser) mapState(s *State, m map[string]any) {
	c := s.compiled
	proc, hasProc := m["ItemProcessor"]
	iter, hasIter := m["Iterator"]
	switch {
	case hasProc && hasIter:
		p.add(s.Name, "Iterator", "cannot be used together with ItemProcessor")
	case !hasProc && !hasIter:
		p.add(s.Name, "ItemProcessor", "is required")
	}
	field := "ItemProcessor"
	if !hasProc {
		proc, field = iter, "Iterator"
	}
	if pm, ok := proc.(map[string]any); ok {
		s.ItemProcessor = p.scope(pm, scopeProcessor, s.Name, field)
	} else if hasProc || hasIter {
		p.add(s.Name, field, "must be an object")
	}
	if v, ok := m["ItemSelector"]; ok {
		if _, legacy := m["Parameters"]; legacy {
			p.add(s.Name, "ItemSelector", "cannot be used together with Parameters")
		}
		t, errs := compileTemplate(v, "ItemSelector", true)
		p.addAll(s.Name, errs)
		s.ItemSelector, c.itemSelector = v, t
	}
	s.ItemsPath, c.itemsPath = "$", nil
	if _, ok := m["ItemsPath"]; ok {
		s.ItemsPath, c.itemsPath = p.refPath(m, s.Name, "ItemsPath")
	} else {
		c.itemsPath, _ = parsePath("$")
	}
	if n, _ := p.intField(m, s.Name, "MaxConcurrency", 0, 1<<31-1); n != nil {
		s.MaxConcurrency = int(*n)
	}
	s.MaxConcurrencyPath, c.maxConcPath = p.refPath(m, s.Name, "MaxConcurrencyPath")
	if v, ok := m["ToleratedFailurePercentage"]; ok {
		f, isNum := toFloat(v)
		if !isNumber(v) || !isNum || f < 0 || f > 100 {
			p.add(s.Name, "ToleratedFailurePercentage", "must be a number between 0 and 100")
		} else {
			s.ToleratedFailurePercentage = &f
		}
	}
	s.ToleratedFailurePercentagePath, c.tolPctPath = p.refPath(m, s.Name, "ToleratedFailurePercentagePath")
	if n, _ := p.intField(m, s.Name, "ToleratedFailureCount", 0, 1<<31-1); n != nil {
		v := int(*n)
		s.ToleratedFailureCount = &v
	}
	s.ToleratedFailureCountPath, c.tolCountPath = p.refPath(m, s.Name, "ToleratedFailureCountPath")
	for _, pair := range [][2]string{{"MaxConcurrency", "MaxConcurrencyPath"}, {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"}, {"ToleratedFailureCount", "ToleratedFailureCountPath"}} {
		_, a := m[pair[0]]
		_, b := m[pair[1]]
		if a && b {
			p.add(s.Name, pair[1], "cannot be used together with %s", pair[0])
		}
	}
	s.Label = p.str(m, s.Name, "Label", "Label")
}

func (p *parser) errorEquals(state, field string, v any, last bool) []string {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		p.add(state, field, "is required and must be a non-empty array of strings")
		return nil
	}
	var out []string
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			p.add(state, field, "must contain only strings")
			continue
		}
		out = append(out, s)
	}
	if contains(out, ErrALL) {
		if len(out) != 1 {
			p.add(state, field, "States.ALL must appear alone in ErrorEquals")
		}
		if !last {
			p.add(state, field, "States.ALL must appear in the last element")
		}
	}
	return out
}

func (p *parser) retriers(s *State, m map[string]any) {
	v, ok := m["Retry"]
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok {
		p.add(s.Name, "Retry", "must be an array")
		return
	}
	for i, e := range arr {
		f := fmt.Sprintf("Retry[%d]", i)
		rm, ok := e.(map[string]any)
		if !ok {
			p.add(s.Name, f, "must be an object")
			continue
		}
		r := Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0, JitterStrategy: "NONE"}
		for _, k := range sortedKeys(rm) {
			switch k {
			case "ErrorEquals":
				r.ErrorEquals = p.errorEquals(s.Name, f+".ErrorEquals", rm[k], i == len(arr)-1)
			case "IntervalSeconds":
				if n, _ := p.intField(rm, s.Name, f+"."+k, 1, maxSeconds); n != nil {
					r.IntervalSeconds = int(*n)
				}
			case "MaxAttempts":
				if n, _ := p.intField(rm, s.Name, f+"."+k, 0, maxSeconds); n != nil {
					r.MaxAttempts = int(*n)
				}
			case "MaxDelaySeconds":
				if n, _ := p.intField(rm, s.Name, f+"."+k, 1, maxDelayLimit); n != nil {
					r.MaxDelaySeconds = int(*n)
				}
			case "BackoffRate":
				b, ok := toFloat(rm[k])
				if !ok || !isNumber(rm[k]) || b < 1.0 {
					p.add(s.Name, f+".BackoffRate", "must be a number greater than or equal to 1.0")
				} else {
					r.BackoffRate = b
				}
			case "JitterStrategy":
				js, _ := rm[k].(string)
				if js != "FULL" && js != "NONE" {
					p.add(s.Name, f+".JitterStrategy", "must be FULL or NONE")
				}
				r.JitterStrategy = js
			case "Comment":
			default:
				p.add(s.Name, f+"."+k, "field is not supported in a Retrier")
			}
		}
		if _, ok := rm["ErrorEquals"]; !ok {
			p.add(s.Name, f+".ErrorEquals", "is required")
		}
		s.Retriers = append(s.Retriers, r)
	}
}

func (p *parser) catchers(s *State, m map[string]any) {
	v, ok := m["Catch"]
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok {
		p.add(s.Name, "Catch", "must be an array")
		return
	}
	for i, e := range arr {
		f := fmt.Sprintf("Catch[%d]", i)
		cm, ok := e.(map[string]any)
		if !ok {
			p.add(s.Name, f, "must be an object")
			continue
		}
		c := Catcher{ResultPath: "$"}
		for _, k := range sortedKeys(cm) {
			switch k {
			case "ErrorEquals", "Next", "ResultPath", "Comment":
			case "Assign", "Output":
				p.add(s.Name, f+"."+k, "is not supported by the local engine")
			default:
				p.add(s.Name, f+"."+k, "field is not supported in a Catcher")
			}
		}
		c.ErrorEquals = p.errorEquals(s.Name, f+".ErrorEquals", cm["ErrorEquals"], i == len(arr)-1)
		c.Next, ok = cm["Next"].(string)
		if !ok || c.Next == "" {
			p.add(s.Name, f+".Next", "is required and must be a non-empty string")
		}
		c.ResultPath, c.resultPath = p.pathValue(cm, "ResultPath", s.Name, f+".ResultPath", true)
		s.Catchers = append(s.Catchers, c)
	}
}
