package index

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// Redaction asks the index whether a word of an answer names a hidden
// container. While the index holds every container this needs no upstream
// call. Past INDEX_CAPACITY it may have forgotten the container, so a word
// it does not know is confirmed upstream: redaction stays exact, at the cost
// of a lookup per unknown word, in that degraded state only.

// HiddenID reports whether a hidden container's ID starts with prefix (at
// least 12 hex digits: the engine's short ID), so that a message quoting it
// can be redacted.
func (x *Index) HiddenID(prefix string) bool {
	if len(prefix) < 12 || len(prefix) > 64 || !isHex(prefix) {
		return false
	}
	x.mu.Lock()
	known := false
	i, _ := slices.BinarySearch(x.allIDs, prefix)
	for ; i < len(x.allIDs) && strings.HasPrefix(x.allIDs[i], prefix); i++ {
		known = true
		if e, ok := x.byID.Peek(x.allIDs[i]); ok && !e.visible {
			x.mu.Unlock()
			return true
		}
	}
	complete := !x.evicted
	x.mu.Unlock()
	return !known && !complete && x.confirmHidden(prefix)
}

// HiddenRef reports whether ref, resolved as the engine resolves it among
// every container (full ID, exact name, ID prefix), names a hidden one, so
// that a visible container's configuration quoting it (VolumesFrom
// "secret-db:ro", PidMode "container:secret-db") can be redacted. An ID
// prefix shared with any hidden container counts.
func (x *Index) HiddenRef(ref string) bool {
	if ref == "" {
		return false
	}
	x.mu.Lock()
	if e, ok := x.byID.Peek(ref); ok {
		x.mu.Unlock()
		return !e.visible
	}
	if id, ok := x.names[normalizeName(ref)]; ok {
		e, _ := x.byID.Peek(id)
		x.mu.Unlock()
		return !e.visible
	}
	if isHex(ref) {
		i, _ := slices.BinarySearch(x.allIDs, ref)
		for ; i < len(x.allIDs) && strings.HasPrefix(x.allIDs[i], ref); i++ {
			if e, ok := x.byID.Peek(x.allIDs[i]); ok && !e.visible {
				x.mu.Unlock()
				return true
			}
		}
	}
	complete := !x.evicted
	x.mu.Unlock()
	return !complete && plausibleRef(ref) && x.confirmHidden(ref)
}

// HiddenName reports whether name (with or without its slash) is the name of
// a hidden container.
func (x *Index) HiddenName(name string) bool {
	if name == "" {
		return false
	}
	x.mu.Lock()
	id, ok := x.names[normalizeName(name)]
	var e entry
	if ok {
		e, ok = x.byID.Peek(id)
	}
	complete := !x.evicted
	x.mu.Unlock()
	if ok {
		return !e.visible
	}
	return !complete && plausibleRef(name) && !isHex(name) && x.confirmHidden(name)
}

// confirmHidden asks the upstream whether ref names a hidden container. An
// ID prefix several containers share counts as hidden (redacting a word
// that is not a hidden container's costs nothing; missing one leaks).
func (x *Index) confirmHidden(ref string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	c, err := x.source.Inspect(ctx, ref)
	switch {
	case errors.Is(err, upstream.ErrAmbiguous):
		return true
	case err != nil:
		return false
	}
	return !x.entryFor(c).visible
}

// HeldHidden returns the name of the hidden container ref names among those
// the index holds (full ID, exact name, or an ID prefix of one), for the
// operator's audit line: a client gets the same answer for a hidden and a
// nonexistent ref, the operator may learn which it was. It never asks the
// upstream, and does the same lookups whatever the answer.
func (x *Index) HeldHidden(ref string) (name string, hidden bool) {
	if ref == "" {
		return "", false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.byID.Peek(ref); ok && !e.visible {
		return e.name, true
	}
	if id, ok := x.names[normalizeName(ref)]; ok {
		if e, ok := x.byID.Peek(id); ok && !e.visible {
			return e.name, true
		}
	}
	if isHex(ref) {
		i, _ := slices.BinarySearch(x.allIDs, ref)
		for ; i < len(x.allIDs) && strings.HasPrefix(x.allIDs[i], ref); i++ {
			if e, ok := x.byID.Peek(x.allIDs[i]); ok && !e.visible {
				return e.name, true
			}
		}
	}
	return "", false
}
