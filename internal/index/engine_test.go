package index

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
	"github.com/moby/moby/client"
)

// engineIndex follows the real test engine through the production upstream
// client, with containers visible when their name contains visibleWord.
func engineIndex(t *testing.T, e *enginetest.Engine, visibleWord string) *Index {
	t.Helper()
	x := newEngineIndex(t, e, visibleWord, slog.New(slog.DiscardHandler))
	runIndex(t, x)
	return x
}

// newEngineIndex is engineIndex before it runs, logging to logger.
func newEngineIndex(t *testing.T, e *enginetest.Engine, visibleWord string, logger *slog.Logger) *Index {
	t.Helper()
	ep, err := config.ParseUpstream(e.Host)
	if err != nil {
		t.Fatal(err)
	}
	src, err := upstream.New(ep, logger)
	if err != nil {
		t.Fatal(err)
	}
	rule := visibility.New(&match.Criteria{Names: []string{visibleWord}}, src)
	x, err := New(Options{Visibility: rule, Source: src, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// runIndex runs x until the test ends and waits until it is live.
func runIndex(t *testing.T, x *Index) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = x.Run(ctx, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	enginetest.Eventually(t, 30*time.Second, "index live on the engine", func() bool { return x.State() == Live })
}

func mustResolve(t *testing.T, x *Index, ref string) Decision {
	t.Helper()
	d, err := x.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", ref, err)
	}
	return d
}

// TestEngineIndexFollowsTheEngine runs the index against a real engine:
// a container created after the index went live is found at once (the miss
// catches up with the engine), a hidden one is missing by every ref, a
// rename that hides or shows a container takes effect, a removal is
// followed, and a hidden container named like a visible container's ID
// prefix never captures that prefix (the engine itself would pick the name).
func TestEngineIndexFollowsTheEngine(t *testing.T) {
	e := enginetest.Require(t)
	word := enginetest.UniqueName(t, "idxvis")
	x := engineIndex(t, e, word)

	vis := e.Run(t, enginetest.RunSpec{Name: word + "-web", Cmd: []string{"sleep", "60"}})
	hid := e.Run(t, enginetest.RunSpec{Name: enginetest.UniqueName(t, "idxhid"), Cmd: []string{"sleep", "60"}})

	if d := mustResolve(t, x, vis.Name); d.Outcome != Found || d.ID != vis.ID {
		t.Fatalf("visible container created after the index went live: %+v, want Found %s", d, vis.ID)
	}
	if d := mustResolve(t, x, vis.ID[:12]); d.Outcome != Found || d.ID != vis.ID {
		t.Fatalf("visible short ID: %+v", d)
	}
	for _, ref := range []string{hid.Name, "/" + hid.Name, hid.ID, hid.ID[:12]} {
		if d := mustResolve(t, x, ref); d.Outcome != Missing {
			t.Fatalf("hidden container by %q: %+v, want Missing", ref, d)
		}
	}
	if _, visible, ok := x.Seen(hid.ID); !ok || visible {
		t.Fatalf("Seen(hidden) = visible %v, ok %v: the index must hold it as hidden", visible, ok)
	}

	// A hidden container named like the visible one's ID prefix: the
	// engine would resolve that prefix to the hidden name; the index, which
	// resolves among visible containers only, must keep the visible ID.
	prefix := vis.ID[:10]
	e.Run(t, enginetest.RunSpec{Name: prefix, Cmd: []string{"sleep", "60"}})
	enginetest.Eventually(t, 10*time.Second, "hidden prefix-named container indexed", func() bool {
		_, _, ok := x.Seen(enginetestID(t, e, prefix))
		return ok
	})
	if d := mustResolve(t, x, prefix); d.Outcome != Found || d.ID != vis.ID {
		t.Fatalf("prefix %q with a hidden container of that name: %+v, want the visible %s", prefix, d, vis.ID)
	}

	// Rename onto a hidden name, then back.
	ctx := context.Background()
	hiddenName := enginetest.UniqueName(t, "idxrenamed")
	if _, err := e.Client.ContainerRename(ctx, vis.ID, client.ContainerRenameOptions{NewName: hiddenName}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 10*time.Second, "rename onto a hidden name hides the container", func() bool {
		return mustResolve(t, x, vis.ID).Outcome == Missing
	})
	if d := mustResolve(t, x, hiddenName); d.Outcome != Missing {
		t.Fatalf("new hidden name: %+v, want Missing", d)
	}
	if _, err := e.Client.ContainerRename(ctx, vis.ID, client.ContainerRenameOptions{NewName: vis.Name}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 10*time.Second, "rename back shows the container", func() bool {
		d := mustResolve(t, x, vis.Name)
		return d.Outcome == Found && d.ID == vis.ID
	})

	if _, err := e.Client.ContainerRemove(ctx, vis.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 10*time.Second, "removal followed", func() bool {
		return mustResolve(t, x, vis.ID).Outcome == Missing && mustResolve(t, x, vis.Name).Outcome == Missing
	})
	if _, visible, ok := x.Seen(vis.ID); !ok || !visible {
		t.Errorf("a removed container must be remembered as it was (visible), for replayed events: visible %v ok %v", visible, ok)
	}
}

// enginetestID is the full ID of the container with this name, from the
// engine itself.
func enginetestID(t *testing.T, e *enginetest.Engine, name string) string {
	t.Helper()
	return e.Inspect(t, name).ID
}

// TestEngineReplayedRenamesNeverShowAHiddenContainer: a container renamed
// back and forth onto a visible name and left hidden must never be held as
// visible while a new index replays the engine's buffer of those renames.
// At debug level the index logs every change of a container's visibility,
// so a wrongly applied pair, however brief, leaves a "container visible"
// line for it.
func TestEngineReplayedRenamesNeverShowAHiddenContainer(t *testing.T) {
	e := enginetest.Require(t)
	word := enginetest.UniqueName(t, "idxpair")
	c := e.Run(t, enginetest.RunSpec{Name: word + "-web", Cmd: []string{"sleep", "60"}, NoStart: true})
	hiddenName := enginetest.UniqueName(t, "idxpairhidden")
	ctx := context.Background()
	rename := func(to string) {
		if _, err := e.Client.ContainerRename(ctx, c.ID, client.ContainerRenameOptions{NewName: to}); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		rename(hiddenName)
		rename(c.Name)
	}
	rename(hiddenName)

	var logs lockedBuffer
	ix := newEngineIndex(t, e, word, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	runIndex(t, ix)
	// The replay follows the list; by the time the rename of a container
	// created now is known, the older events have been applied.
	marker := e.Run(t, enginetest.RunSpec{Name: word + "-marker", NoStart: true})
	enginetest.Eventually(t, 10*time.Second, "the index applied the events after the replay", func() bool {
		_, _, ok := ix.Seen(marker.ID)
		return ok
	})
	if !strings.Contains(logs.String(), `msg="container hidden" container_id=`+c.ID[:12]) {
		t.Fatalf("test premise: the index did not log the container as hidden at its list:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), `msg="container visible" container_id=`+c.ID[:12]) {
		t.Errorf("the index held the hidden container as visible while it replayed its renames:\n%s", logs.String())
	}
	if d := mustResolve(t, ix, c.ID); d.Outcome != Missing {
		t.Errorf("after the replay: %+v, want Missing", d)
	}
}

// lockedBuffer is a log sink the index's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
