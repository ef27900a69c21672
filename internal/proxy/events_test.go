package proxy

// Events replayed from Engine 29.7's captures (FAKE engine: the local
// engine is 20.10) in each framing the client's Accept header selects
// (json-seq, jsonl or the default), one record at a time: the fake sends the
// first visible record and waits for the test to say it arrived before
// sending the rest, so a proxy that buffered would fail the test.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
)

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

// replayRecords sends the records one by one, and waits after the first
// visible one until the test has received it.
func replayRecords(s *fakeengine.Stream, records [][]byte, received <-chan struct{}) {
	for i, rec := range records {
		s.Send(rec)
		if i == firstVisibleRecord(records) {
			select {
			case <-received:
			case <-time.After(5 * time.Second):
				s.End() // the proxy held the record back: the client never saw it
				return
			}
		}
	}
	s.End()
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
	fx := fakeengine.LoadFixture(t, "engine-29.7")
	f := fakeengine.New(t, fakeengine.Options{Fixture: fx, Cases: map[string]fakeengine.Case{"replay": fakeengine.EventStream}})
	streams := map[string]fakeengine.Answer{}
	for mt, name := range map[string]string{"application/json": "events-default", "application/json-seq": "events-json-seq", "application/jsonl": "events-jsonl"} {
		streams[mt] = fx.Answer(t, name)
	}
	cfg, err := config.Load(func(k string) string { return map[string]string{"CONTAINER_LABELS": "homepage"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, f.Host, proxyConfig{filters: cfg.Criteria})
	hiddenIDs := map[string]bool{f.World().Container(t, "db-b").ID: true, f.World().Container(t, "net-hid").ID: true}

	for _, tc := range []struct{ accept string }{{""}, {"application/json-seq"}, {"application/jsonl"}} {
		t.Run("accept "+tc.accept, func(t *testing.T) {
			captured := streams["application/json"]
			if tc.accept != "" {
				captured = streams[tc.accept]
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
			req.Header.Set(fakeengine.CaseHeader, "replay")
			resp, err := p.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			received := make(chan struct{})
			go replayRecords(f.Stream(t), splitRecords(captured.Body), received)
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
			close(received)
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
