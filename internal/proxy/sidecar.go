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
)

// Sidecar is the assembled proxy: the handler, the live index it decides
// from, and the upstream client they share. NewSidecar is the only way to
// build one, and main and every test of the handler use it, so what the
// tests prove is what main runs: a dependency wired in one place is wired
// in all (the swarm-aware visibility rule once was not).
type Sidecar struct {
	// Handler serves clients.
	Handler *Proxy
	// Index is the live allowlist Handler decides from.
	Index *index.Index

	source       *index.SDKSource
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
	source, err := index.NewSDKSource(cfg.Upstream.String(), logger.With("component", "index"))
	if err != nil {
		return nil, fmt.Errorf("upstream client: %w", err)
	}
	filters := cfg.Criteria // the sidecar's own copy, shared by every part
	// One visibility rule for the index and every filter: the filters, plus
	// the tasks of visible swarm services.
	vis := index.NewVisibility(&filters, source)
	idx, err := index.New(index.Options{
		Visibility: vis,
		Source:     source,
		Logger:     logger.With("component", "index"),
		Capacity:   cfg.IndexCapacity,
	})
	if err != nil {
		source.Client.Close()
		return nil, err
	}
	handler, err := newProxy(options{
		Upstream:    cfg.Upstream,
		Index:       idx,
		Visibility:  vis,
		ScrubEnvs:   cfg.ScrubEnvs,
		ReadOnly:    cfg.ReadOnly,
		MaxBodySize: cfg.MaxBodySize,
		BodyTimeout: cfg.BodyTimeout,
		Logger:      logger,
		Transport:   NewTransport(cfg.Upstream),
	})
	if err != nil {
		source.Client.Close()
		return nil, err
	}
	return &Sidecar{Handler: handler, Index: idx, source: source, pollInterval: cfg.PollInterval}, nil
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
	s.closeOnce.Do(func() { s.source.Client.Close() })
}
