// Package index keeps the live allowlist the proxy decides from: every known
// container's full ID, primary name and visibility, fed by the engine's list
// and events stream, so that deciding a request needs no upstream call.
//
// The index is bounded (an LRU of INDEX_CAPACITY containers). It fails
// closed: a container it does not know, or a ref it cannot resolve among
// visible containers, is never allowed on the index's word alone; such a ref
// is settled by one inspect upstream (shared by concurrent requests), and an
// allow read from an index that is not in sync is confirmed the same way.
package index

import (
	"errors"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/visibility"
)

// entry is what the index remembers of one container.
type entry struct {
	name string // "/web"
	// byLabels: visible whatever its name (labels, a visible service's task,
	// or no filters). Labels never change, so a rename recomputes only the
	// name's part: visible = ByName(name) || byLabels.
	byLabels bool
	visible  bool
}

// State says how far the index can be trusted.
type State uint8

const (
	// Syncing: not (yet, or no longer) following the engine; allows read from
	// the index are confirmed upstream.
	Syncing State = iota
	// Live: listed and following the events stream.
	Live
	// Polling: the upstream refused /events; the index is relisted every
	// POLL_INTERVAL.
	Polling
)

func (s State) String() string {
	switch s {
	case Live:
		return "live"
	case Polling:
		return "polling"
	}
	return "syncing"
}

// Index is the live allowlist. It is safe for concurrent use.
type Index struct {
	filters  *match.Criteria
	vis      *visibility.Rule
	source   Source
	logger   *slog.Logger
	capacity int
	metrics  *metrics.Metrics
	// listed is set by the first full list, so later ones count as
	// reconnects in the resync metric.
	listed bool
	// previous holds, during a replace logged at debug level, the
	// visibility each container had before it.
	previous map[string]bool

	mu    sync.Mutex
	byID  *simplelru.LRU[string, entry] // full ID -> entry
	names map[string]string             // "/name" -> full ID
	// visibleIDs is sorted, for unique-prefix lookups among visible containers;
	// allIDs likewise for every indexed container, to recognise hidden IDs.
	visibleIDs []string
	allIDs     []string
	// gen changes on every mutation; negative answers are remembered per gen.
	gen   uint64
	state State
	// evicted is set when capacity pushed a container out since the last
	// full list: the index no longer holds every container, so a miss is
	// settled by asking the upstream about the ref (Resolve), and so is a
	// redaction lookup (hidden.go).
	evicted  bool
	removing bool // set while a removal is caller-initiated, not an eviction

	missing *simplelru.LRU[string, uint64] // ref -> gen at which it was settled missing
	// gone remembers removed containers, so events replayed after a
	// container's destroy (its network disconnects, say) are decided as the
	// live stream decided them.
	gone *simplelru.LRU[string, entry]
	// hiddenWatch holds, per container ID, the channels WhenHidden gave out;
	// each is closed when the container stops being visible.
	hiddenWatch map[string]map[chan struct{}]struct{}
	flights     flightGroup
	// catchUp and relist are the shared upstream calls that bring the index
	// up to the moment a request arrived (see Resolve).
	catchUp, relist barrier
}

// Options configure New. Visibility, Source and Logger are required: a
// missing one is an error, never a silent default.
type Options struct {
	// Visibility is the one visibility rule, shared with the handler.
	Visibility *visibility.Rule
	Source     Source
	Logger     *slog.Logger
	Capacity   int // containers remembered; <= 0: 65536
	// Metrics receives the counts, state and resyncs; nil when
	// METRICS_LISTEN is off.
	Metrics *metrics.Metrics
}

// New returns an empty index in the Syncing state; Run fills it and keeps it
// in step with the engine.
func New(o Options) (*Index, error) {
	if o.Visibility == nil || o.Source == nil || o.Logger == nil {
		return nil, errors.New("index: New needs a Visibility, a Source and a Logger")
	}
	if o.Capacity <= 0 {
		o.Capacity = 65536
	}
	x := &Index{filters: o.Visibility.Criteria(), vis: o.Visibility, source: o.Source, logger: o.Logger, capacity: o.Capacity, metrics: o.Metrics}
	x.byID = x.newLRU()
	x.names = make(map[string]string)
	x.missing, _ = simplelru.NewLRU[string, uint64](4096, nil)
	x.gone, _ = simplelru.NewLRU[string, entry](goneCapacity, nil)
	x.hiddenWatch = make(map[string]map[chan struct{}]struct{})
	return x, nil
}

func (x *Index) newLRU() *simplelru.LRU[string, entry] {
	l, err := simplelru.NewLRU(x.capacity, x.onRemove)
	if err != nil {
		panic(err) // only for a non-positive size, which New rules out
	}
	return l
}

// onRemove keeps the name map and the visible-ID list in step with the LRU,
// for explicit removals and capacity evictions alike. Called with mu held.
func (x *Index) onRemove(id string, e entry) {
	if x.names[e.name] == id {
		delete(x.names, e.name)
	}
	if e.visible {
		x.visibleIDs = removeSorted(x.visibleIDs, id)
	}
	x.allIDs = removeSorted(x.allIDs, id)
	if !x.removing {
		x.evicted = true
		x.observeCounts()
	}
}

// State reports how far the index can be trusted.
func (x *Index) State() State {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.state
}

// Len is the number of containers in the index.
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.byID.Len()
}

// goneCapacity bounds the memory of removed containers: the engine replays
// at most 256 events, so a few thousand cover any replay.
const goneCapacity = 4096

func (x *Index) entryFor(c upstream.Container) entry {
	byLabels := x.vis.ByLabels(c.Labels)
	return entry{name: c.Name, byLabels: byLabels, visible: byLabels || x.vis.ByName(c.Name)}
}

// put records a container. Called with mu held.
func (x *Index) put(c upstream.Container) {
	e := x.entryFor(c)
	if x.debugging() {
		old, known := x.byID.Peek(c.ID)
		was := old.visible
		if x.previous != nil {
			was, known = x.previous[c.ID]
		}
		x.logPut(c, e, was, known)
	}
	x.putEntry(c.ID, e)
}

func (x *Index) putEntry(id string, e entry) {
	if old, ok := x.byID.Get(id); ok && old == e && (e.name == "" || x.names[e.name] == id) {
		// Nothing changes: learning what the index knows leaves it, its
		// generation and the remembered misses exactly as they were, so
		// settling a hidden ref leaves the same state behind as settling a
		// nonexistent one.
		return
	}
	x.gone.Remove(id)
	if x.byID.Contains(id) {
		x.removing = true
		x.byID.Remove(id)
		x.removing = false
	}
	if other, ok := x.names[e.name]; ok && other != id {
		// Names are unique at any instant; an older holder of this name has
		// been renamed or removed and its event is still on the way.
		if oe, ok := x.byID.Peek(other); ok && oe.name == e.name {
			oe.name = ""
			x.byID.Add(other, oe)
		}
	}
	x.byID.Add(id, e)
	if e.name != "" {
		x.names[e.name] = id
	}
	if e.visible {
		x.visibleIDs = insertSorted(x.visibleIDs, id)
	}
	x.allIDs = insertSorted(x.allIDs, id)
	x.gen++
	x.observeCounts()
	if !e.visible {
		x.notifyHidden(id)
	}
}

// remove forgets a container, remembering its visibility among the gone.
// Called with mu held.
func (x *Index) remove(id string) {
	if e, ok := x.byID.Peek(id); ok {
		x.gone.Add(id, e)
	}
	x.removing = true
	x.byID.Remove(id)
	x.removing = false
	x.gen++
	x.observeCounts()
	x.notifyHidden(id)
}

// replace swaps the whole content for a fresh list. Called with mu held.
// The caller should then call releaseMemory (without mu).
func (x *Index) replace(list []upstream.Container, reason string) {
	if x.metrics != nil {
		x.metrics.Resync(reason)
	}
	if x.debugging() {
		x.previous = make(map[string]bool, x.byID.Len())
		for _, id := range x.byID.Keys() {
			e, _ := x.byID.Peek(id)
			x.previous[id] = e.visible
		}
		defer func() { x.previous = nil }()
	}
	listed := make(map[string]struct{}, len(list))
	for _, c := range list {
		listed[c.ID] = struct{}{}
	}
	for _, id := range x.byID.Keys() {
		if _, ok := listed[id]; !ok {
			e, _ := x.byID.Peek(id)
			x.gone.Add(id, e) // removed while the index was not following
		}
	}
	x.removing = true
	x.byID.Purge()
	x.removing = false
	x.names = make(map[string]string, len(list))
	x.visibleIDs = x.visibleIDs[:0]
	x.allIDs = x.allIDs[:0]
	x.evicted = false
	for _, c := range list {
		x.put(c)
	}
	x.gen++
	x.observeCounts()
	for id := range x.hiddenWatch {
		if e, ok := x.byID.Peek(id); !ok || !e.visible {
			x.notifyHidden(id) // removed (or hidden) while the index was not following
		}
	}
}

// WhenHidden returns a channel that is closed as soon as the index stops
// holding the container as visible (renamed onto a hidden name, removed,
// gone from a relist), and a function that stops the watch. An open stream
// about a container (logs, stats, attach, exec) ends on it: on an engine
// where only the visible containers exist, the container has just gone.
// For a container the index holds as hidden the channel is closed
// already; one it does not hold (pushed out by INDEX_CAPACITY) is watched
// all the same.
func (x *Index) WhenHidden(id string) (hidden <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.byID.Peek(id); ok && !e.visible {
		close(ch)
		return ch, func() {}
	}
	if x.hiddenWatch[id] == nil {
		x.hiddenWatch[id] = make(map[chan struct{}]struct{})
	}
	x.hiddenWatch[id][ch] = struct{}{}
	return ch, func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		if w, ok := x.hiddenWatch[id]; ok {
			if _, open := w[ch]; open {
				delete(w, ch)
				if len(w) == 0 {
					delete(x.hiddenWatch, id)
				}
			}
		}
	}
}

// notifyHidden closes the channels watching id. Called with mu held.
func (x *Index) notifyHidden(id string) {
	for ch := range x.hiddenWatch[id] {
		close(ch)
	}
	delete(x.hiddenWatch, id)
}

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func removeSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

// normalizeName gives a name ref its leading slash, as the engine stores it.
func normalizeName(ref string) string {
	if strings.HasPrefix(ref, "/") {
		return ref
	}
	return "/" + ref
}

// Seen reports whether a container is or was indexed (removed since, with
// a destroy event or a relist), and whether it was visible by its labels
// and at all; ok is false for a container the index never held.
func (x *Index) Seen(id string) (byLabels, visible, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.byID.Peek(id)
	if !ok {
		e, ok = x.gone.Peek(id)
	}
	return e.byLabels, e.visible, ok
}

// releaseMemory hands the memory of a full relist back to the system: the
// list of a big host is large and transient, and an idle proxy would
// otherwise keep it as resident memory indefinitely.
func releaseMemory() { debug.FreeOSMemory() }
