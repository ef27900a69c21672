package rewrite

import (
	"bytes"
	"encoding/json"
	"iter"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomList builds a list from the captured elements of both engines and
// a few odd but valid ones, with random whitespace between tokens. It
// returns the input and its elements.
func randomList(t *testing.T, rng *rand.Rand) (in []byte, elems [][]byte) {
	t.Helper()
	var pool [][]byte
	for _, engine := range engines {
		for _, el := range elements(t, httpBody(t, engine+"/containers-list-all.http")) {
			pool = append(pool, el)
		}
	}
	pool = append(pool,
		[]byte(`{}`),
		[]byte(`{"Names":null,"Labels":null}`),
		[]byte(`{ "names" : [ "/p/alias" , "/odd" ] , "LABELS" : { "homepage.x" : "\u00e9" } }`),
		[]byte(`{"Names":["\/esc\u0061ped"],"Labels":{"k\"ey":"v\\al"},"Labels":{"homepage":""}}`),
	)
	ws := []string{"", "", "", " ", "\n", "\t", "\r\n", "  \n  "}
	space := func() string { return ws[rng.IntN(len(ws))] }
	var b strings.Builder
	b.WriteString(space() + "[")
	n := rng.IntN(12)
	for i := range n {
		if i > 0 {
			b.WriteString(space() + ",")
		}
		el := pool[rng.IntN(len(pool))]
		elems = append(elems, el)
		b.WriteString(space())
		b.Write(el)
	}
	b.WriteString(space() + "]" + space())
	return []byte(b.String()), elems
}

func TestContainerListProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		in, elems := randomList(t, rng)
		trailing := in[bytes.LastIndexByte(in, ']')+1:]
		sizes := []int{1 + rng.IntN(64), 1 + rng.IntN(4096)}

		// keep = always: the input modulo whitespace between elements.
		var out bytes.Buffer
		counts, err := ContainerList(&out, &chunkReader{data: in, sizes: sizes}, keepAll, 0)
		if err != nil {
			t.Fatalf("round %d: %v\ninput: %s", round, err, in)
		}
		want := "[" + string(bytes.Join(elems, []byte(","))) + "]" + string(trailing)
		if out.String() != want || counts != (Counts{Kept: len(elems), Total: len(elems)}) {
			t.Fatalf("round %d: keep-all output %q %+v, want %q", round, out.String(), counts, want)
		}

		// A random decision: the kept elements are the input's, in order,
		// exactly those encoding/json's view says to keep.
		salt := rng.Uint64()
		keep := func(name string, labels iter.Seq2[string, string]) bool {
			h := salt
			for _, c := range []byte(describe(name, labels)) {
				h = h*31 + uint64(c)
			}
			return h%3 != 0
		}
		out.Reset()
		counts, err = ContainerList(&out, &chunkReader{data: in, sizes: sizes}, keep, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("round %d: output is not valid JSON: %s", round, out.Bytes())
		}
		var wantKept [][]byte
		for _, el := range elems {
			var s summary
			if err := json.Unmarshal(el, &s); err != nil {
				t.Fatal(err)
			}
			if keep(primary(s.Names), mapSeq(s.Labels)) {
				wantKept = append(wantKept, el)
			}
		}
		got := elements(t, out.Bytes())
		if len(got) != len(wantKept) || counts != (Counts{Kept: len(wantKept), Total: len(elems)}) {
			t.Fatalf("round %d: kept %d (%+v), want %d", round, len(got), counts, len(wantKept))
		}
		for i := range got {
			if !bytes.Equal(got[i], wantKept[i]) || !bytes.Contains(in, got[i]) {
				t.Fatalf("round %d: element %d = %s, want %s", round, i, got[i], wantKept[i])
			}
		}
		if !bytes.HasSuffix(out.Bytes(), append([]byte{']'}, trailing...)) {
			t.Fatalf("round %d: output %q does not end with the input's %q", round, out.Bytes(), trailing)
		}
	}
}
