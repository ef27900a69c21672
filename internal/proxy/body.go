package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Request bodies have deadlines, so a client cannot hold connections (the
// proxy's and, through it, the engine's) by sending a body slowly or never:
//   - a body the proxy reads to decide (create, network connect, service
//     create, an old start) must arrive whole within BODY_TIMEOUT;
//   - a body streamed to the engine (an archive, a build context, an image)
//     may take as long as it needs, but may not stall for BODY_TIMEOUT;
//   - GET, HEAD, OPTIONS and DELETE requests take no body on any engine
//     route: none is forwarded, and what the client sends is read (so the
//     connection can be reused) for at most BODY_TIMEOUT; the answer waits
//     for that, as net/http reads an unread body before answering.
//
// Upgraded connections (attach, exec start) are the engine's stdin streams
// and have none of these deadlines.
// guardBody installs the request's body deadlines (see above).
func (p *Proxy) guardBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || isUpgrade(r) {
		return
	}
	rc := http.NewResponseController(w)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete:
		_ = rc.SetReadDeadline(time.Now().Add(p.bodyTimeout))
		r.Body, r.ContentLength, r.TransferEncoding = http.NoBody, 0, nil
		r.Header.Del("Content-Length")
		return
	}
	// Set now, not only on the first read: the server reads an unread
	// body itself before answering (to reuse the connection), and a body
	// that never comes must not hold that either.
	_ = rc.SetReadDeadline(time.Now().Add(p.bodyTimeout))
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, idle: p.bodyTimeout}
}

// isUpgrade reports whether the client asks to take the connection over.
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

// deadlineBody moves the connection's read deadline along as a body is
// read: idle after each read, never past total (when set). At the end of
// the body the deadline is lifted.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	total time.Time // zero: no total bound
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	d := time.Now().Add(b.idle)
	if !b.total.IsZero() && b.total.Before(d) {
		d = b.total
	}
	_ = b.rc.SetReadDeadline(d)
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// mustArriveBy bounds the whole of a body the proxy reads to decide.
func mustArriveBy(r *http.Request, total time.Time) {
	if b, ok := r.Body.(*deadlineBody); ok {
		b.total = total
	}
}

// errBodyTooLarge is a body over MaxBodySize.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads the whole request body, whatever its framing (chunked, no
// Content-Length, a Content-Length of 0 that lies), up to the proxy's
// limit and within BODY_TIMEOUT, and puts it back as a fixed-length body,
// so the engine receives the very bytes that were checked (or rewritten).
func (p *Proxy) readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > p.maxBody && expectsContinue(r) {
		// Announced too large by a client that waits to be asked for
		// it: refused before it is asked. (A client that sends at once
		// is read up to the limit, so that it can finish writing and
		// read the answer.)
		return nil, errBodyTooLarge
	}
	mustArriveBy(r, time.Now().Add(p.bodyTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, p.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > p.maxBody {
		return nil, errBodyTooLarge
	}
	setRequestBody(r, body)
	return body, nil
}

// setRequestBody makes body the request's body, with a fixed length.
// GetBody hands out copies, so the bytes sent stay known to the answer's
// hooks (the reverse proxy wraps Body but keeps GetBody).
func setRequestBody(r *http.Request, body []byte) {
	r.Body = &replayableBody{Reader: bytes.NewReader(body), data: body}
	r.GetBody = func() (io.ReadCloser, error) {
		return &replayableBody{Reader: bytes.NewReader(body), data: body}, nil
	}
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// replayableBody is a request body the proxy holds in memory, so the
// request can be sent upstream again.
type replayableBody struct {
	*bytes.Reader
	data []byte
}

func (*replayableBody) Close() error { return nil }

// bufferedBody returns the body the proxy read whole and sent with r (or
// with the request r was cloned from), if any.
func bufferedBody(r *http.Request) ([]byte, bool) {
	if r.GetBody == nil {
		return nil, false
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil, false
	}
	b, ok := rc.(*replayableBody)
	if !ok {
		return nil, false
	}
	return b.data, true
}

// replayable reports whether a request can be sent upstream again: it has
// no body, or the proxy read it whole (readBody).
func replayable(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	_, buffered := r.Body.(*replayableBody)
	return buffered
}

// rewindBody puts a buffered body back at its start for a second forward.
func rewindBody(r *http.Request) {
	if b, ok := r.Body.(*replayableBody); ok {
		b.Reset(b.data)
	}
}

// bodyError answers a body that could not be read.
func (x *exchange) bodyError(err error) {
	if errors.Is(err, errBodyTooLarge) {
		x.audit.reason = "body over MAX_BODY_SIZE"
		if expectsContinue(x.r) {
			// The body is not wanted: closing the connection after the
			// answer keeps net/http from sending the go-ahead and reading
			// it (for BODY_TIMEOUT, when it never comes).
			x.w.Header().Set("Connection", "close")
		}
		x.fail(http.StatusRequestEntityTooLarge, "docker-proxy-filter: request body larger than MAX_BODY_SIZE ("+strconv.FormatInt(x.p.maxBody, 10)+" bytes)")
		return
	}
	x.audit.reason = "reading the request body: " + err.Error()
	x.fail(http.StatusBadRequest, "docker-proxy-filter: cannot read the request body")
}

// rewriteFailed answers a body whose references could not be rewritten to
// the decided IDs: it is not forwarded.
func (x *exchange) rewriteFailed(err error) {
	x.audit.reason = "cannot forward the body's container references as decided: " + err.Error()
	x.fail(http.StatusBadRequest, "docker-proxy-filter: the request's container references cannot be forwarded as decided; write each reference once, as a plain JSON string")
}

// expectsContinue reports whether the client waits for "100 Continue"
// before it sends the body.
func expectsContinue(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Expect"), "100-continue")
}
