package asl

import (
	"fmt"
	"strings"
)

// template is a compiled payload template (Parameters, ResultSelector,
// ItemSelector).
type template struct {
	kind   tmplKind
	lit    any
	fields []tmplField // objects
	items  []*template // arrays
	path   *jsonPath
	call   *intrinsicCall
	key    string // the original field name (with ".$") for messages
	src    string // the path or intrinsic text
}

type tmplKind int

const (
	tmplLiteral tmplKind = iota
	tmplObject
	tmplArray
	tmplPath
	tmplIntrinsic
)

type tmplField struct {
	name string
	val  *template
}

// compileTemplate compiles a payload template. field names the definition
// field for error messages (e.g. "Parameters"). The top level must be an
// object when mustBeObject is set.
func compileTemplate(v any, field string, mustBeObject bool) (*template, []*ValidationError) {
	if _, ok := v.(map[string]any); mustBeObject && !ok {
		return nil, []*ValidationError{{Field: field, Message: fmt.Sprintf("must be a JSON object, got %s", jsonType(v))}}
	}
	var errs []*ValidationError
	t := compileNode(v, field, &errs)
	return t, errs
}

func compileNode(v any, field string, errs *[]*ValidationError) *template {
	switch t := v.(type) {
	case map[string]any:
		out := &template{kind: tmplObject}
		seen := map[string]string{}
		for _, k := range sortedKeys(t) {
			name := k
			sub := field + "." + k
			var val *template
			if strings.HasSuffix(k, ".$") {
				name = strings.TrimSuffix(k, ".$")
				val = compileDynamic(t[k], k, sub, errs)
			} else {
				val = compileNode(t[k], sub, errs)
			}
			if prev, dup := seen[name]; dup {
				*errs = append(*errs, &ValidationError{Field: sub, Message: fmt.Sprintf("duplicate field name %q (also given as %q)", name, prev)})
				continue
			}
			seen[name] = k
			out.fields = append(out.fields, tmplField{name: name, val: val})
		}
		return out
	case []any:
		out := &template{kind: tmplArray}
		for i, e := range t {
			out.items = append(out.items, compileNode(e, fmt.Sprintf("%s[%d]", field, i), errs))
		}
		return out
	}
	return &template{kind: tmplLiteral, lit: v}
}

func compileDynamic(v any, key, field string, errs *[]*ValidationError) *template {
	s, ok := v.(string)
	if !ok {
		*errs = append(*errs, &ValidationError{Field: field, Message: fmt.Sprintf("the value of a field ending in '.$' must be a STRING that contains a JSONPath or an intrinsic function, got %s", jsonType(v))})
		return &template{kind: tmplLiteral}
	}
	if strings.HasPrefix(s, "$") {
		jp, err := parsePath(s)
		if err != nil {
			*errs = append(*errs, &ValidationError{Field: field, Message: err.Error()})
			return &template{kind: tmplLiteral}
		}
		return &template{kind: tmplPath, path: jp, key: key, src: s}
	}
	call, err := parseIntrinsic(s)
	if err != nil {
		*errs = append(*errs, &ValidationError{Field: field, Message: err.Error()})
		return &template{kind: tmplLiteral}
	}
	return &template{kind: tmplIntrinsic, call: call, key: key, src: s}
}

// eval builds the payload from input ("$") and ctx ("$$").
func (t *template) eval(input, ctx any) (any, error) {
	switch t.kind {
	case tmplObject:
		out := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			v, err := f.val.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[f.name] = v
		}
		return out, nil
	case tmplArray:
		out := make([]any, len(t.items))
		for i, e := range t.items {
			v, err := e.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case tmplPath:
		doc := input
		if t.path.context {
			doc = ctx
		}
		v, err := t.path.eval(doc)
		if err != nil {
			return nil, &StatesError{Name: ErrRuntime, Cause: fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", t.src, t.key, mustJSON(doc))}
		}
		return deepCopy(v), nil
	case tmplIntrinsic:
		v, err := t.call.eval(input, ctx)
		if err != nil {
			return nil, err
		}
		return deepCopy(v), nil
	}
	return deepCopy(t.lit), nil
}
