package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
)

// builtBinary is the proxy built once per test binary.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dpf-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "docker-proxy-filter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// startBinary runs the built binary with env and returns its address and
// its combined output; it is stopped with SIGTERM when the test ends.
func startBinary(t *testing.T, env ...string) (addr string, logs *syncBuffer) {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	addr = freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append(env, "LISTEN="+addr)...)
	logs = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return addr, logs
}

// rawUpstreamSecret is what the FAKE engine sends past the end of its
// answers to /version: a real engine never does, a broken socket proxy
// might.
const rawUpstreamSecret = "HIDDEN-NAME-secret-db-7c1f"

// startRawUpstream is a FAKE engine that knows one visible (label app) and
// one hidden container and, asked with the case "version, bytes past its
// end", follows its /version answer with extra bytes (which net/http would
// never write).
func startRawUpstream(t *testing.T) string {
	t.Helper()
	return fakeengine.New(t, fakeengine.Options{
		World: fakeengine.NewWorld(
			fakeengine.Container{ID: strings.Repeat("a", 64), Name: "/web", Labels: map[string]string{"app": "1"}},
			fakeengine.Container{ID: strings.Repeat("b", 64), Name: "/secret-db", Labels: map[string]string{}},
		),
		Cases: map[string]fakeengine.Case{
			"version, bytes past its end": fakeengine.Answer{
				Body:     []byte(`{"ApiVersion":"1.41","MinAPIVersion":"1.12"}` + "\n"),
				Trailing: []byte(rawUpstreamSecret),
			}.Serve,
		},
	}).Host
}

// TestBinaryDecidesAndNeverLogsUpstreamBytes runs the shipped binary: it
// decides hidden from visible, and bytes an upstream sends past the end of
// an answer (which net/http's own log would quote) never reach its log.
func TestBinaryDecidesAndNeverLogsUpstreamBytes(t *testing.T) {
	upstream := startRawUpstream(t)
	addr, logs := startBinary(t, "PROXY_URL="+upstream, "CONTAINER_LABELS=app", "LOG_LEVEL=debug")
	get := func(path, fakeCase string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return 0, err.Error()
		}
		if fakeCase != "" {
			req.Header.Set(fakeengine.CaseHeader, fakeCase)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if status, _ := get("/containers/web/json", ""); status == http.StatusOK || time.Now().After(deadline) {
			break // the index knows the visible container
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body := get("/containers/secret-db/json", ""); status != http.StatusNotFound || !strings.Contains(body, "No such container: secret-db") {
		t.Errorf("hidden container = %d %s, want the engine's 404", status, body)
	}
	if status, body := get("/containers/json", ""); status != http.StatusOK || strings.Contains(body, "secret-db") || !strings.Contains(body, "/web") {
		t.Errorf("list = %d %s, want only /web", status, body)
	}
	for range 3 {
		get("/version", "version, bytes past its end")
		time.Sleep(200 * time.Millisecond) // the extra bytes arrive on an idle connection
	}
	if out := logs.String(); strings.Contains(out, rawUpstreamSecret) {
		t.Errorf("the proxy's log carries raw upstream bytes:\n%s", out)
	}
}
