package proxy

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Decision values in the audit log.
const (
	decisionAllow  = "allow"  // forwarded as asked (refs rewritten to full IDs)
	decisionDeny   = "deny"   // answered by the proxy; nothing reached the upstream
	decisionFilter = "filter" // forwarded, and the answer filtered
)

// exchange is one request as the proxy handles it: what was asked (the
// request and its route), how errors are framed for it, what was decided
// and why (the audit record), and what goes upstream (the forward). Handlers
// receive it whole; nothing about a request travels in its context.
type exchange struct {
	p     *Proxy
	w     *recorder
	r     *http.Request
	rt    route.Route
	start time.Time
	// plainErrors: the request's API version is below 1.24, where the
	// engine writes errors as plain text.
	plainErrors bool
	audit       audit
	// fwd is what the reverse proxy does with the request, once forwarded.
	fwd forward
	// containerStream: the request opens a stream about one container
	// (logs or stats that follow, attach, exec), which ends when that
	// container stops being visible.
	containerStream bool
	// hidden is closed when the streamed container stops being visible.
	hidden <-chan struct{}
}

func (p *Proxy) newExchange(w http.ResponseWriter, r *http.Request) *exchange {
	return &exchange{p: p, w: &recorder{ResponseWriter: w}, r: r, start: time.Now(),
		audit: audit{op: "Invalid", decision: decisionDeny}}
}

// fail answers with the engine's error format for this request.
func (x *exchange) fail(status int, msg string) {
	if x.p.headers.podman() {
		x.setPodmanReference()
	}
	x.p.writeEngineError(x.w, x.plainErrors, status, msg)
}

// failWithoutExperimental is fail without Docker-Experimental, as the
// engine answers an unsupported API version (its check runs before the
// middleware that sets that header).
func (x *exchange) failWithoutExperimental(status int, msg string) {
	if x.p.headers.podman() {
		x.setPodmanReference()
	}
	x.p.writeEngineError(noExperimentalHeader{x.w}, x.plainErrors, status, msg)
}

// audit is what one request's audit line reports. Handlers fill it in as
// they decide; a rewriter goroutine may set the counts, hence the mutex
// (set).
type audit struct {
	mu            sync.Mutex
	op            string
	decision      string
	reason        string
	containerID   string
	containerName string
	kept, total   int
	counted       bool
}

func (a *audit) set(fn func(a *audit)) {
	a.mu.Lock()
	fn(a)
	a.mu.Unlock()
}

// logAudit writes the request's one audit line and counts it in the
// metrics.
func (x *exchange) logAudit() {
	p, a := x.p, &x.audit
	ctx := x.r.Context()
	status := x.w.status
	if status == 0 {
		status = http.StatusOK
	}
	elapsed := time.Since(x.start)
	a.mu.Lock()
	defer a.mu.Unlock()
	p.metrics.ObserveRequest(a.op, a.decision, status, elapsed)
	if !p.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("client", x.r.RemoteAddr),
		slog.String("method", x.r.Method),
		slog.String("path", x.r.URL.Path),
		slog.String("route", a.op),
		slog.String("decision", a.decision),
	)
	if a.containerID != "" {
		attrs = append(attrs, slog.String("container_id", a.containerID), slog.String("container_name", a.containerName))
	}
	if a.counted {
		attrs = append(attrs, slog.Int("kept", a.kept), slog.Int("total", a.total))
	}
	if a.reason != "" {
		attrs = append(attrs, slog.String("reason", a.reason))
	}
	attrs = append(attrs,
		slog.Int("status", status),
		slog.Int64("bytes", x.w.bytes),
		slog.Duration("duration", elapsed),
	)
	p.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// recorder wraps the client's ResponseWriter to count status and bytes. It
// keeps Flush and Hijack reachable through Unwrap, which ReverseProxy and
// http.ResponseController use, so streams and upgrades still work.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	// Keep the final status: informational 1xx answers (other than 101,
	// which ends the HTTP exchange) may come first.
	if r.status == 0 || r.status < 200 && r.status != http.StatusSwitchingProtocols {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush is here for code that type-asserts http.Flusher directly.
func (r *recorder) Flush() {
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack records a protocol switch (attach, exec start): ReverseProxy writes
// the 101 answer on the taken-over connection, past WriteHeader.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, buf, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return conn, buf, err
}

// noExperimentalHeader drops Docker-Experimental from an answer.
type noExperimentalHeader struct{ *recorder }

func (w noExperimentalHeader) WriteHeader(code int) {
	w.Header().Del("Docker-Experimental")
	w.recorder.WriteHeader(code)
}
