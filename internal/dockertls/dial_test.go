package dockertls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// world is a CA, the client material it signed, and another CA.
type world struct {
	ca, rogue *enginetest.CA
	client    enginetest.Leaf
}

func newWorld(t *testing.T) world {
	t.Helper()
	ca := enginetest.NewCA(t, "engine CA")
	return world{ca: ca, rogue: enginetest.NewCA(t, "rogue CA"), client: ca.Issue(t, "client", enginetest.LeafOptions{})}
}

// tlsServer is an HTTPS server on 127.0.0.1 that, like dockerd --tlsverify,
// demands a client certificate signed by ca, and answers /_ping like an engine.
func tlsServer(t *testing.T, serverCA, clientCA *enginetest.CA, ips ...net.IP) (addr string) {
	t.Helper()
	if len(ips) == 0 {
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	srvLeaf := serverCA.Issue(t, "engine", enginetest.LeafOptions{Server: true, IPs: ips})
	cert, err := tls.X509KeyPair(srvLeaf.Cert, srvLeaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ping" || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "want /_ping over mutual TLS", http.StatusBadRequest)
			return
		}
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "OK")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// ping GETs /_ping over the proxy's way of dialing: a plain http.Transport
// whose DialContext is wrapped, with "http" in the URL.
func ping(t *testing.T, s Settings) (string, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: s.WrapDial(d.DialContext), DisableKeepAlives: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Address+"/_ping", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status + ": " + string(body))
	}
	return string(body), err
}

func TestDialAgainstMutualTLSServer(t *testing.T) {
	w := newWorld(t)
	addr := tlsServer(t, w.ca, w.ca)
	full := enginetest.CertDir(t, w.ca.PEM, w.client.Cert, w.client.Key)
	rogueCA := enginetest.CertDir(t, w.rogue.PEM, w.client.Cert, w.client.Key)
	noClient := enginetest.CertDir(t, w.ca.PEM, nil, nil)
	rogueClient := w.rogue.Issue(t, "intruder", enginetest.LeafOptions{})

	tests := []struct {
		name     string
		upstream string
		env      map[string]string
		wantErr  string // substring; "" wants "OK"
		check    func(error) bool
	}{
		{name: "verified, with client certificate", upstream: "tcp://" + addr, env: map[string]string{EnvTLSVerify: "1", EnvCertPath: full}},
		{name: "https scheme", upstream: "https://" + addr, env: map[string]string{EnvCertPath: full}},
		{name: "wrong CA", upstream: "tcp://" + addr, env: map[string]string{EnvTLSVerify: "1", EnvCertPath: rogueCA},
			wantErr: "certificate signed by unknown authority",
			check: func(err error) bool {
				var v *tls.CertificateVerificationError
				return errors.As(err, &v)
			}},
		{name: "no client certificate", upstream: "tcp://" + addr, env: map[string]string{EnvTLSVerify: "1", EnvCertPath: noClient},
			wantErr: "certificate required"},
		{name: "client certificate from another CA", upstream: "tcp://" + addr,
			env: map[string]string{EnvTLSVerify: "1", EnvCertPath: enginetest.CertDir(t, w.ca.PEM, rogueClient.Cert, rogueClient.Key)},
			// Go's client sends no certificate the server's CA list excludes.
			wantErr: "certificate required"},
		{name: "DOCKER_TLS without verification accepts the wrong CA", upstream: "tcp://" + addr, env: map[string]string{EnvTLS: "1", EnvCertPath: rogueCA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.upstream, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got, err := ping(t, s)
			if tt.wantErr == "" {
				if err != nil || got != "OK" {
					t.Fatalf("ping = %q, %v; want OK", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ping = %q, %v; want an error containing %q", got, err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(err) {
				t.Errorf("error %v (%T) is not of the expected type", err, err)
			}
		})
	}
}

func TestServerNameIsChecked(t *testing.T) {
	w := newWorld(t)
	addr := tlsServer(t, w.ca, w.ca, net.IPv4(127, 0, 0, 2)) // a SAN for another address
	s, err := Load("tcp://"+addr, env(map[string]string{EnvTLSVerify: "1", EnvCertPath: enginetest.CertDir(t, w.ca.PEM, w.client.Cert, w.client.Key)}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ping(t, s)
	var h x509.HostnameError
	if !errors.As(err, &h) {
		t.Fatalf("ping error %v, want an x509.HostnameError", err)
	}
}

func TestWrapDialWithoutTLSIsIdentity(t *testing.T) {
	s, err := Load("unix:///var/run/docker.sock", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	called := false
	dial := func(context.Context, string, string) (net.Conn, error) { called = true; return nil, errors.New("x") }
	_, _ = s.WrapDial(dial)(context.Background(), "unix", "/x")
	if !called {
		t.Error("WrapDial without TLS did not call the dialer it wraps")
	}
}
