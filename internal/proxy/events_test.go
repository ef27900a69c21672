package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
)

// eventsFixtureEngine serves Engine 29.7's captured events in the framing
// the client's Accept header selects (json-seq, jsonl or the default), one
// record at a time: it sends the first record and waits for the test to
// say it arrived before sending the rest, so a proxy that buffered would
// fail the test. Everything else is the fixtureEngine's.
type eventsFixtureEngine struct {
	*fixtureEngine
	streams  map[string]fixtureAnswer // by Accept media type
	received chan struct{}            // the test read the first record
}

func (e *eventsFixtureEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if loc := fakeVersionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	if path != "/events" || r.URL.Query().Get("until") == "" {
		e.fixtureEngine.ServeHTTP(w, r) // the index's own stream and the rest
		return
	}
	a := e.streams["application/json"]
	for _, mt := range []string{"application/json-seq", "application/jsonl"} {
		if strings.Contains(r.Header.Get("Accept"), mt) {
			a = e.streams[mt]
		}
	}
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	records := splitRecords(a.Body)
	for i, rec := range records {
		_, _ = w.Write(rec)
		_ = http.NewResponseController(w).Flush()
		if i == firstVisibleRecord(records) {
			select {
			case <-e.received:
			case <-time.After(5 * time.Second):
				return // the proxy held the record back: the client never saw it
			}
		}
	}
}

// splitRecords cuts a captured stream after each newline (json-seq records
// start with 0x1E and end with a newline too).
func splitRecords(body []byte) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			out = append(out, body)
			break
		}
		out = append(out, body[:i+1])
		body = body[i+1:]
	}
	return out
}

// recordEvent decodes one record (json-seq separator allowed).
func recordEvent(rec []byte) (typ, name string, attrs map[string]string) {
	var ev struct {
		Type  string
		Actor struct{ Attributes map[string]string }
	}
	_ = json.Unmarshal(bytes.TrimLeft(rec, "\x1e"), &ev)
	return ev.Type, ev.Actor.Attributes["name"], ev.Actor.Attributes
}

// visibleInCapture says whether a captured event concerns a visible
// container (web-a, stopped-c, net-vis) or no container at all.
func visibleInCapture(rec []byte) bool {
	typ, name, attrs := recordEvent(rec)
	switch typ {
	case "container":
		return strings.HasPrefix(name, "web-a") || strings.HasPrefix(name, "stopped-c") || name == "net-vis"
	case "network":
		if c := attrs["container"]; c != "" {
			return false // decided in the test by ID below
		}
	}
	return true
}

func firstVisibleRecord(records [][]byte) int {
	for i, rec := range records {
		if typ, name, _ := recordEvent(rec); typ == "container" && strings.HasPrefix(name, "web-a") {
			return i
		}
	}
	return 0
}

func TestFixtureEventsKeepFramingAndFlushEachEvent(t *testing.T) {
	fx := newFixtureEngine(t, "engine-29.7", nil)
	e := &eventsFixtureEngine{fixtureEngine: fx, streams: map[string]fixtureAnswer{}}
	for mt, name := range map[string]string{"application/json": "events-default", "application/json-seq": "events-json-seq", "application/jsonl": "events-jsonl"} {
		e.streams[mt] = readFixture(t, "engine-29.7", name)
	}
	sockDir, err := os.MkdirTemp("", "dpf-ev-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	l, err := net.Listen("unix", filepath.Join(sockDir, "e.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	host := "unix://" + l.Addr().String()

	cfg, err := config.Load(func(k string) string { return map[string]string{"CONTAINER_LABELS": "homepage"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, host, proxyConfig{filters: cfg.Criteria})
	hiddenIDs := map[string]bool{fx.container("db-b").ID: true, fx.container("net-hid").ID: true}

	for _, tc := range []struct{ accept string }{{""}, {"application/json-seq"}, {"application/jsonl"}} {
		t.Run("accept "+tc.accept, func(t *testing.T) {
			e.received = make(chan struct{})
			captured := e.streams["application/json"]
			if tc.accept != "" {
				captured = e.streams[tc.accept]
			}
			var want bytes.Buffer
			for _, rec := range splitRecords(captured.Body) {
				typ, _, attrs := recordEvent(rec)
				keep := visibleInCapture(rec)
				if typ == "network" && attrs["container"] != "" {
					keep = !hiddenIDs[attrs["container"]]
				}
				if keep {
					want.Write(rec)
				}
			}

			if !bytes.Contains(captured.Body, []byte("db-b")) || !strings.Contains(want.String(), "web-a") || want.Len() >= len(captured.Body) {
				t.Fatal("test premise: the capture has hidden and visible events")
			}
			req, _ := http.NewRequest("GET", p.URL+"/events?since=0&until=9999999999", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := p.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != captured.Header.Get("Content-Type") {
				t.Errorf("Content-Type = %q, want the engine's %q", ct, captured.Header.Get("Content-Type"))
			}
			// The first visible event must arrive while the engine waits.
			br := bufio.NewReader(resp.Body)
			var got bytes.Buffer
			deadline := time.Now().Add(3 * time.Second)
			for !strings.Contains(got.String(), `"name":"web-a"`) {
				if time.Now().After(deadline) {
					t.Fatalf("the first visible event did not arrive while the engine held the stream: got %q", got.String())
				}
				line, err := br.ReadBytes('\n')
				got.Write(line)
				if err != nil {
					t.Fatalf("stream ended early: %v (got %q)", err, got.String())
				}
			}
			close(e.received)
			rest, _ := io.ReadAll(br)
			got.Write(rest)

			if got.String() != want.String() {
				t.Errorf("events through the proxy differ from the engine's visible records:\n got %q\nwant %q", got.String(), want.String())
			}
			for _, secret := range []string{"db-b", "net-hid", "topsecret", "s3cret", "com.example.tier"} {
				if strings.Contains(got.String(), secret) {
					t.Errorf("events through the proxy mention %q", secret)
				}
			}
		})
	}
}
