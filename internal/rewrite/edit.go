package rewrite

import (
	"cmp"
	"errors"
	"slices"
	"strconv"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// The buffered rewriters (networks, disk usage, info, images, swarm) all
// work the same way: walk the body with jsonscan, note which value spans
// must change, then copy the body once with those spans replaced. Bytes
// outside the spans are never touched, so whatever the engine sent and the
// rewriter does not understand reaches the client as sent.

// edit replaces body[start:end] with text; an insertion has start == end.
type edit struct {
	start, end int
	text       string
}

// editor collects the edits of one body.
type editor struct {
	body  []byte
	edits []edit
}

func (e *editor) replace(start, end int, text string) {
	e.edits = append(e.edits, edit{start: start, end: end, text: text})
}

// apply returns the body with every edit made, or body itself when there
// are none. Edits are applied in position order; an insertion goes before
// a deletion that starts at the same offset. Overlapping edits would mean
// a rewriter bug; they are reported rather than guessed at, so that a
// broken rewrite is never forwarded.
func (e *editor) apply() ([]byte, error) {
	if len(e.edits) == 0 {
		return e.body, nil
	}
	slices.SortStableFunc(e.edits, func(a, b edit) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.end, b.end)
	})
	grow := 0
	for _, ed := range e.edits {
		grow += len(ed.text)
	}
	out := make([]byte, 0, len(e.body)+grow)
	prev := 0
	for _, ed := range e.edits {
		if ed.start < prev || ed.end < ed.start || ed.end > len(e.body) {
			return nil, errors.New("filter: internal error: overlapping edits")
		}
		out = append(out, e.body[prev:ed.start]...)
		out = append(out, ed.text...)
		prev = ed.end
	}
	return append(out, e.body[prev:]...), nil
}

// span is a byte range of a body: a list element, or an object member
// from the opening quote of its key to the end of its value.
type span struct{ start, end int }

// dropItems removes the items marked in drop from the array or object
// whose items (in order) are items, together with one separating comma
// each, so that what remains reads exactly as if the engine had never
// sent them: "[a,b,c]" without b is "[a,c]", without c "[a,b]", without
// all three "[]". Whitespace around the kept items is kept.
func (e *editor) dropItems(items []span, drop []bool) {
	last := -1 // last kept item
	for k := len(items) - 1; k >= 0; k-- {
		if !drop[k] {
			last = k
			break
		}
	}
	for k := 0; k < last; k++ {
		if drop[k] {
			e.replace(items[k].start, items[k+1].start, "")
		}
	}
	switch n := len(items); {
	case n == 0 || last == n-1:
	case last < 0:
		e.replace(items[0].start, items[n-1].end, "")
	default:
		e.replace(items[last].end, items[n-1].end, "")
	}
}

// member is one member of a scanned object: its raw key (still escaped,
// aliasing the body), where the key's opening quote is, and its value.
type member struct {
	key        []byte
	ks, vs, ve int
}

func (m member) span() span { return span{m.ks, m.ve} }

// objectMembers lists the members of the object at b[i], nested in depth
// containers, and returns them with the offset just past the object.
func objectMembers(b []byte, i, depth int) ([]member, int, error) {
	var ms []member
	end, err := jsonscan.ObjectMembers(b, i, depth, func(key []byte, vs, ve int) error {
		// key is b[q+1:k] for the quote at q, so cap(key) = cap(b)-q-1.
		ms = append(ms, member{key: key, ks: cap(b) - cap(key) - 1, vs: vs, ve: ve})
		return nil
	})
	return ms, end, err
}

// arrayElems lists the element spans of the array at b[i].
func arrayElems(b []byte, i, depth int) ([]span, int, error) {
	var els []span
	end, err := jsonscan.ArrayElems(b, i, depth, func(vs, ve int) error {
		els = append(els, span{vs, ve})
		return nil
	})
	return els, end, err
}

// topMembers lists the members of the one object that body holds (with
// only whitespace around it).
func topMembers(body []byte) ([]member, error) {
	ms, end, err := objectMembers(body, 0, 0)
	if err == nil {
		if i := jsonscan.SkipSpace(body, end); i < len(body) {
			err = &jsonscan.SyntaxError{Offset: i, Msg: "data after the top-level object"}
		}
	}
	return ms, err
}

// topElems lists the elements of the one array that body holds.
func topElems(body []byte) ([]span, error) {
	els, end, err := arrayElems(body, 0, 0)
	if err == nil {
		if i := jsonscan.SkipSpace(body, end); i < len(body) {
			err = &jsonscan.SyntaxError{Offset: i, Msg: "data after the top-level array"}
		}
	}
	return els, err
}

// jsonString decodes the string value at b[vs:ve] as encoding/json would;
// ok is false when the value is not a string.
func jsonString(b []byte, vs, ve int) (s string, ok bool) {
	if b[vs] != '"' {
		return "", false
	}
	s, err := jsonscan.Unquote(b[vs+1 : ve-1])
	return s, err == nil
}

// jsonInt decodes the number at b[vs:ve] as encoding/json decodes it into
// an int64: integers only, no fraction or exponent. ok is false otherwise.
func jsonInt(b []byte, vs, ve int) (n int64, ok bool) {
	if c := b[vs]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[vs:ve]), 10, 64)
	return n, err == nil
}

// jsonUint is jsonInt for a uint64.
func jsonUint(b []byte, vs, ve int) (n uint64, ok bool) {
	if c := b[vs]; c < '0' || c > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[vs:ve]), 10, 64)
	return n, err == nil
}

// isNull reports whether the value at b[vs] is null (already validated).
func isNull(b []byte, vs int) bool { return b[vs] == 'n' }

// shape reports a body that is JSON but not of the expected shape.
func shape(what, format string, args ...any) error {
	return malformed(what+": "+format, args...)
}

// scanErr wraps a jsonscan error for the body named what.
func scanErr(what string, err error) error {
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) || errors.Is(err, jsonscan.ErrIncomplete) {
		return malformed("%s: %v", what, err)
	}
	if errors.Is(err, ErrMalformed) {
		return err
	}
	return malformed("%s: %v", what, err)
}

// isContainerID reports whether s is a full container ID: 64 lowercase hex
// digits. Other keys in container maps (swarm "lb-<net>" sandboxes,
// "ep-<endpoint>" entries) are not containers.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
