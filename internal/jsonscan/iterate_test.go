package jsonscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestObjectEach(t *testing.T) {
	tests := []struct {
		in      string
		want    string // members as key=value;...
		wantErr string // "" | "incomplete" | "syntax@N"
	}{
		{in: `{}`, want: ``},
		{in: ` { } `, want: ``},
		{in: `{"a":1}`, want: `a=1;`},
		{in: `{"a" : "x" , "b\"c":[1, {"d":null}] ,"":{}}`, want: `a="x";b\"c=[1, {"d":null}];={};`},
		{in: `{"Names":["/web"],"names":null}`, want: `Names=["/web"];names=null;`},
		{in: "{\"a\":1}\n", want: `a=1;`},
		{in: `{"a":1} x`, wantErr: "syntax@8"},
		{in: `{"a":1}{}`, wantErr: "syntax@7"},
		{in: `{"a":1`, wantErr: "incomplete"},
		{in: `{"a":12`, wantErr: "incomplete"},
		{in: `{"a":1,}`, wantErr: "syntax@7"},
		{in: `{"a":[1,}`, wantErr: "syntax@8"},
		{in: `[]`, wantErr: "syntax@0"},
		{in: `null`, wantErr: "syntax@0"},
		{in: ``, wantErr: "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := []byte(tt.in)
			var got strings.Builder
			err := ObjectEach(b, func(key []byte, vs, ve int) error {
				fmt.Fprintf(&got, "%s=%s;", key, b[vs:ve])
				return nil
			})
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Fatalf("ObjectEach(%q) err = %v, want %s", tt.in, err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Errorf("ObjectEach(%q) members = %s, want %s", tt.in, got.String(), tt.want)
			}
		})
	}
}

func TestArrayEach(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: `[]`, want: ``},
		{in: `[ 1 , "a" ,{"b":[]}, [ ], true]`, want: `1;"a";{"b":[]};[ ];true;`},
		{in: "[-1.5e3]\n\n", want: `-1.5e3;`},
		{in: `[1,]`, wantErr: "syntax@3"},
		{in: `[1 2]`, wantErr: "syntax@3"},
		{in: `[1`, wantErr: "incomplete"},
		{in: `[1,`, wantErr: "incomplete"},
		{in: `{}`, wantErr: "syntax@0"},
		{in: `[] []`, wantErr: "syntax@3"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := []byte(tt.in)
			var got strings.Builder
			err := ArrayEach(b, func(vs, ve int) error {
				fmt.Fprintf(&got, "%s;", b[vs:ve])
				return nil
			})
			if gotErr := errString(err); gotErr != tt.wantErr {
				t.Fatalf("ArrayEach(%q) err = %v, want %s", tt.in, err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Errorf("ArrayEach(%q) elements = %s, want %s", tt.in, got.String(), tt.want)
			}
		})
	}
}

func errString(err error) string {
	var se *SyntaxError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrIncomplete):
		return "incomplete"
	case errors.As(err, &se):
		return fmt.Sprintf("syntax@%d", se.Offset)
	}
	return err.Error()
}

func TestObjectMembersStops(t *testing.T) {
	b := []byte(`{"a":1,"b":2,"c":3}`)
	stop := errors.New("stop")
	var seen []string
	end, err := ObjectMembers(b, 0, 0, func(key []byte, _, _ int) error {
		seen = append(seen, string(key))
		if string(key) == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || end != 12 {
		t.Errorf("ObjectMembers end, err = %d, %v; want 12, stop", end, err)
	}
	if got := strings.Join(seen, ","); got != "a,b" {
		t.Errorf("members seen = %s, want a,b", got)
	}
}

func TestObjectMembersOffset(t *testing.T) {
	b := []byte(`[0, {"k": "v"}]`)
	end, err := ObjectMembers(b, 3, 1, func(key []byte, vs, ve int) error {
		if string(key) != "k" || string(b[vs:ve]) != `"v"` {
			t.Errorf("member %s=%s, want k=\"v\"", key, b[vs:ve])
		}
		return nil
	})
	if err != nil || end != 14 {
		t.Errorf("ObjectMembers(b, 3) = %d, %v; want 14, nil", end, err)
	}
	if _, err := ObjectMembers(b, 3, MaxDepth, func([]byte, int, int) error { return nil }); err == nil {
		t.Errorf("ObjectMembers at depth MaxDepth succeeded, want exceeded max depth")
	}
}

func TestKindOf(t *testing.T) {
	for in, want := range map[byte]Kind{
		'n': Null, 't': Bool, 'f': Bool, '"': String, '[': Array, '{': Object,
		'-': Number, '0': Number, '9': Number, ' ': Invalid, ']': Invalid, 'x': Invalid,
	} {
		if got := KindOf(in); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestScanAllocs(t *testing.T) {
	for _, doc := range seedDocs(t) {
		if n := testing.AllocsPerRun(20, func() { Valid(doc) }); n != 0 && Valid(doc) {
			t.Errorf("Valid(%q) allocs = %v, want 0", trim(doc), n)
		}
		if len(doc) > 0 && doc[0] == '{' {
			fn := func([]byte, int, int) error { return nil }
			if n := testing.AllocsPerRun(20, func() { _ = ObjectEach(doc, fn) }); n != 0 && Valid(doc) {
				t.Errorf("ObjectEach(%q) allocs = %v, want 0", trim(doc), n)
			}
		}
	}
}
