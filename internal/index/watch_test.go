package index

import (
	"context"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
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
	x := liveIndex(t, src, match.Criteria{Names: []string{"app"}, Labels: []match.Label{{Key: "homepage"}}}, 0)

	src.create(upstream.Container{ID: id("b2"), Name: "/app-1"})
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
	x := newTestIndex(t, src, labelFilters, 0)
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
	src := newMemSource(upstream.Container{ID: id("a1"), Name: "/secret"}) // renamed from /app-x long ago
	f := match.Criteria{Names: []string{"app"}}
	x := newTestIndex(t, src, f, 0)
	x.mu.Lock()
	x.replace([]upstream.Container{{ID: id("a1"), Name: "/secret"}}, "")
	x.state = Live
	x.mu.Unlock()

	ctx := context.Background()
	for _, ev := range []upstream.Event{
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

func TestRenamesApplyFromTheEventWithoutAnInspect(t *testing.T) {
	src := newMemSource(upstream.Container{ID: id("a1"), Name: "/app-1"}, visibleC("b2", "/labelled"))
	x := liveIndex(t, src, match.Criteria{Names: []string{"app"}, Labels: []match.Label{{Key: "homepage"}}}, 0)
	inspects := src.inspects.Load()

	// Away from a visible name: hidden at once, from the event alone.
	src.rename(id("a1"), "/secret")
	eventually(t, "rename hides", func() bool { _, ok := knows(x, id("a1")); return !ok })
	// A container visible by its labels stays visible under any name: its
	// rename changes no visibility and applies from the event too.
	src.rename(id("b2"), "/anything")
	eventually(t, "labelled rename", func() bool { d, ok := knows(x, "anything"); return ok && d.ID == id("b2") })
	if n := src.inspects.Load() - inspects; n != 0 {
		t.Errorf("renames that hide or keep visibility made %d inspects, want 0", n)
	}
	// Back onto a visible name: settled by one inspect, never on the
	// event's word (see TestReplayedRenamePairsNeverShowAHiddenContainer).
	src.rename(id("a1"), "/app-2")
	eventually(t, "rename shows", func() bool { d, ok := knows(x, "app-2"); return ok && d.ID == id("a1") })
	if n := src.inspects.Load() - inspects; n != 1 {
		t.Errorf("a rename that shows a container made %d inspects, want 1", n)
	}
}

// TestReplayedRenamePairsNeverShowAHiddenContainer: a container renamed
// back and forth leaves pairs of renames in the engine's buffer, which the
// events stream replays at every (re)connect after the list. Each replayed
// rename back onto the visible name had the name the index held as its
// oldName, so it was applied: an outside run saw a container hidden for
// tens of seconds answer 200 at every reconnect.
func TestReplayedRenamePairsNeverShowAHiddenContainer(t *testing.T) {
	src := newMemSource(upstream.Container{ID: id("a1"), Name: "/hidden-1"}) // now, as listed
	x := newTestIndex(t, src, match.Criteria{Names: []string{"web"}}, 0)
	x.mu.Lock()
	x.replace([]upstream.Container{{ID: id("a1"), Name: "/hidden-1"}}, "")
	x.state = Live
	x.mu.Unlock()
	ctx := context.Background()
	for i := range 3 {
		for _, ev := range []upstream.Event{
			{Action: "rename", ID: id("a1"), Attributes: map[string]string{"name": "web-1", "oldName": "/hidden-1"}},
			{Action: "rename", ID: id("a1"), Attributes: map[string]string{"name": "hidden-1", "oldName": "/web-1"}},
		} {
			if err := x.apply(ctx, ev); err != nil {
				t.Fatal(err)
			}
			for _, ref := range []string{id("a1"), "web-1", "hidden-1"} {
				if d, ok := knows(x, ref); ok {
					t.Fatalf("pair %d: after replaying rename to %s, %q resolves: %+v", i, ev.Attributes["name"], ref, d)
				}
			}
		}
	}
}

func TestRemovedContainersAreRemembered(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"), hiddenC("b2", "/db"))
	x := liveIndex(t, src, labelFilters, 0)
	src.destroy(id("a1"))
	src.destroy(id("b2"))
	eventually(t, "destroys applied", func() bool { return x.Len() == 0 })
	for _, tc := range []struct {
		id      string
		visible bool
	}{{id("a1"), true}, {id("b2"), false}} {
		if _, visible, ok := x.Seen(tc.id); !ok || visible != tc.visible {
			t.Errorf("Seen(%s) = visible %v, known %v; want visible %v", tc.id[:4], visible, ok, tc.visible)
		}
	}
	// A replayed destroy of a container the index never held is decided by
	// its own attributes.
	old := id("c3")
	if err := x.apply(context.Background(), upstream.Event{Action: "destroy", ID: old, Attributes: map[string]string{"name": "gone", "homepage.x": "1", "image": "i"}}); err != nil {
		t.Fatal(err)
	}
	if byLabels, visible, ok := x.Seen(old); !ok || !visible || !byLabels {
		t.Errorf("Seen(replayed destroy) = %v %v %v, want visible by labels", byLabels, visible, ok)
	}
	if _, ok := knows(x, "gone"); ok {
		t.Error("a destroyed container resolves")
	}
}

func TestInvalidateForgetsAContainerTheEngineNoLongerHas(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"))
	x := newTestIndex(t, src, labelFilters, 0)
	x.mu.Lock()
	x.replace([]upstream.Container{visibleC("a1", "/web")}, "")
	x.state = Polling
	x.mu.Unlock()
	// Recreated under the same name between two polls.
	src.mu.Lock()
	delete(src.containers, id("a1"))
	src.add(visibleC("a2", "/web"))
	src.mu.Unlock()
	if d, _ := knows(x, "web"); d.ID != id("a1") {
		t.Fatalf("before: web = %+v", d)
	}
	if err := x.Invalidate(context.Background(), id("a1")); err != nil {
		t.Fatal(err)
	}
	if d, err := x.Resolve(context.Background(), "web"); err != nil || d.ID != id("a2") {
		t.Errorf("Resolve(web) after Invalidate = %+v, %v; want the new container", d, err)
	}
}

func TestWhenHiddenFollowsVisibility(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"), hiddenC("b2", "/db"), visibleC("c3", "/other"))
	x := liveIndex(t, src, labelFilters, 0)
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	if ch, stop := x.WhenHidden(id("b2")); !closed(ch) {
		t.Error("a hidden container's watch must be closed at once")
	} else {
		stop()
	}
	removed, stop1 := x.WhenHidden(id("a1"))
	defer stop1()
	kept, stop2 := x.WhenHidden(id("c3"))
	if closed(removed) || closed(kept) {
		t.Fatal("a visible container's watch is closed")
	}
	src.destroy(id("a1"))
	eventually(t, "removal closes the watch", func() bool { return closed(removed) })
	stop2()
	stop2() // stopping twice is harmless
	if closed(kept) {
		t.Error("a stopped watch of a visible container was closed")
	}
}
