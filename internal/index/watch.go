package index

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// Backoff bounds for reconnecting the events stream.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 30 * time.Second
	// healthyAfter: a stream that lasted this long resets the backoff.
	healthyAfter = time.Minute
)

// Run keeps the index in step with the engine until ctx ends: it lists every
// container, follows the events stream, and after any stream failure
// reconnects with backoff and resyncs fully. If the upstream refuses /events
// (a socket proxy may), it falls back to relisting every pollInterval and
// says so once. Run returns ctx.Err().
func (x *Index) Run(ctx context.Context, pollInterval time.Duration) error {
	backoff := minBackoff
	for {
		started := time.Now()
		err := x.follow(ctx)
		x.setState(Syncing)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if upstream.Refused(err) {
			x.logger.Warn("upstream refuses the events stream; relisting containers periodically instead",
				"poll_interval", pollInterval.String(), "error", err)
			return x.poll(ctx, pollInterval)
		}
		if time.Since(started) > healthyAfter {
			backoff = minBackoff
		}
		x.logger.Warn("lost the engine's events stream; resyncing", "error", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// follow opens the events stream, lists, applies events until the stream
// fails, and returns why it stopped.
func (x *Index) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Drain the stream into a local queue from the start: the engine drops
	// events for a subscriber that does not read within 100ms, and the
	// initial list can take longer than that on a big host.
	events, errc := x.source.Events(ctx)
	q := newQueue()
	go func() {
		for ev := range events {
			q.push(ev)
		}
		q.close(<-errc)
	}()

	list, err := x.source.List(ctx)
	if err != nil {
		// A refused stream is the more useful diagnosis, if it failed first.
		if qerr, closed := q.peekClosed(); closed && upstream.Refused(qerr) {
			return qerr
		}
		return err
	}
	if qerr, closed := q.peekClosed(); closed {
		// The stream failed while we listed: not live.
		x.mu.Lock()
		x.replace(list, x.resyncReason(metrics.ResyncReconnect))
		x.mu.Unlock()
		if qerr == nil {
			qerr = errors.New("events stream ended")
		}
		return qerr
	}
	x.mu.Lock()
	x.replace(list, x.resyncReason(metrics.ResyncReconnect))
	x.setStateLocked(Live)
	visible, hidden := x.counts()
	x.mu.Unlock()
	n := len(list)
	list = nil
	releaseMemory()
	x.logger.Info("container index is live", "containers", n, "visible", visible, "hidden", hidden)

	for {
		batch, err, closed := q.wait(ctx)
		for _, ev := range batch {
			if err := x.apply(ctx, ev); err != nil {
				return err
			}
		}
		if closed {
			if err == nil {
				err = errors.New("events stream ended")
			}
			return err
		}
	}
}

// apply folds one event into the index. The stream starts with a replay of
// the engine's event buffer, older than the list just applied, so no event may
// move the index back in time, nor make a container visible on an old
// event's word:
//   - destroy is final;
//   - create only adds a container the index does not have (a listed
//     container is already known as it is now; labels never change);
//   - rename applies the event's new name at once when that hides the
//     container (failing closed, so a rename away from a visible name takes
//     effect before the next decision); a rename that would make the
//     container visible is settled by inspecting it, always: a replayed
//     rename carries a name older than the list's, and one whose old name
//     matches what the index holds may still be old (a container renamed
//     back and forth leaves pairs of renames in the buffer, and replaying a
//     pair showed a container hidden long ago at every reconnect).
func (x *Index) apply(ctx context.Context, ev upstream.Event) error {
	switch ev.Action {
	case "destroy":
		x.mu.Lock()
		if x.byID.Contains(ev.ID) {
			x.remove(ev.ID)
		} else if !x.gone.Contains(ev.ID) {
			// Destroyed before the index started: its replayed events are
			// decided by what its own attributes say.
			name := normalizeName(ev.Attributes["name"])
			byLabels := x.vis.ByLabels(visibility.EventLabels(ev.Attributes))
			x.gone.Add(ev.ID, entry{name: name, byLabels: byLabels, visible: byLabels || x.vis.ByName(name)})
		}
		x.mu.Unlock()
	case "create":
		x.mu.Lock()
		known := x.byID.Contains(ev.ID) || x.gone.Contains(ev.ID)
		x.mu.Unlock()
		if known {
			return nil
		}
		c, exact := containerFromEvent(ev, x.filters.Labels)
		if !exact {
			// A label filter could match the engine's own "image"/"name"
			// attributes, which hide same-named labels: ask for the truth.
			return x.learn(ctx, ev.ID)
		}
		x.mu.Lock()
		if !x.byID.Contains(ev.ID) && !x.gone.Contains(ev.ID) {
			x.put(c)
		}
		x.mu.Unlock()
	case "rename":
		name := normalizeName(ev.Attributes["name"])
		x.mu.Lock()
		e, known := x.byID.Peek(ev.ID)
		if known {
			next := entry{name: name, byLabels: e.byLabels, visible: e.byLabels || x.vis.ByName(name)}
			if !next.visible || e.byLabels && e.name == normalizeName(ev.Attributes["oldName"]) {
				if x.debugging() {
					x.logRename(ev.ID, e, next)
				}
				x.putEntry(ev.ID, next)
				x.mu.Unlock()
				return nil
			}
		}
		x.mu.Unlock()
		return x.learn(ctx, ev.ID)
	}
	return nil
}

// learn records a container as the engine describes it now.
func (x *Index) learn(ctx context.Context, id string) error {
	c, err := x.source.Inspect(ctx, id)
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		x.remove(id) // gone already; its destroy event follows
	case err != nil:
		return err
	default:
		x.put(c)
	}
	return nil
}

// poll relists every interval until ctx ends.
func (x *Index) poll(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		list, err := x.source.List(ctx)
		switch {
		case err == nil:
			x.mu.Lock()
			x.replace(list, x.resyncReason(metrics.ResyncPoll))
			x.setStateLocked(Polling)
			x.mu.Unlock()
			releaseMemory()
			if failing {
				x.logger.Info("container listing recovered", "containers", len(list))
			}
			failing = false
		case ctx.Err() == nil:
			x.setState(Syncing)
			if !failing {
				x.logger.Warn("cannot list containers; allows are confirmed upstream until it recovers", "error", err)
			}
			failing = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (x *Index) setState(s State) {
	x.mu.Lock()
	x.setStateLocked(s)
	x.mu.Unlock()
}

// resyncReason names a full list for the resync metric: the first one is
// the start, later ones are relists after a lost stream, or polls. Called
// with mu held.
func (x *Index) resyncReason(later string) string {
	if !x.listed {
		x.listed = true
		return metrics.ResyncStart
	}
	return later
}

// containerFromEvent rebuilds a container from a create event's attributes:
// the engine copies every label into them, then sets "image" and "name". The
// result is exact unless a label filter's key could match those two keys.
func containerFromEvent(ev upstream.Event, labelFilters []match.Label) (upstream.Container, bool) {
	labels := make(map[string]string, len(ev.Attributes))
	for k, v := range ev.Attributes {
		if k != "image" && k != "name" {
			labels[k] = v
		}
	}
	exact := true
	for _, lf := range labelFilters {
		if strings.Contains("image", lf.Key) || strings.Contains("name", lf.Key) {
			exact = false
		}
	}
	return upstream.Container{ID: ev.ID, Name: normalizeName(ev.Attributes["name"]), Labels: labels}, exact
}

// queue is an unbounded FIFO between the stream reader and the applier.
type queue struct {
	mu     sync.Mutex
	items  []upstream.Event
	err    error
	closed bool
	signal chan struct{} // capacity 1: "something changed"
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

func (q *queue) push(ev upstream.Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	q.notify()
}

func (q *queue) close(err error) {
	q.mu.Lock()
	q.err, q.closed = err, true
	q.mu.Unlock()
	q.notify()
}

func (q *queue) notify() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) peekClosed() (error, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err, q.closed
}

// wait returns everything queued so far, waiting for something if nothing
// is; closed reports the end of the stream (after the returned batch).
func (q *queue) wait(ctx context.Context) (batch []upstream.Event, err error, closed bool) {
	for {
		q.mu.Lock()
		batch, q.items = q.items, nil
		err, closed = q.err, q.closed
		q.mu.Unlock()
		if len(batch) > 0 || closed {
			return batch, err, closed
		}
		select {
		case <-q.signal:
		case <-ctx.Done():
			return nil, ctx.Err(), true
		}
	}
}
