package filterarg

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// parseCases are the engine's answers to filters parameters. Unless a
// comment says otherwise, the case was sent to Engine 20.10.24 as
// GET /v1.41/containers/json?all=1&filters=<raw> (with containers "db" and
// "hidden" present) and `engine` records what it answered; an error there is
// the FromJSON failure, which Engine 24+ answers as 400 "invalid filter".
var parseCases = []struct {
	name   string
	raw    string
	want   Args // nil when Parse must fail
	engine string
}{
	{"empty", ``, Args{}, "200 all"},
	{"top-level null", `null`, Args{}, "200 all"},
	{"empty object", `{}`, Args{}, "200 all"},
	{"surrounding spaces", ` {} `, Args{}, "200 all"},
	{"JSON whitespace", "\t{\"name\":[\"db\"]}\r\n", Args{"name": {"db": true}}, "200 db"},
	{"array", `[]`, nil, `500 json: cannot unmarshal array into Go value of type map[string]map[string]bool`},
	{"string", `"x"`, nil, "500 cannot unmarshal string"},
	{"number", `1`, nil, "500 cannot unmarshal number"},
	{"bool", `true`, nil, "500 cannot unmarshal bool"},
	{"map form", `{"name":{"db":true}}`, Args{"name": {"db": true}}, "200 db"},
	{"map form false is still a value", `{"name":{"db":false}}`, Args{"name": {"db": false}}, "200 db (name is matched as a regexp over all values)"},
	{"map form false regexp", `{"name":{"^d":false}}`, Args{"name": {"^d": false}}, "200 db"},
	{"map form null value is false", `{"name":{"db":null}}`, Args{"name": {"db": false}}, "200 db"},
	{"map form number value", `{"name":{"db":1}}`, nil, "500 json: cannot unmarshal number into Go value of type bool"},
	{"map form string value", `{"name":{"db":"true"}}`, nil, "source: string into bool fails both forms"},
	{"key null", `{"name":null}`, Args{"name": nil}, "200 all (present, no values)"},
	{"legacy list", `{"name":["db"]}`, Args{"name": {"db": true}}, "200 db"},
	{"legacy empty list", `{"name":[]}`, Args{"name": {}}, "200 all"},
	{"legacy null item is the empty value", `{"name":[null]}`, Args{"name": {"": true}}, "200 all (regexp \"\" matches everything)"},
	{"legacy number item", `{"name":[1]}`, nil, "500 json: cannot unmarshal array into Go value of type map[string]bool"},
	{"legacy bool item", `{"name":[true]}`, nil, "source: bool into string fails"},
	{"legacy object item", `{"name":[{}]}`, nil, "source: object into string fails"},
	{"legacy duplicate items", `{"label":["a","a"]}`, Args{"label": {"a": true}}, "source: a set"},
	{"bare string value", `{"name":"db"}`, nil, "500 json: cannot unmarshal string into Go value of type map[string]bool"},
	{"key case is kept", `{"NAME":["db"]}`, Args{"NAME": {"db": true}}, "400 Invalid filter 'NAME' (route validation, after parsing)"},
	{"unknown key parses", `{"bogus":["x"]}`, Args{"bogus": {"x": true}}, "400 Invalid filter 'bogus' (route validation)"},
	{"duplicate key legacy last wins", `{"name":["x"],"name":["db"]}`, Args{"name": {"db": true}}, "200 db"},
	{"duplicate key legacy no merge", `{"label":["vis=1"],"label":["x"]}`, Args{"label": {"x": true}}, "200 none"},
	{"duplicate key map last wins", `{"name":{"x":true},"name":{"db":true}}`, Args{"name": {"db": true}}, "source: map element replaced"},
	{"duplicate key then null", `{"id":{"x":true}, "id":null}`, Args{"id": nil}, "200 all"},
	{"duplicate value last wins", `{"name":{"db":true,"db":false}}`, Args{"name": {"db": false}}, "200 db"},
	{"mixed forms same key", `{"name":{"x":true},"name":["db"]}`, nil, "500 json: cannot unmarshal array into Go value of type map[string]bool"},
	{"mixed forms across keys", `{"name":["x"],"label":{"vis=1":true}}`, nil, "500 json: cannot unmarshal array into Go value of type map[string]bool"},
	{"empty map and empty list", `{"name":{},"label":[]}`, nil, "500 json: cannot unmarshal array into Go value of type map[string]bool"},
	{"null key with legacy list", `{"label":null,"name":["db"]}`, Args{"label": {}, "name": {"db": true}}, "200 db"},
	{"null key with map form", `{"label":null,"name":{"db":true}}`, Args{"label": nil, "name": {"db": true}}, "source: map form succeeds"},
	{"escapes", `{"n\u0061me":["\u0064b"]}`, Args{"name": {"db": true}}, "200 db"},
	{"invalid UTF-8 is replaced", "{\"name\":[\"a\xffb\"]}", Args{"name": {"a\uFFFDb": true}}, "source: encoding/json"},
	{"empty key", `{"":["x"]}`, Args{"": {"x": true}}, "source: any string key"},
	{"trailing garbage", `{"name":["db"]} x`, nil, "500 invalid character 'x' after top-level value"},
	{"trailing brace", `{"name":["db"]}}`, nil, "500 invalid character '}' after top-level value"},
	{"two values", `{"name":["db"]} {}`, nil, "500 invalid character '{' after top-level value"},
	{"trailing comma", `{"name":["db"],}`, nil, "500 invalid character '}' looking for beginning of object key string"},
	{"byte order mark", "\ufeff{}", nil, "500 invalid character 'ï' looking for beginning of value"},
	{"no-break space", "\u00a0{}", nil, "500 invalid character 'Â' looking for beginning of value"},
	{"truncated", `{"name":["db"]`, nil, "source: syntax error"},
	{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil, "source: exceeds encoding/json's depth limit"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.raw)
			if tc.want == nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Parse(%q) = %v, %v; want an *Error (engine: %s)", tc.raw, got, err, tc.engine)
				}
				if e.Err == nil || e.Error() != "invalid filter" {
					t.Errorf("Parse(%q) error = %q wrapping %v; want \"invalid filter\" wrapping the JSON error", tc.raw, e.Error(), e.Err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v; want %v (engine: %s)", tc.raw, err, tc.want, tc.engine)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) = %#v; want %#v (engine: %s)", tc.raw, got, tc.want, tc.engine)
			}
			again, err := Parse(got.Encode())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Parse(%q) = %#v, %v; want %#v", got.Encode(), again, err, got)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"nil", nil, `{}`},
		{"empty", Args{}, `{}`},
		{"sorted keys and values", Args{"b": {"y": true, "x": true}, "a": {"z": false}}, `{"a":{"z":false},"b":{"x":true,"y":true}}`},
		{"nil set", Args{"a": nil}, `{"a":null}`},
		{"empty set", Args{"a": {}}, `{"a":{}}`},
		{"no HTML escaping", Args{"label": {"a<b>&c": true}}, `{"label":{"a<b>&c":true}}`},
		{"escaped quote", Args{"name": {`a"b`: true}}, `{"name":{"a\"b":true}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.args.Encode(); got != tc.want {
				t.Errorf("Encode() = %s; want %s", got, tc.want)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	a, err := Parse(`{"before":{"web":true,"db":false},"label":null,"name":{}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Keys(), []string{"before", "label", "name"}; !slices.Equal(got, want) {
		t.Errorf("Keys() = %q; want %q", got, want)
	}
	if got, want := a.Get("before"), []string{"db", "web"}; !slices.Equal(got, want) {
		t.Errorf("Get(before) = %q; want %q", got, want)
	}
	for _, key := range []string{"label", "name", "missing"} {
		if got := a.Get(key); got == nil || len(got) != 0 {
			t.Errorf("Get(%s) = %#v; want an empty non-nil slice", key, got)
		}
	}
	if !a.Contains("label") || !a.Contains("name") || a.Contains("missing") {
		t.Errorf("Contains(label, name, missing) = %v, %v, %v; want true, true, false",
			a.Contains("label"), a.Contains("name"), a.Contains("missing"))
	}
	if got := a.Len(); got != 3 {
		t.Errorf("Len() = %d; want 3", got)
	}
	var empty Args
	if empty.Len() != 0 || empty.Contains("x") || len(empty.Get("x")) != 0 || len(empty.Keys()) != 0 {
		t.Errorf("nil Args is not empty: Len %d Keys %q", empty.Len(), empty.Keys())
	}
}

func TestWithWithout(t *testing.T) {
	orig, err := Parse(`{"before":{"web":true},"name":{"^w":false},"label":null}`)
	if err != nil {
		t.Fatal(err)
	}
	keep := orig.Encode()

	got := orig.With("before", "0123abcd", "4567ef01")
	if want := `{"before":{"0123abcd":true,"4567ef01":true},"label":null,"name":{"^w":false}}`; got.Encode() != want {
		t.Errorf("With(before, ...) = %s; want %s", got.Encode(), want)
	}
	if got := orig.With("since").Encode(); got != `{"before":{"web":true},"label":null,"name":{"^w":false},"since":{}}` {
		t.Errorf("With(since) = %s; want since present with no values", got)
	}
	if got := orig.Without("before", "label", "missing").Encode(); got != `{"name":{"^w":false}}` {
		t.Errorf("Without(before, label, missing) = %s; want only name", got)
	}
	if got := orig.Encode(); got != keep {
		t.Errorf("receiver changed to %s; want %s", got, keep)
	}

	if got := Args(nil).With("a", "b").Encode(); got != `{"a":{"b":true}}` {
		t.Errorf("nil.With(a, b) = %s; want {\"a\":{\"b\":true}}", got)
	}
}
