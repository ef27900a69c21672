package index

import (
	"context"
	"log/slog"

	"github.com/dpf-dev/docker-proxy-filter/internal/explain"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// What the operator sees of the index: the metrics (containers by
// visibility, state, resyncs) and, at debug level, one line per container
// that becomes visible or hidden, with the reason. Nothing here changes a
// decision.

// counts returns the visible and hidden containers held. Called with mu held.
func (x *Index) counts() (visible, hidden int) {
	return len(x.visibleIDs), len(x.allIDs) - len(x.visibleIDs)
}

// Counts returns the visible and hidden containers the index holds now.
func (x *Index) Counts() (visible, hidden int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.counts()
}

// observeCounts publishes the counts. Called with mu held, after a change.
func (x *Index) observeCounts() {
	if x.metrics != nil {
		x.metrics.SetContainers(x.counts())
	}
}

// setStateLocked changes the state and publishes it. Called with mu held.
func (x *Index) setStateLocked(s State) {
	x.state = s
	if x.metrics != nil {
		x.metrics.SetIndexState(s.metricsLabel())
	}
}

func (s State) metricsLabel() string {
	switch s {
	case Live:
		return metrics.StateLive
	case Polling:
		return metrics.StatePolling
	}
	return metrics.StateSyncing
}

// debugging reports whether visibility changes are logged.
func (x *Index) debugging() bool {
	return x.logger.Enabled(context.Background(), slog.LevelDebug)
}

// logPut logs a container that appears or changes visibility. was is its
// visibility before (known: it was held). Called with mu held.
func (x *Index) logPut(c upstream.Container, e entry, was, known bool) {
	if known && was == e.visible {
		return
	}
	byCriteria, reason := explain.Why(x.filters, c.Name, c.Labels)
	if e.visible && !byCriteria {
		reason = "task of visible swarm service " + short(c.Labels[visibility.ServiceLabel])
	}
	x.logVisibility(c.ID, e, reason)
}

// logRename logs a rename that changes a container's visibility. Called
// with mu held.
func (x *Index) logRename(id string, old, next entry) {
	if old.visible == next.visible {
		return
	}
	reason := "renamed from " + old.name
	if !next.visible {
		reason += ": no filter matches its new name, nor its labels"
	} else {
		_, why := explain.Why(x.filters, next.name, nil)
		reason += ": " + why
	}
	x.logVisibility(id, next, reason)
}

func (x *Index) logVisibility(id string, e entry, reason string) {
	msg := "container hidden"
	if e.visible {
		msg = "container visible"
	}
	x.logger.Debug(msg, "container_id", short(id), "container_name", e.name, "reason", reason)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
