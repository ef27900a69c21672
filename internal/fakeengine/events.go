package fakeengine

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// StampMark, in a record sent on a [Stream], is replaced by the time of
// the write: nanoseconds since the stream's Base, so that a benchmark can
// measure the latency from the engine's write to its client's read.
const StampMark = "@STAMP@"

// events answers the index's GET /events: the head at once, then nothing
// until the client leaves (or a 403 with RefuseEvents).
func (e *Engine) events(w http.ResponseWriter, r *http.Request) {
	if e.opts.RefuseEvents {
		writeJSON(w, http.StatusForbidden, message("fake socket proxy: /events is forbidden"))
		return
	}
	e.eventsHead(w, r)
	select {
	case <-r.Context().Done():
	case <-e.stop:
	}
}

// eventsHead sends the head of an events answer, in the framing the
// captured engine chooses for the request's Accept header.
func (e *Engine) eventsHead(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if e.fx != nil {
		clear(h)
		for k, v := range e.fx.eventsHeader(r.Header.Get("Accept")) {
			h[k] = v
		}
	} else {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
}

// Stream is a GET /events answer the test writes: each record sent goes out
// at once, in one Write and a flush, as the engine writes events.
type Stream struct {
	Case string    // the CaseHeader it was opened with
	Base time.Time // see StampMark

	recs chan []byte
	end  chan bool     // true: break
	done chan struct{} // closed when the answer is over
}

// EventStream is a [Case] for GET /events: it sends the engine's events head
// at once and hands the stream to the test ([Engine.Stream]), which sends
// the records and ends or breaks it.
func EventStream(e *Engine, w http.ResponseWriter, r *http.Request) {
	e.eventsHead(w, r)
	s := &Stream{Case: r.Header.Get(CaseHeader), Base: time.Now(), recs: make(chan []byte), end: make(chan bool, 1), done: make(chan struct{})}
	defer close(s.done)
	select {
	case e.streams <- s:
	default:
		e.tb.Errorf("fakeengine: events stream %q opened while %d wait for the test", s.Case, len(e.streams))
		return
	}
	rc := http.NewResponseController(w)
	var buf []byte
	for {
		select {
		case <-r.Context().Done():
			return
		case <-e.stop:
			return
		case brk := <-s.end:
			if brk {
				if conn, _, err := rc.Hijack(); err == nil {
					conn.Close() // no terminating chunk: the engine died
				}
			}
			return
		case rec := <-s.recs:
			before, after, stamp := bytes.Cut(rec, []byte(StampMark))
			buf = append(buf[:0], before...)
			if stamp {
				buf = strconv.AppendInt(buf, int64(time.Since(s.Base)), 10)
				buf = append(buf, after...)
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// Stream returns the next events stream opened with [EventStream], failing
// the test if none is opened within 10 seconds.
func (e *Engine) Stream(tb testing.TB) *Stream {
	tb.Helper()
	select {
	case s := <-e.streams:
		return s
	case <-time.After(10 * time.Second):
		tb.Fatal("fakeengine: no events stream opened within 10s")
		return nil
	}
}

// Send writes rec to the stream (returning once the engine took it), unless
// the answer is over.
func (s *Stream) Send(rec []byte) {
	select {
	case s.recs <- rec:
	case <-s.done:
	}
}

// End ends the answer as the engine ends a finished stream.
func (s *Stream) End() { s.finish(false) }

// Break drops the connection without ending the answer, as a dying engine
// does.
func (s *Stream) Break() { s.finish(true) }

func (s *Stream) finish(brk bool) {
	select {
	case s.end <- brk:
	case <-s.done:
	}
}
