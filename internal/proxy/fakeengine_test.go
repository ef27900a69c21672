package proxy

// Robustness tests (attack catalog G) against the FAKE engine of
// internal/fakeengine: a real engine never sends malformed JSON, gzip, a
// hung answer or a stream cut in the middle, so the test's own requests,
// marked with fakeengine.CaseHeader, get whatever the case asks for, while
// the proxy's index sees an engine holding the default world below. This
// file holds that world and the client side; the tests are in fake_*_test.go.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// fakeMarker is planted in every bad upstream body: it must never reach a
// client.
const fakeMarker = "DPF-RAW-UPSTREAM-MARKER-9c41e7"

// newFakeContainer is a container of the fake engine with an ID derived
// from its name.
func newFakeContainer(name string, labels map[string]string, env ...string) fakeengine.Container {
	return fakeengine.Container{ID: fakeengine.ID("fake-container:" + name), Name: name, Labels: labels, Env: env}
}

// The default world: CONTAINER_LABELS=fake.app shows fake-web and fake-tools
// and hides fake-db.
var (
	fakeWeb   = newFakeContainer("/fake-web", map[string]string{"fake.app": "web"}, "WEB_SECRET=web-"+fakeMarker)
	fakeTools = newFakeContainer("/fake-tools", map[string]string{"fake.app": "tools"})
	fakeDB    = newFakeContainer("/fake-db", map[string]string{"fake.priv": "yes"}, "DB_PASSWORD="+fakeMarker)
)

func fakeWorld() []fakeengine.Container { return []fakeengine.Container{fakeDB, fakeWeb, fakeTools} }

func fakeFilters() match.Criteria {
	return match.Criteria{Labels: []match.Label{{Key: "fake.app"}}}
}

// newFakeEngine starts the fake engine, holding the default world unless o
// says otherwise.
func newFakeEngine(t *testing.T, o fakeengine.Options) *fakeengine.Engine {
	t.Helper()
	if o.World == nil {
		o.World = fakeengine.NewWorld(fakeWorld()...)
	}
	return fakeengine.New(t, o)
}

// fakeCaseRequests returns the requests the fake answered with a case: the
// test's own.
func fakeCaseRequests(f *fakeengine.Engine) []fakeengine.Request {
	var out []fakeengine.Request
	for _, r := range f.Requests() {
		if r.Case != "" {
			out = append(out, r)
		}
	}
	return out
}

// fakeResult is what a client of the proxy observed.
type fakeResult struct {
	Status  int
	Header  http.Header
	Body    []byte
	ReadErr error // error reading the body (a broken answer)
}

// fakeClient talks to the proxy like an SDK would, without transparent gzip
// decoding, so the test sees exactly what the proxy sent.
func fakeClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true},
	}
}

// fakeDo sends one request through the proxy, marked with the fake case.
func fakeDo(t *testing.T, p *testProxy, method, target, fcase string) fakeResult {
	t.Helper()
	res, err := fakeTry(p, method, target, fcase, 30*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return res
}

// fakeTry is fakeDo that returns the request error instead of failing.
func fakeTry(p *testProxy, method, target, fcase string, timeout time.Duration) (fakeResult, error) {
	req, err := http.NewRequest(method, p.URL+target, nil)
	if err != nil {
		return fakeResult{}, err
	}
	if fcase != "" {
		req.Header.Set(fakeengine.CaseHeader, fcase)
	}
	resp, err := fakeClient(timeout).Do(req)
	if err != nil {
		return fakeResult{}, err
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(resp.Body)
	return fakeResult{Status: resp.StatusCode, Header: resp.Header, Body: body, ReadErr: rerr}, nil
}

// assertFakeBadGateway checks the proxy's answer to an upstream answer it
// must not pass on: a 502 in the engine's error format, with the engine's
// headers, exact framing and nothing of the upstream body.
func assertFakeBadGateway(t *testing.T, got fakeResult, api string) {
	t.Helper()
	if got.Status != http.StatusBadGateway || got.ReadErr != nil {
		t.Fatalf("answer = %d (read error %v) %q, want 502", got.Status, got.ReadErr, fakeShort(got.Body))
	}
	if bytes.Contains(got.Body, []byte(fakeMarker)) {
		t.Errorf("502 body %q carries raw upstream bytes (marker %s)", got.Body, fakeMarker)
	}
	var msg map[string]any
	if err := json.Unmarshal(got.Body, &msg); err != nil || len(msg) != 1 || msg["message"] == "" || !bytes.HasSuffix(got.Body, []byte("}\n")) {
		t.Errorf(`502 body = %q, want the engine's {"message":"..."}\n`, got.Body)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("502 Content-Type = %q, want application/json", ct)
	}
	if v := got.Header.Get("Api-Version"); v != api {
		t.Errorf("502 Api-Version = %q, want the engine's %q", v, api)
	}
	if ce := got.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("502 Content-Encoding = %q, want none", ce)
	}
	if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(got.Body)) {
		t.Errorf("502 Content-Length = %q, body has %d bytes", cl, len(got.Body))
	}
}

// fakeShort abbreviates a body for messages.
func fakeShort(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// fakeDiff describes where got and want first differ.
func fakeDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-40, 0)
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d: got %q, want %q",
		len(got), len(want), i, got[lo:min(i+40, len(got))], want[lo:min(i+40, len(want))])
}

func fakeOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// fakeRawAnswer is an answer read off the wire: the header as sent and
// every body byte sent before the connection closed.
type fakeRawAnswer struct {
	Status   int
	Header   http.Header
	Chunked  bool
	Raw      []byte // body bytes exactly as sent (still chunk-framed if chunked)
	Body     []byte // Raw decoded from its chunk framing
	ChunkErr error
}

// fakeRawExchange sends one request with Connection: close and reads the
// proxy's answer to the end of the connection, so a Content-Length that does
// not match the body actually sent shows.
func fakeRawExchange(t *testing.T, p *testProxy, method, target, fcase string) fakeRawAnswer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.Host, "tcp://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n%s: %s\r\n\r\n", method, target, fakeengine.CaseHeader, fcase)
	all, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, target, err)
	}
	headEnd := bytes.Index(all, []byte("\r\n\r\n"))
	if headEnd < 0 {
		t.Fatalf("%s %s: no complete header in %q", method, target, all)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all[:headEnd+4])), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	a := fakeRawAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: all[headEnd+4:]}
	a.Chunked = slices.Contains(resp.TransferEncoding, "chunked")
	a.Body = a.Raw
	if a.Chunked {
		a.Body, a.ChunkErr = io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(a.Raw)))
	}
	return a
}

// fakeDecoded returns an answer's body decoded from gzip if it says so.
func fakeDecoded(t *testing.T, got fakeResult) []byte {
	t.Helper()
	switch ce := strings.ToLower(got.Header.Get("Content-Encoding")); ce {
	case "":
		return got.Body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(got.Body))
		if err != nil {
			t.Fatalf("answer says gzip but is not: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("answer says gzip but is not: %v", err)
		}
		return b
	default:
		t.Fatalf("answer has Content-Encoding %q", ce)
		return nil
	}
}
