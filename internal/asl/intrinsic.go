package asl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// maxIntrinsicNesting is how deeply intrinsic calls may nest in one field.
const maxIntrinsicNesting = 10

type argKind int

const (
	argLiteral argKind = iota
	argPath
	argCall
)

type intrinsicArg struct {
	kind  argKind
	value any    // literal value
	raw   string // literal string as written (escapes kept), for States.Format
	path  *jsonPath
	call  *intrinsicCall
}

type intrinsicCall struct {
	name string
	args []intrinsicArg
}

type intrinsicSpec struct {
	min, max int // max -1: unbounded
	eval     func(args []any, raw []string) (any, error)
}

var intrinsics map[string]intrinsicSpec

func init() {
	intrinsics = map[string]intrinsicSpec{
		"States.Format":         {1, -1, fnFormat},
		"States.StringToJson":   {1, 1, fnStringToJSON},
		"States.JsonToString":   {1, 1, fnJSONToString},
		"States.Array":          {0, -1, fnArray},
		"States.ArrayPartition": {2, 2, fnArrayPartition},
		"States.ArrayContains":  {2, 2, fnArrayContains},
		"States.ArrayRange":     {3, 3, fnArrayRange},
		"States.ArrayGetItem":   {2, 2, fnArrayGetItem},
		"States.ArrayLength":    {1, 1, fnArrayLength},
		"States.ArrayUnique":    {1, 1, fnArrayUnique},
		"States.Base64Encode":   {1, 1, fnBase64Encode},
		"States.Base64Decode":   {1, 1, fnBase64Decode},
		"States.Hash":           {2, 2, fnHash},
		"States.JsonMerge":      {3, 3, fnJSONMerge},
		"States.MathRandom":     {2, 3, fnMathRandom},
		"States.MathAdd":        {2, 2, fnMathAdd},
		"States.StringSplit":    {2, 2, fnStringSplit},
		"States.UUID":           {0, 0, fnUUID},
	}
}

// looksLikeIntrinsic reports whether s is meant as an intrinsic call.
func looksLikeIntrinsic(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), "States.")
}

type intrinsicParser struct {
	src string
	pos int
}

var errIntrinsicSyntax = errors.New("invalid intrinsic function")

func (p *intrinsicParser) errf(format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", errIntrinsicSyntax, p.src, fmt.Sprintf(format, args...))
}

func parseIntrinsic(src string) (*intrinsicCall, error) {
	p := &intrinsicParser{src: src}
	p.skip()
	c, err := p.call(1)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos != len(src) {
		return nil, p.errf("unexpected %q after the call", src[p.pos:])
	}
	return c, nil
}

func (p *intrinsicParser) skip() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *intrinsicParser) call(depth int) (*intrinsicCall, error) {
	if depth > maxIntrinsicNesting {
		return nil, p.errf("more than %d nested intrinsic functions", maxIntrinsicNesting)
	}
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			p.pos++
			continue
		}
		break
	}
	name := p.src[start:p.pos]
	spec, ok := intrinsics[name]
	if !ok {
		if name == "" {
			return nil, p.errf("expected a function name at offset %d", start)
		}
		return nil, p.errf("unknown function %s", name)
	}
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, p.errf("expected '(' after %s", name)
	}
	p.pos++
	call := &intrinsicCall{name: name}
	p.skip()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			p.skip()
			a, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, a)
			p.skip()
			if p.pos >= len(p.src) {
				return nil, p.errf("missing ')'")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			return nil, p.errf("expected ',' or ')' at offset %d", p.pos)
		}
	}
	if len(call.args) < spec.min || (spec.max >= 0 && len(call.args) > spec.max) {
		want := fmt.Sprint(spec.min)
		if spec.max < 0 {
			want = fmt.Sprintf("at least %d", spec.min)
		} else if spec.max != spec.min {
			want = fmt.Sprintf("%d to %d", spec.min, spec.max)
		}
		return nil, p.errf("%s takes %s arguments, got %d", name, want, len(call.args))
	}
	if name == "States.JsonToString" && call.args[0].kind != argPath {
		return nil, p.errf("the argument of States.JsonToString must be a path")
	}
	return call, nil
}

func (p *intrinsicParser) arg(depth int) (intrinsicArg, error) {
	if p.pos >= len(p.src) {
		return intrinsicArg{}, p.errf("missing argument")
	}
	c := p.src[p.pos]
	switch {
	case c == '\'':
		return p.stringLit()
	case c == '$':
		start := p.pos
		depthB := 0
		var quote byte
		for p.pos < len(p.src) {
			ch := p.src[p.pos]
			if quote != 0 {
				if ch == '\\' && p.pos+1 < len(p.src) {
					p.pos++
				} else if ch == quote {
					quote = 0
				}
				p.pos++
				continue
			}
			if ch == '\'' || ch == '"' {
				if depthB == 0 {
					break
				}
				quote = ch
			} else if ch == '[' || ch == '(' {
				depthB++
			} else if ch == ']' || ch == ')' {
				if depthB == 0 {
					break
				}
				depthB--
			} else if ch == ',' && depthB == 0 {
				break
			}
			p.pos++
		}
		src := strings.TrimSpace(p.src[start:p.pos])
		jp, err := parsePath(src)
		if err != nil {
			return intrinsicArg{}, p.errf("%v", err)
		}
		return intrinsicArg{kind: argPath, path: jp}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		n := json.Number(p.src[start:p.pos])
		if _, err := n.Float64(); err != nil {
			return intrinsicArg{}, p.errf("bad number %q", string(n))
		}
		return intrinsicArg{kind: argLiteral, value: n}, nil
	}
	for _, lit := range []struct {
		s string
		v any
	}{{"null", nil}, {"true", true}, {"false", false}} {
		if strings.HasPrefix(p.src[p.pos:], lit.s) {
			end := p.pos + len(lit.s)
			if end == len(p.src) || strings.IndexByte(" ,)\t", p.src[end]) >= 0 {
				p.pos = end
				return intrinsicArg{kind: argLiteral, value: lit.v}, nil
			}
		}
	}
	if strings.HasPrefix(p.src[p.pos:], "States.") {
		call, err := p.call(depth + 1)
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{kind: argCall, call: call}, nil
	}
	return intrinsicArg{}, p.errf("unexpected %q at offset %d", p.src[p.pos:], p.pos)
}

func (p *intrinsicParser) stringLit() (intrinsicArg, error) {
	p.pos++ // opening quote
	var val, raw strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\\':
			if p.pos+1 >= len(p.src) {
				return intrinsicArg{}, p.errf("open escape at the end of a string")
			}
			n := p.src[p.pos+1]
			if strings.IndexByte("'{}\\", n) < 0 {
				return intrinsicArg{}, p.errf("invalid escape \\%c (only \\', \\{, \\} and \\\\ are allowed)", n)
			}
			val.WriteByte(n)
			raw.WriteByte('\\')
			raw.WriteByte(n)
			p.pos += 2
		case '\'':
			p.pos++
			return intrinsicArg{kind: argLiteral, value: val.String(), raw: raw.String()}, nil
		default:
			val.WriteByte(c)
			raw.WriteByte(c)
			p.pos++
		}
	}
	return intrinsicArg{}, p.errf("unterminated string")
}

func intrinsicFailure(format string, args ...any) *StatesError {
	return &StatesError{Name: ErrIntrinsicFailure, Cause: fmt.Sprintf(format, args...)}
}

// eval evaluates the call with input as "$" and ctx as "$$".
func (c *intrinsicCall) eval(input, ctx any) (any, error) {
	vals := make([]any, len(c.args))
	raws := make([]string, len(c.args))
	for i, a := range c.args {
		switch a.kind {
		case argLiteral:
			vals[i], raws[i] = a.value, a.raw
			if s, ok := a.value.(string); ok && a.raw == "" {
				raws[i] = s
			}
		case argPath:
			doc := input
			if a.path.context {
				doc = ctx
			}
			v, err := a.path.eval(doc)
			if err != nil {
				return nil, &StatesError{Name: ErrRuntime, Cause: fmt.Sprintf("The JsonPath argument '%s' of %s could not be found in the input '%s'", a.path.src, c.name, mustJSON(doc))}
			}
			vals[i] = v
			if s, ok := v.(string); ok {
				raws[i] = s
			}
		case argCall:
			v, err := a.call.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			vals[i] = v
			if s, ok := v.(string); ok {
				raws[i] = s
			}
		}
	}
	out, err := intrinsics[c.name].eval(vals, raws)
	if err != nil {
		var se *StatesError
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, intrinsicFailure("Invalid arguments in %s: %v", c.name, err)
	}
	return out, nil
}

func evalIntrinsic(expr string, input, ctx any) (any, error) {
	c, err := parseIntrinsic(expr)
	if err != nil {
		return nil, intrinsicFailure("%v", err)
	}
	return c.eval(input, ctx)
}

func fnFormat(args []any, raws []string) (any, error) {
	tmpl, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("the format template must be a string, got %s", jsonType(args[0]))
	}
	_ = tmpl
	raw := raws[0]
	var b strings.Builder
	next := 1
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			b.WriteByte(raw[i+1])
			i++
		case c == '{' && i+1 < len(raw) && raw[i+1] == '}':
			if next >= len(args) {
				return nil, errors.New("the format template has more {} placeholders than arguments")
			}
			s, err := formatValue(args[next])
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			next++
			i++
		default:
			b.WriteByte(c)
		}
	}
	if next != len(args) {
		return nil, errors.New("the number of arguments does not match the number of {} placeholders")
	}
	return b.String(), nil
}

func formatValue(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case nil:
		return "null", nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case map[string]any, []any:
		return "", fmt.Errorf("States.Format arguments must be strings, numbers, booleans or null, got %s", jsonType(v))
	}
	return string(normalize(v).(json.Number)), nil
}

func fnStringToJSON(args []any, _ []string) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("the argument must be a string, got %s", jsonType(args[0]))
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("the argument is an empty string")
	}
	v, err := decode([]byte(s))
	if err != nil {
		return nil, err
	}
	return v, nil
}

func fnJSONToString(args []any, _ []string) (any, error) {
	b, err := marshal(args[0])
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func fnArray(args []any, _ []string) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return out, nil
}

func arrayArg(v any, what string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an array, got %s", what, jsonType(v))
	}
	return a, nil
}

func intArg(v any, what string) (int64, error) {
	n, ok := toInt(v)
	if !ok {
		return 0, fmt.Errorf("%s must be an integer, got %s", what, mustJSON(v))
	}
	return n, nil
}

func fnArrayPartition(args []any, _ []string) (any, error) {
	a, err := arrayArg(args[0], "the first argument")
	if err != nil {
		return nil, err
	}
	size, err := intArg(args[1], "the chunk size")
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("the chunk size must be a positive integer, got %d", size)
	}
	out := []any{}
	for i := 0; i < len(a); i += int(size) {
		end := min(i+int(size), len(a))
		chunk := make([]any, end-i)
		copy(chunk, a[i:end])
		out = append(out, chunk)
	}
	return out, nil
}

func fnArrayContains(args []any, _ []string) (any, error) {
	a, err := arrayArg(args[0], "the first argument")
	if err != nil {
		return nil, err
	}
	for _, e := range a {
		if equalJSON(e, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(args []any, _ []string) (any, error) {
	start, err := intArg(args[0], "the start")
	if err != nil {
		return nil, err
	}
	end, err := intArg(args[1], "the end")
	if err != nil {
		return nil, err
	}
	step, err := intArg(args[2], "the step")
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, errors.New("the step must not be zero")
	}
	out := []any{}
	for i := start; (step > 0 && i <= end) || (step < 0 && i >= end); i += step {
		if len(out) == 1000 {
			return nil, errors.New("the range would have more than 1000 elements")
		}
		out = append(out, intNumber(i))
	}
	return out, nil
}

func fnArrayGetItem(args []any, _ []string) (any, error) {
	a, err := arrayArg(args[0], "the first argument")
	if err != nil {
		return nil, err
	}
	i, err := intArg(args[1], "the index")
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(a)) {
		return nil, fmt.Errorf("the index %d is out of bounds for an array of length %d", i, len(a))
	}
	return a[i], nil
}

func fnArrayLength(args []any, _ []string) (any, error) {
	a, err := arrayArg(args[0], "the argument")
	if err != nil {
		return nil, err
	}
	return intNumber(int64(len(a))), nil
}

func fnArrayUnique(args []any, _ []string) (any, error) {
	a, err := arrayArg(args[0], "the argument")
	if err != nil {
		return nil, err
	}
	out := []any{}
next:
	for _, e := range a {
		for _, o := range out {
			if equalJSON(e, o) {
				continue next
			}
		}
		out = append(out, e)
	}
	return out, nil
}

const maxIntrinsicString = 10000

func stringArg(v any, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string, got %s", what, jsonType(v))
	}
	if utf8.RuneCountInString(s) > maxIntrinsicString {
		return "", fmt.Errorf("%s is longer than %d characters", what, maxIntrinsicString)
	}
	return s, nil
}

func fnBase64Encode(args []any, _ []string) (any, error) {
	s, err := stringArg(args[0], "the argument")
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(args []any, _ []string) (any, error) {
	s, err := stringArg(args[0], "the argument")
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the argument is not valid Base64: %v", err)
	}
	return string(b), nil
}

func fnHash(args []any, _ []string) (any, error) {
	s, err := stringArg(args[0], "the data")
	if err != nil {
		return nil, err
	}
	alg, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("the algorithm must be a string, got %s", jsonType(args[1]))
	}
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unsupported algorithm %q (use MD5, SHA-1, SHA-256, SHA-384 or SHA-512)", alg)
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(args []any, _ []string) (any, error) {
	a, ok1 := args[0].(map[string]any)
	b, ok2 := args[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("both arguments must be objects, got %s and %s", jsonType(args[0]), jsonType(args[1]))
	}
	deep, ok := args[2].(bool)
	if !ok {
		return nil, fmt.Errorf("the third argument must be a boolean, got %s", jsonType(args[2]))
	}
	if deep {
		return nil, errors.New("deep merge (true) is not supported; the third argument must be false")
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out, nil
}

// roundArg accepts a number and rounds it to the nearest integer, as the
// service documents for MathRandom and MathAdd.
func roundArg(v any, what string) (int64, error) {
	f, ok := toFloat(v)
	if !ok || !isNumber(v) {
		return 0, fmt.Errorf("%s must be a number, got %s", what, jsonType(v))
	}
	r := math.Round(f)
	if r < math.MinInt32 || r > math.MaxInt32 {
		return 0, fmt.Errorf("%s must be between %d and %d", what, math.MinInt32, math.MaxInt32)
	}
	return int64(r), nil
}

func fnMathRandom(args []any, _ []string) (any, error) {
	start, err := roundArg(args[0], "the start")
	if err != nil {
		return nil, err
	}
	end, err := roundArg(args[1], "the end")
	if err != nil {
		return nil, err
	}
	// The start is included and the end excluded, as the intrinsic
	// functions page documents.
	if end <= start {
		return nil, fmt.Errorf("the end (%d) must be greater than the start (%d)", end, start)
	}
	span := uint64(end - start)
	var r uint64
	if len(args) == 3 {
		seed, err := roundArg(args[2], "the seed")
		if err != nil {
			return nil, err
		}
		r = rand.New(rand.NewPCG(uint64(seed), 0x5eed)).Uint64N(span)
	} else {
		r = Random() % span
	}
	return intNumber(start + int64(r)), nil
}

func fnMathAdd(args []any, _ []string) (any, error) {
	a, err := roundArg(args[0], "the first argument")
	if err != nil {
		return nil, err
	}
	b, err := roundArg(args[1], "the second argument")
	if err != nil {
		return nil, err
	}
	return intNumber(a + b), nil
}

func fnStringSplit(args []any, _ []string) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("the first argument must be a string, got %s", jsonType(args[0]))
	}
	sep, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("the second argument must be a string, got %s", jsonType(args[1]))
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) })
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func fnUUID(_ []any, _ []string) (any, error) {
	var b [16]byte
	hi, lo := Random(), Random()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
