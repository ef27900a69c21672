package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// Sidecar is the assembled proxy: the upstream client, the visibility rule,
// the live index and the handler, sharing the one client and the one rule.
// NewSidecar is the only way to build one, and main and every test of the
// handler use it, so what the tests prove is what main runs: a dependency
// wired in one place is wired in all (the swarm-aware visibility rule once
// was not).
type Sidecar struct {
	// Handler serves clients.
	Handler *Proxy
	// Index is the live allowlist Handler decides from.
	Index *index.Index
	// Metrics are served on METRICS_LISTEN; nil when that is off.
	Metrics *metrics.Metrics

	up           *upstream.Client
	pollInterval time.Duration
	closeOnce    sync.Once
}

// NewSidecar builds the proxy for a validated configuration. Nothing is
// contacted yet: Run starts following the upstream.
func NewSidecar(cfg config.Config, logger *slog.Logger) (*Sidecar, error) {
	if logger == nil {
		return nil, errors.New("proxy: NewSidecar needs a logger")
	}
	if cfg.Upstream.Network == "" || cfg.Upstream.Address == "" {
		return nil, errors.New("proxy: NewSidecar needs an upstream endpoint")
	}
	up, err := upstream.New(cfg.Upstream, logger.With("component", "upstream"))
	if err != nil {
		return nil, fmt.Errorf("upstream client: %w", err)
	}
	// Metrics only when asked for (METRICS_LISTEN): off, nothing is counted.
	var m *metrics.Metrics
	if cfg.MetricsListen != "" {
		m = metrics.New()
	}
	criteria := cfg.Criteria // the sidecar's own copy, shared by every part
	// One visibility rule for the index and every decision and rewriter:
	// the criteria, plus the tasks of visible swarm services.
	vis := visibility.New(&criteria, up)
	idx, err := index.New(index.Options{
		Visibility: vis,
		Source:     up,
		Logger:     logger.With("component", "index"),
		Capacity:   cfg.IndexCapacity,
		Metrics:    m,
	})
	if err != nil {
		up.Close()
		return nil, err
	}
	handler, err := newProxy(options{
		Upstream:    up,
		Index:       idx,
		Visibility:  vis,
		ScrubEnvs:   cfg.ScrubEnvs,
		ReadOnly:    cfg.ReadOnly,
		Access:      cfg.Access,
		Metrics:     m,
		MaxBodySize: cfg.MaxBodySize,
		BodyTimeout: cfg.BodyTimeout,
		Logger:      logger,
	})
	if err != nil {
		up.Close()
		return nil, err
	}
	return &Sidecar{Handler: handler, Index: idx, Metrics: m, up: up, pollInterval: cfg.PollInterval}, nil
}

// Run follows the upstream until ctx ends: the index keeps in step with the
// engine, and the handler learns the engine's headers and API range. It
// returns when both have stopped.
func (s *Sidecar) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = s.Index.Run(ctx, s.pollInterval)
	}()
	go func() {
		defer wg.Done()
		s.Handler.LearnEngineHeaders(ctx)
	}()
	wg.Wait()
}

// Close releases the upstream client; call it after Run has returned.
func (s *Sidecar) Close() {
	s.closeOnce.Do(s.up.Close)
}
