package proxy

import (
	"log/slog"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// Every route of the table names a strategy (route's own test), and every
// strategy is bound to a handler: no route reaches the upstream by a
// default path.
func TestEveryStrategyHasAHandler(t *testing.T) {
	cfg, err := config.Load(func(k string) string { return map[string]string{"PROXY_URL": "tcp://127.0.0.1:9"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSidecar(cfg, slog.New(slog.DiscardHandler)) // contacts nothing until Run
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for st := route.Unset + 1; st < route.StrategyCount; st++ {
		if s.Handler.handlers[st] == nil {
			t.Errorf("strategy %d has no handler", st)
		}
	}
	for _, spec := range route.Table {
		if s.Handler.handlers[spec.Strategy] == nil {
			t.Errorf("%s %s: strategy %d has no handler", spec.Method, spec.Template, spec.Strategy)
		}
	}
}
