package metrics

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIndexState(t *testing.T) {
	tests := []struct {
		name   string
		states []string // applied in order; nil: never set
		want   map[string]float64
	}{
		{"starts syncing", nil, map[string]float64{"syncing": 1, "live": 0, "polling": 0}},
		{"live", []string{"live"}, map[string]float64{"syncing": 0, "live": 1, "polling": 0}},
		{"live then lost", []string{"live", "syncing"}, map[string]float64{"syncing": 1, "live": 0, "polling": 0}},
		{"polling", []string{"syncing", "polling"}, map[string]float64{"syncing": 0, "live": 0, "polling": 1}},
		{"unknown state sets none", []string{"live", "weird"}, map[string]float64{"syncing": 0, "live": 0, "polling": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			for _, st := range tt.states {
				m.SetIndexState(st)
			}
			s := scrape(t, m)
			for st, want := range tt.want {
				if got := s.value(t, "docker_proxy_filter_index_state", map[string]string{"state": st}); got != want {
					t.Errorf("index_state{state=%q} = %v, want %v", st, got, want)
				}
			}
			if got := s.series("docker_proxy_filter_index_state"); got != 3 {
				t.Errorf("index_state has %d series, want 3", got)
			}
		})
	}
}

func TestIndexCounters(t *testing.T) {
	m := New()
	s := scrape(t, m)
	// Present at zero before anything happens, so rate() and alerts work
	// from the first scrape.
	for _, r := range []string{"start", "reconnect", "poll", "other"} {
		if got := s.value(t, "docker_proxy_filter_index_resyncs_total", map[string]string{"reason": r}); got != 0 {
			t.Errorf("fresh index_resyncs_total{reason=%q} = %v, want 0", r, got)
		}
	}

	m.SetContainers(3, 40)
	m.SetContainers(5, 42) // the last call wins
	m.Resync(ResyncStart)
	m.Resync(ResyncReconnect)
	m.Resync(ResyncReconnect)
	m.Resync("cosmic ray")
	m.EventsDelivered(7)
	m.EventsDelivered(0)
	m.EventsDelivered(-3) // ignored: counters only go up
	m.EventsDropped(11)
	s = scrape(t, m)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"docker_proxy_filter_containers", map[string]string{"visibility": "visible"}, 5},
		{"docker_proxy_filter_containers", map[string]string{"visibility": "hidden"}, 42},
		{"docker_proxy_filter_index_resyncs_total", map[string]string{"reason": "start"}, 1},
		{"docker_proxy_filter_index_resyncs_total", map[string]string{"reason": "reconnect"}, 2},
		{"docker_proxy_filter_index_resyncs_total", map[string]string{"reason": "poll"}, 0},
		{"docker_proxy_filter_index_resyncs_total", map[string]string{"reason": "other"}, 1},
		{"docker_proxy_filter_events_delivered_total", nil, 7},
		{"docker_proxy_filter_events_dropped_total", nil, 11},
	}
	for _, c := range checks {
		if got := s.value(t, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestUpstreamError(t *testing.T) {
	m := New()
	for _, k := range []string{KindConnect, KindConnect, KindTLS, KindMalformed, "bogus", ""} {
		m.UpstreamError(k)
	}
	s := scrape(t, m)
	want := map[string]float64{"connect": 2, "timeout": 0, "tls": 1, "malformed": 1, "stream": 0, "other": 2}
	for k, w := range want {
		if got := s.value(t, "docker_proxy_filter_upstream_errors_total", map[string]string{"kind": k}); got != w {
			t.Errorf("upstream_errors_total{kind=%q} = %v, want %v", k, got, w)
		}
	}
	if got := s.series("docker_proxy_filter_upstream_errors_total"); got != len(want) {
		t.Errorf("upstream_errors_total has %d series, want %d", got, len(want))
	}
}

// TestErrorKind classifies errors produced by real dials where the machine
// allows (loopback only), and constructed ones otherwise.
func TestErrorKind(t *testing.T) {
	refused := func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = net.Dial("tcp", addr)
		return err
	}()
	noSocket := func() error {
		_, err := net.Dial("unix", filepath.Join(t.TempDir(), "missing.sock"))
		return err
	}()
	viaHTTP := func() error {
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(t.TempDir(), "missing.sock"))
		}}
		_, err := (&http.Client{Transport: tr}).Get("http://docker/_ping")
		return err
	}()
	deadline, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"client went away", fmt.Errorf("round trip: %w", context.Canceled), ""},
		{"connection refused", refused, KindConnect},
		{"no unix socket", noSocket, KindConnect},
		{"no unix socket through http.Client", viaHTTP, KindConnect},
		{"dns", &net.DNSError{Err: "no such host", Name: "socket-proxy", IsNotFound: true}, KindConnect},
		{"deadline", deadline.Err(), KindTimeout},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, KindTimeout},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, KindTLS},
		{"bad hostname", fmt.Errorf("dial: %w", x509.HostnameError{Host: "x"}), KindTLS},
		{"not tls", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, KindTLS},
		{"alert", &net.OpError{Op: "remote error", Err: tls.AlertError(42)}, KindTLS},
		// What crypto/tls returns over TCP when the engine refuses the
		// client certificate: its alert type is unexported.
		{"refused certificate", fmt.Errorf("Get: %w", &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}), KindTLS},
		{"anything else", errors.New("unexpected EOF"), KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorKind(tt.err); got != tt.want {
				t.Errorf("ErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		raw, proxy string
		wantErr    bool
	}{
		{"", ":2375", false},
		{"  ", ":2375", false},
		{"127.0.0.1:9102", ":2375", false},
		{":9102", ":2375", false},
		{"[::1]:9102", "", false},
		{":9102", "/run/dpf.sock", false},
		{":2375", ":2375", true},
		{"127.0.0.1:2375", "0.0.0.0:2375", true},
		{"9102", ":2375", true},
		{"localhost", ":2375", true},
		{":0", ":2375", true},
		{":70000", ":2375", true},
		{"unix:///x.sock", ":2375", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			err := CheckListen(tt.raw, tt.proxy)
			if (err != nil) != tt.wantErr {
				t.Errorf("CheckListen(%q, %q) = %v, want error: %v", tt.raw, tt.proxy, err, tt.wantErr)
			}
		})
	}
}

func TestServer(t *testing.T) {
	m := New()
	srv, err := m.Server("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || srv.ReadHeaderTimeout == 0 {
		t.Errorf("status %d, ReadHeaderTimeout %v; want 200 and a timeout", resp.StatusCode, srv.ReadHeaderTimeout)
	}
}
