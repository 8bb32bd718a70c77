package asl

import (
	"regexp"
	"testing"
)

// Examples from the intrinsic functions chapter of the developer guide and
// Appendix B of the States Language specification, with their documented
// results.
func TestIntrinsicDocExamples(t *testing.T) {
	tests := []struct {
		name, input, expr, want string
	}{
		{"Format literal template", `{"name":"Arnav"}`, `States.Format('Hello, my name is {}.', $.name)`, `"Hello, my name is Arnav."`},
		{"Format template from path", `{"name":"Arnav","template":"Hello, my name is {}."}`, `States.Format($.template, $.name)`, `"Hello, my name is Arnav."`},
		{"Format number literal", `{"name":"Foo"}`, `States.Format('Your name is {}, we are in the year {}', $.name, 2020)`, `"Your name is Foo, we are in the year 2020"`},
		{"Format escaped quote", `{"firstName":"Ana","lastName":"Lee"}`, `States.Format('Welcome to {} {}\'s playlist.', $.firstName, $.lastName)`, `"Welcome to Ana Lee's playlist."`},
		{"Format escaped braces stay literal", `{}`, `States.Format('\{\} and {}', 'x')`, `"{} and x"`},
		{"Format null and boolean", `{"b":true}`, `States.Format('{} {}', null, $.b)`, `"null true"`},
		{"StringToJson", `{"escapedJsonString":"{\"foo\": \"bar\"}"}`, `States.StringToJson($.escapedJsonString)`, `{"foo":"bar"}`},
		{"StringToJson number", `{"someString":"{\"number\": 20}"}`, `States.StringToJson($.someString)`, `{"number":20}`},
		{"JsonToString", `{"someJson":{"name":"Foo","year":2020}}`, `States.JsonToString($.someJson)`, `"{\"name\":\"Foo\",\"year\":2020}"`},
		{"Array", `{"Id":123456}`, `States.Array($.Id)`, `[123456]`},
		{"Array mixed", `{"someJson":{"random":"abcdefg"}}`, `States.Array('Foo', 2020, $.someJson, null)`, `["Foo",2020,{"random":"abcdefg"},null]`},
		{"Array empty", `{}`, `States.Array()`, `[]`},
		{"ArrayPartition", `{"inputArray":[1,2,3,4,5,6,7,8,9]}`, `States.ArrayPartition($.inputArray,4)`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{"ArrayContains", `{"inputArray":[1,2,3,4,5,6,7,8,9],"lookingFor":5}`, `States.ArrayContains($.inputArray, $.lookingFor)`, `true`},
		{"ArrayContains object", `{"a":[{"x":1}],"v":{"x":1}}`, `States.ArrayContains($.a, $.v)`, `true`},
		{"ArrayContains absent", `{"a":[1,2]}`, `States.ArrayContains($.a, 'x')`, `false`},
		{"ArrayRange", `{}`, `States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{"ArrayRange descending", `{}`, `States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{"ArrayGetItem", `{"inputArray":[1,2,3,4,5,6,7,8,9],"index":5}`, `States.ArrayGetItem($.inputArray, $.index)`, `6`},
		{"ArrayLength", `{"inputArray":[1,2,3,4,5,6,7,8,9]}`, `States.ArrayLength($.inputArray)`, `9`},
		{"ArrayUnique", `{"inputArray":[1,2,3,3,3,3,3,3,4]}`, `States.ArrayUnique($.inputArray)`, `[1,2,3,4]`},
		{"Base64Encode", `{"input":"Data to encode"}`, `States.Base64Encode($.input)`, `"RGF0YSB0byBlbmNvZGU="`},
		// The guide prints "Decoded data" for this example, which is not what
		// the Base64 text decodes to; the round trip is what the service does.
		{"Base64Decode", `{"base64":"RGF0YSB0byBlbmNvZGU="}`, `States.Base64Decode($.base64)`, `"Data to encode"`},
		// The guide's printed SHA-1 lacks one hex digit; this is the digest.
		{"Hash SHA-1", `{"Data":"input data","Algorithm":"SHA-1"}`, `States.Hash($.Data, $.Algorithm)`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{"Hash MD5", `{}`, `States.Hash('input data', 'MD5')`, `"812f45842bc6d66ee14572ce20db8e86"`},
		{"Hash SHA-256", `{}`, `States.Hash('abc', 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{"Hash SHA-384", `{}`, `States.Hash('abc', 'SHA-384')`, `"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"`},
		{"Hash SHA-512", `{}`, `States.Hash('abc', 'SHA-512')`, `"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"`},
		{"JsonMerge shallow", `{"json1":{"a":{"a1":1,"a2":2},"b":2},"json2":{"a":{"a3":1,"a4":2},"c":3}}`, `States.JsonMerge($.json1, $.json2, false)`, `{"a":{"a3":1,"a4":2},"b":2,"c":3}`},
		{"MathAdd", `{"value1":111,"step":-1}`, `States.MathAdd($.value1, $.step)`, `110`},
		{"StringSplit", `{"inputString":"1,2,3,4,5","splitter":","}`, `States.StringSplit($.inputString, $.splitter)`, `["1","2","3","4","5"]`},
		{"StringSplit several delimiters", `{"inputString":"This.is+a,test=string","splitter":".+,="}`, `States.StringSplit($.inputString, $.splitter)`, `["This","is","a","test","string"]`},
		{"nested calls (guide example)", `{"ImageRecipe":{"Arn":"arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my.recipe/1.0.0"}}`,
			`States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))`,
			`"1.0"`},
		{"context path argument", `{}`, `States.Format('id={}', $$.Execution.Name)`, `"id=run-1"`},
		{"path with filter argument", `{"a":[{"k":1,"v":"x"},{"k":2,"v":"y"}]}`, `States.ArrayLength($.a[?(@.k > 1)])`, `1`},
	}
	ctx := mustDecode(t, `{"Execution":{"Name":"run-1"}}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EvalIntrinsic(tt.expr, mustDecode(t, tt.input), ctx)
			if err != nil {
				t.Fatalf("EvalIntrinsic: %v", err)
			}
			if g, w := jsonOf(t, got), canon(t, tt.want); g != w {
				t.Errorf("got %s, want %s", g, w)
			}
		})
	}
}

func TestIntrinsicRandomness(t *testing.T) {
	old := Random
	defer func() { Random = old }()
	var n uint64
	Random = func() uint64 { n += 0x9e3779b97f4a7c15; return n }

	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		v, err := EvalIntrinsic(`States.MathRandom(1, 4)`, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := jsonOf(t, v)
		if s != "1" && s != "2" && s != "3" {
			t.Fatalf("MathRandom(1, 4) = %s, outside 1..3 (the end is exclusive)", s)
		}
		seen[s] = true
	}
	if len(seen) != 3 {
		t.Errorf("MathRandom(1, 4) produced only %v over 200 draws", seen)
	}
	a, _ := EvalIntrinsic(`States.MathRandom(1, 999, 42)`, nil, nil)
	b, _ := EvalIntrinsic(`States.MathRandom(1, 999, 42)`, nil, nil)
	if jsonOf(t, a) != jsonOf(t, b) {
		t.Errorf("same seed gave %v and %v", a, b)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	u1, _ := EvalIntrinsic(`States.UUID()`, nil, nil)
	u2, _ := EvalIntrinsic(`States.UUID()`, nil, nil)
	if s, _ := u1.(string); !uuidRE.MatchString(s) {
		t.Errorf("UUID %v is not a version 4 UUID", u1)
	}
	if u1 == u2 {
		t.Errorf("two UUIDs are equal: %v", u1)
	}
}

func TestIntrinsicRuntimeFailures(t *testing.T) {
	tests := []struct {
		name, input, expr, want string
	}{
		{"Format placeholder count", `{}`, `States.Format('{} {}', 'a')`, ErrIntrinsicFailure},
		{"Format too many args", `{}`, `States.Format('{}', 'a', 'b')`, ErrIntrinsicFailure},
		{"Format object argument", `{"o":{}}`, `States.Format('{}', $.o)`, ErrIntrinsicFailure},
		{"StringToJson invalid", `{"s":"{nope"}`, `States.StringToJson($.s)`, ErrIntrinsicFailure},
		{"ArrayPartition zero size", `{"a":[1]}`, `States.ArrayPartition($.a, 0)`, ErrIntrinsicFailure},
		{"ArrayRange zero step", `{}`, `States.ArrayRange(1, 5, 0)`, ErrIntrinsicFailure},
		{"ArrayRange over 1000 items", `{}`, `States.ArrayRange(1, 1001, 1)`, ErrIntrinsicFailure},
		{"ArrayGetItem out of bounds", `{"a":[1]}`, `States.ArrayGetItem($.a, 1)`, ErrIntrinsicFailure},
		{"ArrayLength of object", `{"a":{}}`, `States.ArrayLength($.a)`, ErrIntrinsicFailure},
		{"Base64Decode invalid", `{}`, `States.Base64Decode('***')`, ErrIntrinsicFailure},
		{"Hash unknown algorithm", `{}`, `States.Hash('x', 'SHA-3')`, ErrIntrinsicFailure},
		{"JsonMerge deep", `{"a":{},"b":{}}`, `States.JsonMerge($.a, $.b, true)`, ErrIntrinsicFailure},
		{"JsonMerge non-object", `{"a":[],"b":{}}`, `States.JsonMerge($.a, $.b, false)`, ErrIntrinsicFailure},
		{"MathAdd string", `{}`, `States.MathAdd('1', 2)`, ErrIntrinsicFailure},
		{"missing path argument", `{}`, `States.ArrayLength($.nope)`, ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EvalIntrinsic(tt.expr, mustDecode(t, tt.input), nil)
			if got := statesErrName(err); got != tt.want {
				t.Fatalf("error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestIntrinsicSyntaxRejectedAtParse(t *testing.T) {
	bad := []string{
		`States.Nope($.a)`,
		`States.Format('unterminated`,
		`States.Format('{}', $.a`,
		`States.ArrayLength($.a, $.b)`,
		`States.UUID(1)`,
		`States.JsonToString('literal')`,
		`States.Format('bad \q escape')`,
		`States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(1)))))))))))`,
		`notAFunction`,
	}
	for _, expr := range bad {
		t.Run(expr, func(t *testing.T) {
			def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"x.$":` + jsonOf(t, expr) + `},"End":true}}}`
			if _, err := Parse([]byte(def)); err == nil {
				t.Fatalf("Parse accepted %s", expr)
			}
		})
	}
	ten := `States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(1))))))))))`
	if _, err := parseIntrinsic(ten); err != nil {
		t.Errorf("10 nested functions must be accepted: %v", err)
	}
}
