package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Index states, as index.State's String method writes them.
const (
	StateSyncing = "syncing" // not following the engine: allows are confirmed upstream
	StateLive    = "live"    // listed and following the events stream
	StatePolling = "polling" // the upstream refuses /events: relisting periodically
)

const numStates = 3

func stateIndex(s string) int {
	switch s {
	case StateSyncing:
		return 0
	case StateLive:
		return 1
	case StatePolling:
		return 2
	}
	return -1
}

func stateLabel(i int) string {
	switch i {
	case 0:
		return StateSyncing
	case 1:
		return StateLive
	}
	return StatePolling
}

// Resync reasons: why the index listed every container again. Any other
// reason is counted as "other".
const (
	ResyncStart     = "start"     // the first list after start-up
	ResyncReconnect = "reconnect" // the events stream was lost and reopened
	ResyncPoll      = "poll"      // a periodic relist in polling mode
	// ResyncMiss: a request named a container the index could not
	// resolve while it was not following the engine.
	ResyncMiss = "miss"
)

func (m *Metrics) registerIndex() {
	containers := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "containers",
		Help: "Containers in the live index, by visibility (visible, hidden).",
	}, []string{"visibility"})
	m.containers[0] = containers.WithLabelValues("visible")
	m.containers[1] = containers.WithLabelValues("hidden")

	m.indexState = &stateCollector{desc: prometheus.NewDesc(namespace+"_index_state",
		"1 for the live index's current state (syncing, live, polling), 0 for the others.", []string{"state"}, nil)}

	resyncs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "index_resyncs_total",
		Help: "Full relists of the upstream's containers by the live index, by reason (start, reconnect, poll, miss, other).",
	}, []string{"reason"})
	m.resyncs = make(map[string]prometheus.Counter, 5)
	for _, r := range []string{ResyncStart, ResyncReconnect, ResyncPoll, ResyncMiss, "other"} {
		m.resyncs[r] = resyncs.WithLabelValues(r) // present from the start, so rate() works at once
	}

	events := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	}
	m.eventsDelivered = events("events_delivered_total", "Events sent to clients on /events streams.")
	m.eventsDropped = events("events_dropped_total", "Events withheld from clients on /events streams because they concern hidden containers, services or tasks.")

	m.reg.MustRegister(containers, m.indexState, resyncs, m.eventsDelivered, m.eventsDropped)
}

// SetContainers reports how many containers the index holds, by visibility.
// Call it after every change of the index (cheap: two atomic stores).
func (m *Metrics) SetContainers(visible, hidden int) {
	if m == nil {
		return
	}
	m.containers[0].Set(float64(visible))
	m.containers[1].Set(float64(hidden))
}

// SetIndexState records the index's state (StateSyncing, StateLive,
// StatePolling: index.State.String()). Any other value sets every state to 0,
// which an alert on index_state{state="live"} == 0 also catches.
func (m *Metrics) SetIndexState(state string) {
	if m == nil {
		return
	}
	m.indexState.cur.Store(int32(stateIndex(state)))
}

// Resync counts one full relist of the upstream's containers.
func (m *Metrics) Resync(reason string) {
	if m == nil {
		return
	}
	c, ok := m.resyncs[reason]
	if !ok {
		c = m.resyncs["other"]
	}
	c.Inc()
}

// EventsDelivered counts events written to a client's /events stream.
func (m *Metrics) EventsDelivered(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.eventsDelivered.Add(float64(n))
}

// EventsDropped counts events the /events filter withheld from a client.
func (m *Metrics) EventsDropped(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.eventsDropped.Add(float64(n))
}

// stateCollector writes index_state from one atomic value, so a scrape never
// sees two states at 1 (or none) in the middle of a change.
type stateCollector struct {
	desc *prometheus.Desc
	cur  atomic.Int32 // stateIndex; 0 (syncing) at start, -1 unknown
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	cur := int(c.cur.Load())
	for i := range numStates {
		v := 0.0
		if i == cur {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, stateLabel(i))
	}
}
