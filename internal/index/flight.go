package index

import "sync"

// flightGroup collapses concurrent settlements of the same ref into one
// upstream call (a minimal singleflight; the x/sync module is not worth a
// dependency for twenty lines).
type flightGroup struct {
	mu      sync.Mutex
	flights map[string]*flight
}

type flight struct {
	done chan struct{}
	res  Decision
	err  error
}

// do runs fn once per key at a time; callers arriving while it runs wait for
// its result. A waiter whose own wait is abandoned (ctx) gives up through
// wait, not here.
func (g *flightGroup) do(key string, fn func() (Decision, error)) (*flight, bool) {
	g.mu.Lock()
	if g.flights == nil {
		g.flights = make(map[string]*flight)
	}
	if f, ok := g.flights[key]; ok {
		g.mu.Unlock()
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	g.flights[key] = f
	g.mu.Unlock()

	go func() {
		f.res, f.err = fn()
		g.mu.Lock()
		delete(g.flights, key)
		g.mu.Unlock()
		close(f.done)
	}()
	return f, true
}
