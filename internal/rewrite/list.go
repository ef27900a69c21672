package rewrite

import (
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// Keep reports whether a container stays visible. name is the container's
// primary name exactly as the engine writes it, with its leading slash
// ("/web"); labels iterates its labels (key, value), already JSON-unescaped,
// each key once with the value a client would decode. labels may only be
// used during the call.
type Keep func(name string, labels iter.Seq2[string, string]) bool

// Counts reports how many list elements were kept out of how many were read,
// and how many of those were dropped unread for being over MaxListElement.
type Counts struct{ Kept, Total, Oversized int }

// MaxListElement bounds one container list element held in memory. A larger
// element is dropped as it streams past, never held or passed on: it cannot
// be decided (fail closed). Summaries are a few KiB; only a container with
// megabytes of labels comes near.
const MaxListElement = 8 << 20

// Window sizing: reads ask for at least minRead bytes of room, and the
// window starts at initialWindow.
const (
	minRead       = 32 << 10
	initialWindow = 64 << 10
	// maxTrailing bounds the whitespace after the array held back until
	// the end of input is seen; beyond it the tail is written as it comes.
	maxTrailing = 4 << 10
)

// errNoMore is fill's report that src is exhausted.
var errNoMore = errors.New("no more input")

// ContainerList streams the JSON array of container summaries
// (GET /containers/json) from src to dst, keeping the elements for which
// keep returns true (a nil keep keeps all). Kept elements are written byte
// for byte as received, joined by ",", inside "[" and "]", followed by the
// whitespace that followed the input array (the engine's "\n").
//
// With limit > 0 it stops after limit kept elements, without reading src
// further, and ends the output with "]\n"; Total then counts the elements
// read so far.
//
// Memory stays at about one element plus a read chunk: src is read into a
// window that only grows for an element larger than it. Each element is
// validated in full before it is written, so nothing malformed reaches dst;
// on error dst may hold a partial array. Input that is not exactly one JSON
// array of container objects followed by whitespace (with "Names" an array
// of strings or null and "Labels" an object of strings or null) gives an
// error wrapping ErrMalformed; read and write errors are returned wrapped.
func ContainerList(dst io.Writer, src io.Reader, keep Keep, limit int) (Counts, error) {
	l := &lister{dst: dst, src: src, keep: keep, limit: limit}
	l.el.labels = make([]pair, 0, 16) // engines rarely send more labels
	l.member = l.el.member
	l.labels = l.el.eachLabel
	err := l.run()
	return l.counts, err
}

// EachContainer reads a container list from src as ContainerList does,
// without writing it: fn sees each element's Id, primary name and labels
// (the iterator is valid only during the call). Elements over
// MaxListElement are skipped unread and counted, never seen by fn.
func EachContainer(src io.Reader, fn func(id, name string, labels iter.Seq2[string, string])) (Counts, error) {
	l := &lister{dst: io.Discard, src: src}
	l.el.labels = make([]pair, 0, 16)
	l.member = l.el.member
	l.labels = l.el.eachLabel
	l.keep = func(name string, labels iter.Seq2[string, string]) bool {
		fn(l.el.idString(), name, labels)
		return false
	}
	err := l.run()
	return l.counts, err
}

// lister is the state of one ContainerList call.
type lister struct {
	dst   io.Writer
	src   io.Reader
	keep  Keep
	limit int

	// buf[off:] is input not yet consumed. When off > 0, buf[off-1] is the
	// input byte just before it, kept so a kept element can usually be
	// written together with the ',' or '[' in front of it.
	buf      []byte
	off      int
	consumed int64 // input bytes dropped before buf[0], for error offsets
	eof      bool

	counts Counts
	el     element
	member func(key []byte, valStart, valEnd int) error // l.el.member, bound once
	labels iter.Seq2[string, string]                    // l.el.eachLabel, bound once
	one    [2]byte                                      // storage for small writes
}

func (l *lister) run() error {
	c, err := l.peek()
	if err != nil {
		return l.eofIsMalformed(err, "empty response")
	}
	if c != '[' {
		return l.syntax(l.off, "container list is not a JSON array")
	}
	l.off++
	if c, err = l.peek(); err != nil {
		return l.eofIsMalformed(err, "truncated array")
	}
	if c == ']' {
		return l.finish()
	}
	for {
		if c != '{' {
			return l.syntax(l.off, "container list element %d is not an object", l.counts.Total)
		}
		end, oversized, err := l.scanElement()
		if err != nil {
			return err
		}
		l.counts.Total++
		if oversized {
			l.counts.Oversized++
		} else if err := l.decide(l.off, end); err != nil {
			return err
		}
		l.off = end
		if l.limit > 0 && l.counts.Kept >= l.limit {
			l.one = [2]byte{']', '\n'}
			return l.write(l.one[:])
		}
		if c, err = l.peek(); err != nil {
			return l.eofIsMalformed(err, "truncated array")
		}
		switch c {
		case ',':
			l.off++
			if c, err = l.peek(); err != nil {
				return l.eofIsMalformed(err, "truncated array")
			}
		case ']':
			return l.finish()
		default:
			return l.syntax(l.off, "expected ',' or ']' after container list element")
		}
	}
}

// scanElement scans the object at buf[off], reading more input until it
// is complete, and returns its end. The scan restarts from the element's
// start after each read; fill at least doubles what it holds, so the
// rescans add up to a constant factor.
func (l *lister) scanElement() (end int, oversized bool, err error) {
	for {
		l.el.reset(l.buf)
		end, err := jsonscan.ObjectMembers(l.buf, l.off, 1, l.member)
		if err == nil {
			return end, end-l.off > MaxListElement, nil
		}
		if !errors.Is(err, jsonscan.ErrIncomplete) {
			return 0, false, l.elementErr(err)
		}
		if len(l.buf)-l.off > MaxListElement {
			end, err := l.skipElement()
			return end, true, err
		}
		if err := l.fill(); err != nil {
			return 0, false, l.eofIsMalformed(err, "truncated container list element")
		}
	}
}

// skipElement consumes the object at buf[off] as it streams past, holding
// no more than a read of it, and returns its end.
func (l *lister) skipElement() (int, error) {
	var k skipper
	for {
		n, done := k.feed(l.buf[l.off:])
		l.off += n
		if done {
			return l.off, nil
		}
		if err := l.fill(); err != nil {
			return 0, l.eofIsMalformed(err, "truncated container list element")
		}
	}
}

// elementErr reports why the element at buf[off] is malformed.
func (l *lister) elementErr(err error) error {
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		return l.syntax(se.Offset, "container list element %d: %s", l.counts.Total, se.Msg)
	}
	// A shape error from element.member.
	return malformed("container list element %d: %v", l.counts.Total, err)
}

// decide runs keep on the element buf[start:end] and writes it if kept.
func (l *lister) decide(start, end int) error {
	if l.keep != nil {
		l.el.active = true
		ok := l.keep(l.el.primaryName(), l.labels)
		l.el.active = false
		if !ok {
			return nil
		}
	}
	sep := byte(',')
	if l.counts.Kept == 0 {
		sep = '['
	}
	l.counts.Kept++
	return l.writeAfter(sep, start, end)
}

// writeAfter writes sep followed by buf[start:end], in one Write when the
// input already has sep just before start.
func (l *lister) writeAfter(sep byte, start, end int) error {
	if start > 0 && l.buf[start-1] == sep {
		return l.write(l.buf[start-1 : end])
	}
	l.one[0] = sep
	if err := l.write(l.one[:1]); err != nil {
		return err
	}
	return l.write(l.buf[start:end])
}

func (l *lister) write(p []byte) error {
	if _, err := l.dst.Write(p); err != nil {
		return fmt.Errorf("filter: writing container list: %w", err)
	}
	return nil
}

// finish handles the closing ']' at buf[off]: it checks that only
// whitespace follows up to the end of input and writes the closing
// bracket with that whitespace.
func (l *lister) finish() error {
	start := l.off    // first byte not yet written: the ']' until it is
	closed := false   // whether the ']' has been written
	next := l.off + 1 // first byte not yet checked
	for {
		i := jsonscan.SkipSpace(l.buf, next)
		if i < len(l.buf) {
			return l.syntax(i, "data after the container list")
		}
		if len(l.buf)-start >= maxTrailing {
			if err := l.writeTail(start, closed); err != nil {
				return err
			}
			start, closed = len(l.buf), true
		}
		l.off = start
		before := l.off
		err := l.fill()
		start, next = l.off, i-(before-l.off)
		if errors.Is(err, errNoMore) {
			return l.writeTail(start, closed)
		}
		if err != nil {
			return err
		}
	}
}

// writeTail writes buf[start:], which is the closing ']' and whitespace
// (or only whitespace once closed), preceded by '[' if nothing was kept.
func (l *lister) writeTail(start int, closed bool) error {
	if closed || l.counts.Kept > 0 {
		return l.write(l.buf[start:])
	}
	return l.writeAfter('[', start, len(l.buf))
}

// peek skips whitespace at buf[off], reading as needed, and returns the
// byte at buf[off].
func (l *lister) peek() (byte, error) {
	for {
		l.off = jsonscan.SkipSpace(l.buf, l.off)
		if l.off < len(l.buf) {
			return l.buf[l.off], nil
		}
		if err := l.fill(); err != nil {
			return 0, err
		}
	}
}

// fill reads more input into the window, keeping buf[off-1:]. It reads at
// least as many bytes as the window holds past off (at least one), so an
// element that keeps turning out incomplete is rescanned a logarithmic
// number of times. It returns errNoMore once src is exhausted.
func (l *lister) fill() error {
	if l.eof {
		return errNoMore
	}
	if keep := max(l.off-1, 0); keep > 0 {
		n := copy(l.buf, l.buf[keep:])
		l.buf = l.buf[:n]
		l.off -= keep
		l.consumed += int64(keep)
	}
	need := min(max(len(l.buf)-l.off, 1), MaxListElement)
	if room := cap(l.buf) - len(l.buf); room < max(need, minRead) {
		grown := make([]byte, len(l.buf), max(2*cap(l.buf), len(l.buf)+max(need, minRead), initialWindow))
		copy(grown, l.buf)
		l.buf = grown
	}
	got, empty := 0, 0
	for got < need {
		n, err := l.src.Read(l.buf[len(l.buf):cap(l.buf)])
		l.buf = l.buf[:len(l.buf)+n]
		got += n
		if err == io.EOF {
			l.eof = true
			break
		}
		if err != nil {
			return fmt.Errorf("filter: reading container list: %w", err)
		}
		if n == 0 {
			if empty++; empty >= 100 {
				return fmt.Errorf("filter: reading container list: %w", io.ErrNoProgress)
			}
		}
	}
	if got == 0 {
		return errNoMore
	}
	return nil
}

// eofIsMalformed turns running out of input into a malformed-list error and
// passes read errors through.
func (l *lister) eofIsMalformed(err error, what string) error {
	if errors.Is(err, errNoMore) {
		return malformed("container list: %s", what)
	}
	return err
}

// syntax reports a malformed list at buf[i], with the offset in the input.
func (l *lister) syntax(i int, format string, args ...any) error {
	return malformed(format+" (at byte %d)", append(args, l.consumed+int64(i))...)
}
