package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"testing"
)

// fuzzKeep is a decision that depends on both the name and the labels.
func fuzzKeep(name string, labels iter.Seq2[string, string]) bool {
	if strings.Contains(name, "a") {
		return true
	}
	for k, v := range labels {
		if strings.HasPrefix(k, "k") && strings.Contains(v, "1") {
			return true
		}
	}
	return false
}

func FuzzContainerList(f *testing.F) {
	for _, engine := range engines {
		f.Add(httpBody(f, engine+"/containers-list-all.http"), uint8(255), uint8(0))
	}
	for _, s := range []string{
		`[]`, "[ ]\n", `[{"Names":["/a"]},{"Names":["/b"],"Labels":{"k":"1"}}]`,
		`[{"names":["/p/x","/b"],"LABELS":{"k":"x"},"Labels":null,"labels":{"k2":"1"}}]`,
		`[{"N\u0061mes":["\/a"],"Labels":{"k":"v","k":"1"}}]`, `[{"Names":[1]}]`, `[{"Labels":{"k":null}}]`,
		`[{},]`, `[{}] x`, `null`, `[{"a":` + strings.Repeat("[", 30) + `]}]`,
	} {
		f.Add([]byte(s), uint8(3), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk, limit uint8) {
		src := func() *chunkReader { return &chunkReader{data: in, sizes: []int{int(chunk) + 1}} }
		lim := int(limit % 4)
		var out bytes.Buffer
		counts, err := ContainerList(&out, src(), fuzzKeep, lim)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			// Nothing malformed was written: what did go out is a
			// well-formed start of an array.
			if out.Len() > 0 && !json.Valid(out.Bytes()) && !json.Valid(append(out.Bytes(), ']')) {
				t.Fatalf("partial output is not an array prefix: %q", out.Bytes())
			}
			return
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("output is not valid JSON: %q", out.Bytes())
		}
		got := elements(t, out.Bytes())
		if counts.Kept != len(got) {
			t.Fatalf("Kept = %d, output has %d elements", counts.Kept, len(got))
		}
		for _, el := range got {
			var s summary
			if err := json.Unmarshal(el, &s); err != nil {
				t.Fatalf("kept element %s does not decode: %v", el, err)
			}
			if !fuzzKeep(primary(s.Names), mapSeq(s.Labels)) {
				t.Fatalf("emitted element %s that keep rejects", el)
			}
			if !bytes.Contains(in, el) {
				t.Fatalf("emitted element %s is not in the input", el)
			}
		}
		if lim > 0 && counts.Kept == lim {
			return // stopped early: the rest of the input was never read
		}
		// Accepted input is a list encoding/json decodes, and the kept
		// elements are exactly those its view of each element keeps.
		var raws []json.RawMessage
		if err := json.Unmarshal(in, &raws); err != nil {
			t.Fatalf("accepted input that encoding/json rejects: %v", err)
		}
		var want []json.RawMessage
		for _, r := range raws {
			var s summary
			if err := json.Unmarshal(r, &s); err != nil {
				t.Fatalf("accepted element %s that encoding/json cannot decode: %v", r, err)
			}
			if fuzzKeep(primary(s.Names), mapSeq(s.Labels)) {
				want = append(want, r)
			}
		}
		if counts.Total != len(raws) || len(got) != len(want) {
			t.Fatalf("counts %+v, output %d elements; encoding/json: %d elements, %d kept", counts, len(got), len(raws), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("element %d = %s, want %s", i, got[i], want[i])
			}
		}
		trailing := in[len(bytes.TrimRight(in, " \t\r\n")):]
		if !bytes.HasSuffix(out.Bytes(), append([]byte{']'}, trailing...)) {
			t.Fatalf("output %q does not end with ] and the input's trailing %q", out.Bytes(), trailing)
		}
	})
}

func FuzzScrubInspectEnv(f *testing.F) {
	for _, engine := range engines {
		f.Add(httpBody(f, engine+"/container-inspect-visible.http"))
	}
	for _, s := range []string{
		`{"Config":{"Env":["A=1"]}}`, `{"config":{"ENV":"x","Env":null}}`, `{"Config":null}`, `{"Config":"x"}`,
		`{"Config":{"Env":["A"]},"Config":{"Env":["B"]}}`, `{"C\u006fnfig":{"\u0045nv":["A=1"]}}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := ScrubInspectEnv(in)
		var obj map[string]json.RawMessage
		isObject := json.Unmarshal(in, &obj) == nil && bytes.TrimSpace(in)[0] == '{'
		if (err == nil) != isObject {
			t.Fatalf("ScrubInspectEnv err = %v, but input is a JSON object: %v", err, isObject)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) || out != nil {
				t.Fatalf("ScrubInspectEnv = %q, %v; want nil, ErrMalformed", out, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %q", out)
		}
		// A Go client never sees an environment.
		var client struct{ Config *struct{ Env []any } }
		if json.Unmarshal(out, &client) == nil && client.Config != nil && len(client.Config.Env) > 0 {
			t.Fatalf("client still sees Env %v in %s", client.Config.Env, out)
		}
		// Only a key folding to "Env" changes anything; no non-ASCII rune
		// folds to E, N or V.
		lower := bytes.ToLower(in)
		if !bytes.Contains(lower, []byte("nv")) && !bytes.Contains(lower, []byte(`\u`)) && !bytes.Equal(out, in) {
			t.Fatalf("changed a body without Env: %q -> %q", in, out)
		}
	})
}
