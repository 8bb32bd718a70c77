package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// jsonPath is a compiled JSONPath expression.
type jsonPath struct {
	src      string
	context  bool // "$$": applies to the context object
	root     bool // "$" inside a filter (as opposed to "@")
	segs     []segment
	definite bool
}

type segKind int

const (
	segNames    segKind = iota // .a, ['a'], ['a','b']
	segIndexes                 // [0], [0,1]
	segSlice                   // [a:b:c]
	segWildcard                // .*, [*]
	segFilter                  // [?(...)]
	segLength                  // .length()
)

type segment struct {
	kind      segKind
	recursive bool // preceded by ".."
	names     []string
	indexes   []int
	slice     [3]*int
	filter    filterExpr
}

func (s segment) definite() bool {
	switch s.kind {
	case segNames:
		return !s.recursive && len(s.names) == 1
	case segIndexes:
		return !s.recursive && len(s.indexes) == 1
	case segLength:
		return !s.recursive
	}
	return false
}

// isReference reports whether the segment may appear in a reference path.
func (s segment) isReference() bool {
	return !s.recursive && ((s.kind == segNames && len(s.names) == 1) || (s.kind == segIndexes && len(s.indexes) == 1))
}

var errPathSyntax = errors.New("invalid JSONPath")

func pathErr(src string, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", errPathSyntax, src, fmt.Sprintf(format, args...))
}

// parsePath compiles a JSONPath ("$..." or "$$...").
func parsePath(src string) (*jsonPath, error) {
	p := &pathParser{src: src}
	jp, err := p.parse(false)
	if err != nil {
		return nil, err
	}
	if p.pos != len(src) {
		return nil, pathErr(src, "unexpected %q at offset %d", src[p.pos:], p.pos)
	}
	return jp, nil
}

// parseReferencePath compiles a reference path: one that selects a single node.
func parseReferencePath(src string) (*jsonPath, error) {
	jp, err := parsePath(src)
	if err != nil {
		return nil, err
	}
	for _, s := range jp.segs {
		if !s.isReference() {
			return nil, pathErr(src, "a reference path must select a single node (no *, .., ?, ',', ':' or functions)")
		}
	}
	return jp, nil
}

type pathParser struct {
	src    string
	pos    int
	filter bool // inside a filter: names stop at operators and spaces
}

func (p *pathParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *pathParser) parse(inFilter bool) (*jsonPath, error) {
	jp := &jsonPath{src: p.src, definite: true}
	start := p.pos
	switch {
	case inFilter && p.peek() == '@':
		p.pos++
	case strings.HasPrefix(p.src[p.pos:], "$$") && !inFilter:
		jp.context = true
		p.pos += 2
	case p.peek() == '$':
		jp.root = inFilter
		p.pos++
	default:
		return nil, pathErr(p.src, "a path must begin with '$'")
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		var seg segment
		var err error
		switch {
		case c == '.':
			recursive := strings.HasPrefix(p.src[p.pos:], "..")
			if recursive {
				p.pos += 2
				if p.peek() == '[' {
					seg, err = p.bracket()
				} else {
					seg, err = p.dotName()
				}
				seg.recursive = true
			} else {
				p.pos++
				seg, err = p.dotName()
			}
		case c == '[':
			seg, err = p.bracket()
		default:
			if inFilter {
				jp.segsDone(start, p)
				return jp, nil
			}
			return nil, pathErr(p.src, "unexpected %q at offset %d", c, p.pos)
		}
		if err != nil {
			return nil, err
		}
		if len(jp.segs) > 0 && jp.segs[len(jp.segs)-1].kind == segLength {
			return nil, pathErr(p.src, "length() must be the last element of a path")
		}
		jp.segs = append(jp.segs, seg)
		if !seg.definite() {
			jp.definite = false
		}
	}
	jp.segsDone(start, p)
	return jp, nil
}

func (jp *jsonPath) segsDone(start int, p *pathParser) { jp.src = p.src[start:p.pos] }

func (p *pathParser) dotName() (segment, error) {
	if p.peek() == '*' {
		p.pos++
		return segment{kind: segWildcard}, nil
	}
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) {
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
			continue
		}
		if c == '.' || c == '[' {
			break
		}
		if p.filter && strings.IndexByte(" \t)=!<>&|,", c) >= 0 {
			break
		}
		if c == '(' && strings.HasPrefix(p.src[p.pos:], "()") && b.String() == "length" {
			p.pos += 2
			return segment{kind: segLength}, nil
		}
		b.WriteByte(c)
		p.pos++
	}
	if b.Len() == 0 {
		return segment{}, pathErr(p.src, "empty field name at offset %d", p.pos)
	}
	return segment{kind: segNames, names: []string{b.String()}}, nil
}

func (p *pathParser) skipSpaces() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *pathParser) bracket() (segment, error) {
	p.pos++ // '['
	p.skipSpaces()
	c := p.peek()
	var seg segment
	switch {
	case c == '*':
		p.pos++
		seg = segment{kind: segWildcard}
	case c == '?':
		p.pos++
		p.skipSpaces()
		if p.peek() != '(' {
			return seg, pathErr(p.src, "expected '(' after '?'")
		}
		p.pos++
		fp := &filterParser{p: p}
		f, err := fp.or()
		if err != nil {
			return seg, err
		}
		p.skipSpaces()
		if p.peek() != ')' {
			return seg, pathErr(p.src, "expected ')' to close the filter at offset %d", p.pos)
		}
		p.pos++
		seg = segment{kind: segFilter, filter: f}
	case c == '\'' || c == '"':
		for {
			s, err := p.quoted()
			if err != nil {
				return seg, err
			}
			seg.names = append(seg.names, s)
			p.skipSpaces()
			if p.peek() != ',' {
				break
			}
			p.pos++
			p.skipSpaces()
		}
		seg.kind = segNames
	default:
		var err error
		seg, err = p.indexOrSlice()
		if err != nil {
			return seg, err
		}
	}
	p.skipSpaces()
	if p.peek() != ']' {
		return seg, pathErr(p.src, "expected ']' at offset %d", p.pos)
	}
	p.pos++
	return seg, nil
}

func (p *pathParser) quoted() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", pathErr(p.src, "expected a quoted name at offset %d", p.pos)
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) {
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
			continue
		}
		if c == q {
			p.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", pathErr(p.src, "unterminated quoted name")
}

func (p *pathParser) integer() (*int, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if start == p.pos {
		return nil, nil
	}
	n, err := strconv.Atoi(p.src[start:p.pos])
	if err != nil || n > 1<<31 || n < -(1<<31) {
		return nil, pathErr(p.src, "bad number %q", p.src[start:p.pos])
	}
	return &n, nil
}

func (p *pathParser) indexOrSlice() (segment, error) {
	var parts [3]*int
	first, err := p.integer()
	if err != nil {
		return segment{}, err
	}
	p.skipSpaces()
	if p.peek() == ':' {
		parts[0] = first
		for i := 1; i < 3 && p.peek() == ':'; i++ {
			p.pos++
			p.skipSpaces()
			n, err := p.integer()
			if err != nil {
				return segment{}, err
			}
			parts[i] = n
			p.skipSpaces()
		}
		if parts[2] != nil && *parts[2] == 0 {
			return segment{}, pathErr(p.src, "slice step cannot be zero")
		}
		return segment{kind: segSlice, slice: parts}, nil
	}
	if first == nil {
		return segment{}, pathErr(p.src, "expected an index, a quoted name, '*' or '?' at offset %d", p.pos)
	}
	seg := segment{kind: segIndexes, indexes: []int{*first}}
	for p.peek() == ',' {
		p.pos++
		p.skipSpaces()
		n, err := p.integer()
		if err != nil {
			return segment{}, err
		}
		if n == nil {
			return segment{}, pathErr(p.src, "expected an index at offset %d", p.pos)
		}
		seg.indexes = append(seg.indexes, *n)
		p.skipSpaces()
	}
	return seg, nil
}

// evalPath evaluates a path string against v ("$$" paths are evaluated
// against v too: callers choose the document).
func evalPath(path string, v any) (any, error) {
	jp, err := parsePath(path)
	if err != nil {
		return nil, runtimeErr("%v", err)
	}
	return jp.eval(v)
}

// errNoMatch is wrapped by errors for definite paths that select nothing.
var errNoMatch = errors.New("no results for path")

func (jp *jsonPath) eval(v any) (any, error) {
	nodes := []any{v}
	for _, s := range jp.segs {
		var next []any
		for _, n := range nodes {
			var err error
			next, err = s.apply(n, v, next)
			if err != nil {
				return nil, err
			}
		}
		nodes = next
		if jp.definite && len(nodes) == 0 {
			return nil, &StatesError{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s' : No results for path: %s", jp.src, jp.canonical())}
		}
	}
	if jp.definite {
		return nodes[0], nil
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, nil
}

// canonical renders the path in bracket notation, as error causes do.
func (jp *jsonPath) canonical() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range jp.segs {
		if s.recursive {
			b.WriteString("..")
		}
		switch s.kind {
		case segNames:
			b.WriteByte('[')
			for i, n := range s.names {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("'" + n + "'")
			}
			b.WriteByte(']')
		case segIndexes:
			b.WriteByte('[')
			for i, n := range s.indexes {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Itoa(n))
			}
			b.WriteByte(']')
		case segWildcard:
			b.WriteString("[*]")
		case segSlice:
			b.WriteString("[slice]")
		case segFilter:
			b.WriteString("[?]")
		case segLength:
			b.WriteString(".length()")
		}
	}
	return b.String()
}

func (s segment) apply(n, root any, out []any) ([]any, error) {
	if s.recursive {
		for _, d := range descendants(n, nil) {
			var err error
			c := s
			c.recursive = false
			out, err = c.apply(d, root, out)
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	switch s.kind {
	case segNames:
		if m, ok := n.(map[string]any); ok {
			for _, name := range s.names {
				if e, ok := m[name]; ok {
					out = append(out, e)
				}
			}
		}
	case segIndexes:
		if a, ok := n.([]any); ok {
			for _, i := range s.indexes {
				if i < 0 {
					i += len(a)
				}
				if i >= 0 && i < len(a) {
					out = append(out, a[i])
				}
			}
		}
	case segWildcard:
		switch t := n.(type) {
		case []any:
			out = append(out, t...)
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, t[k])
			}
		}
	case segSlice:
		if a, ok := n.([]any); ok {
			out = append(out, sliceOf(a, s.slice)...)
		}
	case segFilter:
		switch t := n.(type) {
		case []any:
			for _, e := range t {
				if s.filter.test(e, root) {
					out = append(out, e)
				}
			}
		case map[string]any:
			if s.filter.test(t, root) {
				out = append(out, t)
			}
		}
	case segLength:
		switch t := n.(type) {
		case []any:
			out = append(out, intNumber(int64(len(t))))
		case map[string]any:
			out = append(out, intNumber(int64(len(t))))
		case string:
			out = append(out, intNumber(int64(len([]rune(t)))))
		default:
			return nil, runtimeErr("length() is not applicable to a %s", jsonType(n))
		}
	}
	return out, nil
}

func descendants(n any, out []any) []any {
	out = append(out, n)
	switch t := n.(type) {
	case []any:
		for _, e := range t {
			out = descendants(e, out)
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			out = descendants(t[k], out)
		}
	}
	return out
}

func sliceOf(a []any, parts [3]*int) []any {
	n := len(a)
	step := 1
	if parts[2] != nil {
		step = *parts[2]
	}
	norm := func(p *int, def int) int {
		if p == nil {
			return def
		}
		i := *p
		if i < 0 {
			i += n
			if i < 0 {
				if step > 0 {
					i = 0
				} else {
					i = -1
				}
			}
		}
		if i > n {
			i = n
		}
		return i
	}
	var out []any
	if step > 0 {
		start, end := norm(parts[0], 0), norm(parts[1], n)
		for i := start; i < end; i += step {
			out = append(out, a[i])
		}
	} else {
		start, end := norm(parts[0], n-1), norm(parts[1], -1)
		if start >= n {
			start = n - 1
		}
		for i := start; i > end && i >= 0; i += step {
			out = append(out, a[i])
		}
	}
	return out
}

// ---- filters ----

type filterExpr interface {
	test(current, root any) bool
}

type filterOperand struct {
	path    *jsonPath // @ or $ path; nil for literals
	literal any
	regex   *regexp.Regexp
}

func (o filterOperand) value(current any, root any) (any, bool) {
	if o.path == nil {
		return o.literal, true
	}
	doc := current
	if o.path.root {
		doc = root
	}
	v, err := o.path.eval(doc)
	if err != nil {
		return nil, false
	}
	return v, true
}

type filterCompare struct {
	left  filterOperand
	op    string // "" for existence
	right filterOperand
}

type filterAnd struct{ a, b filterExpr }
type filterOr struct{ a, b filterExpr }
type filterNot struct{ e filterExpr }

func (f filterAnd) test(c, r any) bool { return f.a.test(c, r) && f.b.test(c, r) }
func (f filterOr) test(c, r any) bool  { return f.a.test(c, r) || f.b.test(c, r) }
func (f filterNot) test(c, r any) bool { return !f.e.test(c, r) }

func (f filterCompare) test(c, root any) bool {
	l, ok := f.left.value(c, root)
	if f.op == "" {
		if !ok {
			return false
		}
		if b, isBool := l.(bool); isBool && f.left.path == nil {
			return b
		}
		return true
	}
	if !ok {
		return false
	}
	if f.op == "=~" {
		s, isStr := l.(string)
		return isStr && f.right.regex != nil && f.right.regex.MatchString(s)
	}
	r, ok := f.right.value(c, root)
	if !ok {
		return false
	}
	switch f.op {
	case "==":
		return equalJSON(l, r)
	case "!=":
		return !equalJSON(l, r)
	case "in", "nin":
		arr, isArr := r.([]any)
		found := false
		for _, e := range arr {
			if equalJSON(l, e) {
				found = true
				break
			}
		}
		if f.op == "in" {
			return isArr && found
		}
		return isArr && !found
	}
	cmp, ok := compareOrdered(l, r)
	if !ok {
		return false
	}
	switch f.op {
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

func compareOrdered(l, r any) (int, bool) {
	if isNumber(l) && isNumber(r) {
		a, ok1 := toRat(l)
		b, ok2 := toRat(r)
		if !ok1 || !ok2 {
			return 0, false
		}
		return a.Cmp(b), true
	}
	ls, ok1 := l.(string)
	rs, ok2 := r.(string)
	if ok1 && ok2 {
		return compareStrings(ls, rs), true
	}
	return 0, false
}

type filterParser struct{ p *pathParser }

func (f *filterParser) or() (filterExpr, error) {
	left, err := f.and()
	if err != nil {
		return nil, err
	}
	for {
		f.p.skipSpaces()
		if !strings.HasPrefix(f.p.src[f.p.pos:], "||") {
			return left, nil
		}
		f.p.pos += 2
		right, err := f.and()
		if err != nil {
			return nil, err
		}
		left = filterOr{left, right}
	}
}

func (f *filterParser) and() (filterExpr, error) {
	left, err := f.unary()
	if err != nil {
		return nil, err
	}
	for {
		f.p.skipSpaces()
		if !strings.HasPrefix(f.p.src[f.p.pos:], "&&") {
			return left, nil
		}
		f.p.pos += 2
		right, err := f.unary()
		if err != nil {
			return nil, err
		}
		left = filterAnd{left, right}
	}
}

func (f *filterParser) unary() (filterExpr, error) {
	p := f.p
	p.skipSpaces()
	if p.peek() == '!' && !strings.HasPrefix(p.src[p.pos:], "!=") {
		p.pos++
		e, err := f.unary()
		if err != nil {
			return nil, err
		}
		return filterNot{e}, nil
	}
	if p.peek() == '(' {
		p.pos++
		e, err := f.or()
		if err != nil {
			return nil, err
		}
		p.skipSpaces()
		if p.peek() != ')' {
			return nil, pathErr(p.src, "expected ')' at offset %d", p.pos)
		}
		p.pos++
		return e, nil
	}
	left, err := f.operand()
	if err != nil {
		return nil, err
	}
	p.skipSpaces()
	rest := p.src[p.pos:]
	for _, op := range []string{"==", "!=", "<=", ">=", "=~", "<", ">", "nin ", "in "} {
		if strings.HasPrefix(rest, op) {
			p.pos += len(op)
			p.skipSpaces()
			op = strings.TrimSpace(op)
			var right filterOperand
			if op == "=~" {
				right, err = f.regex()
			} else {
				right, err = f.operand()
			}
			if err != nil {
				return nil, err
			}
			return filterCompare{left: left, op: op, right: right}, nil
		}
	}
	return filterCompare{left: left}, nil
}

func (f *filterParser) regex() (filterOperand, error) {
	p := f.p
	if p.peek() != '/' {
		return filterOperand{}, pathErr(p.src, "expected a /regex/ after =~")
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) && p.src[p.pos] != '/' {
		if p.src[p.pos] == '\\' && p.pos+1 < len(p.src) {
			b.WriteByte('\\')
			p.pos++
		}
		b.WriteByte(p.src[p.pos])
		p.pos++
	}
	if p.peek() != '/' {
		return filterOperand{}, pathErr(p.src, "unterminated regex")
	}
	p.pos++
	flags := ""
	for p.pos < len(p.src) && strings.IndexByte("imsx", p.src[p.pos]) >= 0 {
		if p.src[p.pos] == 'i' {
			flags = "(?i)"
		}
		p.pos++
	}
	re, err := regexp.Compile(flags + "^(?:" + b.String() + ")$")
	if err != nil {
		return filterOperand{}, pathErr(p.src, "bad regex: %v", err)
	}
	return filterOperand{regex: re}, nil
}

func (f *filterParser) operand() (filterOperand, error) {
	p := f.p
	p.skipSpaces()
	c := p.peek()
	switch {
	case c == '@' || c == '$':
		saved := p.filter
		p.filter = true
		jp, err := p.parse(true)
		p.filter = saved
		if err != nil {
			return filterOperand{}, err
		}
		return filterOperand{path: jp}, nil
	case c == '\'' || c == '"':
		s, err := p.quoted()
		if err != nil {
			return filterOperand{}, err
		}
		return filterOperand{literal: s}, nil
	case c == '[':
		// array literal of simple values
		start := p.pos
		depth := 0
		for p.pos < len(p.src) {
			if p.src[p.pos] == '[' {
				depth++
			} else if p.src[p.pos] == ']' {
				depth--
				if depth == 0 {
					p.pos++
					break
				}
			}
			p.pos++
		}
		text := strings.ReplaceAll(p.src[start:p.pos], "'", "\"")
		v, err := decode([]byte(text))
		if err != nil {
			return filterOperand{}, pathErr(p.src, "bad array literal %q", p.src[start:p.pos])
		}
		return filterOperand{literal: v}, nil
	}
	for _, lit := range []struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(p.src[p.pos:], lit.s) {
			p.pos += len(lit.s)
			return filterOperand{literal: lit.v}, nil
		}
	}
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("+-0123456789.eE", p.src[p.pos]) >= 0 {
		p.pos++
	}
	if start == p.pos {
		return filterOperand{}, pathErr(p.src, "expected a value at offset %d", p.pos)
	}
	num := json.Number(p.src[start:p.pos])
	if _, ok := toRat(num); !ok {
		return filterOperand{}, pathErr(p.src, "bad number %q", string(num))
	}
	return filterOperand{literal: num}, nil
}
