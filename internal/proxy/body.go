package proxy

import (
	"io"
	"net/http"
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
