package jsonscan

import (
	"encoding/json"
	"testing"
	"unicode"
)

func TestKeyEqualFold(t *testing.T) {
	tests := []struct {
		raw, name string
		want      bool
	}{
		{raw: `Names`, name: "Names", want: true},
		{raw: `names`, name: "Names", want: true},
		{raw: `NAMES`, name: "Names", want: true},
		{raw: `nAmEs`, name: "Names", want: true},
		{raw: `Name`, name: "Names", want: false},
		{raw: `Namesx`, name: "Names", want: false},
		{raw: `N\u0061mes`, name: "Names", want: true},
		{raw: `\u004e\u0041\u004d\u0045\u0053`, name: "Names", want: true},
		{raw: `Name\u017f`, name: "Names", want: true}, // LATIN SMALL LETTER LONG S
		{raw: "Nameſ", name: "Names", want: true},
		{raw: "\u212aey", name: "Key", want: true},   // KELVIN SIGN
		{raw: `Confİg`, name: "Config", want: false}, // İ folds to itself, not to I
		{raw: `Confıg`, name: "Config", want: false}, // dotless ı likewise
		{raw: `Env`, name: "Env", want: true},
		{raw: `env`, name: "Env", want: true},
		{raw: `En\u0000`, name: "Env", want: false},
		{raw: `E@v`, name: "E`v", want: false}, // differ by 0x20 but not letters
		{raw: `[`, name: "{", want: false},
		{raw: "Env\x01", name: "Env\x01", want: false}, // not valid string contents
		{raw: `a"b`, name: `a"b`, want: false},
		{raw: `a\\b`, name: `a\b`, want: true},
		{raw: `a\\b`, name: `a\\b`, want: false},
		{raw: "\xff", name: "\uFFFD", want: true}, // invalid UTF-8 unquotes to U+FFFD
		{raw: `ǆX`, name: "ǅx", want: true},
		{raw: ``, name: "", want: true},
		{raw: `\`, name: `\`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.raw+"/"+tt.name, func(t *testing.T) {
			if got := KeyEqualFold([]byte(tt.raw), tt.name); got != tt.want {
				t.Errorf("KeyEqualFold(%q, %q) = %v, want %v", tt.raw, tt.name, got, tt.want)
			}
		})
	}
}

// TestFoldToASCII lists the non-ASCII runes that bind to ASCII field names in
// encoding/json, and checks both KeyEqualFold and encoding/json on each.
func TestFoldToASCII(t *testing.T) {
	var found []rune
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if f := foldRune(r); f < 0x80 {
			found = append(found, r)
		}
	}
	if len(found) != 2 || found[0] != 0x17F || found[1] != 0x212A {
		t.Errorf("non-ASCII runes folding to ASCII = %U, want [U+017F U+212A]", found)
	}
	for _, r := range found {
		var v struct{ S, K *int }
		key := string(r)
		if err := json.Unmarshal([]byte(`{"`+key+`":1}`), &v); err != nil {
			t.Fatal(err)
		}
		gotS, gotK := KeyEqualFold([]byte(key), "S"), KeyEqualFold([]byte(key), "K")
		if gotS != (v.S != nil) || gotK != (v.K != nil) {
			t.Errorf("%U: KeyEqualFold S=%v K=%v, encoding/json S=%v K=%v", r, gotS, gotK, v.S != nil, v.K != nil)
		}
	}
}

func TestKeyEqualFoldAllocs(t *testing.T) {
	for _, raw := range []string{`Names`, `names`, `N\u0061mes`, `Id`, `NetworkSettings`} {
		if n := testing.AllocsPerRun(100, func() { KeyEqualFold([]byte(raw), "Names") }); n != 0 {
			t.Errorf("KeyEqualFold(%q) allocs = %v, want 0", raw, n)
		}
	}
}
