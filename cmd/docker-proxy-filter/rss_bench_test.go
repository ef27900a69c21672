package main

// Memory of the real process: the binary is built, run against an
// in-process fake engine serving 10,000 containers, and its VmRSS/VmHWM read
// from /proc. See BENCHMARKS.md at the repository root.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkProcessRSS runs the built binary in front of a fake engine with
// 10,000 containers (DPF_RSS_CONTAINERS to change it) that its index lists
// through the SDK at start and then follows on /events. Once the index is
// live (its log line, then an inspect answered with no upstream inspect from
// the index) it reports the process's VmRSS and VmHWM; then each iteration
// asks the proxy for the whole list (SetBytes is the upstream answer, so
// MB/s is list filtering throughput end to end), and VmHWM is read again,
// also after bursts of 4 concurrent lists.
//
//   - filtered: CONTAINER_LABELS=homepage, half the containers visible.
//   - unfiltered: no filters, every container visible: the largest answer.
//
// DPF_RSS_IDLE=10s waits that long after the index is live and reports
// idle-rss-MiB (and logs the curve). DPF_RSS_ENV adds variables to the
// process's environment, e.g.
// DPF_RSS_ENV="GOGC=50 GOMEMLIMIT=24MiB"; DPF_RSS_VERBOSE=1 logs its
// non-JSON stderr (such as GODEBUG=gctrace=1 output).
func BenchmarkProcessRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/<pid>/status")
	}
	n := 10000
	if v := os.Getenv("DPF_RSS_CONTAINERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2 {
			b.Fatalf("DPF_RSS_CONTAINERS=%q: want a count of at least 2", v)
		}
	}
	bin := rssBuild(b)
	up := newRSSEngine(b, n)
	if testing.Verbose() {
		b.Logf("fake engine: %d containers, list answer %.1f MiB", n, float64(len(up.list))/(1<<20))
	}
	b.Run("filtered", func(b *testing.B) { rssRun(b, bin, up, "homepage") })
	b.Run("unfiltered", func(b *testing.B) { rssRun(b, bin, up, "") })
}

// rssBuild builds the binary once for the benchmark.
func rssBuild(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "docker-proxy-filter")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	if testing.Verbose() {
		b.Logf("go build: %v", time.Since(start).Round(time.Millisecond))
	}
	return bin
}

// rssProc is the running binary.
type rssProc struct {
	cmd  *exec.Cmd
	addr string // where it listens, from its log

	mu    sync.Mutex
	lines []string // its recent stderr, for failure messages
}

func (p *rssProc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// rssStatus reads VmRSS and VmHWM (bytes) of a process.
func rssStatus(b *testing.B, pid int) (rss, hwm float64) {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			b.Fatalf("%s: %q: %v", k, v, err)
		}
		if k == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	return rss, hwm
}

func rssRun(b *testing.B, bin string, up *rssEngine, labels string) {
	p := rssStart(b, bin, up, labels)
	pid := p.cmd.Process.Pid
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}, Timeout: time.Minute}
	b.Cleanup(hc.CloseIdleConnections)
	get := func(path string) (int, int64, error) {
		resp, err := hc.Get("http://" + p.addr + path)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, n, err
	}

	// Live means an inspect of a visible container needs nothing from the
	// upstream but the forwarded request itself.
	before := up.inspects.Load()
	visible := up.containers[0]
	if st, _, err := get("/v1.41/containers/" + visible.name[1:] + "/json"); err != nil || st != http.StatusOK {
		b.Fatalf("inspect %s through the proxy: %d, %v\n%s", visible.name, st, err, p.tail())
	}
	if calls := up.inspects.Load() - before; calls != 1 {
		b.Fatalf("inspect of a visible container cost %d upstream inspects, want 1 (the index should know it)", calls)
	}
	liveRSS, liveHWM := rssStatus(b, pid)
	// DPF_RSS_IDLE (a duration) lets the process sit idle after going live,
	// to see how much of the start-up peak the Go runtime gives back.
	idleRSS := -1.0
	if v := os.Getenv("DPF_RSS_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("DPF_RSS_IDLE=%q: %v", v, err)
		}
		curve := []string{fmt.Sprintf("0s:%.1f", liveRSS/(1<<20))}
		last := liveRSS
		for start := time.Now(); time.Since(start) < d; {
			time.Sleep(500 * time.Millisecond)
			if idleRSS, _ = rssStatus(b, pid); idleRSS != last {
				curve = append(curve, fmt.Sprintf("%.1fs:%.1f", time.Since(start).Seconds(), idleRSS/(1<<20)))
				last = idleRSS
			}
		}
		b.Logf("idle VmRSS changes (elapsed:MiB): %s", strings.Join(curve, " "))
	}

	var outBytes int64
	list := func() error {
		st, n, err := get("/v1.41/containers/json?all=1")
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("list through the proxy: %d, %v", st, err)
		}
		if n != up.keptSize(labels != "") {
			return fmt.Errorf("list through the proxy: %d bytes, want %d", n, up.keptSize(labels != ""))
		}
		outBytes = n
		return nil
	}
	b.SetBytes(int64(len(up.list)))
	for b.Loop() {
		if err := list(); err != nil {
			b.Fatalf("%v\n%s", err, p.tail())
		}
	}
	b.StopTimer()
	listRSS, listHWM := rssStatus(b, pid)

	// Bursts of 4 concurrent lists.
	for range 2 {
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- list() }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				b.Fatalf("%v\n%s", err, p.tail())
			}
		}
	}
	_, burstHWM := rssStatus(b, pid)
	// Metrics are reported only now: b.Loop drops those reported before it.
	for _, m := range []struct {
		v    float64
		unit string
	}{
		{liveRSS, "live-rss-MiB"}, {liveHWM, "live-hwm-MiB"},
		{listRSS, "list-rss-MiB"}, {listHWM, "list-hwm-MiB"},
		{burstHWM, "burst4-hwm-MiB"}, {idleRSS, "idle-rss-MiB"},
	} {
		if m.v < 0 {
			continue
		}
		b.ReportMetric(m.v/(1<<20), m.unit)
	}
	b.ReportMetric(float64(outBytes), "out-B")
}

// rssStart runs the binary and waits until its index is live.
func rssStart(b *testing.B, bin string, up *rssEngine, labels string) *rssProc {
	b.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PROXY_URL=" + up.host, "LISTEN=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info",
		"CONTAINER_LABELS=" + labels,
	}
	cmd.Env = append(cmd.Env, strings.Fields(os.Getenv("DPF_RSS_ENV"))...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &rssProc{cmd: cmd}
	exited := make(chan struct{})
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	listening := make(chan string, 1)
	live := make(chan int, 1)
	verbose := os.Getenv("DPF_RSS_VERBOSE") == "1"
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var rec struct {
				Msg        string `json:"msg"`
				Address    string `json:"address"`
				Containers int    `json:"containers"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				if verbose {
					fmt.Fprintln(os.Stderr, "proxy:", line)
				}
			}
			p.mu.Lock()
			if rec.Msg != "request" {
				p.lines = append(p.lines, line)
				if len(p.lines) > 40 {
					p.lines = p.lines[1:]
				}
			}
			p.mu.Unlock()
			switch rec.Msg {
			case "listening":
				listening <- rec.Address
			case "container index is live":
				select {
				case live <- rec.Containers:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
	}()

	timeout := time.After(2 * time.Minute)
	for p.addr == "" {
		select {
		case p.addr = <-listening:
		case <-exited:
			b.Fatalf("the proxy exited:\n%s", p.tail())
		case <-timeout:
			b.Fatalf("the proxy did not listen within 2m:\n%s", p.tail())
		}
	}
	select {
	case n := <-live:
		if n != len(up.containers) {
			b.Fatalf("index live with %d containers, want %d", n, len(up.containers))
		}
	case <-exited:
		b.Fatalf("the proxy exited:\n%s", p.tail())
	case <-timeout:
		b.Fatalf("the index did not go live within 2m:\n%s", p.tail())
	}
	return p
}

// ------------------------------------------------------------ fake engine --

// rssEngine is an in-process stand-in for a 20.10 engine on a unix socket:
// /_ping, /events (held open), /containers/json and /containers/{ref}/json,
// with the captured engine's headers and element and inspect shapes.
type rssEngine struct {
	host       string
	containers []rssContainer
	list       []byte
	kept       int64 // size of the filtered answer (CONTAINER_LABELS=homepage)

	header   http.Header
	inspect  []byte
	inspID   string
	byRef    map[string]int
	inspects atomic.Int64
	stop     chan struct{}
}

type rssContainer struct {
	id, name string
	visible  bool
}

func (f *rssEngine) keptSize(filtered bool) int64 {
	if filtered {
		return f.kept
	}
	return int64(len(f.list))
}

// rssFixture returns the headers and body of a captured raw HTTP answer
// (bodies are stored decoded, so the file is split by hand).
func rssFixture(b *testing.B, name string) (http.Header, []byte) {
	b.Helper()
	dirs := []string{
		filepath.Join("..", "..", "..", "shared", "fixtures", "engine-20.10"),
		filepath.Join("..", "..", "internal", "filter", "testdata", "engine-20.10"),
	}
	if d := os.Getenv("DPF_FIXTURES_DIR"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	var raw []byte
	var err error
	for _, d := range dirs {
		if raw, err = os.ReadFile(filepath.Join(d, name)); err == nil {
			break
		}
	}
	if err != nil {
		b.Fatalf("fixture %s not found in %v: %v", name, dirs, err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		b.Fatalf("fixture %s: no blank line after the headers", name)
	}
	h := http.Header{}
	for i, line := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && i > 0 {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	for _, k := range []string{"Date", "Content-Type", "Content-Length", "Transfer-Encoding"} {
		h.Del(k)
	}
	return h, body
}

// newRSSEngine serves n containers built from the captured list elements,
// each with its own Id, name and labels (compose labels; homepage.* on the
// even-numbered ones, which CONTAINER_LABELS=homepage makes visible).
func newRSSEngine(b *testing.B, n int) *rssEngine {
	b.Helper()
	header, listBody := rssFixture(b, "containers-list-all.http")
	_, inspect := rssFixture(b, "container-inspect-visible.http")
	var templates []json.RawMessage
	if err := json.Unmarshal(listBody, &templates); err != nil || len(templates) == 0 {
		b.Fatalf("captured list: %v", err)
	}
	var insp struct{ Id string }
	if err := json.Unmarshal(inspect, &insp); err != nil {
		b.Fatal(err)
	}
	f := &rssEngine{header: header, inspect: inspect, inspID: insp.Id, byRef: make(map[string]int, 2*n), stop: make(chan struct{})}
	var list, kept bytes.Buffer
	list.WriteByte('[')
	kept.WriteByte('[')
	for i := range n {
		sum := sha256.Sum256([]byte("dpf-bench-" + strconv.Itoa(i)))
		c := rssContainer{id: hex.EncodeToString(sum[:]), name: fmt.Sprintf("/bench-%05d", i), visible: i%2 == 0}
		labels := fmt.Sprintf(`"com.docker.compose.project":"stack%d","com.docker.compose.service":"svc%d","com.docker.compose.version":"2.29.7"`, i%40, i)
		if c.visible {
			labels += fmt.Sprintf(`,"homepage.group":"group%d","homepage.name":"Service %d"`, i%7, i)
		} else {
			labels += `,"private":"yes"`
		}
		tmpl := string(templates[i%len(templates)])
		var orig struct{ Id string }
		_ = json.Unmarshal(templates[i%len(templates)], &orig)
		el := strings.Replace(tmpl, `"Id":"`+orig.Id+`"`, `"Id":"`+c.id+`"`, 1)
		el = rssReplaceSpan(b, el, `"Names":[`, ']', `"`+c.name+`"`)
		el = rssReplaceSpan(b, el, `"Labels":{`, '}', labels)
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(el)
		if c.visible {
			if kept.Len() > 1 {
				kept.WriteByte(',')
			}
			kept.WriteString(el)
		}
		f.byRef[c.id] = i
		f.byRef[c.name] = i
		f.containers = append(f.containers, c)
	}
	list.WriteString("]\n")
	kept.WriteString("]\n")
	f.list, f.kept = list.Bytes(), int64(kept.Len())

	dir, err := os.MkdirTemp("/tmp", "dpfrss")
	if err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(dir, "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: f, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() {
		close(f.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			b.Logf("fake engine shutdown: %v", err)
		}
		_ = srv.Close()
		os.RemoveAll(dir)
	})
	f.host = "unix://" + sock
	return f
}

func rssReplaceSpan(b *testing.B, s, key string, end byte, with string) string {
	i := strings.Index(s, key)
	if i < 0 {
		b.Fatalf("element has no %s", key)
	}
	i += len(key)
	j := i + strings.IndexByte(s[i:], end)
	return s[:i] + with + s[j:]
}

func (f *rssEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range f.header {
		h[k] = v
	}
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/v"); ok {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			if _, err := strconv.ParseFloat(rest[:i], 64); err == nil {
				p = rest[i:]
			}
		}
	}
	switch {
	case p == "/_ping":
		h.Set("Content-Type", "text/plain; charset=utf-8")
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "OK")
		}
	case p == "/events":
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
	case p == "/containers/json":
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(f.list)
	case strings.HasPrefix(p, "/containers/") && strings.HasSuffix(p, "/json"):
		f.inspects.Add(1)
		ref := strings.TrimSuffix(strings.TrimPrefix(p, "/containers/"), "/json")
		i, ok := f.byRef[ref]
		if !ok {
			i, ok = f.byRef["/"+ref]
		}
		h.Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = fmt.Fprintf(w, "{\"message\":\"No such container: %s\"}\n", ref)
			return
		}
		c := f.containers[i]
		body := strings.ReplaceAll(string(f.inspect), f.inspID, c.id)
		_, _ = io.WriteString(w, body)
	default:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "{\"message\":\"page not found\"}\n")
	}
}
