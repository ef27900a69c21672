// Package serve runs the client-facing HTTP server until its context ends,
// then stops it in two phases, so that a SIGTERM neither drops requests in
// flight nor waits forever for streams that never end on their own (events,
// logs -f, stats, attach), and says which streams it cut.
package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// maxCutPhase is the longest the second phase takes: the time streams get
// to end once their contexts are cancelled (they end in milliseconds: the
// upstream request is aborted) before their connections are closed.
const maxCutPhase = time.Second

// Run serves srv on ln until ctx is done, then shuts down within timeout:
//
//  1. drain: the listener and idle connections close at once; requests in
//     flight, upgraded ones (attach, exec) included, may finish until
//     timeout less the cut phase (1s, or half of a timeout under 2s);
//  2. cut: requests still running are logged, one line each ("stream cut at
//     shutdown"), their contexts are cancelled so their handlers return, and
//     connections still in use when timeout is reached are closed.
//
// Run sets srv.BaseContext (request contexts outlive ctx until the cut) and
// wraps srv.Handler to know the requests in flight. It returns nil after a
// shutdown, or the error that stopped srv.Serve.
func Run(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration, logger *slog.Logger) error {
	streamCtx, endStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer endStreams()
	srv.BaseContext = func(net.Listener) context.Context { return streamCtx }
	var reqs inFlight
	srv.Handler = reqs.track(srv.Handler)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	start := time.Now()
	cutPhase := min(maxCutPhase, timeout/2)
	logger.Info("shutting down: draining requests", "shutdown_timeout", timeout.String())

	drainCtx, cancel := context.WithDeadline(context.Background(), start.Add(timeout-cutPhase))
	err := srv.Shutdown(drainCtx)
	if err == nil {
		// Shutdown does not wait for upgraded (hijacked) connections.
		err = reqs.wait(drainCtx)
	}
	cancel()
	if err == nil {
		return nil
	}

	for _, r := range reqs.list() {
		name := "Unknown"
		if rt, err := route.Parse(r.method, r.path, r.escapedPath); err == nil {
			name = rt.Name()
		}
		logger.LogAttrs(context.Background(), slog.LevelInfo, "stream cut at shutdown",
			slog.String("client", r.client),
			slog.String("method", r.method),
			slog.String("path", r.path),
			slog.String("route", name),
			slog.Duration("duration", time.Since(r.start)),
		)
	}
	endStreams()
	cutCtx, cancel := context.WithDeadline(context.Background(), start.Add(timeout))
	defer cancel()
	err = srv.Shutdown(cutCtx)
	if err == nil {
		err = reqs.wait(cutCtx)
	}
	if err != nil {
		_ = srv.Close()
		logger.Warn("shutdown timeout reached: closed the connections still in use", "requests", reqs.count())
	}
	return nil
}

// inFlight is the set of requests whose handlers are running.
type inFlight struct {
	mu   sync.Mutex
	next uint64
	reqs map[uint64]request
}

// request is what a cut stream's log line says, copied when the request
// arrives (the handler may change the *http.Request afterwards).
type request struct {
	client, method, path, escapedPath string
	start                             time.Time
}

func (f *inFlight) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := f.add(request{client: r.RemoteAddr, method: r.Method, path: r.URL.Path,
			escapedPath: r.URL.EscapedPath(), start: time.Now()})
		defer f.remove(id)
		h.ServeHTTP(w, r)
	})
}

func (f *inFlight) add(r request) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reqs == nil {
		f.reqs = map[uint64]request{}
	}
	f.next++
	f.reqs[f.next] = r
	return f.next
}

func (f *inFlight) remove(id uint64) {
	f.mu.Lock()
	delete(f.reqs, id)
	f.mu.Unlock()
}

func (f *inFlight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// list returns the requests in flight, oldest first.
func (f *inFlight) list() []request {
	f.mu.Lock()
	ids := make([]uint64, 0, len(f.reqs))
	for id := range f.reqs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]request, len(ids))
	for i, id := range ids {
		out[i] = f.reqs[id]
	}
	f.mu.Unlock()
	return out
}

// wait returns nil once no handler runs, or ctx's error.
func (f *inFlight) wait(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for f.count() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
