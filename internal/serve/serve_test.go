package serve

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the server and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// server runs Run with handler on a loopback port; stop cancels its
// context (a SIGTERM) and done receives Run's result.
type server struct {
	addr string
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
}

func start(t *testing.T, timeout time.Duration, handler http.Handler) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{addr: ln.Addr().String(), logs: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(s.logs, nil))
	go func() { s.done <- Run(ctx, &http.Server{Handler: handler}, ln, timeout, logger) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// shutdown cancels the server's context and returns how long Run took.
func (s *server) shutdown(t *testing.T) time.Duration {
	t.Helper()
	begin := time.Now()
	s.stop()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("Run = %v, want nil after a shutdown", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	return time.Since(begin)
}

// stream answers with a first line and then holds the response open until
// the request's context ends, as an events stream does.
var stream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "first\n")
	w.(http.Flusher).Flush()
	<-r.Context().Done()
})

// openStream starts a streaming request and waits for its first line.
func openStream(t *testing.T, addr, path string) *http.Response {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("stream's first line = %q, %v", line, err)
	}
	return resp
}

func TestRequestsInFlightFinish(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{})
	s := start(t, 5*time.Second, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		_, _ = io.WriteString(w, "done")
	}))
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.addr + "/containers/json")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-arrived
	go func() { time.Sleep(300 * time.Millisecond); close(release) }()
	took := s.shutdown(t)
	if answer := <-got; answer != "done" {
		t.Errorf("request in flight at shutdown got %q, want its full answer", answer)
	}
	if took > 2*time.Second {
		t.Errorf("shutdown took %v with one short request in flight, want it as soon as the request ended", took)
	}
	if strings.Contains(s.logs.String(), "cut at shutdown") {
		t.Errorf("a request that finished was logged as cut:\n%s", s.logs)
	}
}

func TestStreamsAreCutAndLoggedWithinTheTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{0, 600 * time.Millisecond, 2500 * time.Millisecond} {
		t.Run(timeout.String(), func(t *testing.T) {
			s := start(t, timeout, stream)
			resp := openStream(t, s.addr, "/v1.41/events")
			took := s.shutdown(t)
			if took > timeout+500*time.Millisecond {
				t.Errorf("shutdown with an open stream took %v, want at most %v", took, timeout)
			}
			if timeout >= 2*time.Second && took < timeout-maxCutPhase-100*time.Millisecond {
				t.Errorf("shutdown took %v: the stream was cut before the drain ended", took)
			}
			_, _ = io.ReadAll(resp.Body) // the stream ends (cleanly or not), it does not hang
			logs := s.logs.String()
			for _, want := range []string{`msg="stream cut at shutdown"`, "path=/v1.41/events", "route=SystemEvents", "method=GET", "client=127.0.0.1:", "duration="} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %s:\n%s", want, logs)
				}
			}
			if n := strings.Count(logs, "stream cut at shutdown"); n != 1 {
				t.Errorf("%d cut lines for one stream", n)
			}
		})
	}
}

func TestHijackedConnectionsDrainThenAreCut(t *testing.T) {
	s := start(t, 1500*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst\n")
		_ = buf.Flush()
		<-r.Context().Done() // as ReverseProxy ends an upgraded copy
	}))
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /containers/abc/attach?stream=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "first\n" {
			break
		}
	}
	took := s.shutdown(t)
	// http.Server.Shutdown alone would return at once and leave the
	// session to die with the process, unlogged.
	if took < 700*time.Millisecond || took > 2*time.Second {
		t.Errorf("shutdown with an attach session took %v, want the drain (750ms) then the cut", took)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "route=ContainerAttach") || !strings.Contains(logs, "stream cut at shutdown") {
		t.Errorf("the attach session is not logged as cut:\n%s", logs)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadAll(br); err != nil {
		t.Errorf("attach connection not closed after the cut: %v", err)
	}
}

func TestAHandlerThatIgnoresItsContextCannotHoldShutdown(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	s := start(t, 800*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-stuck
	}))
	openStream(t, s.addr, "/containers/abc/logs")
	if took := s.shutdown(t); took > 1300*time.Millisecond {
		t.Errorf("shutdown took %v, want at most the 800ms timeout", took)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "closed the connections still in use") || !strings.Contains(logs, "route=ContainerLogs") {
		t.Errorf("logs do not say what was forced:\n%s", logs)
	}
}

func TestIdleConnectionsDoNotHoldShutdown(t *testing.T) {
	s := start(t, 5*time.Second, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "OK")
	}))
	client := &http.Client{Transport: &http.Transport{}} // keeps the connection alive
	resp, err := client.Get("http://" + s.addr + "/_ping")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if took := s.shutdown(t); took > time.Second {
		t.Errorf("shutdown with an idle keep-alive connection took %v", took)
	}
}

func TestServeErrorIsReturned(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Run(context.Background(), &http.Server{Handler: stream}, ln, time.Second, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "serve:") {
		t.Errorf("Run on a closed listener = %v, want the serve error", err)
	}
}
