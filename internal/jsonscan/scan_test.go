package jsonscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// outcome renders a scan result compactly for table tests:
// "end=N", "incomplete" or "syntax@N".
func outcome(end int, err error) string {
	var se *SyntaxError
	switch {
	case err == nil:
		return fmt.Sprintf("end=%d", end)
	case errors.Is(err, ErrIncomplete):
		return "incomplete"
	case errors.As(err, &se):
		if se.Offset != end {
			return fmt.Sprintf("syntax@%d but end=%d", se.Offset, end)
		}
		return fmt.Sprintf("syntax@%d", se.Offset)
	}
	return "unexpected error " + err.Error()
}

func TestValueEnd(t *testing.T) {
	tests := []struct {
		in    string
		want  string // ValueEnd
		final string // ValueEndFinal, when different
	}{
		// literals
		{in: `true`, want: "end=4"},
		{in: `false,`, want: "end=5"},
		{in: `null]`, want: "end=4"},
		{in: `tru`, want: "incomplete"},
		{in: `t`, want: "incomplete"},
		{in: `trx`, want: "syntax@2"},
		{in: `nul1`, want: "syntax@3"},
		{in: `truex`, want: "end=4"},
		// numbers: running to the end is only complete when final
		{in: `12`, want: "incomplete", final: "end=2"},
		{in: `0`, want: "incomplete", final: "end=1"},
		{in: `-0.5e+10`, want: "incomplete", final: "end=8"},
		{in: `12 `, want: "end=2"},
		{in: `12,`, want: "end=2"},
		{in: `01`, want: "end=1"},
		{in: `-`, want: "incomplete"},
		{in: `1.`, want: "incomplete"},
		{in: `1e`, want: "incomplete"},
		{in: `1E-`, want: "incomplete"},
		{in: `-x`, want: "syntax@1"},
		{in: `1.e5`, want: "syntax@2"},
		{in: `1e+x`, want: "syntax@3"},
		{in: `+1`, want: "syntax@0"},
		{in: `.5`, want: "syntax@0"},
		{in: `-01`, want: "end=2"},
		// strings
		{in: `""`, want: "end=2"},
		{in: `"abc"x`, want: "end=5"},
		{in: `"abc`, want: "incomplete"},
		{in: `"a\`, want: "incomplete"},
		{in: `"\u12`, want: "incomplete"},
		{in: `"\u12x4"`, want: "syntax@5"},
		{in: `"\x"`, want: "syntax@2"},
		{in: `"\'"`, want: "syntax@2"},
		{in: "\"a\x1fb\"", want: "syntax@2"},
		{in: "\"a\x7fb\"", want: "end=5"},
		{in: "\"\xff\xfe\"", want: "end=4"},
		{in: `"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, want: "end=36"},
		{in: `"0123456789abcdef0123456789abcdef\"0123456789"`, want: "end=46"},
		{in: "\"0123456789abcdef0123456789\tabcdef\"", want: "syntax@27"},
		// whitespace before the value is skipped, after it is not consumed
		{in: " \t\r\n true \n", want: "end=9"},
		{in: "  ", want: "incomplete"},
		{in: ``, want: "incomplete"},
		{in: "\v1", want: "syntax@0"},
		// containers
		{in: `[]`, want: "end=2"},
		{in: `{}`, want: "end=2"},
		{in: `[ ]`, want: "end=3"},
		{in: `[1, "a", {"b": [null, true]}, -2.5e3] x`, want: "end=37"},
		{in: `{"a":1,"b":{"c":[]}}`, want: "end=20"},
		{in: `[`, want: "incomplete"},
		{in: `[1`, want: "incomplete"},
		{in: `[1,`, want: "incomplete"},
		{in: `[1,]`, want: "syntax@3"},
		{in: `[,1]`, want: "syntax@1"},
		{in: `[1 2]`, want: "syntax@3"},
		{in: `[1}`, want: "syntax@2"},
		{in: `{`, want: "incomplete"},
		{in: `{"a"`, want: "incomplete"},
		{in: `{"a":`, want: "incomplete"},
		{in: `{"a":1`, want: "incomplete"},
		{in: `{"a":1,`, want: "incomplete"},
		{in: `{"a" 1}`, want: "syntax@5"},
		{in: `{1:1}`, want: "syntax@1"},
		{in: `{"a":1,}`, want: "syntax@7"},
		{in: `{"a":1]`, want: "syntax@6"},
		{in: `{"a":tru`, want: "incomplete"},
		{in: `{"a":trux}`, want: "syntax@8"},
		{in: `]`, want: "syntax@0"},
		{in: `}`, want: "syntax@0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := []byte(tt.in)
			if got := outcome(ValueEnd(b, 0)); got != tt.want {
				t.Errorf("ValueEnd(%q) = %s, want %s", tt.in, got, tt.want)
			}
			wantFinal := tt.final
			if wantFinal == "" {
				wantFinal = tt.want
			}
			if got := outcome(ValueEndFinal(b, 0)); got != wantFinal {
				t.Errorf("ValueEndFinal(%q) = %s, want %s", tt.in, got, wantFinal)
			}
		})
	}
}

func TestValueEndOffset(t *testing.T) {
	b := []byte(`{"a":[1,2],"b":"x"}`)
	for _, tt := range []struct {
		i    int
		want string
	}{
		{i: 5, want: "end=10"},
		{i: 15, want: "end=18"},
		{i: 4, want: "syntax@4"},
		{i: len(b), want: "incomplete"},
		{i: -1, want: "syntax@-1"},
		{i: len(b) + 1, want: fmt.Sprintf("syntax@%d", len(b)+1)},
	} {
		t.Run(fmt.Sprint(tt.i), func(t *testing.T) {
			if got := outcome(ValueEnd(b, tt.i)); got != tt.want {
				t.Errorf("ValueEnd(b, %d) = %s, want %s", tt.i, got, tt.want)
			}
		})
	}
}

func TestMaxDepth(t *testing.T) {
	for _, n := range []int{1, 64, 65, 128, 129, 500, MaxDepth - 1, MaxDepth, MaxDepth + 1, MaxDepth + 2} {
		for _, open := range []string{"[", `{"k":`} {
			closing := map[string]string{"[": "]", `{"k":`: "}"}[open]
			in := []byte(strings.Repeat(open, n) + "0" + strings.Repeat(closing, n))
			t.Run(fmt.Sprintf("%s%d", open, n), func(t *testing.T) {
				got, want := Valid(in), json.Valid(in)
				if got != want {
					t.Errorf("Valid(depth %d) = %v, want %v (json.Valid)", n, got, want)
				}
				if want != (n <= MaxDepth) {
					t.Errorf("json.Valid(depth %d) = %v: MaxDepth is not encoding/json's limit", n, want)
				}
				// The same value nested one level deeper by the caller.
				_, err := valueEnd(in, 0, 1, true)
				if gotNested := err == nil; gotNested != (n < MaxDepth) {
					t.Errorf("valueEnd(depth %d, outer 1) err = %v, want valid %v", n, err, n < MaxDepth)
				}
			})
		}
	}
}

func TestSkipSpace(t *testing.T) {
	tests := []struct {
		in   string
		i    int
		want int
	}{
		{in: "", i: 0, want: 0},
		{in: " \t\r\nx", i: 0, want: 4},
		{in: "x ", i: 1, want: 2},
		{in: "\v", i: 0, want: 0},
		{in: "\u00a0", i: 0, want: 0},
		{in: "ab", i: -1, want: -1},
		{in: "ab", i: 5, want: 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%d", tt.in, tt.i), func(t *testing.T) {
			if got := SkipSpace([]byte(tt.in), tt.i); got != tt.want {
				t.Errorf("SkipSpace(%q, %d) = %d, want %d", tt.in, tt.i, got, tt.want)
			}
		})
	}
}

// TestAgainstJSONValid runs a corpus of documents, and every prefix of each,
// through checkAgainstJSON, the same oracle FuzzValueEnd uses.
func TestAgainstJSONValid(t *testing.T) {
	for _, doc := range seedDocs(t) {
		for k := 0; k <= len(doc); k++ {
			checkAgainstJSON(t, doc[:k])
		}
	}
}
