package proxy

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Decision values in the audit log.
const (
	decisionAllow  = "allow"  // forwarded as asked (ref rewritten to the full ID)
	decisionDeny   = "deny"   // answered by the proxy; nothing reached the upstream
	decisionFilter = "filter" // forwarded, and the answer filtered
)

// audit collects what one request's audit line reports. Handlers fill it in
// as they decide; a filter goroutine may set the counts, hence the mutex.
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

// recorder wraps the client's ResponseWriter to count status and bytes. It
// keeps Flush and Hijack reachable through Unwrap, which ReverseProxy and
// http.ResponseController use, so streams and upgrades still work.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// plainErrors: the request's API version is below 1.24, where the
	// engine writes errors as plain text.
	plainErrors bool
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

// logAudit writes the request's one audit line.
func (p *Proxy) logAudit(ctx context.Context, r *http.Request, rec *recorder, a *audit, start time.Time) {
	if !p.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("client", r.RemoteAddr),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
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
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs = append(attrs,
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", time.Since(start)),
	)
	p.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}
