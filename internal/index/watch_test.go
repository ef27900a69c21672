package index

import (
	"context"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// eventually polls cond for up to a second.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// knows reports whether the index alone (no upstream call) resolves ref.
func knows(x *Index, ref string) (Decision, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.resolveLocked(ref)
}

func TestWatchFollowsCreateRenameDestroy(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"))
	x := liveIndex(t, src, match.Filters{Names: []string{"app"}, Labels: []match.Label{{Key: "homepage"}}}, 0)

	src.create(Container{ID: id("b2"), Name: "/app-1"})
	eventually(t, "created container indexed", func() bool { d, ok := knows(x, "app-1"); return ok && d.ID == id("b2") })

	src.rename(id("b2"), "/renamed")
	eventually(t, "rename makes it hidden", func() bool { _, ok := knows(x, id("b2")); return !ok })
	if _, ok := knows(x, "app-1"); ok {
		t.Error("old name still resolves after rename")
	}

	src.rename(id("b2"), "/app-2")
	eventually(t, "rename back makes it visible", func() bool { d, ok := knows(x, "app-2"); return ok && d.ID == id("b2") })

	src.destroy(id("b2"))
	eventually(t, "destroyed container forgotten", func() bool { _, ok := knows(x, id("b2")); return !ok })
	if x.Len() != 1 {
		t.Errorf("index holds %d containers, want 1", x.Len())
	}
}

func TestWatchResyncsAfterTheStreamBreaks(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"))
	x := liveIndex(t, src, labelFilters, 0)
	lists := src.lists.Load()

	// While the stream is down, the engine changes without events.
	src.breakStreams()
	src.mu.Lock()
	delete(src.containers, id("a1"))
	src.containers[id("c3")] = visibleC("c3", "/new")
	src.mu.Unlock()

	eventually(t, "resync after reconnect", func() bool {
		_, gone := knows(x, "web")
		d, ok := knows(x, "new")
		return !gone && ok && d.ID == id("c3") && x.State() == Live
	})
	if src.lists.Load() <= lists {
		t.Error("no full relist after the stream broke")
	}
}

func TestWatchFallsBackToPollingWhenEventsAreRefused(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"))
	src.eventsErr = errRefused
	x := New(Options{Filters: &labelFilters, Source: src})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = x.Run(ctx, 20*time.Millisecond) }()
	eventually(t, "polling state", func() bool { return x.State() == Polling })

	src.mu.Lock()
	src.containers[id("c3")] = visibleC("c3", "/polled")
	src.mu.Unlock()
	eventually(t, "polled container indexed", func() bool { _, ok := knows(x, "polled"); return ok })
}

func TestReplayedEventsNeverMoveTheIndexBack(t *testing.T) {
	// The events stream starts by replaying the engine's buffer, which is
	// older than the list the index starts from.
	src := newMemSource(Container{ID: id("a1"), Name: "/secret"}) // renamed from /app-x long ago
	f := match.Filters{Names: []string{"app"}}
	x := New(Options{Filters: &f, Source: src})
	x.mu.Lock()
	x.replace([]Container{{ID: id("a1"), Name: "/secret"}})
	x.state = Live
	x.mu.Unlock()

	ctx := context.Background()
	for _, ev := range []Event{
		{Action: "create", ID: id("a1"), Attributes: map[string]string{"name": "app-x", "image": "i"}},
		{Action: "rename", ID: id("a1"), Attributes: map[string]string{"name": "app-y", "oldName": "/app-x"}},
	} {
		if err := x.apply(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if d, ok := knows(x, id("a1")); ok {
			t.Fatalf("after replaying %s the hidden container resolves: %+v", ev.Action, d)
		}
	}
}
