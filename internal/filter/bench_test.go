package filter

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
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
