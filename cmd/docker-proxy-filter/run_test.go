package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHelpPrintsTheConfigurationTable(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"dpf", "-h"}, envMap(nil), &out, &out); err != nil {
		t.Fatalf("run -h: %v", err)
	}
	for _, v := range []string{"PROXY_URL", "CONTAINER_NAMES", "CONTAINER_LABELS", "SCRUB_ENVS", "PORT", "LISTEN", "LOG_LEVEL", "LOG_FORMAT", "READ_ONLY", "CONTAINERS", "POST", "ALLOW_RESTARTS", "ALLOW_LOGS", "LIBPOD_"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("-h output does not mention %s", v)
		}
	}
}

func TestInvalidConfigurationExitsTwoListingEveryProblem(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"dpf"}, envMap(map[string]string{
		"PROXY_URL": "ftp://nope", "SCRUB_ENVS": "perhaps", "PORT": "70000",
	}), &out, &out)
	if err == nil || exitCode(err) != 2 {
		t.Fatalf("run with bad config = %v (exit %d), want exit 2", err, exitCode(err))
	}
	for _, v := range []string{"PROXY_URL", "SCRUB_ENVS", "PORT"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not mention %s:\n%v", v, err)
		}
	}
	if err := run(context.Background(), []string{"dpf", "--bogus"}, envMap(nil), &out, &out); exitCode(err) != 2 {
		t.Errorf("unknown argument: exit %d, want 2", exitCode(err))
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestRunServesAndDrainsOnSignal(t *testing.T) {
	e := enginetest.Require(t)
	addr := freePort(t)
	env := envMap(map[string]string{
		"PROXY_URL":        e.Host,
		"LISTEN":           addr,
		"CONTAINER_LABELS": enginetest.UniqueName(t, "nothing-matches"),
		"LOG_FORMAT":       "json",
	})
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dpf"}, env, &logs, &logs) }()

	enginetest.Eventually(t, 5*time.Second, "proxy answers /_ping", func() bool {
		resp, err := http.Get("http://" + addr + "/_ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err := healthcheck(context.Background(), env); err != nil {
		t.Errorf("healthcheck against a running proxy: %v", err)
	}

	// A client holding an events stream must not keep the process alive.
	resp, err := http.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after shutdown = %v, want nil (exit 0)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
	for _, want := range []string{`"msg":"starting"`, `"msg":"request"`, `"route":"SystemPing"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	if err := healthcheck(context.Background(), env); err == nil {
		t.Error("healthcheck succeeded against a stopped proxy")
	}
}

// TestBinaryExitsZeroOnSIGTERM runs the real binary, as a container runtime
// would, and stops it with SIGTERM.
func TestBinaryExitsZeroOnSIGTERM(t *testing.T) {
	e := enginetest.Require(t)
	bin := filepath.Join(t.TempDir(), "docker-proxy-filter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PROXY_URL="+e.Host, "LISTEN="+addr)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 10*time.Second, "binary answers /_ping", func() bool {
		resp, err := http.Get("http://" + addr + "/_ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	hc := exec.Command(bin, "healthcheck")
	hc.Env = append(os.Environ(), "LISTEN="+addr)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("healthcheck subcommand: %v\n%s", err, out)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) || err != nil {
		t.Errorf("binary after SIGTERM: %v, want exit 0\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "every container is visible") {
		t.Errorf("no warning about running without filters:\n%s", logs.String())
	}
}

func TestUpstreamDownAnswers502AndKeepsServing(t *testing.T) {
	addr := freePort(t)
	dead := filepath.Join(t.TempDir(), "nothing.sock")
	env := envMap(map[string]string{"PROXY_URL": "unix://" + dead, "LISTEN": addr, "LOG_LEVEL": "error"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(ctx, []string{"dpf"}, env, &logs, &logs) }()
	defer func() { cancel(); <-done }()

	enginetest.Eventually(t, 5*time.Second, "proxy listening", func() bool {
		resp, err := http.Get("http://" + addr + "/version")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	for _, path := range []string{"/version", "/containers/json", "/containers/web/json", "/_ping"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(body.String(), `{"message":`) {
			t.Errorf("GET %s with the upstream down = %d %s, want a JSON 502", path, resp.StatusCode, body.String())
		}
	}
	// The image's HEALTHCHECK: unhealthy while clients cannot reach the
	// engine through the proxy (the README promises it).
	err := healthcheck(ctx, envMap(map[string]string{"LISTEN": addr}))
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("healthcheck with the upstream down = %v, want a failure naming the 502", err)
	}
}
