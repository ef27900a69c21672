package proxy

// Benchmarks of the whole proxy over real sockets. See BENCHMARKS.md at the
// repository root for what each one measures and how to run it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmittmann/tint"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// ------------------------------------------------------------ fake engine --

// benchFilters is CONTAINER_LABELS=homepage: in a fakeengine.Generate
// world, the even-numbered containers carry homepage.* labels and are
// visible, the odd ones are not.
var benchFilters = match.Criteria{Labels: []match.Label{{Key: "homepage"}}}

// newBenchEngine is a FAKE Engine 20.10 (its captured headers and answer
// shapes) on a unix socket holding n generated containers, with every
// answer precomputed and no request log, so that the benchmarks measure
// the proxy, not the engine. cases answer the requests marked with
// fakeengine.CaseHeader.
func newBenchEngine(tb testing.TB, n int, cases map[string]fakeengine.Case) *fakeengine.Engine {
	tb.Helper()
	return fakeengine.New(tb, fakeengine.Options{
		Fixture:      fakeengine.LoadFixture(tb, "engine-20.10"),
		World:        fakeengine.Generate(tb, n),
		Cases:        cases,
		NoRequestLog: true,
	})
}

// ---------------------------------------------------------------- targets --

// benchLogger is the production default logger (tint text at info, every
// request's audit line formatted) writing to nowhere.
func benchLogger() *slog.Logger {
	return slog.New(tint.NewTextHandler(io.Discard, &tint.Options{Level: slog.LevelInfo, TimeFormat: time.RFC3339, NoColor: true}))
}

// startBenchProxy runs the proxy with a live index in front of upstreamHost,
// served over loopback TCP, as cmd/docker-proxy-filter assembles it. env
// adds configuration (e.g. SCRUB_ENVS); logger nil is the production
// default logger writing to nowhere.
func startBenchProxy(tb testing.TB, upstreamHost string, filters match.Criteria, env map[string]string, logger *slog.Logger) (url string, idx *index.Index) {
	tb.Helper()
	h, idx := benchLiveProxy(tb, upstreamHost, filters, env, logger)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close) // before the index stops (cleanups run last first)
	return srv.URL, idx
}

// benchLiveProxy builds the proxy handler through NewSidecar, as
// cmd/docker-proxy-filter does, and waits until its index, listing and
// following upstreamHost, is live.
func benchLiveProxy(tb testing.TB, upstreamHost string, filters match.Criteria, env map[string]string, logger *slog.Logger) (*Proxy, *index.Index) {
	tb.Helper()
	full := filtersEnv(filters)
	full["POLL_INTERVAL"] = "1s"
	for k, v := range env {
		full[k] = v
	}
	if logger == nil {
		logger = benchLogger()
	}
	s := startSidecar(tb, upstreamHost, full, logger)
	enginetest.Eventually(tb, 60*time.Second, "proxy index live", func() bool { return s.Index.State() == index.Live })
	return s.Handler, s.Index
}

// benchStartPassthrough runs the baseline: a plain httputil.ReverseProxy to the
// same upstream, with the same kind of transport, over loopback TCP.
func benchStartPassthrough(tb testing.TB, upstreamHost string) string {
	tb.Helper()
	ep, err := config.ParseUpstream(upstreamHost)
	if err != nil {
		tb.Fatal(err)
	}
	host := upstream.URLHost(ep)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = host
			pr.Out.Host = ""
		},
		Transport:     upstream.NewTransport(ep),
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	srv := httptest.NewServer(rp)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// benchTarget is one server under comparison with its own keep-alive client.
type benchTarget struct {
	name   string
	url    string
	client *http.Client
}

func newBenchTarget(tb testing.TB, name, url string) *benchTarget {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true, IdleConnTimeout: 10 * time.Minute}
	tb.Cleanup(tr.CloseIdleConnections)
	return &benchTarget{name: name, url: url, client: &http.Client{Transport: tr}}
}

// get sends one request and reads the whole answer, returning how long that
// took and the body size.
func (t *benchTarget) get(tb testing.TB, path string) (time.Duration, int64) {
	start := time.Now()
	resp, err := t.client.Get(t.url + path)
	if err != nil {
		tb.Fatalf("%s: GET %s: %v", t.name, path, err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s: GET %s: %d, %v", t.name, path, resp.StatusCode, err)
	}
	return d, n
}

func benchPercentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// benchCompare alternates one request to the pass-through and one to the proxy
// per iteration (swapping which goes first every iteration, so machine noise
// hits both alike) and reports each side's p50 and p99 and their ratios.
// checkBodies sees one answer of each first (plain, proxy sizes).
func benchCompare(b *testing.B, plain, proxy *benchTarget, path string, checkBodies func(plain, proxy int64)) {
	var plainN, proxyN int64
	for range 20 { // connections up, caches warm
		_, plainN = plain.get(b, path)
		_, proxyN = proxy.get(b, path)
	}
	if checkBodies != nil {
		checkBodies(plainN, proxyN)
	}
	var lp, lx []time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			d, _ := plain.get(b, path)
			lp = append(lp, d)
			d, _ = proxy.get(b, path)
			lx = append(lx, d)
		} else {
			d, _ := proxy.get(b, path)
			lx = append(lx, d)
			d, _ = plain.get(b, path)
			lp = append(lp, d)
		}
		i++
	}
	slices.Sort(lp)
	slices.Sort(lx)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	p50p, p99p, p50x, p99x := benchPercentile(lp, 50), benchPercentile(lp, 99), benchPercentile(lx, 50), benchPercentile(lx, 99)
	b.ReportMetric(us(p50p), "plain-p50-us")
	b.ReportMetric(us(p99p), "plain-p99-us")
	b.ReportMetric(us(p50x), "proxy-p50-us")
	b.ReportMetric(us(p99x), "proxy-p99-us")
	if p50p > 0 && p99p > 0 {
		b.ReportMetric(float64(p50x)/float64(p50p), "p50-ratio")
		b.ReportMetric(float64(p99x)/float64(p99p), "p99-ratio")
	}
	if testing.Verbose() {
		b.Logf("%d requests each; slowest: pass-through %v, proxy %v", len(lp), lp[len(lp)-1], lx[len(lx)-1])
	}
	b.ReportMetric(float64(plainN), "plain-B")
	b.ReportMetric(float64(proxyN), "proxy-B")
}

// ------------------------------------------------------------ side by side --

// BenchmarkSideBySide compares the proxy (live index, filters, audit log)
// with a plain pass-through ReverseProxy in front of the same upstream, for
// inspect of a visible container and for container lists. The figure is
// p50-ratio (proxy p50 / pass-through p50); ns/op covers one request to each.
//
//   - fake: an in-process engine on a unix socket serving 1,000 containers
//     (half visible) built from captured 20.10 answers. inspect asks for a
//     visible container by name (the proxy resolves it in its index and
//     forwards the full ID); inspect-no-audit-log is the same proxy with
//     its audit line disabled (as LOG_LEVEL=warn does), inspect-scrub-envs
//     with SCRUB_ENVS=true. list-1000 filters the list to its visible half;
//     list-1000-all-visible runs a proxy without filters (the same bytes out
//     as the pass-through).
//   - fake-10000: the same at 10,000 containers (the answer then streams).
//   - engine: the real engine at DPF_TEST_DOCKER_HOST (skipped without),
//     holding DPF_BENCH_ENGINE_CONTAINERS (default 1000) extra created
//     containers, half of them visible, plus one running visible container
//     that is inspected.
func BenchmarkSideBySide(b *testing.B) {
	b.Run("fake", func(b *testing.B) {
		f := newBenchEngine(b, 1000, nil)
		plain := newBenchTarget(b, "pass-through", benchStartPassthrough(b, f.Host))
		url, _ := startBenchProxy(b, f.Host, benchFilters, nil, nil)
		filtered := newBenchTarget(b, "proxy", url)
		url, _ = startBenchProxy(b, f.Host, match.Criteria{}, nil, nil)
		allVisible := newBenchTarget(b, "proxy-no-filters", url)
		url, _ = startBenchProxy(b, f.Host, benchFilters, nil, slog.New(slog.DiscardHandler))
		noLog := newBenchTarget(b, "proxy-no-audit-log", url)
		url, _ = startBenchProxy(b, f.Host, benchFilters, map[string]string{"SCRUB_ENVS": "true"}, nil)
		scrub := newBenchTarget(b, "proxy-scrub-envs", url)
		visible := f.World().Containers()[500]
		inspect := "/v1.41/containers/" + visible.Name[1:] + "/json"

		for _, bc := range []struct {
			name  string
			proxy *benchTarget
		}{
			{"inspect", filtered},
			{"inspect-no-audit-log", noLog}, // LOG_LEVEL=warn: no audit line formatted
			{"inspect-scrub-envs", scrub},   // SCRUB_ENVS=true: the answer is read, rewritten, re-sent
		} {
			b.Run(bc.name, func(b *testing.B) {
				before := f.Inspects()
				benchCompare(b, plain, bc.proxy, inspect, func(p, x int64) {
					if bc.proxy != scrub && p != x {
						b.Fatalf("inspect answers differ in size: %d vs %d", p, x)
					}
				})
				b.StopTimer()
				// Each request reached the upstream once; the index asked nothing.
				if calls, reqs := f.Inspects()-before, int64(2*(b.N+20)); calls != reqs {
					b.Errorf("upstream inspect calls = %d, want %d (one per request)", calls, reqs)
				}
			})
		}
		b.Run("list-1000", func(b *testing.B) {
			benchCompare(b, plain, filtered, "/v1.41/containers/json?all=1", func(p, x int64) {
				if x >= p*3/4 || x == 0 {
					b.Fatalf("filtered list is %d bytes of %d: not filtered", x, p)
				}
			})
		})
		b.Run("list-1000-all-visible", func(b *testing.B) {
			benchCompare(b, plain, allVisible, "/v1.41/containers/json?all=1", func(p, x int64) {
				if p != x {
					b.Fatalf("unfiltered list is %d bytes, pass-through %d", x, p)
				}
			})
		})
	})

	b.Run("fake-10000", func(b *testing.B) {
		f := newBenchEngine(b, 10000, nil)
		plain := newBenchTarget(b, "pass-through", benchStartPassthrough(b, f.Host))
		url, _ := startBenchProxy(b, f.Host, benchFilters, nil, nil)
		filtered := newBenchTarget(b, "proxy", url)
		b.Run("list-10000", func(b *testing.B) {
			benchCompare(b, plain, filtered, "/v1.41/containers/json?all=1", nil)
		})
	})

	b.Run("engine", func(b *testing.B) {
		e := enginetest.Require(b)
		n := 1000
		if v := os.Getenv("DPF_BENCH_ENGINE_CONTAINERS"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				b.Fatalf("DPF_BENCH_ENGINE_CONTAINERS=%q: want a count", v)
			}
		}
		key := enginetest.UniqueName(b, "dpfbench")
		start := time.Now()
		benchCreateContainers(b, e, key, n)
		created := time.Since(start)
		web := e.Run(b, enginetest.RunSpec{Name: key + "-web", Labels: map[string]string{key: "web"}})
		if testing.Verbose() {
			b.Logf("engine: created %d containers in %v (%v each, 8 at a time)", n, created.Round(time.Millisecond),
				(created / time.Duration(max(n, 1))).Round(time.Microsecond))
		}

		plain := newBenchTarget(b, "pass-through", benchStartPassthrough(b, e.Host))
		url, _ := startBenchProxy(b, e.Host, match.Criteria{Labels: []match.Label{{Key: key}}}, nil, nil)
		filtered := newBenchTarget(b, "proxy", url)

		b.Run("inspect", func(b *testing.B) {
			benchCompare(b, plain, filtered, "/v1.41/containers/"+web.Name+"/json", nil)
		})
		b.Run(fmt.Sprintf("list-%d", n), func(b *testing.B) {
			benchCompare(b, plain, filtered, "/v1.41/containers/json?all=1", func(p, x int64) {
				if x >= p*3/4 && n >= 20 {
					b.Fatalf("filtered list is %d bytes of %d: not filtered", x, p)
				}
			})
		})
	})
}

// createBenchContainers creates n containers (not started: a start costs a
// second on vfs), half of them labelled key=yes, 8 at a time, and removes
// them when b ends.
func benchCreateContainers(b *testing.B, e *enginetest.Engine, key string, n int) {
	image := e.TestImage(b)
	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		work := make(chan string)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for id := range work {
					if _, err := e.Client.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
						b.Logf("cleanup: remove %.12s: %v", id, err)
					}
				}
			})
		}
		for _, id := range ids {
			work <- id
		}
		close(work)
		wg.Wait()
	})
	errs := make(chan error, n)
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				labels := map[string]string{enginetest.LabelTest: b.Name()}
				if i%2 == 0 {
					labels[key] = "yes"
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				res, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
					Name:       fmt.Sprintf("%s-%04d", key, i),
					Config:     &container.Config{Image: image, Labels: labels},
					HostConfig: &container.HostConfig{NetworkMode: "none"},
				})
				cancel()
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ids = append(ids, res.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("create containers: %v", err)
	}
}

// ----------------------------------------------------------- events stream --

// BenchmarkEventsLatency measures the latency the proxy adds to a GET
// /events stream. One fake engine (100 containers, half visible) feeds two
// streams: one read through the proxy (live index, CONTAINER_LABELS=homepage,
// default audit log), one through a plain pass-through ReverseProxy, both on
// loopback TCP. Each iteration the fake writes one "start" event of a
// visible container (the captured 20.10 shape), stamped with the time of the
// write, to each stream in turn (which goes first alternates), and the next
// is written only once the client has read it, so nothing queues. Latency is
// from the fake's write to the client's read of the record's newline.
// Reports plain-/proxy- p50/p99 (µs), p50-ratio and p99-ratio, and
// added-p50-us / added-p99-us (proxy minus pass-through). Setup checks that
// the proxy drops a hidden container's event and passes a visible one.
func BenchmarkEventsLatency(b *testing.B) {
	// Each stream is marked with its target's name.
	f := newBenchEngine(b, 100, map[string]fakeengine.Case{"pass-through": fakeengine.EventStream, "proxy": fakeengine.EventStream})
	plain := newBenchTarget(b, "pass-through", benchStartPassthrough(b, f.Host))
	url, idx := startBenchProxy(b, f.Host, benchFilters, nil, nil)
	proxied := newBenchTarget(b, "proxy", url)
	visible, hidden := f.World().Containers()[0], f.World().Containers()[1]
	if _, vis, ok := idx.Seen(visible.ID); !ok || !vis {
		b.Fatalf("the index does not know %s as visible", visible.Name)
	}
	record := func(c fakeengine.Container) []byte {
		attrs := map[string]string{"image": "sleeper:latest", "name": c.Name[1:]}
		maps.Copy(attrs, c.Labels)
		a, _ := json.Marshal(attrs)
		return fmt.Appendf(nil, `{"status":"start","id":"%s","from":"sleeper:latest","Type":"container","Action":"start",`+
			`"Actor":{"ID":"%s","Attributes":%s},"scope":"local","time":1795781742,"timeNano":%s}`+"\n",
			c.ID, c.ID, a, fakeengine.StampMark)
	}
	visibleRec, hiddenRec := record(visible), record(hidden)

	type line struct {
		text []byte
		at   time.Duration // since the feed's Base
		err  error
	}
	type stream struct {
		name  string
		feed  *fakeengine.Stream
		lines chan line
	}
	open := func(t *benchTarget) *stream {
		req, err := http.NewRequest(http.MethodGet, t.url+"/v1.41/events", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set(fakeengine.CaseHeader, t.name)
		resp, err := t.client.Do(req)
		if err != nil {
			b.Fatalf("%s: GET /events: %v", t.name, err)
		}
		b.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: GET /events: %s", t.name, resp.Status)
		}
		// The upstream request arrived before the answer's headers did.
		fd := f.Stream(b)
		if fd.Case != t.name {
			b.Fatalf("feed %q opened for %q", fd.Case, t.name)
		}
		s := &stream{name: t.name, feed: fd, lines: make(chan line, 4)}
		go func() {
			br := bufio.NewReader(resp.Body)
			for {
				text, err := br.ReadSlice('\n')
				at := time.Since(fd.Base)
				s.lines <- line{text: slices.Clone(text), at: at, err: err}
				if err != nil {
					return
				}
			}
		}()
		return s
	}
	read := func(s *stream) line {
		select {
		case l := <-s.lines:
			if l.err != nil {
				b.Fatalf("%s: reading the events stream: %v", s.name, l.err)
			}
			return l
		case <-time.After(10 * time.Second):
			b.Fatalf("%s: no event within 10s", s.name)
		}
		return line{}
	}
	// one sends the visible container's event and returns its latency.
	one := func(s *stream) time.Duration {
		s.feed.Send(visibleRec)
		l := read(s)
		if !bytes.Contains(l.text, []byte(visible.ID)) {
			b.Fatalf("%s: got %.80q, want the visible container's event", s.name, l.text)
		}
		_, rest, _ := bytes.Cut(l.text, []byte(`"timeNano":`))
		end := bytes.IndexByte(rest, '}')
		stamp, err := strconv.ParseInt(string(rest[:max(end, 0)]), 10, 64)
		if err != nil {
			b.Fatalf("%s: no stamp in %.80q", s.name, l.text)
		}
		return l.at - time.Duration(stamp)
	}
	sp, sx := open(plain), open(proxied)

	// The pass-through passes both events; the proxy only the visible one.
	for _, s := range []*stream{sp, sx} {
		s.feed.Send(hiddenRec)
		s.feed.Send(visibleRec)
		first := read(s)
		if s == sp {
			if !bytes.Contains(first.text, []byte(hidden.ID)) {
				b.Fatalf("pass-through: got %.80q first, want the hidden container's event", first.text)
			}
			first = read(s)
		}
		if !bytes.Contains(first.text, []byte(visible.ID)) {
			b.Fatalf("%s: got %.80q, want the visible container's event", s.name, first.text)
		}
	}
	for range 20 { // warm up
		one(sp)
		one(sx)
	}
	var lp, lx []time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			lp = append(lp, one(sp))
			lx = append(lx, one(sx))
		} else {
			lx = append(lx, one(sx))
			lp = append(lp, one(sp))
		}
		i++
	}
	slices.Sort(lp)
	slices.Sort(lx)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	p50p, p99p, p50x, p99x := benchPercentile(lp, 50), benchPercentile(lp, 99), benchPercentile(lx, 50), benchPercentile(lx, 99)
	b.ReportMetric(us(p50p), "plain-p50-us")
	b.ReportMetric(us(p99p), "plain-p99-us")
	b.ReportMetric(us(p50x), "proxy-p50-us")
	b.ReportMetric(us(p99x), "proxy-p99-us")
	b.ReportMetric(us(p50x-p50p), "added-p50-us")
	b.ReportMetric(us(p99x-p99p), "added-p99-us")
	if p50p > 0 && p99p > 0 {
		b.ReportMetric(float64(p50x)/float64(p50p), "p50-ratio")
		b.ReportMetric(float64(p99x)/float64(p99p), "p99-ratio")
	}
}

// ------------------------------------------------------ index memory cost --

// BenchmarkIndexInitialList measures what the index's initial list costs at
// 10,000 containers (the same fake list the RSS benchmark serves) through
// the real upstream.Client.List, which streams the answer through the list
// rewriter's reader and keeps only Id, primary name and Labels of each
// element. B/op is everything
// allocated per list; peak-heap-MB is the most heap (live and not yet
// collected) seen during one list under the default GOGC, above what was in
// use before; kept-heap-MB is what the result holds after a GC. (The index
// then calls debug.FreeOSMemory; BenchmarkProcessRSS sees its effect.)
func BenchmarkIndexInitialList(b *testing.B) {
	f := newBenchEngine(b, 10000, nil)
	ep, err := config.ParseUpstream(f.Host)
	if err != nil {
		b.Fatal(err)
	}
	src, err := upstream.New(ep, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(src.Close)
	list := func() ([]upstream.Container, error) { return src.List(context.Background()) }
	if _, err := list(); err != nil { // connection up
		b.Fatal(err)
	}
	b.SetBytes(int64(len(f.World().List())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := list(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var got []upstream.Container
	peak, kept := benchHeapCost(func() {
		if got, err = list(); err != nil {
			b.Fatal(err)
		}
	}, func() { runtime.KeepAlive(got) })
	if n := len(f.World().Containers()); len(got) != n {
		b.Fatalf("listed %d containers, want %d", len(got), n)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(kept)/(1<<20), "kept-heap-MB")
}

// benchHeapCost runs fn once and reports the peak of the heap's object bytes
// (sampled every 100µs) and what is still in use after a GC (with keep
// holding fn's result), both above the heap in use before.
func benchHeapCost(fn, keep func()) (peak, kept uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var top atomic.Uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			if v := read(); v > top.Load() {
				top.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-stopped
	runtime.GC()
	after := read()
	keep()
	sub := func(a uint64) uint64 {
		if a < base {
			return 0
		}
		return a - base
	}
	return sub(top.Load()), sub(after)
}

// ------------------------------------------------------ list path, split --

// BenchmarkListPath takes the proxy's list path apart in process (no
// sockets) on the fake 1,000- and 10,000-container lists, with the proxy's
// own filter run (rewrite.ContainerList through modeRefWriter, deciding with
// the proxy's Visibility, as serveContainerList does):
//
//   - filter-only: that run from the answer to io.Discard;
//   - filter-only-match: the same deciding with match.Criteria.Match alone
//     and writing straight to io.Discard, to show what Visibility (its
//     swarm-service check) and modeRefWriter add;
//   - filterAnswer-copy: filterAnswer (the pipe from a goroutine through a
//     32 KiB bufio.Writer into 64 KiB holding chunks, streamed past 4 MiB)
//     around a plain io.Copy, its own cost;
//   - filterAnswer-filter: filterAnswer around the filter run, what the
//     proxy does to a list answer.
//
// "interleaved" runs every variant each iteration and reports each one's
// p50, the figures to compare on a busy machine; the per-variant
// sub-benchmarks report allocations and peak-heap-MB, the heap (live and not
// yet collected) one list reaches above what was in use before. SetBytes is
// the upstream answer.
func BenchmarkListPath(b *testing.B) {
	type reader struct{ io.Reader } // hide WriterTo, as a socket does
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			f := newBenchEngine(b, n, nil)
			list := f.World().List()
			p, _ := benchLiveProxy(b, f.Host, benchFilters, nil, nil)
			filterRun := func(dst io.Writer, src io.Reader) error {
				_, err := rewrite.ContainerList(listElementWriter{p: p, dst: dst}, src, p.vis.ContainerSeq, 0)
				return err
			}
			copyRun := func(dst io.Writer, src io.Reader) error {
				_, err := io.Copy(dst, src)
				return err
			}
			answer := func() *http.Response {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(reader{bytes.NewReader(list)})}
			}
			variants := []struct {
				name string
				run  func() error
			}{
				{"filter-only", func() error { return filterRun(io.Discard, reader{bytes.NewReader(list)}) }},
				{"filter-only-match", func() error {
					_, err := rewrite.ContainerList(io.Discard, reader{bytes.NewReader(list)}, benchFilters.Match, 0)
					return err
				}},
				{"filterAnswer-copy", func() error { return benchDrain(answer(), copyRun) }},
				{"filterAnswer-filter", func() error { return benchDrain(answer(), filterRun) }},
			}
			// All variants in turn each iteration, so load on the machine
			// hits them alike: compare these p50s, not ns/op across lines.
			b.Run("interleaved", func(b *testing.B) {
				times := make([][]time.Duration, len(variants))
				for b.Loop() {
					for i, v := range variants {
						start := time.Now()
						if err := v.run(); err != nil {
							b.Fatal(err)
						}
						times[i] = append(times[i], time.Since(start))
					}
				}
				for i, v := range variants {
					slices.Sort(times[i])
					b.ReportMetric(float64(benchPercentile(times[i], 50))/float64(time.Microsecond), v.name+"-p50-us")
				}
			})
			for _, bc := range variants {
				b.Run(bc.name, func(b *testing.B) {
					b.SetBytes(int64(len(list)))
					b.ReportAllocs()
					for b.Loop() {
						if err := bc.run(); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					var err error
					peak, _ := benchHeapCost(func() { err = bc.run() }, func() {})
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				})
			}
		})
	}
}

// benchDrain runs filterAnswer as the proxy does and reads the result.
func benchDrain(resp *http.Response, run func(io.Writer, io.Reader) error) error {
	if err := filterAnswer(resp, maxBufferedList, run); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// BenchmarkAuditLine is the CPU cost of one request's audit line (an allowed
// inspect) with each log format the binary offers, written to io.Discard.
func BenchmarkAuditLine(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/v1.41/containers/web/json", nil)
	r.RemoteAddr = "127.0.0.1:50000"
	rec := &recorder{status: http.StatusOK, bytes: 3961}
	id := fakeengine.ID("dpf-bench-1")
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"text-tint", benchLogger().Handler()}, // LOG_FORMAT=text (default)
		{"json", slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})},
		{"disabled", slog.DiscardHandler}, // LOG_LEVEL=warn
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := &Proxy{logger: slog.New(bc.h)}
			b.ReportAllocs()
			for b.Loop() {
				x := &exchange{p: p, w: rec, r: r, start: time.Now(),
					audit: audit{op: "ContainerInspect", decision: decisionAllow, containerID: id, containerName: "/web"}}
				x.logAudit()
			}
		})
	}
}
