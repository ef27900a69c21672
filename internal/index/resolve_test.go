package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// id builds a 64-hex container ID from a short hex head.
func id(head string) string { return head + strings.Repeat("0", 64-len(head)) }

var labelFilters = match.Criteria{Labels: []match.Label{{Key: "homepage"}}}

func visibleC(idHead, name string) upstream.Container {
	return upstream.Container{ID: id(idHead), Name: name, Labels: map[string]string{"homepage.group": "x"}}
}

func hiddenC(idHead, name string) upstream.Container {
	return upstream.Container{ID: id(idHead), Name: name, Labels: map[string]string{"private": "yes"}}
}

// newTestIndex returns an index of containers only (no swarm services)
// with these filters.
func newTestIndex(t testing.TB, src Source, f match.Criteria, capacity int) *Index {
	t.Helper()
	x, err := New(Options{Visibility: visibility.New(&f, nil), Source: src, Logger: slog.New(slog.DiscardHandler), Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// liveIndex returns an index fed by src, running until the test ends.
func liveIndex(t *testing.T, src Source, f match.Criteria, capacity int) *Index {
	t.Helper()
	x := newTestIndex(t, src, f, capacity)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = x.Run(ctx, 50*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })
	waitState(t, x, Live)
	return x
}

func waitState(t *testing.T, x *Index, want State) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for x.State() != want {
		if time.Now().After(deadline) {
			t.Fatalf("index state = %v, want %v", x.State(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestResolveAmongVisibleContainers(t *testing.T) {
	src := newMemSource(
		visibleC("abc1", "/web"),
		visibleC("abd2", "/api"),
		hiddenC("abc9", "/db"),
		hiddenC("f00d", "/abd2"), // a hidden name that is also a visible ID prefix
		visibleC("e1", "/e"),
	)
	x := liveIndex(t, src, labelFilters, 0)

	tests := []struct {
		ref     string
		want    Outcome
		wantID  string
		comment string
	}{
		{id("abc1"), Found, id("abc1"), "full ID"},
		{"web", Found, id("abc1"), "name"},
		{"/web", Found, id("abc1"), "name with slash"},
		{"abc", Found, id("abc1"), "prefix shared only with a hidden container is unique"},
		{"ab", Ambiguous, "", "prefix shared by two visible containers"},
		{"abd2", Found, id("abd2"), "hidden name loses to a visible ID prefix"},
		{"db", Missing, "", "hidden name"},
		{id("abc9"), Missing, "", "hidden full ID"},
		{"abc9", Missing, "", "hidden unique prefix"},
		{"nothing", Missing, "", "unknown name"},
		{"Web", Missing, "", "names are case-sensitive"},
		{"ABC1", Missing, "", "IDs are lowercase"},
		{"we", Missing, "", "a name prefix is no name"},
		{"", Missing, "", "empty ref"},
		{"e", Found, id("e1"), "one-char prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.comment, func(t *testing.T) {
			d, err := x.Resolve(context.Background(), tt.ref)
			if err != nil {
				t.Fatalf("Resolve(%q) error: %v", tt.ref, err)
			}
			if d.Outcome != tt.want || d.ID != tt.wantID {
				t.Errorf("Resolve(%q) = %v %q, want %v %q", tt.ref, d.Outcome, d.ID, tt.want, tt.wantID)
			}
		})
	}
}

func TestResolveFoundNeedsNoUpstreamCall(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"))
	x := liveIndex(t, src, labelFilters, 0)
	before := src.inspects.Load()
	for _, ref := range []string{"web", id("abc1"), "abc"} {
		if d, err := x.Resolve(context.Background(), ref); err != nil || d.Outcome != Found || d.Upstream {
			t.Errorf("Resolve(%q) = %+v, %v; want Found from the index", ref, d, err)
		}
	}
	if n := src.inspects.Load() - before; n != 0 {
		t.Errorf("allowed refs made %d upstream calls, want 0", n)
	}
}

func TestResolveDeniesHiddenAndMissingAlike(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"), hiddenC("dd", "/db"))
	x := liveIndex(t, src, labelFilters, 0)
	// An earlier miss, remembered: probing the others must not forget it.
	if d, _ := x.Resolve(context.Background(), "earlier"); d.Outcome != Missing {
		t.Fatalf("Resolve(earlier) = %+v", d)
	}
	x.mu.Lock()
	gen := x.gen
	x.mu.Unlock()

	// Both are settled the same way, by one catch-up that does not name
	// the ref (never an inspect of it), then remembered.
	for _, ref := range []string{"db", "nothing", id("dd"), "dd"} {
		inspects, newest := src.inspects.Load(), src.newest.Load()
		d, err := x.Resolve(context.Background(), ref)
		if err != nil || d.Outcome != Missing || !d.Upstream {
			t.Errorf("first Resolve(%q) = %+v, %v; want Missing after catching up", ref, d, err)
		}
		d, err = x.Resolve(context.Background(), ref)
		if err != nil || d.Outcome != Missing || d.Upstream {
			t.Errorf("second Resolve(%q) = %+v, %v; want Missing from memory", ref, d, err)
		}
		if n := src.inspects.Load() - inspects; n != 0 {
			t.Errorf("Resolve(%q) inspected the ref upstream %d times, want never", ref, n)
		}
		if n := src.newest.Load() - newest; n != 1 {
			t.Errorf("Resolve(%q) twice caught up %d times, want 1", ref, n)
		}
	}
	// Nothing changed: the generation and the earlier remembered miss.
	x.mu.Lock()
	after := x.gen
	x.mu.Unlock()
	if after != gen {
		t.Errorf("probing hidden and missing refs moved the index generation %d -> %d", gen, after)
	}
	newest := src.newest.Load()
	if d, _ := x.Resolve(context.Background(), "earlier"); d.Outcome != Missing || d.Upstream || src.newest.Load() != newest {
		t.Errorf("the earlier miss was forgotten: %+v", d)
	}

	// Refs that cannot name anything never reach the upstream.
	inspects, newest := src.inspects.Load(), src.newest.Load()
	for _, ref := range []string{" web", "a b", "\x00", `"`, "../web", "x/../y", strings.Repeat("z", 1)} {
		if d, _ := x.Resolve(context.Background(), ref); d.Outcome != Missing {
			t.Errorf("Resolve(%q) = %v, want Missing", ref, d.Outcome)
		}
	}
	if n := src.inspects.Load() - inspects + src.newest.Load() - newest; n != 0 {
		t.Errorf("implausible refs made %d upstream calls, want 0", n)
	}
}

func TestResolveSettlesAContainerNotYetSeen(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"))
	x := liveIndex(t, src, labelFilters, 0)
	// Created behind the index's back (its event not yet delivered).
	src.mu.Lock()
	src.add(visibleC("77", "/fresh"))
	src.add(hiddenC("88", "/fresh-hidden"))
	src.mu.Unlock()

	if d, err := x.Resolve(context.Background(), "fresh"); err != nil || d.Outcome != Found || d.ID != id("77") {
		t.Errorf("Resolve(fresh) = %+v, %v; want Found %s", d, err, id("77"))
	}
	if d, err := x.Resolve(context.Background(), "fresh-hidden"); err != nil || d.Outcome != Missing {
		t.Errorf("Resolve(fresh-hidden) = %+v, %v; want Missing", d, err)
	}
	// The settled container is now indexed.
	newest := src.newest.Load()
	if d, _ := x.Resolve(context.Background(), id("77")); d.Outcome != Found || d.Upstream {
		t.Errorf("Resolve by ID after settling = %+v, want Found from the index", d)
	}
	if src.newest.Load() != newest || src.inspects.Load() != 0 {
		t.Error("a settled container was asked for again")
	}
}

func TestResolveAmbiguousUpstreamPrefix(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"))
	x := liveIndex(t, src, labelFilters, 0)
	// Two new containers share "99": one visible, one hidden. The engine
	// calls "99" ambiguous; among visible containers it is unique.
	src.mu.Lock()
	src.add(visibleC("991", "/n1"))
	src.add(hiddenC("992", "/n2"))
	src.mu.Unlock()
	if d, err := x.Resolve(context.Background(), "99"); err != nil || d.Outcome != Found || d.ID != id("991") {
		t.Errorf("Resolve(99) = %+v, %v; want Found %s", d, err, id("991"))
	}
}

func TestResolveConcurrentMissesShareUpstreamCalls(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"))
	x := liveIndex(t, src, labelFilters, 0)
	src.newestGate = make(chan struct{})
	before := src.newest.Load()

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := fmt.Sprintf("ghost-%d", i)
			if d, err := x.Resolve(context.Background(), ref); err != nil || d.Outcome != Missing {
				t.Errorf("Resolve(%s) = %+v, %v", ref, d, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(src.newestGate)
	wg.Wait()
	// The first caller's call, and one more for everyone who arrived
	// while it was under way.
	if n := src.newest.Load() - before; n > 2 {
		t.Errorf("50 concurrent misses made %d upstream calls, want at most 2", n)
	}
}

func TestResolveFailsClosedWhenTheUpstreamFails(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"))
	x := liveIndex(t, src, labelFilters, 0)
	src.mu.Lock()
	src.listErr = errors.New("connection refused")
	src.mu.Unlock()
	if d, err := x.Resolve(context.Background(), "ghost"); err == nil || d.Outcome == Found {
		t.Errorf("Resolve with a failing upstream = %+v, %v; want an error and no allow", d, err)
	}
}

func TestResolveWhileSyncingConfirmsAllows(t *testing.T) {
	src := newMemSource(visibleC("abc1", "/web"))
	x := liveIndex(t, src, match.Criteria{Names: []string{"web"}}, 0)

	// The stream breaks and stays down: the index cannot hear the rename
	// that makes the container hidden, so an allow must be confirmed.
	src.eventsErr = errors.New("stream broken")
	src.breakStreams()
	waitState(t, x, Syncing)
	src.mu.Lock()
	c := src.containers[id("abc1")]
	c.Name = "/secret"
	src.containers[id("abc1")] = c
	src.mu.Unlock()

	d, err := x.Resolve(context.Background(), id("abc1"))
	if err != nil || d.Outcome != Missing {
		t.Errorf("Resolve of a container renamed during an outage = %+v, %v; want Missing", d, err)
	}
	src.mu.Lock()
	src.listErr = errors.New("engine down")
	src.mu.Unlock()
	if d, err := x.Resolve(context.Background(), "web"); err == nil && d.Outcome == Found {
		t.Errorf("Resolve during an outage with the upstream down = %+v; an outage must never allow", d)
	}
}

func TestEvictionNeverAllows(t *testing.T) {
	var cs []upstream.Container
	for i := range 20 {
		cs = append(cs, hiddenC(fmt.Sprintf("1%02x", i), fmt.Sprintf("/h%d", i)))
	}
	cs = append(cs, visibleC("abc1", "/web"))
	src := newMemSource(cs...)
	x := liveIndex(t, src, labelFilters, 5) // far fewer slots than containers
	if x.Len() > 5 {
		t.Fatalf("index holds %d containers, capacity 5", x.Len())
	}
	for i := range 20 {
		ref := fmt.Sprintf("h%d", i)
		if d, err := x.Resolve(context.Background(), ref); err != nil || d.Outcome != Missing {
			t.Errorf("Resolve(%s) with evictions = %+v, %v; want Missing", ref, d, err)
		}
	}
	if d, err := x.Resolve(context.Background(), "web"); err != nil || d.Outcome != Found {
		t.Errorf("Resolve(web) with evictions = %+v, %v; want Found (settled upstream)", d, err)
	}
}

func TestLinkAliasNeedsAVisibleParent(t *testing.T) {
	src := newMemSource(visibleC("a1", "/web"), visibleC("b2", "/db"), hiddenC("c3", "/secretparent"))
	x := liveIndex(t, src, labelFilters, 0)
	src.mu.Lock()
	src.aliases = map[string]string{"/web/db": id("b2"), "/secretparent/db": id("b2")}
	src.mu.Unlock()
	if d, _ := x.Resolve(context.Background(), "web/db"); d.Outcome != Found || d.ID != id("b2") {
		t.Errorf("Resolve(web/db) = %+v, want Found %s", d, id("b2"))
	}
	if d, _ := x.Resolve(context.Background(), "secretparent/db"); d.Outcome != Missing {
		t.Errorf("Resolve(secretparent/db) = %+v, want Missing: the alias would reveal a hidden parent", d)
	}
}

func BenchmarkResolve(b *testing.B) {
	var cs []upstream.Container
	for i := range 10000 {
		c := upstream.Container{ID: fmt.Sprintf("%064x", uint64(i)*0x9E3779B97F4A7C15), Name: fmt.Sprintf("/c%d", i), Labels: map[string]string{"x": "y"}}
		if i%2 == 0 {
			c.Labels = map[string]string{"homepage.group": "g"}
		}
		cs = append(cs, c)
	}
	src := newMemSource(cs...)
	x := newTestIndex(b, src, labelFilters, 0)
	x.mu.Lock()
	x.replace(cs, "")
	x.state = Live
	x.mu.Unlock()
	visible, hidden := cs[0], cs[1]
	_, _ = x.Resolve(context.Background(), hidden.Name) // settle once: remembered
	for _, bc := range []struct{ name, ref string }{
		{"visible-full-id", visible.ID},
		{"visible-name", strings.TrimPrefix(visible.Name, "/")},
		{"visible-prefix", visible.ID[:12]},
		{"hidden-name-remembered", hidden.Name},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Resolve(context.Background(), bc.ref); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Past INDEX_CAPACITY the index forgets containers; resolution and the
// redaction lookups then confirm with the upstream, so both stay exact.
func TestEvictionKeepsRedactionExact(t *testing.T) {
	var cs []upstream.Container
	for i := range 10 {
		cs = append(cs, hiddenC(fmt.Sprintf("2%02x", i), fmt.Sprintf("/secret%d", i)))
	}
	cs = append(cs, visibleC("abc1", "/web"))
	src := newMemSource(cs...)
	x := liveIndex(t, src, labelFilters, 3)
	for i := range 10 {
		c := cs[i]
		if !x.HiddenID(c.ID[:12]) || !x.HiddenName(c.Name) || !x.HiddenRef(c.Name) {
			t.Errorf("an evicted hidden container %s is not recognised for redaction", c.Name)
		}
	}
	if x.HiddenID(id("abc1")[:12]) || x.HiddenName("/web") || x.HiddenRef("web") {
		t.Error("a visible container was taken for a hidden one")
	}
	if x.HiddenName("nothing-here") || x.HiddenID("ffffffffffff") {
		t.Error("a word that names no container was taken for a hidden one")
	}
}
