package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
)

// serveMetrics serves Prometheus metrics on their own listener
// (METRICS_LISTEN), never on the proxy's port. It fails at start when the
// address cannot be bound, rather than running blind. stop shuts it down.
func serveMetrics(m *metrics.Metrics, addr string, logger *slog.Logger) (stop func(), err error) {
	if m == nil {
		return func() {}, nil
	}
	srv, err := m.Server(addr)
	if err != nil {
		return nil, err
	}
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_LISTEN: %w", err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener stopped", "error", err)
		}
	}()
	logger.Info("serving metrics", "address", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
