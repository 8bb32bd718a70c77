package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// checkShape reads b as one JSON value, the way v's type would read it, and
// refuses what encoding/json would accept but read as something else:
// trailing data of any kind (including `}` and `]`, which Decoder.More does
// not see), object keys that match a field only case-insensitively, keys
// given twice, and strings that are not valid UTF-8 or hold an escaped lone
// surrogate (both would silently become U+FFFD, so different bytes would
// read as the same text). Syntax and type errors are left to the decoder,
// which names them better; checkShape then returns nil.
func checkShape(b []byte, t reflect.Type) error {
	w := shapeWalker{src: b, dec: json.NewDecoder(bytes.NewReader(b))}
	w.dec.UseNumber()
	if err := w.value(t, ""); err != nil {
		if errors.Is(err, errSyntax) {
			return nil
		}
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return Invalid("body", "unexpected data after the JSON object")
	}
	return nil
}

var errSyntax = errors.New("syntax")

type shapeWalker struct {
	src []byte
	dec *json.Decoder
}

func (w *shapeWalker) token() (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, errSyntax
	}
	return tok, nil
}

// value reads one value; t is the Go type it will be decoded into (nil:
// not known, nothing is checked but keys and strings).
func (w *shapeWalker) value(t reflect.Type, path string) error {
	t = checkedType(t)
	tok, err := w.token()
	if err != nil {
		return err
	}
	switch x := tok.(type) {
	case string:
		return w.checkString(x, path)
	case json.Delim:
		switch x {
		case '{':
			return w.object(t, path)
		case '[':
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for w.dec.More() {
				if err := w.value(elem, path); err != nil {
					return err
				}
			}
			_, err := w.token()
			return err
		}
	}
	return nil
}

func (w *shapeWalker) object(t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = structFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		keyField := "body"
		if path != "" {
			keyField = path
		}
		if err := w.checkString(key, keyField); err != nil {
			return err
		}
		p := key
		if path != "" {
			p = path + "." + key
		}
		if seen[key] {
			return Invalid(p, "key %q is given more than once", key)
		}
		seen[key] = true
		var next reflect.Type
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, key) {
						return Invalid(p, "unknown field %q: field names are case-sensitive (did you mean %q?)", key, name)
					}
				}
				return Invalid(p, "unknown field %q", key)
			}
			next = ft
		} else {
			next = elem
		}
		if err := w.value(next, p); err != nil {
			return err
		}
	}
	_, err := w.token()
	return err
}

// checkString: the decoder turns invalid UTF-8 and lone surrogates into
// U+FFFD, so only a decoded string holding U+FFFD needs its source read.
func (w *shapeWalker) checkString(s, field string) error {
	if !strings.ContainsRune(s, utf8.RuneError) {
		return nil
	}
	raw := w.rawString()
	if !utf8.Valid(raw) {
		return Invalid(field, "text is not valid UTF-8")
	}
	if loneSurrogate(raw) {
		return Invalid(field, "text holds an escaped lone surrogate (\\ud800-\\udfff without its pair), which is not a character")
	}
	return nil
}

// rawString is the source of the string token just read, quotes included.
func (w *shapeWalker) rawString() []byte {
	end := int(w.dec.InputOffset())
	if end < 2 || end > len(w.src) || w.src[end-1] != '"' {
		return nil
	}
	for i := end - 2; i >= 0; i-- {
		if w.src[i] != '"' {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && w.src[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return w.src[i:end]
		}
	}
	return nil
}

// loneSurrogate reports whether a JSON string's source escapes half of a
// UTF-16 surrogate pair without the other half.
func loneSurrogate(raw []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			i++ // a two-byte escape such as \\ or \"
			continue
		}
		r, ok := hex4(i)
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := hex4(i + 6)
			if !ok || lo < 0xDC00 || lo >= 0xE000 {
				return true
			}
			i += 11
		case r >= 0xDC00 && r < 0xE000:
			return true
		default:
			i += 5
		}
	}
	return false
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkedType dereferences t; nil for types whose insides are not checked
// (interfaces and types that decode themselves).
func checkedType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		return nil
	}
	return t
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// structFields maps the JSON names of t's fields, as encoding/json names
// them (tags, "-", embedded structs), to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	addFields(t, m, 0)
	fieldCache.Store(t, m)
	return m
}

func addFields(t reflect.Type, m map[string]reflect.Type, depth int) {
	if depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, m, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := m[name]; !dup || depth == 0 {
			m[name] = f.Type
		}
	}
}
