package index

import (
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"

	"context"
	"errors"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// A request the index cannot answer from what it holds (a miss, or anything
// while it is not following the engine) must be decided on the engine's
// state as of the request's arrival, without asking the engine about the
// request's ref: what the engine does for a ref depends on whether a hidden
// container answers to it, and so would the proxy's cost. The index instead
// brings itself up to date by a call that names no ref, shared by every
// request that arrived before that call started.

// newestWindow is how many of the newest containers a catch-up looks at. A
// container created just before a request is among the newest; a window
// rather than one covers creates whose events arrive out of creation order.
const newestWindow = 8

// upToDate brings the index up to the engine's state as of arrival: while it
// follows the events stream (or polls), by learning the newest containers it
// has not seen yet (created a moment ago, their events still on the way);
// while it follows nothing (starting, or the stream is down), by a relist.
func (x *Index) upToDate(ctx context.Context, arrival time.Time) error {
	x.mu.Lock()
	syncing := x.state == Syncing
	x.mu.Unlock()
	if syncing {
		return x.relist.wait(ctx, arrival, x.relistNow)
	}
	return x.catchUp.wait(ctx, arrival, x.catchUpNewest)
}

// catchUpNewest learns the newest containers the index has never seen.
// Containers it holds are left to the events stream (which is never older
// than a list taken before it), and removed ones stay removed.
func (x *Index) catchUpNewest(ctx context.Context) error {
	list, err := x.source.Newest(ctx, newestWindow)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range list {
		if x.byID.Contains(c.ID) || x.gone.Contains(c.ID) {
			continue
		}
		x.put(c)
	}
	return nil
}

// relistNow replaces the index with a fresh list, unless the events stream
// came back meanwhile (its own list and events are then newer than this).
func (x *Index) relistNow(ctx context.Context) error {
	list, err := x.source.List(ctx)
	if err != nil {
		return err
	}
	x.mu.Lock()
	if x.state == Syncing {
		x.replace(list, metrics.ResyncMiss)
	}
	x.mu.Unlock()
	return nil
}

// Invalidate settles a container the engine answered "No such container"
// for, although the index held it (in polling mode a container removed and
// recreated under its name until the next poll; otherwise an event still on
// the way): it is looked up by its full ID and forgotten when gone, so the
// next Resolve of its name finds what the engine holds now.
func (x *Index) Invalidate(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	c, err := x.source.Inspect(ctx, id)
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		x.remove(id)
		return nil
	case err != nil:
		return err
	}
	if c.ID == id {
		x.put(c)
	}
	return nil
}

// barrier shares upstream calls among requests: a call serves every request
// that arrived before it started. A request that arrives while a call is
// under way waits for the next call, which starts when the current one ends
// and serves everyone who arrived meanwhile, so concurrent misses cost at
// most two calls, and none is answered from a call older than itself.
type barrier struct {
	mu        sync.Mutex
	cur, next *barrierCall
}

type barrierCall struct {
	started time.Time // zero until it runs
	done    chan struct{}
	err     error
}

// wait runs fn, or joins a run that serves arrival, and returns its error;
// ctx bounds only this caller's wait.
func (b *barrier) wait(ctx context.Context, arrival time.Time, fn func(context.Context) error) error {
	b.mu.Lock()
	var c *barrierCall
	switch {
	case b.cur == nil:
		c = &barrierCall{done: make(chan struct{})}
		b.cur = c
		b.start(c, fn)
	case !b.cur.started.Before(arrival):
		c = b.cur
	default:
		if b.next == nil {
			b.next = &barrierCall{done: make(chan struct{})}
		}
		c = b.next
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// start runs c; when it ends, the pending next call (if any) starts. Called
// with mu held.
func (b *barrier) start(c *barrierCall, fn func(context.Context) error) {
	c.started = time.Now()
	go func() {
		callCtx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		c.err = fn(callCtx)
		cancel()
		close(c.done)
		b.mu.Lock()
		b.cur, b.next = b.next, nil
		if b.cur != nil {
			b.start(b.cur, fn)
		}
		b.mu.Unlock()
	}()
}
