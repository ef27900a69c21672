package rewrite

import (
	"bytes"
	"errors"
	"unicode/utf8"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// Errors for container summaries of the wrong shape; the list filter wraps
// them in ErrMalformed.
var (
	errNames  = errors.New(`"Names" is not an array of strings or null`)
	errLabels = errors.New(`"Labels" is not an object of strings or null`)
)

// dedupeLinearMax is the label count up to which duplicate keys are found
// by comparing pairs; above it a map is built.
const dedupeLinearMax = 64

// element gathers, while one container summary object is scanned, what the
// Keep decision needs: where its primary name is and which labels a client
// would see. It indexes into the list window and is reset for every scan.
type element struct {
	buf []byte // the window the raw slices below point into

	// id is the raw contents of the last "Id" string member, nil for none.
	id []byte

	// From the last member binding to Names (encoding/json keeps the last).
	hasFirst, hasPrimary bool
	first, primary       []byte // raw contents of the first entry and of the primary name

	// Label members of every Labels object after the last "Labels": null:
	// encoding/json merges repeated objects into one map, and null resets it.
	labels []pair

	active  bool   // whether Keep is running, so the labels iterator may read buf
	scratch []byte // unquoting buffer for escaped names and for labels
}

// pair is a label as raw string contents, still escaped; plainKey says
// the key unquotes to itself, so keys compare as bytes.
type pair struct {
	key, val []byte
	plainKey bool
}

// reset prepares e for scanning an element of buf.
func (e *element) reset(buf []byte) {
	e.buf = buf
	e.id = nil
	e.hasFirst, e.hasPrimary = false, false
	e.first, e.primary = nil, nil
	clear(e.labels) // drop references into old windows
	e.labels = e.labels[:0]
}

// member is the jsonscan.ObjectMembers callback for an element's members.
// depth 2: the list array and the element object enclose member values.
func (e *element) member(key []byte, vs, ve int) error {
	switch {
	case jsonscan.KeyEqualFold(key, "Id"):
		if e.buf[vs] == '"' {
			e.id = e.buf[vs+1 : ve-1]
		}
	case jsonscan.KeyEqualFold(key, "Names"):
		e.hasFirst, e.hasPrimary = false, false
		e.first, e.primary = nil, nil
		switch e.buf[vs] {
		case 'n':
			return nil
		case '[':
			_, err := jsonscan.ArrayElems(e.buf, vs, 2, e.name)
			return err
		}
		return errNames
	case jsonscan.KeyEqualFold(key, "Labels"):
		switch e.buf[vs] {
		case 'n':
			clear(e.labels)
			e.labels = e.labels[:0]
			return nil
		case '{':
			_, err := jsonscan.ObjectMembers(e.buf, vs, 2, e.label)
			return err
		}
		return errLabels
	}
	return nil
}

// name is the jsonscan.ArrayElems callback for the entries of Names.
func (e *element) name(vs, ve int) error {
	if e.buf[vs] != '"' {
		return errNames
	}
	raw := e.buf[vs+1 : ve-1]
	if !e.hasFirst {
		e.hasFirst, e.first = true, raw
	}
	if !e.hasPrimary && !e.slashAfterFirst(raw) {
		e.hasPrimary, e.primary = true, raw
	}
	return nil
}

// slashAfterFirst reports whether the unquoted string has a '/' after its
// first byte: "/parent/alias" link entries do, the primary "/name" does not.
func (e *element) slashAfterFirst(raw []byte) bool {
	if bytes.IndexByte(raw, '\\') >= 0 {
		var err error
		if e.scratch, err = jsonscan.AppendUnquote(e.scratch[:0], raw); err != nil {
			return true
		}
		raw = e.scratch
	}
	// Without escapes, unquoting only replaces invalid UTF-8 with U+FFFD,
	// which moves no '/' across the first byte.
	return len(raw) > 1 && bytes.IndexByte(raw[1:], '/') >= 0
}

// label is the jsonscan.ObjectMembers callback for a Labels object.
func (e *element) label(key []byte, vs, ve int) error {
	if e.buf[vs] != '"' {
		return errLabels
	}
	e.labels = append(e.labels, pair{key: key, val: e.buf[vs+1 : ve-1], plainKey: plain(key)})
	return nil
}

// primaryName returns the container's primary name as a client would
// decode it: the first Names entry without a '/' after its first byte,
// else the first entry, else "".
func (e *element) primaryName() string {
	var raw []byte
	switch {
	case e.hasPrimary:
		raw = e.primary
	case e.hasFirst:
		raw = e.first
	default:
		return ""
	}
	s, _ := jsonscan.Unquote(raw) // validated while scanning
	return s
}

// idString is the element's Id, unquoted.
func (e *element) idString() string {
	s, _ := jsonscan.Unquote(e.id) // validated while scanning
	return s
}

// eachLabel is the labels iterator handed to Keep: every label a client
// would see in the Labels map, once, with its last value. It yields
// nothing once Keep has returned, because the window it reads is reused.
func (e *element) eachLabel(yield func(key, value string) bool) {
	if !e.active {
		return
	}
	labels := e.labels
	if len(labels) > dedupeLinearMax {
		m := make(map[string]string, len(labels))
		for _, p := range labels {
			k, v := e.unquotePair(p)
			m[k] = v
		}
		for k, v := range m {
			if !yield(k, v) {
				return
			}
		}
		return
	}
	for i, p := range labels {
		if shadowed(labels[i+1:], p) {
			continue // a later member with the same key wins
		}
		if !yield(e.unquotePair(p)) {
			return
		}
	}
}

// unquotePair returns a label's key and value as strings sharing one
// allocation. Both were validated while scanning.
func (e *element) unquotePair(p pair) (key, value string) {
	e.scratch, _ = jsonscan.AppendUnquote(e.scratch[:0], p.key)
	n := len(e.scratch)
	e.scratch, _ = jsonscan.AppendUnquote(e.scratch, p.val)
	s := string(e.scratch)
	return s[:n], s[n:]
}

// shadowed reports whether a pair in later has the same unquoted key as p.
func shadowed(later []pair, p pair) bool {
	for i := range later {
		q := &later[i]
		if p.plainKey && q.plainKey {
			if string(p.key) == string(q.key) {
				return true
			}
		} else if sameKey(p.key, q.key) {
			return true
		}
	}
	return false
}

// sameKey reports whether raw keys a and b unquote to the same string.
func sameKey(a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	var abuf, bbuf [64]byte
	ua, err1 := jsonscan.AppendUnquote(abuf[:0], a)
	ub, err2 := jsonscan.AppendUnquote(bbuf[:0], b)
	return err1 == nil && err2 == nil && string(ua) == string(ub)
}

// plain reports whether raw unquotes to itself.
func plain(raw []byte) bool {
	return bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)
}

// SummaryName returns the primary name ("/web") of one container summary
// (an element of GET /containers/json, or of /system/df's container
// lists) as ContainerList reads it, "" when it has none.
func SummaryName(summary []byte) (string, error) {
	var e element
	e.reset(summary)
	if _, err := jsonscan.ObjectMembers(summary, 0, 1, e.member); err != nil {
		return "", err
	}
	return e.primaryName(), nil
}
