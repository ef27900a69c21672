package fakeengine

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
)

// Answer is one answer, written exactly as described: a captured one
// ([Fixture.Answer]) or one no engine would send. Its Serve method is a
// [Case].
type Answer struct {
	Status int // 0 is 200
	// Header: nil is the engine's own headers and Content-Type:
	// application/json; otherwise exactly these (a captured answer's).
	Header http.Header
	// Encoding is the Content-Encoding header, if any: Body is then sent as
	// given (already gzipped, or not, as the case wants).
	Encoding string
	Body     []byte // as it goes on the wire
	// Chunked sends the head at once and the body in flushed chunks of 64
	// KiB with no declared length; otherwise Content-Length declares it.
	Chunked bool
	// CutAfter > 0 declares the whole body's length, sends only that many
	// bytes of it and drops the connection: an upstream dying mid-answer.
	CutAfter int
	// Trailing is sent right after the body, on the same connection, which
	// is then left open: bytes past Content-Length, which net/http never
	// writes and a broken socket proxy might.
	Trailing []byte
}

// WithBody returns a copy of a with body b, its Content-Length header (if
// it declares one) fixed.
func (a Answer) WithBody(b []byte) Answer {
	a.Header = a.Header.Clone()
	a.Body = b
	if !a.Chunked && a.Header != nil {
		a.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	return a
}

// Serve writes the answer; it is a [Case].
func (a Answer) Serve(e *Engine, w http.ResponseWriter, r *http.Request) {
	status := cmp.Or(a.Status, http.StatusOK)
	h := w.Header()
	if a.Header != nil {
		clear(h)
		for k, v := range a.Header {
			h[k] = slices.Clone(v)
		}
	} else {
		h.Set("Content-Type", "application/json")
	}
	if a.Encoding != "" {
		h.Set("Content-Encoding", a.Encoding)
	}
	switch {
	case a.CutAfter > 0 || a.Trailing != nil:
		a.serveRaw(e, w, status)
	case a.Chunked:
		h.Del("Content-Length")
		w.WriteHeader(status)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		for b := a.Body; len(b) > 0; {
			n := min(len(b), 64<<10)
			if _, err := w.Write(b[:n]); err != nil {
				return
			}
			_ = rc.Flush()
			b = b[n:]
		}
	default:
		if r.Method != http.MethodHead || h.Get("Content-Length") == "" {
			h.Set("Content-Length", strconv.Itoa(len(a.Body)))
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(a.Body)
		}
	}
}

// serveRaw writes the answer on the hijacked connection, byte for byte:
// what net/http will not write.
func (a Answer) serveRaw(e *Engine, w http.ResponseWriter, status int) {
	h := w.Header()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		e.tb.Errorf("fakeengine: hijack: %v", err)
		return
	}
	defer conn.Close()
	h.Set("Content-Length", strconv.Itoa(len(a.Body)))
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = h.Write(buf)
	buf.WriteString("\r\n")
	if a.CutAfter > 0 {
		_, _ = buf.Write(a.Body[:a.CutAfter])
		_ = buf.Flush()
		return
	}
	_, _ = buf.Write(a.Body)
	_, _ = buf.Write(a.Trailing)
	if buf.Flush() != nil {
		return
	}
	// Leave the connection open, as an engine keeping it alive would,
	// until the client closes it or the test ends.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-e.stop:
			conn.Close()
		case <-done:
		}
	}()
	_, _ = io.Copy(io.Discard, buf)
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// Hang is a [Case] that accepts the request and answers nothing more (after
// the head and partial, if head) until the client gives up; the case's name
// is then reported on [Engine.Ended].
func Hang(head bool, partial string) Case {
	return func(e *Engine, w http.ResponseWriter, r *http.Request) {
		if head {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, partial)
			_ = http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
			select {
			case e.ended <- r.Header.Get(CaseHeader):
			default:
			}
		case <-e.stop:
		}
	}
}
