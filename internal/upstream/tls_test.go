package upstream

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// loadUpstream is the upstream endpoint main would build from env.
func loadUpstream(t *testing.T, env map[string]string) config.Endpoint {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return cfg.Upstream
}

// TestClientOverTLS: the one Client (lists, inspects, the SDK's events
// stream) reaches a real dockerd --tlsverify with the docker CLI's
// variables.
func TestClientOverTLS(t *testing.T) {
	e := enginetest.StartPrivateTLS(t)
	ep := loadUpstream(t, map[string]string{"PROXY_URL": "tcp://" + e.Addr, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": e.CertDir})
	if ep.TLS == nil {
		t.Fatal("no TLS settings in the upstream endpoint")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := CheckTLS(ctx, ep); err != nil {
		t.Fatalf("CheckTLS against the engine = %v, want nil", err)
	}
	c, err := New(ep, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h, err := c.Ping(ctx); err != nil || h.Get("Api-Version") == "" {
		t.Fatalf("Ping = %v, %v; want the engine's headers", h, err)
	}

	evs, errc := c.Events(ctx)
	ctr := e.Run(t, enginetest.RunSpec{})
	for created := false; !created; {
		select {
		case ev := <-evs:
			created = ev.ID == ctr.ID && ev.Action == "create"
		case err := <-errc:
			t.Fatalf("events stream over TLS ended: %v", err)
		case <-ctx.Done():
			t.Fatal("no create event over TLS")
		}
	}
	list, err := c.List(ctx)
	if err != nil || !slices.ContainsFunc(list, func(x Container) bool { return x.ID == ctr.ID }) {
		t.Fatalf("List = %v, %v; want it to hold %s", list, err, ctr.ID)
	}
	if got, err := c.Inspect(ctx, ctr.Name); err != nil || got.ID != ctr.ID {
		t.Errorf("Inspect(%s) = %+v, %v", ctr.Name, got, err)
	}
}

// TestCheckTLSNamesTheProblem: each way TLS to a real dockerd --tlsverify
// goes wrong is reported with what to fix; an upstream that is merely down
// is not CheckTLS's concern.
func TestCheckTLSNamesTheProblem(t *testing.T) {
	e := enginetest.StartPrivateTLS(t)
	rogue := enginetest.NewCA(t, "rogue CA")
	intruder := rogue.Issue(t, "intruder", enginetest.LeafOptions{})
	rogueCA := enginetest.CertDir(t, rogue.PEM, e.Client.Cert, e.Client.Key)
	rogueClient := enginetest.CertDir(t, e.CA.PEM, intruder.Cert, intruder.Key)
	port := e.Addr[strings.LastIndexByte(e.Addr, ':')+1:]
	plain := httptest.NewServer(http.NotFoundHandler()) // a port without TLS
	defer plain.Close()
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()

	tests := []struct {
		name     string
		upstream string
		certDir  string
		want     []string // substrings of the error; nil wants none
	}{
		{"good", "tcp://" + e.Addr, e.CertDir, nil},
		{"wrong CA", "tcp://" + e.Addr, rogueCA,
			[]string{"not signed by the CA in " + filepath.Join(rogueCA, "ca.pem"), "certificate signed by unknown authority"}},
		{"no client certificate", "tcp://" + e.Addr, enginetest.CertDir(t, e.CA.PEM, nil, nil),
			[]string{"no client certificate was sent", "cert.pem and key.pem"}},
		{"client certificate of another CA", "tcp://" + e.Addr, rogueClient,
			[]string{"client certificate " + filepath.Join(rogueClient, "cert.pem")}},
		{"certificate for another host", "tcp://localhost:" + port, e.CertDir,
			[]string{"not valid for the host", "localhost"}},
		{"no TLS on the port", "tcp://" + plain.Listener.Addr().String(), e.CertDir,
			[]string{"does not speak TLS on " + plain.Listener.Addr().String()}},
		{"upstream down is not a TLS problem", "tcp://" + closed, e.CertDir, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := loadUpstream(t, map[string]string{"PROXY_URL": tt.upstream, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": tt.certDir})
			err := CheckTLS(context.Background(), ep)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckTLS = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckTLS = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckTLS error lacks %q:\n%v", w, err)
				}
			}
			t.Logf("reported as: %v", err)
		})
	}
}

func TestCheckTLSWithoutTLSDoesNothing(t *testing.T) {
	ep, err := config.ParseUpstream("tcp://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTLS(context.Background(), ep); err != nil {
		t.Errorf("CheckTLS(plain) = %v, want nil without dialling", err)
	}
}
