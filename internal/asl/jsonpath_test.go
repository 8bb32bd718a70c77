package asl

import (
	"testing"
)

const store = `{"store":{"book":[
  {"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},
  {"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},
  {"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99},
  {"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","isbn":"0-395-19395-8","price":22.99}],
  "bicycle":{"color":"red","price":19.95}},"expensive":10,"weird key":{"a.b":1}}`

func TestEvalPath(t *testing.T) {
	doc := mustDecode(t, store)
	tests := []struct{ path, want string }{
		{`$`, store},
		{`$.expensive`, `10`},
		{`$.store.bicycle.color`, `"red"`},
		{`$['store']['bicycle']['color']`, `"red"`},
		{`$["store"].bicycle["price"]`, `19.95`},
		{`$.store.book[0].title`, `"Sayings of the Century"`},
		{`$.store.book[-1].title`, `"The Lord of the Rings"`},
		{`$.store.book[*].author`, `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{`$..author`, `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{`$.store..price`, `[19.95,8.95,12.99,8.99,22.99]`},
		{`$.store.book[0,1].price`, `[8.95,12.99]`},
		{`$.store.book[:2].price`, `[8.95,12.99]`},
		{`$.store.book[1:3].price`, `[12.99,8.99]`},
		{`$.store.book[-2:].price`, `[8.99,22.99]`},
		{`$.store.book[::2].price`, `[8.95,8.99]`},
		{`$.store.book[?(@.isbn)].title`, `["Moby Dick","The Lord of the Rings"]`},
		{`$.store.book[?(@.price < 10)].title`, `["Sayings of the Century","Moby Dick"]`},
		{`$.store.book[?(@.price <= $.expensive)].price`, `[8.95,8.99]`},
		{`$.store.book[?(@.category == 'fiction' && @.price > 20)].title`, `["The Lord of the Rings"]`},
		{`$.store.book[?(@.category != 'fiction' || @.price > 20)].title`, `["Sayings of the Century","The Lord of the Rings"]`},
		{`$.store.book[?(!(@.price > 10))].price`, `[8.95,8.99]`},
		{`$.store.book[?(@.author =~ /.*Melville/)].title`, `["Moby Dick"]`},
		{`$.store.book[?(@.category in ['reference'])].title`, `["Sayings of the Century"]`},
		{`$.store.book[?(@.price == 8.95)].title`, `["Sayings of the Century"]`},
		{`$.store.book.length()`, `4`},
		{`$.store.bicycle.*`, `["red",19.95]`},
		{`$.store.book[5]`, ``}, // definite path without a match: error
		{`$.missing`, ``},
		{`$.store.book[*].missing`, `[]`},
		{`$['weird key']['a.b']`, `1`},
		{`$.store.bicycle['color','price']`, `["red",19.95]`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := EvalPath(tt.path, doc)
			if tt.want == "" {
				if statesErrName(err) != ErrRuntime {
					t.Fatalf("got %v, %v; want a States.Runtime error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("EvalPath: %v", err)
			}
			if g, w := jsonOf(t, got), canon(t, tt.want); g != w {
				t.Errorf("got %s, want %s", g, w)
			}
		})
	}
}

func TestReferencePaths(t *testing.T) {
	ok := []string{`$`, `$.a`, `$.a.b[0]`, `$['a']['b']`, `$.ledgers[0][22][315].foo`, `$.a-b`, `$.&Ж中`, `$.store\.book`}
	bad := []string{`$.a[*]`, `$..a`, `$.a[0,1]`, `$.a[0:1]`, `$.a[?(@.b)]`, `$.a.length()`, `a`, ``, `$.`, `$[`}
	for _, p := range ok {
		if _, err := parseReferencePath(p); err != nil {
			t.Errorf("%s rejected: %v", p, err)
		}
	}
	for _, p := range bad {
		if _, err := parseReferencePath(p); err == nil {
			t.Errorf("%s accepted as a reference path", p)
		}
	}
}

func TestSpecReferencePathExamples(t *testing.T) {
	doc := mustDecode(t, `{"foo":123,"bar":["a","b","c"],"car":{"cdr":true}}`)
	for path, want := range map[string]string{`$.foo`: `123`, `$.bar`: `["a","b","c"]`, `$.car.cdr`: `true`} {
		got, err := EvalPath(path, doc)
		if err != nil || jsonOf(t, got) != want {
			t.Errorf("%s = %v, %v; want %s", path, got, err, want)
		}
	}
}
