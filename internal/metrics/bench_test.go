package metrics

import (
	"testing"
	"time"
)

// TestHotPathAllocations pins the promise in the package doc: once a label
// combination has been seen, the calls the proxy makes per request allocate
// nothing.
func TestHotPathAllocations(t *testing.T) {
	m := New()
	calls := []struct {
		name string
		fn   func()
	}{
		{"ObserveRequest", func() { m.ObserveRequest("ContainerInspect", DecisionAllow, 200, 250*time.Microsecond) }},
		{"ObserveRequest, stream route", func() { m.ObserveRequest("SystemEvents", DecisionFilter, 200, time.Minute) }},
		{"ObserveRequest, unknown route", func() { m.ObserveRequest("whatever", DecisionDeny, 404, time.Microsecond) }},
		{"StreamOpened+Close", func() { m.StreamOpened("ContainerLogs").Close() }},
		{"SetContainers", func() { m.SetContainers(10, 20) }},
		{"SetIndexState", func() { m.SetIndexState(StateLive) }},
		{"EventsDelivered", func() { m.EventsDelivered(1) }},
		{"UpstreamError", func() { m.UpstreamError(KindTimeout) }},
	}
	for _, c := range calls {
		c.fn() // first use resolves the label child
		if got := testing.AllocsPerRun(1000, c.fn); got != 0 {
			t.Errorf("%s: %v allocations per call in steady state, want 0", c.name, got)
		}
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	m.ObserveRequest("ContainerInspect", DecisionAllow, 200, time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("ContainerInspect", DecisionAllow, 200, 250*time.Microsecond)
	}
}

func BenchmarkObserveRequestParallel(b *testing.B) {
	m := New()
	routes := []string{"ContainerInspect", "ContainerList", "SystemPing", "SystemEvents", "ContainerLogs"}
	for _, r := range routes {
		m.ObserveRequest(r, DecisionAllow, 200, time.Millisecond)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.ObserveRequest(routes[i%len(routes)], DecisionAllow, 200, 250*time.Microsecond)
			i++
		}
	})
}

func BenchmarkObserveRequestNil(b *testing.B) {
	var m *Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("ContainerInspect", DecisionAllow, 200, 250*time.Microsecond)
	}
}
