package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// seedDocs returns the Docker bodies in testdata plus hand-written edge
// cases, shared by the differential tests and the fuzz seeds.
func seedDocs(tb testing.TB) [][]byte {
	tb.Helper()
	docs := [][]byte{
		[]byte(`{"Id":"abc","Names":["/web"],"Labels":{"a":"b"},"Created":1795781736,"Ports":[],"X":null,"T":true,"F":false}`),
		[]byte(`[1, -0, 0.5, -1.25e+10, 1E-3, 123456789012345678901234567890]`),
		[]byte(`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\ud800\udc00\uDFFF"`),
		[]byte("\"\xff\xfe invalid utf-8 \xed\xa0\x80\""),
		[]byte(" \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n"),
		[]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`),
		[]byte(`0`), []byte(`-`), []byte(`12`), []byte(`true`), []byte(`nul`), []byte(`[1,]`), []byte(`{"a" 1}`),
		[]byte(`"\u12x4"`), []byte("\"a\x01\""), []byte(`01`), []byte(`[] x`), []byte(``), []byte(`  `),
	}
	files, err := filepath.Glob(filepath.Join("testdata", "docker-*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, b)
	}
	return docs
}

// jsonOutcome classifies b with encoding/json: "valid", "incomplete" when
// the decoder hits EOF inside the value (io.ErrUnexpectedEOF, or io.EOF for
// blank input), or "syntax@N" with N the index of the offending byte.
func jsonOutcome(b []byte) string {
	if json.Valid(b) {
		return "valid"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	err := dec.Decode(&v)
	var se *json.SyntaxError
	switch {
	case err == nil: // a complete value followed by garbage
		return fmt.Sprintf("syntax@%d", SkipSpace(b, int(dec.InputOffset())))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "incomplete"
	case errors.As(err, &se):
		return fmt.Sprintf("syntax@%d", se.Offset-1)
	}
	return "decoder error " + err.Error()
}

// ourOutcome classifies b as jsonOutcome does, using ValueEndFinal.
func ourOutcome(b []byte) string {
	end, err := ValueEndFinal(b, 0)
	if err == nil {
		if i := SkipSpace(b, end); i < len(b) {
			return fmt.Sprintf("syntax@%d", i)
		}
		return "valid"
	}
	got := outcome(end, err)
	if got == fmt.Sprintf("end=%d", end) {
		return "unexpected"
	}
	return got
}

// checkAgainstJSON checks ValueEnd, ValueEndFinal, Valid and ObjectMembers
// on b against encoding/json and against each other.
func checkAgainstJSON(t *testing.T, b []byte) {
	t.Helper()
	want := jsonOutcome(b)
	if got := ourOutcome(b); got != want {
		t.Fatalf("ValueEndFinal(%q) = %s, want %s (encoding/json)", trim(b), got, want)
	}
	if got := Valid(b); got != (want == "valid") {
		t.Fatalf("Valid(%q) = %v, want %v", trim(b), got, want == "valid")
	}
	// Without final, only a number running to the very end changes.
	endF, errF := ValueEndFinal(b, 0)
	end, err := ValueEnd(b, 0)
	numberAtEnd := errF == nil && endF == len(b) && KindOf(b[SkipSpace(b, 0)]) == Number
	switch {
	case numberAtEnd:
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("ValueEnd(%q) = %s, want incomplete (number at end)", trim(b), outcome(end, err))
		}
	case outcome(end, err) != outcome(endF, errF):
		t.Fatalf("ValueEnd(%q) = %s, ValueEndFinal = %s", trim(b), outcome(end, err), outcome(endF, errF))
	}
	// The iterators agree with ValueEnd on where an object or array ends
	// and on how it fails; the spans they report are values.
	i := SkipSpace(b, 0)
	if i < len(b) && (b[i] == '{' || b[i] == '[') {
		var spans [][2]int
		var itEnd int
		var itErr error
		if b[i] == '{' {
			itEnd, itErr = ObjectMembers(b, 0, 0, func(key []byte, vs, ve int) error {
				if _, err := stringEnd(append(append([]byte{'"'}, key...), '"'), 0); err != nil {
					return fmt.Errorf("bad key %q: %v", key, err)
				}
				spans = append(spans, [2]int{vs, ve})
				return nil
			})
		} else {
			itEnd, itErr = ArrayElems(b, 0, 0, func(vs, ve int) error {
				spans = append(spans, [2]int{vs, ve})
				return nil
			})
		}
		if got, want := outcome(itEnd, itErr), outcome(end, err); got != want {
			t.Fatalf("iterating %q = %s, ValueEnd = %s", trim(b), got, want)
		}
		for _, s := range spans {
			if !json.Valid(b[s[0]:s[1]]) || (s[0] < len(b) && isSpace(b[s[0]])) {
				t.Fatalf("iterating %q: span %v = %q is not a value", trim(b), s, b[s[0]:s[1]])
			}
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trim(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:100:100], append([]byte("..."), b[len(b)-100:]...)...)
	}
	return b
}

func FuzzValueEnd(f *testing.F) {
	for _, doc := range seedDocs(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstJSON(t, b)
		// Every proper prefix of a valid document is incomplete, never a
		// syntax error: a streaming caller reads more instead of failing.
		if end, err := ValueEndFinal(b, 0); err == nil && len(b) <= 4096 {
			for k := 0; k < end; k++ {
				if _, err := ValueEnd(b[:k], 0); !errors.Is(err, ErrIncomplete) {
					t.Fatalf("ValueEnd(%q) (prefix of valid %q) err = %v, want ErrIncomplete", b[:k], trim(b), err)
				}
			}
		}
	})
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{
		``, `plain`, `caf\u00e9`, `\"\\\/\b\f\n\r\t`, `\uD83D\uDE00`, `\ud83d`, `\uDE00\uD83D`,
		`\uD83D\u0041`, `\uD83Dx`, `\uD83D\uD83D\uDE00`, "\xff", "\xed\xa0\x80", "caf\xc3", `\'`,
		`\u12`, `\`, `"`, "\x01", `\uzzzz`, "日本語",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Unquote(raw)
		var want string
		jerr := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &want)
		if (err == nil) != (jerr == nil) {
			t.Fatalf("Unquote(%q) err = %v, encoding/json err = %v", raw, err, jerr)
		}
		if err == nil && got != want {
			t.Fatalf("Unquote(%q) = %q, want %q", raw, got, want)
		}
		if err == nil && !utf8.ValidString(got) {
			t.Fatalf("Unquote(%q) = %q, not valid UTF-8", raw, got)
		}
		appended, aerr := AppendUnquote([]byte("pre"), raw)
		if (aerr == nil) != (err == nil) || (err == nil && string(appended) != "pre"+got) || (aerr != nil && string(appended) != "pre") {
			t.Fatalf("AppendUnquote(pre, %q) = %q, %v; Unquote = %q, %v", raw, appended, aerr, got, err)
		}
	})
}

// foldTarget has fields whose names exercise KeyEqualFold: ASCII names
// with letters that have non-ASCII fold partners (K: KELVIN SIGN, S: LONG S)
// and a non-ASCII name.
type foldTarget struct {
	Names  *int
	Labels *int
	Config *int
	Env    *int
	Key    *int
	Status *int
	Dz     *int `json:"ǅx"`
}

func FuzzKeyEqualFold(f *testing.F) {
	for _, s := range []string{
		`Names`, `names`, `NAMES`, `N\u0061mes`, `Name`, `\u212Aey`, "\u212aey", "ſtatuſ", `Ǆx`, `ǆX`,
		`Labels`, `label`, `ENV`, `Env\u0000`, `Confİg`, `Confıg`, `\u0043onfig`, "Conf\xffig",
	} {
		f.Add([]byte(s))
	}
	fields := []string{"Names", "Labels", "Config", "Env", "Key", "Status", "ǅx"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		quoted := append(append([]byte{'"'}, raw...), '"')
		if end, err := ValueEndFinal(quoted, 0); err != nil || end != len(quoted) {
			for _, name := range fields {
				if KeyEqualFold(raw, name) {
					t.Fatalf("KeyEqualFold(%q, %q) = true for an invalid key", raw, name)
				}
			}
			return
		}
		var v foldTarget
		doc := append(append([]byte{'{'}, quoted...), []byte(":1}")...)
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", doc, err)
		}
		set := []bool{v.Names != nil, v.Labels != nil, v.Config != nil, v.Env != nil, v.Key != nil, v.Status != nil, v.Dz != nil}
		for k, name := range fields {
			if got := KeyEqualFold(raw, name); got != set[k] {
				t.Errorf("KeyEqualFold(%q, %q) = %v, want %v (encoding/json)", raw, name, got, set[k])
			}
		}
	})
}
