package proxy

// An upstream that hangs, or ends a stream mid-way: what the proxy does
// about it (FAKE engine, see fakeengine_test.go).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
)

// TestFakeEngineHungUpstream: an upstream that accepts a request and never
// answers holds only that request; the client's cancellation reaches the
// upstream and the proxy keeps serving (catalog 45).
func TestFakeEngineHungUpstream(t *testing.T) {
	cases := []struct {
		name, method, target string
	}{
		{"version, no head", "GET", "/version"},
		{"info, head only", "GET", "/info"},
		{"inspect, no head", "GET", "/containers/fake-web/json"},
		{"inspect scrubbed, head only", "GET", "/containers/fake-web/json"},
		{"inspect scrubbed, partial body", "GET", "/containers/fake-web/json"},
		{"logs follow, head only", "GET", "/containers/fake-web/logs?follow=1&stdout=1"},
		{"stop, no head", "POST", "/containers/fake-tools/stop?t=600"},
		{"list, no head", "GET", "/containers/json?all=1"},
		{"list, head only", "GET", "/containers/json?all=1"},
		{"list, partial body", "GET", "/containers/json?all=1"},
	}
	fcases := map[string]fakeengine.Case{}
	for _, c := range cases {
		var partial string
		if strings.Contains(c.name, "partial") {
			partial = `[` + fakeengine.Element(fakeWeb, "") + `,{"Id":`
			if strings.HasPrefix(c.name, "inspect") {
				partial = `{"Id":"` + fakeWeb.ID + `","Config":{"Env":["S=`
			}
		}
		fcases[c.name] = fakeengine.Hang(!strings.Contains(c.name, "no head"), partial)
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: true})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			res, err := fakeTry(p, c.method, c.target, c.name, 150*time.Millisecond)
			if err == nil && res.ReadErr == nil {
				t.Fatalf("answer = %d %q from a hung upstream, want the client's timeout", res.Status, res.Body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("client timeout took %v", d)
			}
			select {
			case name := <-f.Ended():
				if name != c.name {
					t.Errorf("upstream request %q ended, want %q", name, c.name)
				}
			case <-time.After(3 * time.Second):
				t.Errorf("the upstream request was not cancelled after the client gave up")
			}
			// The proxy still serves others.
			ping := fakeDo(t, p, "GET", "/_ping", "")
			if ping.Status != http.StatusOK || string(ping.Body) != "OK" {
				t.Errorf("/_ping after the hang = %d %q, want 200 OK", ping.Status, ping.Body)
			}
		})
	}
	// The index's catch-up for an unknown ref hangs upstream: the client
	// gives up, and requests the index answers alone are not held up.
	t.Run("index lookup hangs", func(t *testing.T) {
		f.HangNewest(true)
		defer f.HangNewest(false)
		if _, err := fakeTry(p, "GET", "/containers/never-seen/json", "", 150*time.Millisecond); err == nil {
			t.Fatal("inspect never-seen answered while the index's catch-up hangs")
		}
		start := time.Now()
		for _, ref := range []string{"fake-web", fakeTools.ID[:12]} {
			got := fakeDo(t, p, "GET", "/containers/"+ref+"/json", "")
			if got.Status != http.StatusOK {
				t.Errorf("inspect %s while a lookup hangs = %d %q, want 200", ref, got.Status, got.Body)
			}
		}
		if got := fakeDo(t, p, "GET", "/containers/json", ""); got.Status != http.StatusOK {
			t.Errorf("list while a lookup hangs = %d %q, want 200", got.Status, got.Body)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("requests took %v while an unrelated lookup hangs", d)
		}
	})
	// Many concurrent hung requests do not block the proxy either.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _ = fakeTry(p, "GET", "/version", "version, no head", 500*time.Millisecond) })
	}
	time.Sleep(100 * time.Millisecond)
	res, err := fakeTry(p, "GET", "/containers/json", "", 5*time.Second)
	if err != nil || res.Status != http.StatusOK {
		t.Errorf("list while 20 requests hang = %v %v, want 200", res.Status, err)
	}
	wg.Wait()
}

// TestFakeEngineEventsStreamEndsWithUpstream: when the upstream ends an
// events stream mid-way (engine restart), the client's stream ends too, and
// what was sent before arrives at once (catalog 44, 46).
func TestFakeEngineEventsStreamEndsWithUpstream(t *testing.T) {
	ev := func(i int) string {
		return fmt.Sprintf(`{"Type":"container","Action":"start","Actor":{"ID":"%s","Attributes":{"fake.app":"web","name":"fake-web"}},"scope":"local","time":%d,"timeNano":%d000000000}`+"\n", fakeWeb.ID, 1700000000+i, 1700000000+i)
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: map[string]fakeengine.Case{
		"ends":   fakeengine.EventStream,
		"breaks": fakeengine.EventStream,
	}})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})

	for _, name := range []string{"ends", "breaks"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D", nil)
			req.Header.Set(fakeengine.CaseHeader, name)
			start := time.Now()
			resp, err := fakeClient(0).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			upstream := f.Stream(t)
			upstream.Send([]byte(ev(1)))
			br := bufio.NewReader(resp.Body)
			first, err := br.ReadString('\n')
			if err != nil || first != ev(1) {
				t.Fatalf("first event = %q, %v; want %q (flushed while the upstream stream is still open)", first, err, ev(1))
			}
			// The upstream writes the second event only once the client has
			// read the first: a proxy that held the stream back would fail
			// the read above.
			upstream.Send([]byte(ev(2)))
			if name == "breaks" {
				upstream.Break() // no terminating chunk: the engine died
			} else {
				upstream.End()
			}
			rest, err := io.ReadAll(br)
			if ctx.Err() != nil {
				t.Fatalf("client stream still open %v after the upstream ended it", time.Since(start))
			}
			if string(rest) != ev(2) {
				t.Errorf("rest of the stream = %q, want %q", rest, ev(2))
			}
			if name == "ends" && err != nil {
				t.Errorf("cleanly ended upstream stream ended with %v at the client", err)
			}
			t.Logf("stream ended after %v with %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}
