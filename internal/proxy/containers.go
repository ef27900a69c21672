package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// Bounds on answers the proxy reads whole.
const (
	maxInspectBody = upstream.MaxLookup // a container inspect answer is a few KiB
	maxErrorBody   = 64 << 10
	// maxBufferedList is how much of a filtered list is held back so that a
	// malformed upstream answer can still become a clean 502; past it the
	// list streams, and a later fault aborts the connection instead.
	maxBufferedList = 4 << 20
)

// serveContainer decides a route with a container reference in its path:
// the ref is resolved among visible containers and the request forwarded
// with the full ID, or answered with the engine's own "No such container".
func (p *Proxy) serveContainer(x *exchange) {
	p.decideContainer(x, true)
}

// decideContainer is serveContainer; mayRetry allows deciding the request
// once more if the engine no longer has the container decided on.
func (p *Proxy) decideContainer(x *exchange, mayRetry bool) {
	r, rt := x.r, &x.rt
	d, err := p.index.Resolve(r.Context(), rt.Ref)
	if err != nil {
		x.lookupFailed(err)
		return
	}
	if d.Outcome != index.Found {
		x.audit.reason = "no visible container"
		if d.Outcome == index.Ambiguous {
			x.audit.reason = "ambiguous among visible containers"
		}
		p.answerUnresolved(x, d.Outcome)
		if d.Outcome != index.Ambiguous {
			x.audit.reason += p.operatorDetail(rt.Ref)
		}
		return
	}
	if p.scrubEnvs && rt.Op() == route.OpContainerTop && psArgsShowEnv(r.URL.Query().Get("ps_args")) {
		// ps runs on the host as root: its BSD "e" option prints each
		// process's environment, around SCRUB_ENVS.
		x.audit.reason = "ps_args would print environments"
		x.fail(http.StatusForbidden, "docker-proxy-filter: SCRUB_ENVS=true: ps_args that print process environments (BSD option e) are not allowed")
		return
	}
	if rt.Op() == route.OpContainerStart && (r.ContentLength != 0 || len(r.TransferEncoding) > 0) {
		// Engine 20.10 still applies a HostConfig sent with start for API
		// versions below 1.24: its container references are checked like
		// a create's.
		if !p.checkStartBody(x) {
			return
		}
	}
	x.audit.decision, x.audit.containerID, x.audit.containerName = decisionAllow, d.ID, d.Name
	op := rt.Op()
	retry := mayRetry && replayable(r)
	f := forward{
		path:     rt.WithRef(d.ID),
		rawQuery: r.URL.RawQuery,
		modify: func(resp *http.Response) error {
			switch {
			case resp.StatusCode == http.StatusNotFound:
				return decidedContainerGone(resp, d.ID, rt.Ref, retry)
			case op == route.OpContainerInspect && resp.StatusCode == http.StatusOK:
				return p.rewriteInspect(resp, d.ID, p.scrubEnvs)
			case op == route.OpContainerStats && resp.StatusCode == http.StatusOK:
				return p.checkStats(resp, d.ID, x.containerStream)
			case op == route.OpContainerExec:
				return p.learnExec(resp, d.ID)
			case op == route.OpContainerWait:
				return p.redactStreamErrors(resp)
			}
			return nil
		},
	}
	if retry {
		f.retry = func() {
			// The container the index decided on is gone: settle it again
			// (polling mode keeps a recreated container's old ID until the
			// next poll) and decide afresh, once.
			if err := p.index.Invalidate(r.Context(), d.ID); err != nil {
				x.lookupFailed(err)
				return
			}
			rewindBody(r)
			p.decideContainer(x, false)
		}
	}
	x.forward(f)
}

// psArgsShowEnv reports whether ps_args, split on spaces as the engine
// splits it, selects the BSD "e" modifier (show environment): an argument
// without a leading dash that contains 'e', such as "aux", no, "auxe" or
// "eww", yes. Dash options ("-ef": every process, full format) do not.
// The value after an option that takes one ("-o pid,user") is not an option
// and is skipped; anything unrecognised with an 'e' is refused.
func psArgsShowEnv(psArgs string) bool {
	takesValue := false
	for _, arg := range strings.Split(psArgs, " ") {
		if arg == "" {
			continue
		}
		if takesValue {
			takesValue = false
			continue
		}
		switch arg {
		case "-o", "-O", "o", "O", "--format", "-C", "-G", "-g", "-U", "-u", "--user", "--group", "-p", "p", "--pid", "-q", "q":
			takesValue = true
			continue
		}
		if arg[0] != '-' && strings.ContainsRune(arg, 'e') {
			return true
		}
	}
	return false
}

// errDecidedContainerGone: the engine answered "No such container" for the
// full ID that was decided; the request can be decided again.
var errDecidedContainerGone = errors.New("the container decided on no longer exists upstream")

// errDecidedContainerHidden: the engine's answer describes the container
// decided on as it is now, hidden (renamed since the decision). The request
// is decided again once, like errDecidedContainerGone, or answered as for a
// missing container.
var errDecidedContainerHidden = errors.New("the container decided on is hidden in the engine's answer")

// decidedContainerGone handles the engine's 404 to a forward by the decided
// ID. When its message is "No such container: <ID>", the container was
// removed between the index's knowledge and the engine's lookup: with
// canRetry the request is decided again (errDecidedContainerGone, which the
// error handler turns into a retry); otherwise the client's ref is put back
// into the message, so the client sees the answer to what it asked.
func decidedContainerGone(resp *http.Response, id, ref string, canRetry bool) error {
	body, err := readErrorBody(resp)
	if err != nil {
		return err
	}
	setBody(resp, body)
	if pe, ok := decodePodmanError(body); ok {
		return decidedPodmanContainerGone(resp, pe, id, ref, canRetry)
	}
	text := string(body)
	json := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
	if json {
		var msg struct {
			Message string `json:"message"`
		}
		if jsonUnmarshal(body, &msg) != nil {
			return nil
		}
		text = msg.Message
	}
	if !strings.Contains(text, noSuchContainer(id)) {
		return nil
	}
	if canRetry {
		return errDecidedContainerGone
	}
	if id == ref {
		return nil
	}
	text = strings.ReplaceAll(text, id, ref)
	if json {
		setBody(resp, errorBody(text))
	} else {
		setBody(resp, []byte(text))
	}
	return nil
}

// readErrorBody reads a (small) error answer in the clear: a gzip-encoded
// one must be decoded before it can be checked, or it would pass unread.
func readErrorBody(resp *http.Response) ([]byte, error) {
	src, err := upstream.PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return nil, errors.Join(errBadUpstreamAnswer, err)
	}
	body, err := io.ReadAll(io.LimitReader(src, maxErrorBody+1))
	src.Close()
	if err != nil || len(body) > maxErrorBody {
		return nil, errors.Join(errBadUpstreamAnswer, err)
	}
	return body, nil
}

// rewriteInspect reads a container inspect answer whole (it is a few KiB),
// checks that it still describes a visible container (id, the one decided
// on, may have been renamed onto a hidden name since), empties Config.Env
// when scrub is set, and replaces hidden containers' IDs the answer may
// name (see redactHexRuns). It goes out with a
// Content-Length, like every answer the proxy rewrites.
func (p *Proxy) rewriteInspect(resp *http.Response, id string, scrub bool) error {
	src, err := upstream.PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return errors.Join(errBadUpstreamAnswer, err)
	}
	defer src.Close()
	body, err := io.ReadAll(io.LimitReader(src, maxInspectBody+1))
	if err != nil {
		return errors.Join(errBadUpstreamAnswer, err)
	}
	if len(body) > maxInspectBody {
		return errors.Join(errBadUpstreamAnswer, errors.New("inspect answer too large"))
	}
	// A visible container can name hidden ones: --volumes-from, --link
	// and --pid/--ipc/--network container:<name or ID>. The same pass
	// reads the answer's name: the answer, not only the decision, must be
	// about a visible container (a rename between the two shows the new,
	// hidden name; labels never change, so a container visible by its
	// labels stays so).
	out, name, err := rewrite.RedactInspectRefsNamed(body, p.index.HiddenRef, hiddenPlaceholder)
	if err != nil {
		return errors.Join(errBadUpstreamAnswer, err)
	}
	if !p.visibleByName(id, name) {
		return errDecidedContainerHidden
	}
	if scrub {
		if out, err = rewrite.ScrubInspectEnv(out); err != nil {
			return errors.Join(errBadUpstreamAnswer, err)
		}
	}
	setBody(resp, p.redactHexRuns(out))
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// setBody replaces an answer's body with b, fixing the framing headers.
func setBody(resp *http.Response, b []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Del("Transfer-Encoding")
	resp.TransferEncoding = nil
}

// serveContainerList forwards GET /containers/json and keeps only visible
// containers in the answer, each element byte-identical to the engine's.
// limit is applied after filtering (so "docker ps -n 3" shows 3 visible
// containers): it is taken out of the upstream query.
func (p *Proxy) serveContainerList(x *exchange) {
	rawQuery, limit := takeLimit(x.r.URL.RawQuery)
	rawQuery, ok := p.listFilters(x, rawQuery)
	if !ok {
		return
	}
	x.audit.decision = decisionFilter
	x.forward(forward{
		path:     x.rt.Path,
		rawQuery: rawQuery,
		modify: func(resp *http.Response) error {
			if resp.StatusCode != http.StatusOK {
				return nil
			}
			return filterAnswer(resp, maxBufferedList, func(dst io.Writer, src io.Reader) error {
				counts, err := rewrite.ContainerList(listElementWriter{p: p, dst: dst}, src, p.vis.ContainerSeq, limit)
				x.audit.set(func(a *audit) { a.kept, a.total, a.counted = counts.Kept, counts.Total, true })
				if counts.Oversized > 0 {
					p.logger.Warn("left containers out of a list: their entries are larger than the proxy holds",
						"count", counts.Oversized, "max_bytes", rewrite.MaxListElement)
				}
				return err
			})
		},
	})
}

// takeLimit removes the limit parameter from a raw query when the engine
// would accept it (an integer, as the engine reads it: the first value), and
// returns it. Everything else in the query is kept byte for byte. An invalid
// limit is left for the engine to reject.
func takeLimit(rawQuery string) (rest string, limit int) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil || len(values["limit"]) == 0 {
		return rawQuery, 0
	}
	first := values["limit"][0]
	if first != "" {
		n, err := strconv.Atoi(first)
		if err != nil {
			return rawQuery, 0
		}
		limit = n
	}
	var kept []string
	for _, pair := range strings.Split(rawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil && k == "limit" {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&"), limit
}

// operatorDetail says, for the audit line only, whether a ref the client
// was told does not exist names a hidden container, so an operator can tell
// a filter that hides too much from a client's typo. It is looked up after
// the answer is written, and the client's answer never depends on it.
func (p *Proxy) operatorDetail(ref string) string {
	if name, hidden := p.index.HeldHidden(ref); hidden {
		return " (hidden container " + name + ")"
	}
	return " (no container by that ref)"
}

// maxStatsRecord bounds one stats record held to read its name (a record
// is a few KiB).
const maxStatsRecord = 1 << 20

// checkStats holds stats answers to what inspect answers are held to: each
// record names its container ("name"), which may have been renamed onto a
// hidden name since the decision. A single record (stream=false) that does
// is decided again like an inspect answer; a stream ends before such a
// record, as it ends when the index learns of the rename.
func (p *Proxy) checkStats(resp *http.Response, id string, stream bool) error {
	check := func(record []byte) (bool, error) {
		name, err := rewrite.InspectName(record)
		if err != nil {
			return false, errors.Join(errBadUpstreamAnswer, err)
		}
		return p.visibleByName(id, name), nil
	}
	if stream {
		resp.Body = &statsRecords{src: resp.Body, br: bufio.NewReader(resp.Body), visible: check}
		return nil
	}
	src, err := upstream.PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return errors.Join(errBadUpstreamAnswer, err)
	}
	defer src.Close()
	body, err := io.ReadAll(io.LimitReader(src, maxStatsRecord+1))
	if err != nil || len(body) > maxStatsRecord {
		return errors.Join(errBadUpstreamAnswer, errors.New("stats answer unreadable or too large"))
	}
	visible, err := check(body)
	if err != nil {
		return err
	}
	if !visible {
		return errDecidedContainerHidden
	}
	setBody(resp, body)
	return nil
}

// statsRecords passes a stats stream on record by record (the engine
// writes one JSON object per line) and ends it, cleanly, before a record
// that names its container by a hidden name.
type statsRecords struct {
	src     io.ReadCloser
	br      *bufio.Reader
	visible func(record []byte) (bool, error)
	pending []byte
	err     error
}

func (s *statsRecords) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		record, err := s.readRecord()
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if err != nil && !bytes.HasSuffix(record, []byte("\n")) {
			// The stream ended inside a record (the container was hidden
			// and the stream cut): end at the last whole record.
			record = nil
		}
		if len(bytes.TrimSpace(record)) > 0 {
			visible, verr := s.visible(record)
			if verr != nil {
				return 0, verr
			}
			if !visible {
				s.err = io.EOF
				return 0, io.EOF
			}
		}
		s.pending, s.err = record, err
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

func (s *statsRecords) Close() error { return s.src.Close() }

// readRecord reads up to and including the next newline, holding at most
// maxStatsRecord bytes.
func (s *statsRecords) readRecord() ([]byte, error) {
	var record []byte
	for {
		chunk, err := s.br.ReadSlice('\n')
		record = append(record, chunk...)
		if len(record) > maxStatsRecord {
			return nil, errors.Join(errBadUpstreamAnswer, errors.New("stats record too large"))
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return record, err
		}
	}
}
