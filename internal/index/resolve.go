package index

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// Outcome is the result of resolving a container reference among the
// VISIBLE containers.
type Outcome uint8

const (
	// Missing: no visible container answers to the ref; the engine's answer
	// would be 404 "No such container".
	Missing Outcome = iota
	// Found: the ref names exactly one visible container, Decision.ID.
	Found
	// Ambiguous: the ref is an ID prefix shared by several visible
	// containers; the engine's answer would be 400.
	Ambiguous
)

func (o Outcome) String() string {
	switch o {
	case Found:
		return "found"
	case Ambiguous:
		return "ambiguous"
	}
	return "missing"
}

// Decision is the answer to one Resolve.
type Decision struct {
	Outcome Outcome
	ID      string // full ID when Found
	Name    string // primary name when Found
	// Upstream is set when the answer needed (or waited for) an upstream call.
	Upstream bool
}

// settleTimeout bounds one on-demand upstream lookup.
const settleTimeout = 10 * time.Second

// Resolve finds the visible container a ref names, in the engine's order:
// full ID, exact name (with or without the leading slash), unique ID prefix,
// all among visible containers only, so a hidden container's name or a
// prefix ambiguous only because of hidden containers reveals nothing.
//
// While the index follows the engine, a Found or a remembered Missing needs
// no upstream call. A miss may be a container created a moment ago whose
// event is still on the way, so the index first catches up with the engine
// as of the request's arrival, by an upstream call that does not name the
// ref (the newest containers; a full relist while the index is not
// following), and then answers from the index. A hidden ref and a
// nonexistent one therefore take the same path, cost the same and leave the
// same state behind: nothing the engine is asked depends on whether a hidden
// container answers to the ref. Only when the index has had to evict
// containers (more than INDEX_CAPACITY) or for a legacy link alias is a miss
// settled by inspecting the ref itself.
//
// The error is non-nil only when the upstream could not be asked; the caller
// must then deny.
func (x *Index) Resolve(ctx context.Context, ref string) (Decision, error) {
	arrival := time.Now()
	x.mu.Lock()
	d, known := x.resolveLocked(ref)
	trusted := x.state != Syncing
	complete := !x.evicted
	if trusted && known {
		x.mu.Unlock()
		return d, nil
	}
	if trusted && complete {
		if g, ok := x.missing.Get(ref); ok && g == x.gen {
			x.mu.Unlock()
			return d, nil
		}
	}
	x.mu.Unlock()

	if !known && !plausibleRef(ref) {
		// Nothing the engine stores can be named like this: no ID prefix, no
		// valid name. Answer at once, without bothering the upstream.
		return Decision{Outcome: Missing}, nil
	}
	if !complete || isLinkAlias(ref) {
		return x.settleByInspect(ctx, ref)
	}
	if err := x.upToDate(ctx, arrival); err != nil {
		return Decision{Outcome: Missing}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	d, known = x.resolveLocked(ref)
	if !known {
		x.missing.Add(ref, x.gen)
	}
	d.Upstream = true
	return d, nil
}

// isLinkAlias reports whether ref has the form of a legacy link alias,
// "/parent/alias", which the index does not hold.
func isLinkAlias(ref string) bool {
	return strings.Contains(strings.TrimPrefix(ref, "/"), "/")
}

// settleByInspect asks the upstream for the ref itself (one inspect per
// ref, shared by concurrent callers) and remembers what it learnt.
func (x *Index) settleByInspect(ctx context.Context, ref string) (Decision, error) {
	f, _ := x.flights.do(ref, func() (Decision, error) { return x.settle(ref) })
	select {
	case <-f.done:
		if f.err != nil {
			return Decision{Outcome: Missing}, f.err
		}
		res := f.res
		res.Upstream = true
		return res, nil
	case <-ctx.Done():
		return Decision{Outcome: Missing}, ctx.Err()
	}
}

// resolveLocked answers from the index alone. known reports whether the
// answer is final while live (Found, Ambiguous); a Missing is never final.
func (x *Index) resolveLocked(ref string) (d Decision, known bool) {
	if len(ref) == 64 && isHex(ref) {
		if e, ok := x.byID.Get(ref); ok && e.visible {
			return Decision{Outcome: Found, ID: ref, Name: e.name}, true
		}
	}
	if id, ok := x.names[normalizeName(ref)]; ok {
		if e, ok := x.byID.Get(id); ok && e.visible {
			return Decision{Outcome: Found, ID: id, Name: e.name}, true
		}
	}
	if isHex(ref) {
		ids := x.visibleIDs
		i, _ := slices.BinarySearch(ids, ref)
		if i < len(ids) && strings.HasPrefix(ids[i], ref) {
			if i+1 < len(ids) && strings.HasPrefix(ids[i+1], ref) {
				return Decision{Outcome: Ambiguous}, true
			}
			e, _ := x.byID.Get(ids[i])
			return Decision{Outcome: Found, ID: ids[i], Name: e.name}, true
		}
	}
	return Decision{Outcome: Missing}, false
}

// settle asks the upstream, then remembers what it learnt.
func (x *Index) settle(ref string) (Decision, error) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()

	x.mu.Lock()
	startGen := x.gen
	x.mu.Unlock()

	c, err := x.source.Inspect(ctx, ref)
	switch {
	case errors.Is(err, upstream.ErrNotFound):
		x.rememberMissing(ref, startGen)
		return Decision{Outcome: Missing}, nil
	case errors.Is(err, upstream.ErrAmbiguous):
		return x.settlePrefix(ctx, ref, startGen)
	case err != nil:
		return Decision{}, err
	}

	e := x.entryFor(c)
	x.mu.Lock()
	if x.gen == startGen {
		// Nothing moved while we asked: the answer is current, keep it.
		x.put(c)
		startGen = x.gen
	}
	x.mu.Unlock()

	if !e.visible || !x.refNames(ref, c) {
		x.rememberMissing(ref, startGen)
		return Decision{Outcome: Missing}, nil
	}
	return Decision{Outcome: Found, ID: c.ID, Name: c.Name}, nil
}

// refNames reports whether the virtual engine (visible containers only)
// would resolve ref to c, given that the real engine did.
func (x *Index) refNames(ref string, c upstream.Container) bool {
	switch {
	case ref == c.ID, normalizeName(ref) == c.Name:
		return true
	case strings.Contains(strings.TrimPrefix(ref, "/"), "/"):
		// A legacy link alias "/parent/alias": it exists only if the parent
		// is visible too, or the alias would reveal a hidden parent's name.
		parent := path.Dir(normalizeName(ref))
		x.mu.Lock()
		d, _ := x.resolveLocked(parent)
		x.mu.Unlock()
		return d.Outcome == Found && d.Name == parent
	case isHex(ref) && strings.HasPrefix(c.ID, ref):
		// Unique among all containers, so unique among visible ones.
		return true
	}
	// The engine matched a hidden container by name, and the ref does not
	// name c in any other way.
	return false
}

// settlePrefix handles a prefix the engine finds ambiguous among all
// containers: among visible ones it may be unique, ambiguous or unknown.
func (x *Index) settlePrefix(ctx context.Context, ref string, startGen uint64) (Decision, error) {
	list, err := x.source.ListByIDPrefix(ctx, ref)
	if err != nil {
		return Decision{}, err
	}
	var found []upstream.Container
	for _, c := range list {
		if x.entryFor(c).visible {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		x.rememberMissing(ref, startGen)
		return Decision{Outcome: Missing}, nil
	case 1:
		return Decision{Outcome: Found, ID: found[0].ID, Name: found[0].Name}, nil
	}
	return Decision{Outcome: Ambiguous}, nil
}

func (x *Index) rememberMissing(ref string, gen uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.gen == gen {
		x.missing.Add(ref, gen)
	}
}

// plausibleRef reports whether ref could name a container at all: an ID
// prefix (lowercase hex) or a valid name, optionally with a leading slash,
// or a legacy link alias "/parent/alias". The SDK trims spaces from refs, so
// anything with odd bytes must never reach it.
func plausibleRef(ref string) bool {
	if ref == "" {
		return false
	}
	if isHex(ref) {
		return true
	}
	for _, part := range strings.Split(strings.TrimPrefix(ref, "/"), "/") {
		if !validName(part) {
			return false
		}
	}
	return true
}

// validName matches the engine's container name rule [a-zA-Z0-9][a-zA-Z0-9_.-]+.
func validName(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
