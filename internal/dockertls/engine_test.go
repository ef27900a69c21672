package dockertls

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestRealEngine checks the settings against the engine users run: a
// private dockerd serving the API on 127.0.0.1 with --tlsverify, so that a
// client certificate is required, exactly as `dockerd --tlsverify` in
// production.
func TestRealEngine(t *testing.T) {
	e := enginetest.StartPrivateTLS(t)
	addr, full := e.Addr, e.CertDir
	rogue := enginetest.NewCA(t, "rogue CA")
	load := func(t *testing.T, upstream string, vars map[string]string) Settings {
		t.Helper()
		s, err := Load(upstream, env(vars))
		if err != nil {
			t.Fatalf("Load(%q): %v", upstream, err)
		}
		return s
	}

	t.Run("ping with the docker CLI's variables", func(t *testing.T) {
		s := load(t, "tcp://"+addr, map[string]string{EnvTLSVerify: "1", EnvCertPath: full})
		if got, err := ping(t, s); err != nil || got != "OK" {
			t.Fatalf("GET /_ping = %q, %v; want OK", got, err)
		}
	})
	t.Run("https:// with ca.pem and a client certificate", func(t *testing.T) {
		s := load(t, "https://"+addr, map[string]string{EnvCertPath: full})
		if got, err := ping(t, s); err != nil || got != "OK" {
			t.Fatalf("GET /_ping over https:// = %q, %v; want OK", got, err)
		}
	})
	t.Run("wrong CA is a certificate error", func(t *testing.T) {
		s := load(t, "tcp://"+addr, map[string]string{EnvTLSVerify: "1", EnvCertPath: enginetest.CertDir(t, rogue.PEM, e.Client.Cert, e.Client.Key)})
		_, err := ping(t, s)
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Fatalf("ping error = %v, want x509: certificate signed by unknown authority", err)
		}
		t.Logf("as the proxy would report it: %v", err)
	})
	t.Run("missing client certificate is refused", func(t *testing.T) {
		s := load(t, "tcp://"+addr, map[string]string{EnvTLSVerify: "1", EnvCertPath: enginetest.CertDir(t, e.CA.PEM, nil, nil)})
		_, err := ping(t, s)
		if err == nil || !strings.Contains(err.Error(), "certificate required") && !strings.Contains(err.Error(), "bad certificate") {
			t.Fatalf("ping error = %v, want the engine to refuse the handshake", err)
		}
		t.Logf("as the proxy would report it: %v", err)
	})
	t.Run("plain HTTP to the TLS port gets nothing", func(t *testing.T) {
		s := load(t, "tcp://"+addr, nil)
		_, err := ping(t, s)
		if err == nil || !strings.Contains(err.Error(), "HTTP request to an HTTPS server") {
			t.Fatalf("ping error = %v, want the engine's refusal of plain HTTP", err)
		}
	})
}
