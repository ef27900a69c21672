package main

import (
	"bufio"
	"fmt"
	"io"
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

// rawUpstreamSecret is what the FAKE upstream below sends past the end of
// its answers: a real engine never does, a broken socket proxy might.
const rawUpstreamSecret = "HIDDEN-NAME-secret-db-7c1f"

// startRawUpstream is a FAKE engine written at the byte level (net/http
// would not send bytes past a Content-Length): it knows one visible and one
// hidden container and follows every /version answer with extra bytes.
func startRawUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	const visible = `{"Id":"` + "aaaa" + `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","Names":["/web"],"Labels":{"app":"1"},"State":"running"}`
	const hidden = `{"Id":"` + "bbbb" + `bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","Names":["/secret-db"],"Labels":{},"State":"running"}`
	answer := func(w io.Writer, status int, body, extra string) {
		fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s%s",
			status, http.StatusText(status), len(body), body, extra)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					path := req.URL.Path
					if i := strings.Index(path[1:], "/"); strings.HasPrefix(path, "/v1.") && i > 0 {
						path = path[i+1:]
					}
					switch {
					case path == "/_ping":
						answer(conn, 200, "OK", "")
					case path == "/version":
						answer(conn, 200, `{"ApiVersion":"1.41","MinAPIVersion":"1.12"}`+"\n", rawUpstreamSecret)
					case path == "/containers/json":
						answer(conn, 200, "["+visible+","+hidden+"]\n", "")
					case path == "/events":
						fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
						_, _ = io.Copy(io.Discard, br) // hold the stream open
						return
					default:
						answer(conn, 404, `{"message":"page not found"}`+"\n", "")
					}
				}
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// TestBinaryDecidesAndNeverLogsUpstreamBytes runs the shipped binary: it
// decides hidden from visible, and bytes an upstream sends past the end of
// an answer (which net/http's own log would quote) never reach its log.
func TestBinaryDecidesAndNeverLogsUpstreamBytes(t *testing.T) {
	upstream := startRawUpstream(t)
	addr, logs := startBinary(t, "PROXY_URL="+upstream, "CONTAINER_LABELS=app", "LOG_LEVEL=debug")
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if status, _ := get("/containers/web/json"); status == http.StatusNotFound || time.Now().After(deadline) {
			break // the fake has no inspect: the visible container is forwarded, 404 is the fake's
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body := get("/containers/secret-db/json"); status != http.StatusNotFound || !strings.Contains(body, "No such container: secret-db") {
		t.Errorf("hidden container = %d %s, want the engine's 404", status, body)
	}
	if status, body := get("/containers/json"); status != http.StatusOK || strings.Contains(body, "secret-db") || !strings.Contains(body, "/web") {
		t.Errorf("list = %d %s, want only /web", status, body)
	}
	for range 3 {
		get("/version")
		time.Sleep(200 * time.Millisecond) // the extra bytes arrive on an idle connection
	}
	if out := logs.String(); strings.Contains(out, rawUpstreamSecret) {
		t.Errorf("the proxy's log carries raw upstream bytes:\n%s", out)
	}
}
