package access

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file checks the transcription of LinuxServer's rules (reference_test.go)
// against the real thing: haproxy running LinuxServer's own template, in every
// environment block and on every request of TestDecideMatchesLinuxServer. The
// template is GPL and is not part of this repository, so the test runs only
// when it is given one; see oracleHowTo.

// oracleTemplateVar names the variable that points the test at the template.
const oracleTemplateVar = "DPF_LINUXSERVER_TEMPLATE"

const oracleHowTo = "optional oracle test: set " + oracleTemplateVar + " to root/templates/haproxy.cfg of a checkout of " +
	"https://github.com/linuxserver/docker-socket-proxy and put haproxy on PATH (checked with 2.6), e.g.\n" +
	"\tgit clone --depth 1 https://github.com/linuxserver/docker-socket-proxy /tmp/lsio-socket-proxy\n" +
	"\t" + oracleTemplateVar + "=/tmp/lsio-socket-proxy/root/templates/haproxy.cfg go test -run TestTranscriptionMatchesHaproxy -v ./internal/access/\n" +
	"(with a checkout, the Dockerfile's ENV defaults are used and checked too)"

// Headers the stand-in engine sets, so that an answer from the backend can
// never be mistaken for one of haproxy's.
const (
	oracleBackendHeader = "X-Dpf-Oracle-Backend"
	oracleSeenHeader    = "X-Dpf-Oracle-Seen"
)

// TestTranscriptionMatchesHaproxy runs LinuxServer's haproxy.cfg, rendered the
// way its docker-entrypoint.sh renders it, in front of a stand-in engine that
// answers 200 to everything, once per environment block of worlds(), and
// sends it every request of samples(). A request that reaches the stand-in
// was allowed; haproxy's 403 is a denial. Each answer must equal lsDecide's.
//
// How LinuxServer's container configures haproxy: the Dockerfile's ENV block
// sets the defaults; docker-entrypoint.sh only replaces @@BIND_PROTO@@ (sed)
// and runs haproxy; haproxy itself expands $SOCKET_PATH and ${LOG_LEVEL} when
// it reads the file and evaluates env(X) at every request from its own
// environment. The test does the same, with these changes, none of which
// touches the frontend's rules:
//   - @@BIND_PROTO@@ is "fd@3", a socket the test listens on at 127.0.0.1 on
//     a free port and hands to haproxy (no port race, no readiness polling);
//   - SOCKET_PATH is the stand-in's 127.0.0.1 address;
//   - the global "chroot" and "pidfile" lines are dropped (they need root and
//     would be shared by the parallel haproxy processes);
//   - haproxy's request log goes to /dev/null.
func TestTranscriptionMatchesHaproxy(t *testing.T) {
	templatePath := os.Getenv(oracleTemplateVar)
	if templatePath == "" {
		t.Skip(oracleTemplateVar + " is not set; " + oracleHowTo)
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH; " + oracleHowTo)
	}
	start := time.Now()
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatalf("%s: %v", oracleTemplateVar, err)
	}
	cfg, changes, err := renderOracleTemplate(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	defaults := oracleDefaults(t, templatePath)

	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(oracleBackendHeader, "1")
		w.Header().Set(oracleSeenHeader, r.Method+" "+r.RequestURI)
		w.WriteHeader(http.StatusOK)
	}))
	backend.Listener.Close()
	backend.Listener = oracleListen(t)
	backend.Start()
	t.Cleanup(backend.Close)
	backendAddr := backend.Listener.Addr().String()

	version, _ := exec.Command(haproxy, "-v").Output()
	version, _, _ = bytes.Cut(version, []byte("\n"))
	t.Logf("%s; template %s (%s)", version, templatePath, strings.Join(changes, "; "))

	// Check the configuration once, so that a template haproxy rejects
	// fails here with haproxy's own words.
	_, fd3, err := oracleSocket()
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command(haproxy, "-c", "-f", cfgPath)
	check.Env = oracleEnv(defaults, nil, backendAddr)
	check.ExtraFiles = []*os.File{fd3}
	out, err := check.CombinedOutput()
	fd3.Close()
	if err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s", cfgPath, err, out)
	}

	ss := samples(t)
	matches := make([][]bool, len(ss))
	for i, s := range ss {
		matches[i] = lsMatch(s.path)
	}
	ws := worlds()

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // kills any haproxy still running (exec.CommandContext)

	type outcome struct {
		allowed []bool
		err     error
	}
	results := make([]outcome, len(ws))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(len(ws), max(2, 2*runtime.GOMAXPROCS(0))) {
		wg.Go(func() {
			for i := range jobs {
				allowed, err := oracleRun(ctx, haproxy, cfgPath, oracleEnv(defaults, ws[i].env, backendAddr), ss)
				results[i] = outcome{allowed, err}
			}
		})
	}
	for i := range ws {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	const maxReported = 50
	var requests, disagreements, allowedCount, failed int
	for wi, w := range ws {
		r := results[wi]
		if r.err != nil {
			if failed++; failed <= 5 {
				t.Errorf("%s: %v", oracleWorld(w), r.err)
			}
			continue
		}
		for i, s := range ss {
			requests++
			got := r.allowed[i]
			if got {
				allowedCount++
			}
			want := lsApply(s.method, matches[i], w.env)
			if got == want {
				continue
			}
			disagreements++
			if disagreements <= maxReported {
				t.Errorf("%s: %s %s: haproxy allow=%v, transcription allow=%v", oracleWorld(w), s.method, s.path, got, want)
			}
		}
	}
	if failed > 0 {
		t.Errorf("the run failed in %d of %d environment blocks", failed, len(ws))
	}
	if disagreements > maxReported {
		t.Errorf("... and %d more disagreements", disagreements-maxReported)
	}
	t.Logf("%d requests through haproxy (%d samples x %d environment blocks, %d allowed, %d denied): %d disagreements with the transcription, in %s",
		requests, len(ss), len(ws), allowedCount, requests-allowedCount, disagreements, time.Since(start).Round(time.Millisecond))

	// The quirks (case, non-ASCII, odd references, dot segments, encoded
	// slashes) are where a transcription of regexes on raw paths is most
	// likely wrong: each goes to haproxy with its own environment.
	for _, q := range quirks {
		allowed, err := oracleRun(ctx, haproxy, cfgPath, oracleEnv(defaults, q.env, backendAddr), []sample{{q.method, q.raw}})
		if err != nil {
			t.Errorf("quirk %q: %v", q.name, err)
			continue
		}
		if allowed[0] != q.want || lsDecide(q.method, q.raw, q.env) != q.want {
			t.Errorf("quirk %q (%s %s, %v): haproxy allow=%v, recorded %v, transcription %v",
				q.name, q.method, q.raw, q.env, allowed[0], q.want, lsDecide(q.method, q.raw, q.env))
		}
	}
	t.Logf("%d quirks sent to haproxy one by one", len(quirks))
}

// renderOracleTemplate does what LinuxServer's docker-entrypoint.sh does to the
// template (replace @@BIND_PROTO@@), binding to the inherited fd 3, and drops
// the global lines that need root. It refuses a template whose shape it does
// not know, rather than test something else.
func renderOracleTemplate(tmpl string) (cfg string, changes []string, err error) {
	if n := strings.Count(tmpl, "@@BIND_PROTO@@"); n != 1 {
		return "", nil, fmt.Errorf("want one @@BIND_PROTO@@ (the entrypoint's bind placeholder), found %d: has the template changed?", n)
	}
	if !strings.Contains(tmpl, "$SOCKET_PATH") && !strings.Contains(tmpl, "${SOCKET_PATH}") {
		return "", nil, fmt.Errorf("no $SOCKET_PATH (the backend server's address): has the template changed?")
	}
	tmpl = strings.Replace(tmpl, "@@BIND_PROTO@@", "fd@3", 1)
	changes = append(changes, "bind @@BIND_PROTO@@ -> fd@3 (127.0.0.1, free port)", "SOCKET_PATH -> stand-in engine on 127.0.0.1")
	lines := strings.SplitAfter(tmpl, "\n")
	kept := lines[:0]
	for _, l := range lines {
		switch f := strings.Fields(l); {
		case len(f) > 0 && (f[0] == "chroot" || f[0] == "pidfile"):
			changes = append(changes, "dropped "+strings.Join(f, " "))
		default:
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, ""), changes, nil
}

// oracleDefaults returns the environment LinuxServer's image gives haproxy
// before the user's block: the ENV block of the Dockerfile next to the
// template when the template sits in a checkout (root/templates/haproxy.cfg),
// checked against the transcription's lsDefaults; else lsDefaults.
func oracleDefaults(t *testing.T, templatePath string) map[string]string {
	t.Helper()
	dockerfile := filepath.Join(filepath.Dir(templatePath), "..", "..", "Dockerfile")
	if !strings.HasSuffix(filepath.ToSlash(templatePath), "root/templates/haproxy.cfg") {
		t.Logf("the template is not in a checkout (root/templates/haproxy.cfg): haproxy gets the transcription's defaults, not the Dockerfile's")
		return lsDefaults
	}
	raw, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Logf("%v: haproxy gets the transcription's defaults, not the Dockerfile's", err)
		return lsDefaults
	}
	env := parseDockerfileEnv(string(raw))
	for name, want := range lsDefaults {
		if got, ok := env[name]; !ok || got != want {
			t.Errorf("%s: ENV %s=%q (set: %v), transcription's lsDefaults %q", dockerfile, name, got, ok, want)
		}
	}
	for name, v := range env {
		if _, ok := lsDefaults[name]; !ok && name != "LOG_LEVEL" && name != "SOCKET_PATH" {
			t.Errorf("%s: ENV %s=%q is not in the transcription's lsDefaults", dockerfile, name, v)
		}
	}
	t.Logf("haproxy gets the ENV defaults of %s (%d variables)", dockerfile, len(env))
	return env
}

// parseDockerfileEnv reads the KEY=VALUE pairs of a Dockerfile's ENV
// instructions, with line continuations; values are taken as written, a pair
// of double quotes removed.
func parseDockerfileEnv(dockerfile string) map[string]string {
	env := map[string]string{}
	var inst []string // the current instruction's lines
	flush := func() {
		f := strings.Fields(strings.Join(inst, " "))
		inst = inst[:0]
		if len(f) == 0 || !strings.EqualFold(f[0], "ENV") {
			return
		}
		for _, kv := range f[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok {
				if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				env[k] = v
			}
		}
	}
	for l := range strings.SplitSeq(dockerfile, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if rest, ok := strings.CutSuffix(l, "\\"); ok {
			inst = append(inst, rest)
			continue
		}
		inst = append(inst, l)
		flush()
	}
	flush()
	return env
}

// oracleEnv is haproxy's whole environment: the image's defaults, the block
// on top, and SOCKET_PATH pointing at the stand-in engine. Nothing is
// inherited from the test's environment.
func oracleEnv(defaults, block map[string]string, backendAddr string) []string {
	merged := map[string]string{}
	for k, v := range defaults {
		merged[k] = v
	}
	for k, v := range block {
		merged[k] = v
	}
	merged["SOCKET_PATH"] = backendAddr
	if merged["LOG_LEVEL"] == "" {
		merged["LOG_LEVEL"] = "info"
	}
	env := make([]string, 0, len(merged))
	for k, v := range merged {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// oracleWorld names an environment block with its variables, unless its
// name says them already.
func oracleWorld(w world) string {
	if env := oracleEnvString(w.env); env != w.name {
		return w.name + " (" + env + ")"
	}
	return w.name
}

func oracleEnvString(block map[string]string) string {
	var parts []string
	for k, v := range block {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// oracleListen listens on a free port of 127.0.0.1.
func oracleListen(t *testing.T) *net.TCPListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l.(*net.TCPListener)
}

// oracleSocket listens on a free port of 127.0.0.1 and returns the listening
// socket as a file, for haproxy's "bind fd@3".
func oracleSocket() (addr string, f *os.File, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	defer l.Close() // f keeps the socket open
	f, err = l.(*net.TCPListener).File()
	return l.Addr().String(), f, err
}

// oracleRun starts one haproxy with env, sends it every sample in order and
// returns which ones reached the stand-in engine. The haproxy is stopped
// before it returns; ctx's end kills it too.
func oracleRun(ctx context.Context, haproxy, cfgPath string, env []string, ss []sample) (allowed []bool, err error) {
	addr, f, err := oracleSocket()
	if err != nil {
		return nil, err
	}
	stderr := &oracleTail{max: 8 << 10}
	cmd := exec.CommandContext(ctx, haproxy, "-db", "-f", cfgPath)
	cmd.Env = env
	cmd.ExtraFiles = []*os.File{f} // fd 3
	cmd.Stdout = nil               // haproxy's request log ("log stdout") goes to /dev/null
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Start()
	f.Close()
	if err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		select {
		case werr := <-exited: // died on its own
			if err == nil {
				err = fmt.Errorf("haproxy exited during the run: %v\n%s", werr, stderr)
			}
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	tr := &http.Transport{
		Proxy:               nil,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	allowed = make([]bool, len(ss))
	for i, s := range ss {
		ok, err := oracleSend(ctx, client, addr, s)
		if err != nil {
			select {
			case werr := <-exited:
				exited <- werr // for the deferred check
				return nil, fmt.Errorf("%s %s: %v; haproxy exited: %v\n%s", s.method, s.path, err, werr, stderr)
			default:
			}
			return nil, fmt.Errorf("%s %s: %v\nhaproxy's stderr:\n%s", s.method, s.path, err, stderr)
		}
		allowed[i] = ok
	}
	return allowed, nil
}

// oracleSend sends one sample with its path exactly as written and says
// whether it reached the stand-in engine (true) or haproxy denied it (false).
func oracleSend(ctx context.Context, client *http.Client, addr string, s sample) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, s.method, "http://"+addr+"/", nil)
	if err != nil {
		return false, err
	}
	req.URL.Opaque = s.path // the request line carries s.path verbatim
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch {
	case resp.Header.Get(oracleBackendHeader) != "":
		if seen, want := resp.Header.Get(oracleSeenHeader), s.method+" "+s.path; resp.StatusCode != http.StatusOK || seen != want {
			return false, fmt.Errorf("the stand-in engine answered %d to %q, want 200 to %q", resp.StatusCode, seen, want)
		}
		return true, nil
	case resp.StatusCode == http.StatusForbidden:
		return false, nil
	default:
		return false, fmt.Errorf("neither the stand-in engine nor haproxy's 403 answered: %s %q", resp.Status, body)
	}
}

// oracleTail keeps the last max bytes written to it, for error messages.
type oracleTail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *oracleTail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = w.buf[len(w.buf)-w.max:]
	}
	return len(p), nil
}

func (w *oracleTail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
