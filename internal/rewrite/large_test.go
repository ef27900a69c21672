package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

const largeN = 10000

func TestContainerListLarge(t *testing.T) {
	s := newSynthElement(t)
	in := s.list(largeN)
	t.Logf("%d elements, %d bytes (%d per element)", largeN, len(in), len(in)/largeN)
	if !json.Valid(in) {
		t.Fatal("synthetic list is not valid JSON")
	}
	var out bytes.Buffer
	counts, err := ContainerList(&out, s.reader(largeN), keepLabelKey("homepage"), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := (largeN + 2) / 3
	if counts != (Counts{Kept: want, Total: largeN}) {
		t.Errorf("counts = %+v, want {%d %d}", counts, want, largeN)
	}
	kept := elements(t, out.Bytes())
	if len(kept) != want {
		t.Fatalf("output has %d elements, want %d", len(kept), want)
	}
	for k, el := range kept {
		i := 3 * k
		if wantEl := s.appendElement(nil, i); !bytes.Equal(el, wantEl) {
			t.Fatalf("element %d differs from input element %d", k, i)
		}
	}
	t.Run("keep all is identity", func(t *testing.T) {
		var all bytes.Buffer
		if _, err := ContainerList(&all, bytes.NewReader(in), nil, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(all.Bytes(), in) {
			t.Error("keep-all output differs from the input")
		}
	})
	t.Run("huge element", func(t *testing.T) {
		// One element far larger than the window, read one byte at a
		// time: growth must stay geometric (this would take minutes if
		// every read triggered a rescan from the element's start).
		big := bytes.Repeat([]byte(`"0123456789abcdef",`), 1<<16) // 1.2 MB
		el := fmt.Appendf(nil, `{"Names":["/big"],"Pad":[%s0]}`, big)
		list := append(append([]byte{'['}, el...), "]\n"...)
		var got bytes.Buffer
		start := time.Now()
		if _, err := ContainerList(&got, &chunkReader{data: list, sizes: []int{1}}, keepAll, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), list) {
			t.Error("huge element not passed through intact")
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("huge element took %v", d)
		}
	})
}

// heapUse measures what filtering n synthetic elements from a streaming
// reader costs in memory: the peak of the live heap above its level before
// the call (sampled every 200µs) and the bytes allocated in total.
func heapUse(tb testing.TB, n int, keep Keep) (peak, total uint64) {
	tb.Helper()
	s := newSynthElement(tb)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	base := read()

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var maxSeen uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			if v := read(); v > maxSeen {
				maxSeen = v
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	counts, err := ContainerList(io.Discard, s.reader(n), keep, 0)
	close(stop)
	wg.Wait()
	if err != nil || counts.Total != n {
		tb.Fatalf("ContainerList = %+v, %v", counts, err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if maxSeen > base {
		peak = maxSeen - base
	}
	return peak, after.TotalAlloc - before.TotalAlloc
}

func TestContainerListMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	for _, tc := range []struct {
		name string
		keep Keep
	}{
		{name: "keep by name", keep: func(name string, _ iter.Seq2[string, string]) bool { return name < "/c-05000" }},
		{name: "keep by label", keep: keepLabelKey("homepage")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peak, total := heapUse(t, largeN, tc.keep)
			t.Logf("filtering %d elements (~18 MB) from a stream: peak live heap +%d KB, %d KB allocated in total", largeN, peak>>10, total>>10)
			// The window is 64 KB; the rest is garbage from the strings
			// handed to Keep. A filter that buffered the list would need
			// tens of MB.
			if total > 8<<20 {
				t.Errorf("allocated %d MB in total, want a few MB at most", total>>20)
			}
			if peak > 8<<20 {
				t.Errorf("peak heap grew by %d MB, want a few MB at most", peak>>20)
			}
		})
	}
}
