package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// Event is what a keep decision on one GET /events record can look at:
// the members a Go client decodes, strings unescaped. Members are bound as
// encoding/json binds them (case-insensitive keys, the last duplicate wins,
// repeated "Actor" and "Attributes" objects merge, null leaves a string
// unchanged and resets Attributes).
type Event struct {
	Type   string // "container", "network", "volume", "image", ...
	Action string // "start", "exec_create: sh -c ...", "health_status: healthy", ...
	Actor  EventActor
	Scope  string // "local" or "swarm"

	// Legacy members, sent below API 1.52 for container and image events:
	// ID is the actor's ID, Status its action and From (containers only)
	// the image. Engine 29 sends them through a map, so they come with
	// sorted keys and ID and From are present even when empty.
	ID, Status, From string
}

// EventActor is the object an event is about.
type EventActor struct {
	// ID is the container, network, volume (by name), image... ID; it is
	// empty for "prune" events.
	ID string
	// Attributes holds the action's attributes; for container events also
	// every container label, "image" and "name". Network connect and
	// disconnect and volume mount and unmount carry the container ID in
	// "container". nil when the record has none.
	Attributes map[string]string
}

// recordSeparator starts each record of an application/json-seq stream (RFC 7464).
const recordSeparator = 0x1E

// Events streams the engine's GET /events body from src to dst, keeping
// the records for which keep returns true (a nil keep keeps all).
//
// A record is an optional 0x1E (json-seq framing), whitespace, one JSON
// object and the whitespace after it up to and including its newline; the
// framing is recognised per record, so newline-delimited
// (application/json, jsonl, x-ndjson) and json-seq streams are handled
// alike. A kept record is written exactly as received (a run of more than
// 4 KiB of whitespace before it is cut to its last 4 KiB), in one Write, and
// flush (if not nil) is called right after, so a client sees each event as
// soon as its newline arrives: the engine writes the object and its newline
// in one write, so nothing waits for a later event. Whitespace left at the
// end of the stream is written too.
//
// Memory holds one record plus a read chunk; the window grows only for a
// record larger than it, and shrinks back once that record is out. Reads are never combined to fill the window:
// whatever one Read returns is processed at once.
//
// Events returns nil when src ends after a complete record. A record that
// is not a JSON object, has members of the wrong type for the Event fields
// (say "Type":1 or "Attributes":[]), or is cut off by the end of src gives
// an error wrapping ErrMalformed, after the records before it were
// written; the caller should then end the client's stream. Read and write
// errors are returned wrapped.
func Events(dst io.Writer, src io.Reader, keep func(ev Event) bool, flush func()) error {
	o := EventOptions{Flush: flush}
	if keep != nil {
		o.Decide = func(ev Event) Verdict {
			if keep(ev) {
				return KeepEvent
			}
			return DropEvent
		}
	}
	return FilterEvents(dst, src, o)
}

// Verdict is a decision on one event.
type Verdict uint8

const (
	// DropEvent leaves the event out.
	DropEvent Verdict = iota
	// KeepEvent passes the event as received.
	KeepEvent
	// KeepWithoutOldName passes a rename event without its "oldName"
	// attribute (every Actor.Attributes member with that exact key), for a
	// container that became visible under a name while its old one was not.
	KeepWithoutOldName
)

// MaxEventRecord bounds one event held in memory. An event over it is
// dropped without being held (fail closed: it cannot be decided), and
// EventOptions.Oversize is told.
const MaxEventRecord = 4 << 20

// EventOptions configure FilterEvents.
type EventOptions struct {
	// Decide decides each event; nil keeps all.
	Decide func(ev Event) Verdict
	// Flush, if not nil, is called after each event written.
	Flush func()
	// Oversize, if not nil, is called for each event dropped for being
	// over MaxEventRecord.
	Oversize func()
}

// FilterEvents is Events with a Verdict per event (see Verdict) and a bound
// on each event's size (see MaxEventRecord).
func FilterEvents(dst io.Writer, src io.Reader, o EventOptions) error {
	s := &eventStream{dst: dst, src: src, decide: o.Decide, flush: o.Flush, oversize: o.Oversize}
	return s.run()
}

// eventStream is the state of one Events call.
type eventStream struct {
	dst      io.Writer
	src      io.Reader
	decide   func(Event) Verdict
	flush    func()
	oversize func()
	skip     *skipper // set while an oversized record is being discarded

	buf      []byte // buf[off:] is input not yet consumed, starting at a record boundary
	off      int
	consumed int64 // input bytes before buf[off], for error offsets
	eof      bool

	// Scan state of the record at buf[off:], reset when it is consumed.
	valEnd  int // end of its object relative to off once complete, else 0
	scanned int // len(buf)-off at its last incomplete scan
	ev      Event
	rec     []byte // buf[off:] during a scan, for the member callbacks
	// attrObjs are the spans of the record's Attributes objects and their
	// members, for KeepWithoutOldName.
	attrObjs []attrObject
}

// attrObject is one Attributes object of a record: its span and its
// members' spans (key start to value end), relative to the record.
type attrObject struct {
	start, end int
	members    []attrMember
}

type attrMember struct {
	start, end int
	oldName    bool
}

func (s *eventStream) run() error {
	for {
		if s.skip != nil {
			s.discard()
		}
		for s.skip == nil {
			n, err := s.record()
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			if err := s.emit(n); err != nil {
				return err
			}
		}
		if s.skip == nil && len(s.buf)-s.off > MaxEventRecord {
			// An event this large is held no further: it is dropped as it
			// streams past (it cannot be decided without holding it).
			s.skip = &skipper{}
			if s.oversize != nil {
				s.oversize()
			}
			s.valEnd, s.scanned = 0, 0
			continue
		}
		if s.eof {
			if s.skip != nil {
				return malformed("stream ends inside an oversized event")
			}
			return s.finish()
		}
		if err := s.read(); err != nil {
			return err
		}
	}
}

// discard feeds buffered input to the skipper, consuming it, until the
// oversized record ends.
func (s *eventStream) discard() {
	n, done := s.skip.feed(s.buf[s.off:])
	if done {
		// The record's own newline goes with it.
		rest := s.buf[s.off+n:]
		j := 0
		for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\r') {
			j++
		}
		if j < len(rest) && rest[j] == '\n' {
			n += j + 1
		}
		s.skip = nil
	}
	s.off += n
	s.consumed += int64(n)
}

// record returns the length of the complete record at buf[off:], or 0 if
// more input is needed to complete it.
func (s *eventStream) record() (int, error) {
	rec := s.buf[s.off:]
	i := jsonscan.SkipSpace(rec, 0)
	if i == len(rec) {
		if i > maxTrailing {
			// A whitespace flood: only its last maxTrailing bytes are
			// kept (see emit), so memory stays bounded.
			cut := i - maxTrailing
			s.off += cut
			s.consumed += int64(cut)
		}
		return 0, nil
	}
	if rec[i] == recordSeparator {
		if i = jsonscan.SkipSpace(rec, i+1); i == len(rec) {
			return 0, nil
		}
	}
	if rec[i] != '{' {
		return 0, s.syntax(i, "event is not a JSON object")
	}
	if s.valEnd == 0 {
		// An object can only have become complete if a '}' arrived
		// since the last scan; skipping the rescan otherwise keeps a
		// record trickling in from costing quadratic time. Rescanning
		// at least each time the record doubles still catches garbage
		// that never closes before it fills memory.
		if s.scanned > 0 && len(rec) < 2*s.scanned && bytes.IndexByte(rec[s.scanned:], '}') < 0 {
			return 0, nil
		}
		s.ev = Event{}
		s.attrObjs = s.attrObjs[:0]
		s.rec = rec
		end, err := jsonscan.ObjectMembers(rec, i, 0, s.member)
		s.rec = nil
		switch {
		case errors.Is(err, jsonscan.ErrIncomplete):
			s.scanned = len(rec)
			return 0, nil
		case err != nil:
			var se *jsonscan.SyntaxError
			if errors.As(err, &se) {
				return 0, s.syntax(se.Offset, "event: %s", se.Msg)
			}
			return 0, malformed("event at byte %d: %v", s.consumed, err)
		}
		s.valEnd = end
	}
	j := s.valEnd
	for j < len(rec) && (rec[j] == ' ' || rec[j] == '\t' || rec[j] == '\r') {
		j++
	}
	switch {
	case j < len(rec) && rec[j] == '\n':
		return j + 1, nil
	case j < len(rec), s.eof:
		return j, nil // the next record starts right here, or the stream ended
	}
	return 0, nil
}

// emit decides on the complete record buf[off:off+n] and consumes it.
func (s *eventStream) emit(n int) error {
	rec := s.buf[s.off : s.off+n]
	s.off += n
	s.consumed += int64(n)
	s.valEnd, s.scanned = 0, 0
	ev := s.ev
	s.ev = Event{}
	if n > MaxEventRecord {
		// Complete, but over the bound all the same: dropped alike.
		if s.oversize != nil {
			s.oversize()
		}
		return nil
	}
	verdict := KeepEvent
	if s.decide != nil {
		verdict = s.decide(ev)
	}
	switch verdict {
	case DropEvent:
		return nil
	case KeepWithoutOldName:
		return s.write(trimSpace(withoutOldName(rec, s.attrObjs)))
	}
	return s.write(trimSpace(rec))
}

// withoutOldName rebuilds each Attributes object of rec that has an
// "oldName" member from its other members, byte for byte.
func withoutOldName(rec []byte, objs []attrObject) []byte {
	e := editor{body: rec}
	for _, o := range objs {
		kept := make([][]byte, 0, len(o.members))
		removed := false
		for _, m := range o.members {
			if m.oldName {
				removed = true
				continue
			}
			kept = append(kept, rec[m.start:m.end])
		}
		if removed {
			e.replace(o.start, o.end, "{"+string(bytes.Join(kept, []byte(",")))+"}")
		}
	}
	out, err := e.apply()
	if err != nil {
		return rec
	}
	return out
}

// trimSpace cuts a run of whitespace at the start of p to its last
// maxTrailing bytes. Engines send none but the newline ending the record
// before; the bound only keeps a flood from growing the window, and it
// depends on the bytes alone, not on how they were read.
func trimSpace(p []byte) []byte {
	if w := jsonscan.SkipSpace(p, 0); w > maxTrailing {
		return p[w-maxTrailing:]
	}
	return p
}

func (s *eventStream) write(p []byte) error {
	if _, err := s.dst.Write(p); err != nil {
		return fmt.Errorf("filter: writing events: %w", err)
	}
	if s.flush != nil {
		s.flush()
	}
	return nil
}

// finish handles the end of input: only whitespace may be left.
func (s *eventStream) finish() error {
	rest := s.buf[s.off:]
	if i := jsonscan.SkipSpace(rest, 0); i < len(rest) {
		return s.syntax(i, "stream ends inside an event")
	}
	if len(rest) == 0 {
		return nil
	}
	return s.write(trimSpace(rest))
}

// read reads once from src into the window, keeping buf[off:]. It leaves
// room for at least as much as is pending, so a huge record needs only a
// logarithmic number of reads (and scans) when src delivers it quickly.
func (s *eventStream) read() error {
	if s.off > 0 {
		n := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:n]
		s.off = 0
	}
	if cap(s.buf) > 16*initialWindow && len(s.buf) < initialWindow/2 {
		// A huge record has gone out: give its window back.
		s.buf = append(make([]byte, 0, initialWindow), s.buf...)
	}
	need := max(len(s.buf), minRead)
	// Never beyond what one bounded record needs: past it the record is
	// discarded as it streams (see run).
	size := min(max(2*cap(s.buf), len(s.buf)+need, initialWindow), max(MaxEventRecord+2*minRead, len(s.buf)+minRead))
	if cap(s.buf)-len(s.buf) < need && size > cap(s.buf) {
		grown := make([]byte, len(s.buf), size)
		copy(grown, s.buf)
		s.buf = grown
	}
	for empty := 0; ; empty++ {
		n, err := s.src.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("filter: reading events: %w", err)
		}
		if n > 0 {
			return nil
		}
		if empty >= 100 {
			return fmt.Errorf("filter: reading events: %w", io.ErrNoProgress)
		}
	}
}

// syntax reports a malformed stream at rec[i] (rec = buf[off:]).
func (s *eventStream) syntax(i int, format string, args ...any) error {
	return malformed(format+" (at byte %d)", append(args, s.consumed+int64(i))...)
}

// Shape errors of event members; the stream wraps them in ErrMalformed.
var (
	errEventString = errors.New("event member is not a string or null")
	errEventActor  = errors.New(`event "Actor" is not an object or null`)
	errEventAttrs  = errors.New(`event "Attributes" is not an object of strings or null`)
)

// member is the jsonscan.ObjectMembers callback for an event's members.
func (s *eventStream) member(key []byte, vs, ve int) error {
	ev := &s.ev
	switch {
	case jsonscan.KeyEqualFold(key, "Type"):
		return s.str(&ev.Type, vs, ve)
	case jsonscan.KeyEqualFold(key, "Action"):
		return s.str(&ev.Action, vs, ve)
	case jsonscan.KeyEqualFold(key, "scope"):
		return s.str(&ev.Scope, vs, ve)
	case jsonscan.KeyEqualFold(key, "id"):
		return s.str(&ev.ID, vs, ve)
	case jsonscan.KeyEqualFold(key, "status"):
		return s.str(&ev.Status, vs, ve)
	case jsonscan.KeyEqualFold(key, "from"):
		return s.str(&ev.From, vs, ve)
	case jsonscan.KeyEqualFold(key, "Actor"):
		switch s.rec[vs] {
		case 'n':
			return nil
		case '{':
			_, err := jsonscan.ObjectMembers(s.rec, vs, 1, s.actorMember)
			return err
		}
		return errEventActor
	}
	return nil
}

// actorMember is the jsonscan.ObjectMembers callback for Actor's members.
func (s *eventStream) actorMember(key []byte, vs, ve int) error {
	switch {
	case jsonscan.KeyEqualFold(key, "ID"):
		return s.str(&s.ev.Actor.ID, vs, ve)
	case jsonscan.KeyEqualFold(key, "Attributes"):
		switch s.rec[vs] {
		case 'n':
			s.ev.Actor.Attributes = nil
			return nil
		case '{':
			if s.ev.Actor.Attributes == nil {
				s.ev.Actor.Attributes = make(map[string]string)
			}
			s.attrObjs = append(s.attrObjs, attrObject{start: vs, end: ve})
			_, err := jsonscan.ObjectMembers(s.rec, vs, 2, s.attribute)
			return err
		}
		return errEventAttrs
	}
	return nil
}

// attribute is the jsonscan.ObjectMembers callback for Attributes.
func (s *eventStream) attribute(key []byte, vs, ve int) error {
	k, err := jsonscan.Unquote(key)
	if err != nil {
		return errEventAttrs
	}
	var v string
	switch s.rec[vs] {
	case 'n': // encoding/json stores the zero value
	case '"':
		v, _ = jsonString(s.rec, vs, ve)
	default:
		return errEventAttrs
	}
	s.ev.Actor.Attributes[k] = v
	// key aliases s.rec (jsonscan.ObjectMembers): its opening quote is at
	// cap(rec)-cap(key)-1.
	o := &s.attrObjs[len(s.attrObjs)-1]
	o.members = append(o.members, attrMember{start: cap(s.rec) - cap(key) - 1, end: ve, oldName: k == "oldName"})
	return nil
}

// str binds a string member: a string sets *dst, null leaves it.
func (s *eventStream) str(dst *string, vs, ve int) error {
	switch s.rec[vs] {
	case 'n':
		return nil
	case '"':
		*dst, _ = jsonString(s.rec, vs, ve)
		return nil
	}
	return errEventString
}
