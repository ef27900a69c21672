package main

// Memory of the real process: the binary is built, run against an
// in-process FAKE engine serving 10,000 containers (internal/fakeengine, with
// Engine 20.10's answer shapes), and its VmRSS/VmHWM read from /proc. See
// BENCHMARKS.md at the repository root.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
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
	up := fakeengine.New(b, fakeengine.Options{Fixture: fakeengine.LoadFixture(b, "engine-20.10"), World: fakeengine.Generate(b, n), NoRequestLog: true})
	if testing.Verbose() {
		b.Logf("fake engine: %d containers, list answer %.1f MiB", n, float64(len(up.World().List()))/(1<<20))
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

func rssRun(b *testing.B, bin string, up *fakeengine.Engine, labels string) {
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
	before := up.Inspects()
	visible := up.World().Containers()[0]
	if st, _, err := get("/v1.41/containers/" + visible.Name[1:] + "/json"); err != nil || st != http.StatusOK {
		b.Fatalf("inspect %s through the proxy: %d, %v\n%s", visible.Name, st, err, p.tail())
	}
	if calls := up.Inspects() - before; calls != 1 {
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

	// What the proxy answers: every container, or with CONTAINER_LABELS=homepage
	// the even-numbered ones, which carry homepage.* labels.
	want := int64(len(up.World().ListOf(func(c fakeengine.Container) bool {
		_, ok := c.Labels["homepage.group"]
		return ok || labels == ""
	})))
	var outBytes int64
	list := func() error {
		st, n, err := get("/v1.41/containers/json?all=1")
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("list through the proxy: %d, %v", st, err)
		}
		if n != want {
			return fmt.Errorf("list through the proxy: %d bytes, want %d", n, want)
		}
		outBytes = n
		return nil
	}
	b.SetBytes(int64(len(up.World().List())))
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
func rssStart(b *testing.B, bin string, up *fakeengine.Engine, labels string) *rssProc {
	b.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PROXY_URL=" + up.Host, "LISTEN=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info",
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
		if want := len(up.World().Containers()); n != want {
			b.Fatalf("index live with %d containers, want %d", n, want)
		}
	case <-exited:
		b.Fatalf("the proxy exited:\n%s", p.tail())
	case <-timeout:
		b.Fatalf("the index did not go live within 2m:\n%s", p.tail())
	}
	return p
}
