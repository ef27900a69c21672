package filterarg

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// engineArgs reproduces the engine's filters.Args layout (a struct with an
// unexported map) and, crucially, its UnmarshalJSON with a value receiver:
// docker-v29.7.2 daemon/internal/filters/parse.go:14-17 and :89-92 (the same
// in v20.10.24 api/types/filters/parse.go:16-18 and :108-111). Decoding
// through the value receiver is what makes a top-level null harmless: it
// clears the copy's map, not the caller's.
type engineArgs struct {
	fields map[string]map[string]bool
}

func (a engineArgs) UnmarshalJSON(raw []byte) error {
	return json.Unmarshal(raw, &a.fields)
}

// engineFromJSON is the oracle: the engine's FromJSON
// (daemon/internal/filters/parse.go:65-87) restated in this test's words:
// start from an empty, non-nil map; "" is no filters; decode the map form
// through engineArgs; on any error decode the legacy list form into a fresh
// map[string][]string and convert each list to a set; if that fails too the
// parameter is invalid.
func engineFromJSON(p string) (map[string]map[string]bool, bool) {
	args := engineArgs{fields: map[string]map[string]bool{}}
	if p == "" {
		return args.fields, true
	}
	if err := json.Unmarshal([]byte(p), &args); err == nil {
		return args.fields, true
	}
	legacy := map[string][]string{}
	if err := json.Unmarshal([]byte(p), &legacy); err != nil {
		return nil, false
	}
	fields := map[string]map[string]bool{}
	for k, list := range legacy {
		set := map[string]bool{}
		for _, v := range list {
			set[v] = true
		}
		fields[k] = set
	}
	return fields, true
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Parse(raw)
		want, ok := engineFromJSON(raw)
		if ok != (err == nil) {
			t.Fatalf("Parse(%q) error = %v; engine accepts = %v", raw, err, ok)
		}
		if !ok {
			if got != nil {
				t.Fatalf("Parse(%q) = %#v with error %v; want nil", raw, got, err)
			}
			return
		}
		if got == nil {
			t.Fatalf("Parse(%q) = nil; want a non-nil Args", raw)
		}
		if !reflect.DeepEqual(map[string]map[string]bool(got), want) {
			t.Fatalf("Parse(%q) = %#v; engine has %#v", raw, got, want)
		}

		enc := got.Encode()
		again, err := Parse(enc)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("Parse(Encode(Parse(%q))) = %#v, %v; want %#v (encoded %s)", raw, again, err, got, enc)
		}
		if back, ok := engineFromJSON(enc); !ok || !reflect.DeepEqual(back, want) {
			t.Fatalf("engine parses Encode() = %s as %#v, %v; want %#v", enc, back, ok, want)
		}

		for _, k := range got.Keys() {
			vals := got.Get(k)
			if !slices.IsSorted(vals) || len(vals) != len(got[k]) {
				t.Fatalf("Get(%q) = %q; want the %d values of %#v, sorted", k, vals, len(got[k]), got[k])
			}
			if w := got.Without(k); w.Contains(k) || w.Len() != got.Len()-1 {
				t.Fatalf("Without(%q) = %#v; want %d keys without it", k, w, got.Len()-1)
			}
		}
	})
}
