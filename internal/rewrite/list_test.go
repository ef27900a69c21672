package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestContainerListGolden(t *testing.T) {
	for _, engine := range engines {
		in := httpBody(t, engine+"/containers-list-all.http")
		for _, tc := range []struct {
			name      string
			keep      Keep
			wantNames []string
		}{
			{name: "labels-homepage", keep: keepLabelKey("homepage"), wantNames: []string{"/net-vis", "/stopped-c", "/web-a"}},
			{name: "names-db-web", keep: keepNames("/web-a", "/db-b"), wantNames: []string{"/db-b", "/web-a"}},
			{name: "none", keep: keepNames(), wantNames: nil},
		} {
			t.Run(engine+"/"+tc.name, func(t *testing.T) {
				var out bytes.Buffer
				counts, err := ContainerList(&out, bytes.NewReader(in), tc.keep, 0)
				if err != nil {
					t.Fatal(err)
				}
				if want := (Counts{Kept: len(tc.wantNames), Total: 5}); counts != want {
					t.Errorf("counts = %+v, want %+v", counts, want)
				}
				checkGolden(t, engine+"-containers-"+tc.name+".json", out.Bytes())
				var got []string
				for _, el := range elements(t, out.Bytes()) {
					if !bytes.Contains(in, el) {
						t.Errorf("kept element is not a substring of the input: %s", el)
					}
					var s summary
					if err := json.Unmarshal(el, &s); err != nil {
						t.Fatal(err)
					}
					got = append(got, primary(s.Names))
				}
				if strings.Join(got, " ") != strings.Join(tc.wantNames, " ") {
					t.Errorf("kept %v, want %v", got, tc.wantNames)
				}
			})
		}
		t.Run(engine+"/keep-all-is-identity", func(t *testing.T) {
			var out bytes.Buffer
			if _, err := ContainerList(&out, bytes.NewReader(in), keepAll, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), in) {
				t.Errorf("keep-all output differs from the input:\ngot:  %s\nwant: %s", out.Bytes(), in)
			}
		})
	}
}

// TestContainerListReaders runs the golden input through readers that
// return data in awkward pieces: the output must not depend on them.
func TestContainerListReaders(t *testing.T) {
	in := httpBody(t, "engine-29.7/containers-list-all.http")
	var want bytes.Buffer
	if _, err := ContainerList(&want, bytes.NewReader(in), keepLabelKey("homepage"), 0); err != nil {
		t.Fatal(err)
	}
	readers := map[string]func() io.Reader{
		"one-byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		"half":       func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
		"data-err":   func() io.Reader { return iotest.DataErrReader(bytes.NewReader(in)) },
		"chunks-7":   func() io.Reader { return &chunkReader{data: in, sizes: []int{7}} },
		"chunks-mix": func() io.Reader { return &chunkReader{data: in, sizes: []int{1, 300, 0, 2, 4096, 13}} },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			counts, err := ContainerList(&out, r(), keepLabelKey("homepage"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if counts != (Counts{Kept: 3, Total: 5}) {
				t.Errorf("counts = %+v, want {3 5}", counts)
			}
			if out.String() != want.String() {
				t.Errorf("output = %s, want %s", out.Bytes(), want.Bytes())
			}
		})
	}
}

// chunkReader returns data in pieces of the given sizes, cycling; a size
// of 0 is a (0, nil) read.
type chunkReader struct {
	data  []byte
	sizes []int
	n     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	size := r.sizes[r.n%len(r.sizes)]
	r.n++
	size = min(size, len(p), len(r.data))
	copy(p, r.data[:size])
	r.data = r.data[size:]
	return size, nil
}

func TestContainerListErrors(t *testing.T) {
	in := httpBody(t, "engine-29.7/containers-list-all.http")
	boom := errors.New("boom")
	t.Run("read error", func(t *testing.T) {
		src := io.MultiReader(bytes.NewReader(in[:1000]), iotest.ErrReader(boom))
		_, err := ContainerList(io.Discard, src, keepAll, 0)
		if !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
			t.Errorf("err = %v, want boom and not ErrMalformed", err)
		}
	})
	t.Run("write error", func(t *testing.T) {
		_, err := ContainerList(failWriter{boom}, bytes.NewReader(in), keepAll, 0)
		if !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
			t.Errorf("err = %v, want boom and not ErrMalformed", err)
		}
	})
	t.Run("no progress", func(t *testing.T) {
		_, err := ContainerList(io.Discard, &chunkReader{data: in, sizes: []int{0}}, keepAll, 0)
		if !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("err = %v, want io.ErrNoProgress", err)
		}
	})
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestContainerListLimit(t *testing.T) {
	in := []byte(`[{"Names":["/a"]},{"Names":["/b"]},{"Names":["/c"]}]` + "\n")
	tests := []struct {
		name   string
		keep   Keep
		limit  int
		want   string
		counts Counts
	}{
		{name: "1", keep: keepAll, limit: 1, want: `[{"Names":["/a"]}]` + "\n", counts: Counts{Kept: 1, Total: 1}},
		{name: "2 skipping", keep: keepNames("/b", "/c"), limit: 2, want: `[{"Names":["/b"]},{"Names":["/c"]}]` + "\n", counts: Counts{Kept: 2, Total: 3}},
		{name: "1 skipping", keep: keepNames("/b", "/c"), limit: 1, want: `[{"Names":["/b"]}]` + "\n", counts: Counts{Kept: 1, Total: 2}},
		{name: "more than kept", keep: keepNames("/a"), limit: 2, want: `[{"Names":["/a"]}]` + "\n", counts: Counts{Kept: 1, Total: 3}},
		{name: "0 is no limit", keep: keepAll, limit: 0, want: string(in), counts: Counts{Kept: 3, Total: 3}},
		{name: "negative is no limit", keep: keepAll, limit: -1, want: string(in), counts: Counts{Kept: 3, Total: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			counts, err := ContainerList(&out, bytes.NewReader(in), tt.keep, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want || counts != tt.counts {
				t.Errorf("got %q %+v, want %q %+v", out.String(), counts, tt.want, tt.counts)
			}
		})
	}
	t.Run("stops reading", func(t *testing.T) {
		// Garbage after the limit is never read, so it is no error.
		src := io.MultiReader(strings.NewReader(`[{"Names":["/a"]}`), iotest.ErrReader(errors.New("read past the limit")))
		var out bytes.Buffer
		if _, err := ContainerList(&out, src, keepAll, 1); err != nil || out.String() != "[{\"Names\":[\"/a\"]}]\n" {
			t.Errorf("got %q, %v", out.String(), err)
		}
	})
}

func TestContainerListAllocs(t *testing.T) {
	in := httpBody(t, "engine-29.7/containers-list-all.http")
	for _, tc := range []struct {
		name string
		keep Keep
		max  float64
	}{
		// The reader, the lister, two bound methods, the 64 KB window and
		// the labels slice, plus one string per name.
		{name: "nil keep", keep: nil, max: 6},
		{name: "by name", keep: keepNames("/web-a"), max: 6 + 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := testing.AllocsPerRun(20, func() {
				if _, err := ContainerList(io.Discard, bytes.NewReader(in), tc.keep, 0); err != nil {
					t.Fatal(err)
				}
			})
			if n > tc.max {
				t.Errorf("allocs = %v, want <= %v", n, tc.max)
			}
		})
	}
}

func TestContainerListLongTrailing(t *testing.T) {
	tail := strings.Repeat(" \n", 3*maxTrailing)
	t.Run("whitespace", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := ContainerList(&out, &chunkReader{data: []byte(`[{}]` + tail), sizes: []int{100}}, keepNames(), 0); err != nil {
			t.Fatal(err)
		}
		if out.String() != "[]"+tail {
			t.Errorf("output = %.20q... (%d bytes), want [] and %d bytes of whitespace", out.String(), out.Len(), len(tail))
		}
	})
	t.Run("then garbage", func(t *testing.T) {
		var out bytes.Buffer
		_, err := ContainerList(&out, &chunkReader{data: []byte(`[{}]` + tail + "x"), sizes: []int{100}}, keepAll, 0)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
		if !strings.HasPrefix(out.String(), "[{}]") || strings.TrimSpace(out.String()) != "[{}]" {
			t.Errorf("output = %.20q..., want the array and whitespace", out.String())
		}
	})
}

func TestContainerListDropsOversizedElementsUnheld(t *testing.T) {
	huge := `{"Id":"h","Names":["/huge"],"Labels":{"x":"` + strings.Repeat(`a\"}]`, MaxListElement/4) + `"}}`
	in := `[{"Id":"a","Names":["/a"]},` + huge + `,{"Id":"b","Names":["/b"]}]` + "\n"
	var out bytes.Buffer
	counts, err := ContainerList(&out, strings.NewReader(in), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"Id":"a","Names":["/a"]},{"Id":"b","Names":["/b"]}]` + "\n"
	if out.String() != want || counts != (Counts{Kept: 2, Total: 3, Oversized: 1}) {
		t.Errorf("got %d bytes, counts %+v; want the two small elements", out.Len(), counts)
	}
}
