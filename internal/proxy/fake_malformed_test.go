package proxy

// Upstream answers no engine sends, and what the proxy makes of them: lists
// and inspect answers that are malformed, cut, huge or framed oddly (FAKE
// engine, see fakeengine_test.go).

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
)

// TestFakeEngineMalformedListIsBadGateway: a list answer the proxy cannot
// filter becomes a clean 502, never a byte of the raw answer (catalog 42).
func TestFakeEngineMalformedListIsBadGateway(t *testing.T) {
	leak := `,"Leak":"` + fakeMarker + `"`
	vis := fakeengine.Element(fakeWeb, leak)
	vis2 := fakeengine.Element(fakeTools, leak)
	gz := func(s string) []byte { return fakeengine.Gzip([]byte(s)) }
	valid := fakeengine.List(vis, vis2)
	cases := []struct {
		name   string
		answer fakeengine.Answer
	}{
		{"syntax error in an element", fakeengine.Answer{Body: []byte(`[` + vis + `,{"Id":"x","Names":["/fake-x"],"Labels":{"fake.app":"x"}` + leak + ` "oops"}]` + "\n")}},
		{"syntax error chunked", fakeengine.Answer{Chunked: true, Body: []byte(`[` + vis + `,{"Id":` + fakeMarker + `}]` + "\n")}},
		{"truncated mid-element", fakeengine.Answer{Body: []byte(`[` + vis + `,{"Id":"x","Names":["/fake-x"],"Labels":{"fake.app":"x"},"Leak":"` + fakeMarker)}},
		{"truncated mid-element chunked", fakeengine.Answer{Chunked: true, Body: []byte(`[` + vis + `,{"Id":"x","Names":["/fake-x"],"Leak":"` + fakeMarker)}},
		{"truncated after an element", fakeengine.Answer{Body: []byte(`[` + vis)}},
		{"truncated after a comma", fakeengine.Answer{Body: []byte(`[` + vis + `,`)}},
		{"open bracket only", fakeengine.Answer{Body: []byte(`[`)}},
		{"empty body", fakeengine.Answer{Body: nil}},
		{"whitespace only", fakeengine.Answer{Body: []byte(" \n")}},
		{"null", fakeengine.Answer{Body: []byte("null\n")}},
		{"empty object", fakeengine.Answer{Body: []byte("{}\n")}},
		{"object instead of list", fakeengine.Answer{Body: []byte(`{"Leak":"` + fakeMarker + `"}` + "\n")}},
		{"string instead of list", fakeengine.Answer{Body: []byte(`"` + fakeMarker + `"`)}},
		{"trailing garbage", fakeengine.Answer{Body: []byte(fakeengine.List(vis) + fakeMarker)}},
		{"trailing garbage chunked", fakeengine.Answer{Chunked: true, Body: []byte(fakeengine.List(vis) + fakeMarker)}},
		{"second array", fakeengine.Answer{Body: []byte(`[` + vis + `][` + vis2 + `]`)}},
		{"element is a string", fakeengine.Answer{Body: []byte(`[` + vis + `,"` + fakeMarker + `"]`)}},
		{"element is a number", fakeengine.Answer{Body: []byte(`[` + vis + `,1]`)}},
		{"element is null", fakeengine.Answer{Body: []byte(`[` + vis + `,null]`)}},
		{"element is an array", fakeengine.Answer{Body: []byte(`[[` + vis + `]]`)}},
		{"unterminated string element", fakeengine.Answer{Body: []byte(`[` + vis + `,"` + fakeMarker)}},
		{"Names not an array", fakeengine.Answer{Body: []byte(`[{"Id":"x","Names":"/fake-web","Labels":{"fake.app":"web"}` + leak + `}]`)}},
		{"Labels value not a string", fakeengine.Answer{Body: []byte(`[{"Id":"x","Names":["/fake-web"],"Labels":{"fake.app":1}` + leak + `}]`)}},
		{"Labels not an object", fakeengine.Answer{Body: []byte(`[{"Id":"x","Names":["/fake-web"],"Labels":["fake.app"]` + leak + `}]`)}},
		{"gzip header on plain JSON", fakeengine.Answer{Encoding: "gzip", Body: []byte(valid)}},
		{"gzip stream truncated", fakeengine.Answer{Encoding: "gzip", Body: gz(valid)[:len(gz(valid))-12]}},
		{"gzip of malformed JSON", fakeengine.Answer{Encoding: "gzip", Body: gz(`[` + vis + `,"` + fakeMarker)}},
		{"gzip of trailing garbage", fakeengine.Answer{Encoding: "gzip", Chunked: true, Body: gz(valid + fakeMarker)}},
		{"unsupported content encoding", fakeengine.Answer{Encoding: "br", Body: []byte(valid)}},
		{"double content encoding", fakeengine.Answer{Encoding: "gzip, gzip", Body: fakeengine.Gzip(gz(valid))}},
		{"connection dropped mid-body", fakeengine.Answer{Body: []byte(valid), CutAfter: len(valid) / 2}},
	}
	fcases := map[string]fakeengine.Case{"valid": fakeengine.Answer{Body: []byte(valid)}.Serve}
	for _, c := range cases {
		fcases[c.name] = c.answer.Serve
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/json?all=1", c.name)
			assertFakeBadGateway(t, got, f.API)
		})
	}
	// The proxy is not poisoned by bad answers: a good one still filters.
	got := fakeDo(t, p, "GET", "/v1.41/containers/json?all=1", "valid")
	if got.Status != http.StatusOK || string(got.Body) != valid {
		t.Errorf("valid list after bad ones = %d %q, want 200 %q", got.Status, fakeShort(got.Body), valid)
	}
}

// fakeBigList builds a list of n elements of about size bytes each; every
// visibleEvery-th element is visible (label fake.app). It returns the
// element texts and which are visible.
func fakeBigList(n, size, visibleEvery int) (elems []string, visible []bool) {
	pad := strings.Repeat("x", size)
	for i := range n {
		label := `"fake.priv":"yes"`
		vis := i%visibleEvery == 0
		if vis {
			label = `"fake.app":"big"`
		}
		is := strconv.Itoa(i)
		// Escapes, odd spacing and number forms a re-encoder would change.
		elems = append(elems, `{"Id":"`+fmt.Sprintf("%064x", i+1)+`","Names":["/big-`+is+`"],"Image":"fake:latest","Labels":{`+
			label+`,"idx":"`+is+`"},"State":"running","Note":"caf\u00e9 \/ \"`+is+`\"","Num":1.50e+02, "Pad":"`+pad+`"}`)
		visible = append(visible, vis)
	}
	return elems, visible
}

func fakeKept(elems []string, visible []bool) []string {
	var kept []string
	for i, e := range elems {
		if visible[i] {
			kept = append(kept, e)
		}
	}
	return kept
}

// TestFakeEngineLargeListStreams: a 10,000+ element list (about 20 MB)
// passes, kept elements byte-identical; past the proxy's buffer it streams.
func TestFakeEngineLargeListStreams(t *testing.T) {
	elems, visible := fakeBigList(10000, 1400, 3)
	body := []byte(fakeengine.List(elems...))
	kept := fakeKept(elems, visible)
	want := []byte(fakeengine.List(kept...))
	f := newFakeEngine(t, fakeengine.Options{Cases: map[string]fakeengine.Case{
		"big":              fakeengine.Answer{Body: body}.Serve,
		"big gzip chunked": fakeengine.Answer{Body: fakeengine.Gzip(body), Encoding: "gzip", Chunked: true}.Serve,
	}})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	t.Logf("upstream list: %d elements, %d bytes; %d kept, %d bytes", len(elems), len(body), len(kept), len(want))

	for _, name := range []string{"big", "big gzip chunked"} {
		t.Run(name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/json?all=1", name)
			if got.Status != http.StatusOK || got.ReadErr != nil {
				t.Fatalf("answer = %d (read error %v), want a complete 200", got.Status, got.ReadErr)
			}
			if !bytes.Equal(got.Body, want) {
				t.Fatalf("filtered list differs from the kept elements: %s", fakeDiff(got.Body, want))
			}
			if n := bytes.Count(got.Body, []byte(`"Names":["/big-`)); n != len(kept) {
				t.Errorf("answer holds %d elements, want %d", n, len(kept))
			}
			if cl := got.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got.Body)) {
				t.Errorf("Content-Length = %s, body has %d bytes", cl, len(got.Body))
			}
			if ce := got.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding = %q on a decoded answer", ce)
			}
		})
	}
}

// TestFakeEngineLargeListMalformedTail: a big list that goes bad late must
// never reach the client as a complete, well-formed 200 (catalog 42): small
// kept output becomes a 502, output past the buffer is cut off.
func TestFakeEngineLargeListMalformedTail(t *testing.T) {
	// 4.5 MB, all kept: past the proxy's 4 MiB buffer, so it streams.
	allVis, _ := fakeBigList(2800, 1400, 1)
	fewVis, fewVisFlags := fakeBigList(2800, 1400, 10)
	leak := fakeengine.Element(fakeengine.Container{ID: "bad", Name: "/fake-bad", Labels: map[string]string{"fake.app": "x"}}, `,"Leak":"`+fakeMarker+`"`)
	head := func(elems []string) string { return "[" + strings.Join(elems, ",") }

	cases := []struct {
		name      string
		answer    fakeengine.Answer
		keptElems []string // the valid output the proxy may have streamed a prefix of
		streams   bool     // kept output exceeds the proxy's buffer
	}{
		{"syntax error at the tail, streamed", fakeengine.Answer{Chunked: true, Body: []byte(head(allVis) + `,{"Id":"` + fakeMarker + `" oops}]` + "\n")}, allVis, true},
		{"truncated tail element, streamed", fakeengine.Answer{Body: []byte(head(allVis) + `,` + leak[:len(leak)-5])}, allVis, true},
		{"trailing garbage, streamed", fakeengine.Answer{Chunked: true, Body: []byte(fakeengine.List(allVis...) + fakeMarker)}, allVis, true},
		{"connection dropped, streamed", fakeengine.Answer{Body: []byte(fakeengine.List(allVis...)), CutAfter: len(fakeengine.List(allVis...)) - 1000}, allVis, true},
		{"gzip truncated, streamed", fakeengine.Answer{Encoding: "gzip", Body: func() []byte { z := fakeengine.Gzip([]byte(fakeengine.List(allVis...))); return z[:len(z)-100] }()}, allVis, true},
		{"syntax error at the tail, buffered", fakeengine.Answer{Chunked: true, Body: []byte(head(fewVis) + `,{"Id":"` + fakeMarker + `" oops}]`)}, fakeKept(fewVis, fewVisFlags), false},
		{"truncated tail element, buffered", fakeengine.Answer{Body: []byte(head(fewVis) + `,` + leak[:len(leak)-5])}, fakeKept(fewVis, fewVisFlags), false},
		{"connection dropped, buffered", fakeengine.Answer{Body: []byte(fakeengine.List(fewVis...)), CutAfter: len(fakeengine.List(fewVis...)) - 1000}, fakeKept(fewVis, fewVisFlags), false},
	}
	fcases := map[string]fakeengine.Case{}
	for _, c := range cases {
		fcases[c.name] = c.answer.Serve
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/json?all=1", c.name)
			if bytes.Contains(got.Body, []byte(fakeMarker)) {
				t.Errorf("answer carries raw bad upstream bytes (marker %s)", fakeMarker)
			}
			if !c.streams {
				assertFakeBadGateway(t, got, f.API)
				return
			}
			if got.Status == http.StatusOK && got.ReadErr == nil {
				t.Fatalf("client received a complete 200 answer (%d bytes, Content-Length %q) for a malformed upstream list; want the connection aborted",
					len(got.Body), got.Header.Get("Content-Length"))
			}
			if got.Status == http.StatusBadGateway {
				assertFakeBadGateway(t, got, f.API)
				return
			}
			// Aborted mid-stream: what did arrive is a prefix of the valid
			// kept elements, byte for byte.
			t.Logf("aborted after %d bytes: %v", len(got.Body), got.ReadErr)
			valid := []byte(fakeengine.List(c.keptElems...))
			if !bytes.HasPrefix(valid, got.Body) {
				t.Errorf("streamed part is not a prefix of the kept elements: %s", fakeDiff(got.Body, valid))
			}
			if got.Header.Get("Content-Length") != "" {
				t.Errorf("streamed answer declares Content-Length %s", got.Header.Get("Content-Length"))
			}
		})
	}
}

// TestFakeEngineScrubEnvsOddInspectAnswers: SCRUB_ENVS on inspect answers a
// real engine would not send (catalog 41).
func TestFakeEngineScrubEnvsOddInspectAnswers(t *testing.T) {
	id := fakeWeb.ID
	secret := `["S=` + fakeMarker + `"]`
	cases := []struct {
		name   string
		answer fakeengine.Answer
		want   string // "" means a 502
		status int    // of the answer; 0 means 200
	}{
		{"truncated", fakeengine.Answer{Body: []byte(`{"Id":"` + id + `","Config":{"Env":` + secret)}, "", 0},
		{"truncated chunked", fakeengine.Answer{Chunked: true, Body: []byte(`{"Id":"` + id + `","Config":{"Env":["S=` + fakeMarker)}, "", 0},
		{"syntax error", fakeengine.Answer{Body: []byte(`{"Id":"` + id + `","Config":{"Env":` + secret + ` "x"}}`)}, "", 0},
		{"trailing garbage", fakeengine.Answer{Body: []byte(`{"Config":{"Env":` + secret + `}}` + "\n" + fakeMarker)}, "", 0},
		{"two objects", fakeengine.Answer{Body: []byte(`{"Config":{"Env":[]}}{"Config":{"Env":` + secret + `}}`)}, "", 0},
		{"array", fakeengine.Answer{Body: []byte(`[{"Config":{"Env":` + secret + `}}]`)}, "", 0},
		{"null", fakeengine.Answer{Body: []byte("null\n")}, "", 0},
		{"empty", fakeengine.Answer{Body: nil}, "", 0},
		{"not gzip", fakeengine.Answer{Encoding: "gzip", Body: []byte(`{"Config":{"Env":` + secret + `}}`)}, "", 0},
		{"connection dropped", fakeengine.Answer{Body: []byte(`{"Config":{"Env":` + secret + `},"Pad":"` + strings.Repeat("p", 4000) + `"}`), CutAfter: 100}, "", 0},

		{"Config null passes unchanged", fakeengine.Answer{Body: []byte(`{"Id":"` + id + `","Config":null,"Env":["TOP=level"]}` + "\n")}, `{"Id":"` + id + `","Config":null,"Env":["TOP=level"]}` + "\n", 0},
		{"no Config passes unchanged", fakeengine.Answer{Body: []byte(`{"Id":"` + id + `"}` + "\n")}, `{"Id":"` + id + `"}` + "\n", 0},
		{"Config a string passes unchanged", fakeengine.Answer{Body: []byte(`{"Config":"Env"}`)}, `{"Config":"Env"}`, 0},
		{"lower-case config and ENV", fakeengine.Answer{Body: []byte(`{"Id":"x","config":{"Image":"i","ENV":` + secret + `,"Tty":false}}` + "\n")}, `{"Id":"x","config":{"Image":"i","ENV":[],"Tty":false}}` + "\n", 0},
		{"escaped keys", fakeengine.Answer{Body: []byte(`{"Con\u0066ig":{"\u0045nv":` + secret + `}}`)}, `{"Con\u0066ig":{"\u0045nv":[]}}`, 0},
		{"duplicate Config and Env", fakeengine.Answer{Body: []byte(`{"Config":{"Env":` + secret + `,"env":` + secret + `},"CONFIG":{"Env":` + secret + `}}`)}, `{"Config":{"Env":[],"env":[]},"CONFIG":{"Env":[]}}`, 0},
		{"Env not an array", fakeengine.Answer{Body: []byte(`{"Config":{"Env":"S=` + fakeMarker + `"}}`)}, `{"Config":{"Env":[]}}`, 0},
		{"Env object", fakeengine.Answer{Body: []byte(`{"Config":{"Env":{"S":"` + fakeMarker + `"}}}`)}, `{"Config":{"Env":[]}}`, 0},
		{"nested Env untouched", fakeengine.Answer{Body: []byte(`{"Config":{"Labels":{"Env":"keep"},"Env":` + secret + `},"Mounts":[{"Env":"keep"}]}`)}, `{"Config":{"Labels":{"Env":"keep"},"Env":[]},"Mounts":[{"Env":"keep"}]}`, 0},
		{"whitespace kept", fakeengine.Answer{Chunked: true, Body: []byte("{ \"Config\" : { \"Env\" : " + secret + " , \"X\" : 1 } }\n")}, "{ \"Config\" : { \"Env\" : [] , \"X\" : 1 } }\n", 0},
		{"error answer passes unchanged", fakeengine.Answer{Status: 500, Body: []byte(`{"message":"boom"}` + "\n")}, `{"message":"boom"}` + "\n", 500},
	}
	fcases := map[string]fakeengine.Case{}
	for _, c := range cases {
		fcases[c.name] = c.answer.Serve
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fakeDo(t, p, "GET", "/containers/fake-web/json", c.name)
			if c.want == "" {
				assertFakeBadGateway(t, got, f.API)
				return
			}
			status := fakeOr(c.status, http.StatusOK)
			if got.Status != status || got.ReadErr != nil || string(got.Body) != c.want {
				t.Errorf("answer = %d (read error %v) %q, want %d %q", got.Status, got.ReadErr, got.Body, status, c.want)
			}
			if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(got.Body)) {
				t.Errorf("Content-Length = %q, body has %d bytes", cl, len(got.Body))
			}
		})
	}
	// The index's view and the request path agree: the fake saw the full ID.
	for _, r := range fakeCaseRequests(f) {
		if r.Path != "/containers/"+id+"/json" {
			t.Errorf("inspect forwarded as %s %s, want the full ID path", r.Method, r.Path)
		}
	}
}

// TestFakeEngineContentLengthMatchesFilteredBody: every answer the proxy
// rewrites declares the length of what it actually sends (catalog 47).
func TestFakeEngineContentLengthMatchesFilteredBody(t *testing.T) {
	hidden := fakeengine.Element(fakeDB, `,"Secret":"`+fakeMarker+`"`)
	web := fakeengine.Element(fakeWeb, "")
	tools := fakeengine.Element(fakeTools, "")
	list := fakeengine.List(hidden, web, hidden, tools, hidden)
	inspect := `{"Id":"` + fakeWeb.ID + `","Config":{"Env":["A=` + strings.Repeat("s", 500) + `"]}}` + "\n"
	scrubbed := `{"Id":"` + fakeWeb.ID + `","Config":{"Env":[]}}` + "\n"
	gone := `{"message":"No such container: ` + fakeWeb.ID + `"}` + "\n"

	cases := []struct {
		name, target string
		answer       fakeengine.Answer
		want         string
		status       int
	}{
		{"list, upstream Content-Length", "/containers/json?all=1", fakeengine.Answer{Body: []byte(list)}, fakeengine.List(web, tools), 200},
		{"list, upstream chunked", "/containers/json?all=1", fakeengine.Answer{Chunked: true, Body: []byte(list)}, fakeengine.List(web, tools), 200},
		{"list, gzip", "/containers/json?all=1", fakeengine.Answer{Encoding: "gzip", Body: fakeengine.Gzip([]byte(list))}, fakeengine.List(web, tools), 200},
		{"list, limit", "/containers/json?all=1&limit=1", fakeengine.Answer{Body: []byte(list)}, fakeengine.List(web), 200},
		{"list, nothing kept", "/containers/json?all=1", fakeengine.Answer{Body: []byte(fakeengine.List(hidden, hidden))}, "[]\n", 200},
		{"inspect scrubbed", "/containers/fake-web/json", fakeengine.Answer{Body: []byte(inspect)}, scrubbed, 200},
		{"inspect scrubbed, chunked", "/containers/fake-web/json", fakeengine.Answer{Chunked: true, Body: []byte(inspect)}, scrubbed, 200},
		{"inspect scrubbed, gzip", "/containers/fake-web/json", fakeengine.Answer{Encoding: "gzip", Body: fakeengine.Gzip([]byte(inspect))}, scrubbed, 200},
		// The container went away between the decision and the forward:
		// the engine's message names the full ID, the client asked by name.
		{"inspect of a container just removed", "/containers/fake-web/json", fakeengine.Answer{Status: 404, Body: []byte(gone)}, `{"message":"No such container: fake-web"}` + "\n", 404},
		{"kill of a container just removed", "/containers/fake-web/kill", fakeengine.Answer{Status: 404, Body: []byte(gone)}, `{"message":"No such container: fake-web"}` + "\n", 404},
	}
	fcases := map[string]fakeengine.Case{}
	for _, c := range cases {
		fcases[c.name] = c.answer.Serve
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "GET"
			if strings.HasSuffix(c.target, "/kill") {
				method = "POST"
			}
			got := fakeRawExchange(t, p, method, c.target, c.name)
			if got.Status != c.status || string(got.Body) != c.want {
				t.Errorf("answer = %d %q, want %d %q", got.Status, got.Body, c.status, c.want)
			}
			cl := got.Header.Get("Content-Length")
			switch {
			case got.Chunked && cl != "":
				t.Errorf("answer is chunked and declares Content-Length %s", cl)
			case got.Chunked:
				if got.ChunkErr != nil {
					t.Errorf("chunked body broken: %v", got.ChunkErr)
				}
			case cl != strconv.Itoa(len(got.Raw)):
				t.Errorf("Content-Length = %q, body actually sent has %d bytes", cl, len(got.Raw))
			}
			if ce := got.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding = %q on a rewritten answer", ce)
			}
		})
	}
}
