package index

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// memSource is an in-memory stand-in for the engine, for testing the
// index's logic (resolution order, caching, resync) with exact control over
// IDs and failures. Behaviour against a real engine is tested with the real
// engine in engine_test.go and the proxy's tests.
type memSource struct {
	mu         sync.Mutex
	containers map[string]upstream.Container // by ID
	created    []string                      // IDs in creation order
	aliases    map[string]string             // legacy link alias "/parent/alias" -> ID
	subs       []*memSub
	inspects   atomic.Int64
	lists      atomic.Int64
	newest     atomic.Int64 // Newest calls
	// listErr, when set, fails every List and Newest.
	listErr error
	// newestGate, when set, blocks Newest until closed.
	newestGate chan struct{}
	// eventsErr, when set, is what every Events call fails with at once.
	eventsErr error
	// inspectErr, when set, fails every Inspect.
	inspectErr error
	// inspectGate, when set, blocks Inspect until closed.
	inspectGate chan struct{}
}

func newMemSource(cs ...upstream.Container) *memSource {
	m := &memSource{containers: map[string]upstream.Container{}}
	for _, c := range cs {
		m.add(c)
	}
	return m
}

// add stores a container behind the index's back (no event). Call with mu
// held, or before the source is shared.
func (m *memSource) add(c upstream.Container) {
	if _, ok := m.containers[c.ID]; !ok {
		m.created = append(m.created, c.ID)
	}
	m.containers[c.ID] = c
}

// Newest returns the last n containers created, newest first.
func (m *memSource) Newest(ctx context.Context, n int) ([]upstream.Container, error) {
	m.newest.Add(1)
	if m.newestGate != nil {
		select {
		case <-m.newestGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listErr != nil {
		return nil, m.listErr
	}
	var out []upstream.Container
	for i := len(m.created) - 1; i >= 0 && len(out) < n; i-- {
		if c, ok := m.containers[m.created[i]]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memSource) List(ctx context.Context) ([]upstream.Container, error) {
	m.lists.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listErr != nil {
		return nil, m.listErr
	}
	out := make([]upstream.Container, 0, len(m.containers))
	for _, c := range m.containers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *memSource) ListByIDPrefix(ctx context.Context, prefix string) ([]upstream.Container, error) {
	all, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []upstream.Container
	for _, c := range all {
		if strings.HasPrefix(c.ID, prefix) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Inspect resolves like the engine, among all containers.
func (m *memSource) Inspect(ctx context.Context, ref string) (upstream.Container, error) {
	m.inspects.Add(1)
	if m.inspectGate != nil {
		select {
		case <-m.inspectGate:
		case <-ctx.Done():
			return upstream.Container{}, ctx.Err()
		}
	}
	if m.inspectErr != nil {
		return upstream.Container{}, m.inspectErr
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.containers[ref]; ok {
		return c, nil
	}
	if id, ok := m.aliases[normalizeName(ref)]; ok {
		return m.containers[id], nil
	}
	for _, c := range m.containers {
		if c.Name == normalizeName(ref) {
			return c, nil
		}
	}
	var found []upstream.Container
	for _, c := range m.containers {
		if strings.HasPrefix(c.ID, ref) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return upstream.Container{}, upstream.ErrNotFound
	case 1:
		return found[0], nil
	}
	return upstream.Container{}, upstream.ErrAmbiguous
}

// memSub is one open events stream.
type memSub struct {
	ch   chan upstream.Event
	errc chan error
	once sync.Once
}

func (s *memSub) end(err error) {
	s.once.Do(func() {
		close(s.ch)
		s.errc <- err
	})
}

func (m *memSource) Events(ctx context.Context) (<-chan upstream.Event, <-chan error) {
	sub := &memSub{ch: make(chan upstream.Event, 64), errc: make(chan error, 1)}
	if m.eventsErr != nil {
		sub.end(m.eventsErr)
		return sub.ch, sub.errc
	}
	m.mu.Lock()
	m.subs = append(m.subs, sub)
	m.mu.Unlock()
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		defer m.mu.Unlock()
		sub.end(ctx.Err())
	}()
	return sub.ch, sub.errc
}

// breakStreams ends every open events stream with an error, as an engine
// restart would.
func (m *memSource) breakStreams() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs {
		s.end(errors.New("stream broken"))
	}
	m.subs = nil
}

func (m *memSource) publish(ev upstream.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs {
		s.ch <- ev
	}
}

func (m *memSource) create(c upstream.Container) {
	m.mu.Lock()
	m.add(c)
	m.mu.Unlock()
	attrs := map[string]string{}
	for k, v := range c.Labels {
		attrs[k] = v
	}
	attrs["image"] = "img"
	attrs["name"] = strings.TrimPrefix(c.Name, "/")
	m.publish(upstream.Event{Action: "create", ID: c.ID, Attributes: attrs})
}

func (m *memSource) rename(id, newName string) {
	m.mu.Lock()
	c := m.containers[id]
	old := c.Name
	c.Name = newName
	m.containers[id] = c
	m.mu.Unlock()
	m.publish(upstream.Event{Action: "rename", ID: id, Attributes: map[string]string{"name": strings.TrimPrefix(newName, "/"), "oldName": old}})
}

func (m *memSource) destroy(id string) {
	m.mu.Lock()
	delete(m.containers, id)
	m.mu.Unlock()
	m.publish(upstream.Event{Action: "destroy", ID: id, Attributes: map[string]string{}})
}

var errRefused = cerrdefs.ErrPermissionDenied.WithMessage("403 Forbidden: socket proxy denies /events")
