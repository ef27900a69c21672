package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// forward is what the reverse proxy does with one decided request.
type forward struct {
	path     string // upstream path (decoded), refs already rewritten
	rawQuery string
	// modify, when set, rewrites the upstream answer before it reaches the
	// client; an error turns into a 502 (or, errDecidedContainerGone with
	// retry set, a second decision).
	modify func(*http.Response) error
	// retry, when set, decides the request again when modify reports
	// errDecidedContainerGone.
	retry func()
}

// forward sends the request upstream as f describes, through a reverse
// proxy of its own whose hooks are this exchange's methods (a proxy per
// request costs one small allocation and keeps per-request state out of
// the request's context).
func (x *exchange) forward(f forward) {
	x.fwd = f
	if x.containerStream && x.audit.containerID != "" {
		defer x.endWhenHidden(x.audit.containerID)()
	}
	rp := &httputil.ReverseProxy{
		Rewrite:        x.rewriteOut,
		Transport:      x.p.up.Transport(),
		FlushInterval:  -1, // streams (events, logs, stats) flush as data arrives
		ModifyResponse: x.modifyResponse,
		ErrorHandler:   x.upstreamError,
		ErrorLog:       x.p.errorLog,
	}
	rp.ServeHTTP(x.w, x.r)
}

// rewriteOut addresses the outgoing request to the upstream with the
// decided path and query.
func (x *exchange) rewriteOut(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = x.p.up.URLHost()
	pr.Out.URL.Path = x.fwd.path
	pr.Out.URL.RawPath = ""
	pr.Out.URL.RawQuery = x.fwd.rawQuery
	pr.Out.Host = ""
	// The engine ignores these, but a socket proxy in front of it might
	// honour them and run another method than the one decided.
	for _, h := range []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"} {
		pr.Out.Header.Del(h)
	}
}

// endWhenHidden makes the stream about container id end as soon as the
// index stops holding it as visible: the request's context is cancelled
// (which closes the upstream connection, an upgraded one included), and a
// streamed body then ends as if the engine had ended it (see
// modifyResponse), so the client sees the stream end rather than break.
// It returns the function that stops watching.
func (x *exchange) endWhenHidden(id string) (stop func()) {
	hidden, unwatch := x.p.index.WhenHidden(id)
	ctx, cancel := context.WithCancel(x.r.Context())
	r, outer := x.r, x.hidden
	x.r, x.hidden = r.WithContext(ctx), hidden
	done := make(chan struct{})
	go func() {
		select {
		case <-hidden:
			x.audit.set(func(a *audit) { a.reason = "stream ended: the container is no longer visible" })
			x.p.logger.Info("stream ended: the container is no longer visible", "route", x.rt.Name(), "container_id", id)
			cancel()
		case <-done:
		}
	}()
	return func() {
		close(done)
		unwatch()
		cancel()
		x.r, x.hidden = r, outer
	}
}

// modifyResponse learns the engine's headers, applies the forward's
// rewrite and redacts error answers.
func (x *exchange) modifyResponse(resp *http.Response) error {
	x.p.headers.observe(resp.Header)
	if x.hidden != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body = &endsWhenHidden{ReadCloser: resp.Body, hidden: x.hidden}
	}
	if x.fwd.modify != nil {
		if err := x.fwd.modify(resp); err != nil {
			return err
		}
	}
	return x.p.redactError(resp)
}

// errBadUpstreamAnswer marks an upstream answer the proxy refuses to pass on.
var errBadUpstreamAnswer = errors.New("malformed answer from the upstream engine")

// upstreamError answers 502 in the engine's format when the upstream cannot be
// reached or its answer cannot be filtered; the raw answer is never passed on.
func (x *exchange) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if x.hidden != nil {
		select {
		case <-x.hidden:
			// The container was hidden before the engine answered: on an
			// engine without it, there is no such container.
			x.audit.set(func(a *audit) { a.reason = "no visible container (hidden before the engine answered)" })
			x.p.answerUnresolved(x, index.Missing)
			return
		default:
		}
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; there is nobody to answer.
		return
	}
	if x.fwd.retry != nil && (errors.Is(err, errDecidedContainerGone) || errors.Is(err, errDecidedContainerHidden)) {
		x.fwd.retry()
		return
	}
	if errors.Is(err, errDecidedContainerHidden) {
		// Renamed onto a hidden name twice within one request: what a
		// client may know is that no such container exists.
		x.audit.set(func(a *audit) { a.reason = "no visible container (hidden in the engine's answer)" })
		x.p.answerUnresolved(x, index.Missing)
		return
	}
	msg, kind := "cannot reach the upstream Docker engine", metrics.ErrorKind(err)
	if errors.Is(err, errBadUpstreamAnswer) || errors.Is(err, upstream.ErrContentEncoding) {
		msg, kind = "the upstream Docker engine sent an answer that cannot be filtered", metrics.KindMalformed
	}
	if kind != "" {
		x.p.metrics.UpstreamError(kind)
	}
	x.audit.set(func(a *audit) { a.reason = err.Error() })
	x.p.logger.Warn("upstream error", "method", r.Method, "path", r.URL.Path, "error", err)
	x.fail(http.StatusBadGateway, msg)
}

// LearnEngineHeaders pings the upstream until it answers once, so the errors
// the proxy writes itself carry the engine's headers from the first request,
// and reads /version for the oldest API version the engine accepts. Later
// upstream answers keep the headers current.
func (p *Proxy) LearnEngineHeaders(ctx context.Context) {
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		if h, err := p.up.Ping(ctx); err == nil {
			p.headers.observe(h)
			if p.headers.apiVersion() != "" {
				if v, err := p.up.MinAPIVersion(ctx); err == nil {
					p.headers.setMinAPI(v)
				}
				p.headers.learnt.Store(true)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// endsWhenHidden is a streamed answer's body that ends cleanly (io.EOF)
// once its container is hidden: the read the cancelled request interrupts
// is the end of the stream, not an error.
type endsWhenHidden struct {
	io.ReadCloser
	hidden <-chan struct{}
}

func (b *endsWhenHidden) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		select {
		case <-b.hidden:
			return n, io.EOF
		default:
		}
	}
	return n, err
}
