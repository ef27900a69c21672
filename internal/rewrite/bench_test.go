package rewrite

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// BenchmarkContainerList filters a 10,000-element list (about 18 MB,
// every third container kept by label) and compares with the floor, a
// plain io.Copy, and with the obvious alternative, encoding/json: split
// into []json.RawMessage, decode Names and Labels of each element, write
// the kept ones.
func BenchmarkContainerList(b *testing.B) {
	s := newSynthElement(b)
	in := s.list(largeN)
	keep := keepLabelKey("homepage")
	// Hide io.ReaderFrom/WriterTo so io.Copy really copies through a
	// buffer, as a proxy streaming a response does.
	type reader struct{ io.Reader }
	type writer struct{ io.Writer }

	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ContainerList(writer{io.Discard}, reader{bytes.NewReader(in)}, keep, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonscan-keep-by-name", func(b *testing.B) {
		// A Keep that never looks at labels: the filter's own cost.
		byName := func(name string, _ iter.Seq2[string, string]) bool { return name < "/c-05000" }
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ContainerList(writer{io.Discard}, reader{bytes.NewReader(in)}, byName, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonscan.Valid", func(b *testing.B) {
		// Scanning alone, for scale.
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if !jsonscan.Valid(in) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("io.Copy", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.Copy(writer{io.Discard}, reader{bytes.NewReader(in)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if err := encodingJSONFilter(writer{io.Discard}, in, keep); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// encodingJSONFilter is the encoding/json way to do what ContainerList does
// (without streaming: it needs the whole body).
func encodingJSONFilter(dst io.Writer, in []byte, keep Keep) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(in, &raws); err != nil {
		return err
	}
	sep := []byte{'['}
	for _, r := range raws {
		var s summary
		if err := json.Unmarshal(r, &s); err != nil {
			return err
		}
		if !keep(primary(s.Names), mapSeq(s.Labels)) {
			continue
		}
		if _, err := dst.Write(sep); err != nil {
			return err
		}
		if _, err := dst.Write(r); err != nil {
			return err
		}
		sep[0] = ','
	}
	if sep[0] == '[' {
		_, err := dst.Write([]byte("[]\n"))
		return err
	}
	_, err := dst.Write([]byte("]\n"))
	return err
}

// BenchmarkContainerListPeakHeap reports the memory cost of filtering the
// 10,000-element list from a streaming reader.
func BenchmarkContainerListPeakHeap(b *testing.B) {
	var peak, total uint64
	for b.Loop() {
		p, t := heapUse(b, largeN, keepLabelKey("homepage"))
		peak, total = max(peak, p), max(total, t)
	}
	b.ReportMetric(float64(peak), "peak-heap-B")
	b.ReportMetric(float64(total), "total-alloc-B")
}

func BenchmarkScrubInspectEnv(b *testing.B) {
	for _, engine := range engines {
		in := httpBody(b, engine+"/container-inspect-visible.http")
		b.Run(engine, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ScrubInspectEnv(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvents measures Events on a stream of the captured shape: the
// records of engine-20.10/events-default.http (JSON lines) and of
// engine-29.7/events-json-seq.http (json-seq), repeated to about 10,000
// events. keep decides as the proxy does for an up-to-date index: a
// container event by its ID, a network or volume event by the container it
// names, each a map lookup under a mutex (index.Seen); the visible IDs are
// those whose events carry a homepage.* label (CONTAINER_LABELS=homepage),
// and other events are kept. Reported per event: ns/event and
// allocs/event, besides MB/s and kept-%.
//
//   - filter: the stream read in large chunks (a since/until replay);
//   - filter-live: one record per Read, as a live stream arrives (the
//     engine writes and flushes each event on its own);
//   - io.Copy, io.Copy-live: the same bytes copied, the floor.
func BenchmarkEvents(b *testing.B) {
	const target = 10000
	type reader struct{ io.Reader }
	type writer struct{ io.Writer }
	for _, fx := range []struct{ engine, file string }{
		{"engine-20.10", "events-default"},
		{"engine-29.7", "events-json-seq"},
	} {
		recs := eventRecords(b, httpBody(b, fx.engine+"/"+fx.file+".http"))
		var stream [][]byte
		for len(stream) < target {
			stream = append(stream, recs...)
		}
		in := bytes.Join(stream, nil)
		events := len(stream)
		keep, kept := benchEventKeep(b, recs)

		b.Run(fx.engine, func(b *testing.B) {
			for _, bc := range []struct {
				name string
				run  func() error
			}{
				{"filter", func() error {
					return Events(writer{io.Discard}, reader{bytes.NewReader(in)}, keep, nil)
				}},
				{"filter-live", func() error {
					return Events(writer{io.Discard}, &recordReader{recs: stream}, keep, nil)
				}},
				{"io.Copy", func() error {
					_, err := io.Copy(writer{io.Discard}, reader{bytes.NewReader(in)})
					return err
				}},
				{"io.Copy-live", func() error {
					_, err := io.Copy(writer{io.Discard}, &recordReader{recs: stream})
					return err
				}},
			} {
				b.Run(bc.name, func(b *testing.B) {
					b.SetBytes(int64(len(in)))
					b.ReportAllocs()
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					for b.Loop() {
						if err := bc.run(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					runtime.ReadMemStats(&after)
					perEvent := float64(b.N) * float64(events)
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perEvent, "ns/event")
					b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perEvent, "allocs/event")
					if strings.HasPrefix(bc.name, "filter") {
						b.ReportMetric(100*float64(kept*len(stream)/len(recs))/float64(events), "kept-%")
					}
				})
			}
		})
	}
}

// eventRecords splits a captured events body into its records, each with
// its framing (0x1E) and newline, and checks they make up the whole body.
func eventRecords(tb testing.TB, body []byte) [][]byte {
	tb.Helper()
	var recs [][]byte
	for rest := body; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			tb.Fatalf("events body does not end with a newline")
		}
		recs = append(recs, rest[:i+1])
		rest = rest[i+1:]
	}
	if !bytes.Equal(bytes.Join(recs, nil), body) || len(recs) == 0 {
		tb.Fatal("records do not make up the body")
	}
	return recs
}

// benchEventKeep returns the proxy-like decision for these records and how
// many of them it keeps.
func benchEventKeep(tb testing.TB, recs [][]byte) (keep func(Event) bool, kept int) {
	tb.Helper()
	visible := map[string]bool{} // what the index knows: every container, visible or not
	for _, r := range recs {
		var ev struct {
			Type  string
			Actor struct {
				ID         string
				Attributes map[string]string
			}
		}
		if err := json.Unmarshal(bytes.TrimLeft(r, "\x1e"), &ev); err != nil {
			tb.Fatal(err)
		}
		if ev.Type != "container" || ev.Actor.ID == "" {
			continue
		}
		vis := false
		for k := range ev.Actor.Attributes {
			vis = vis || strings.HasPrefix(k, "homepage.")
		}
		visible[ev.Actor.ID] = visible[ev.Actor.ID] || vis
	}
	var mu sync.Mutex
	known := func(id string) (vis, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		vis, ok = visible[id]
		return vis, ok
	}
	keep = func(ev Event) bool {
		switch ev.Type {
		case "container":
			vis, _ := known(ev.Actor.ID)
			return vis
		case "network", "volume":
			if c := ev.Actor.Attributes["container"]; c != "" {
				vis, _ := known(c)
				return vis
			}
		}
		return true
	}
	for _, r := range recs {
		if err := Events(io.Discard, bytes.NewReader(r), func(ev Event) bool {
			if keep(ev) {
				kept++
			}
			return true
		}, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return keep, kept
}

// recordReader returns one record per Read, as a live events stream
// arrives.
type recordReader struct {
	recs [][]byte
	cur  []byte
}

func (r *recordReader) Read(p []byte) (int, error) {
	if len(r.cur) == 0 {
		if len(r.recs) == 0 {
			return 0, io.EOF
		}
		r.cur, r.recs = r.recs[0], r.recs[1:]
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
