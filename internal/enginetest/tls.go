package enginetest

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TLSEngine is a private engine that also serves the API on 127.0.0.1 with
// --tlsverify, as a production engine on port 2376 does: it demands a client
// certificate signed by CA.
type TLSEngine struct {
	// Engine is reached over its own unix socket, bypassing TLS, for
	// setting up and checking state.
	*Engine
	// Addr is the TLS endpoint, "127.0.0.1:port".
	Addr string
	// CA signed the engine's server certificate (for 127.0.0.1) and is the
	// only CA whose client certificates it accepts.
	CA *CA
	// CertDir is a DOCKER_CERT_PATH with ca.pem and a client certificate
	// the engine accepts (cert.pem, key.pem).
	CertDir string
	// Client is that client certificate.
	Client Leaf
}

// StartPrivateTLS starts a private engine (see [StartPrivate]: it skips
// without root and dockerd) serving the API over mutual TLS on a free port of
// 127.0.0.1, with certificates made for the test.
func StartPrivateTLS(t testing.TB) *TLSEngine {
	t.Helper()
	ca := NewCA(t, "engine CA")
	srv := ca.Issue(t, "engine", LeafOptions{Server: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	client := ca.Issue(t, "client", LeafOptions{})
	addr := freeLoopbackPort(t)
	e := startPrivate(t, "dpftls", func(dir string) []string {
		files := map[string][]byte{"ca.pem": ca.PEM, "server-cert.pem": srv.Cert, "server-key.pem": srv.Key}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return []string{"-H", "tcp://" + addr, "--tlsverify",
			"--tlscacert", filepath.Join(dir, "ca.pem"),
			"--tlscert", filepath.Join(dir, "server-cert.pem"),
			"--tlskey", filepath.Join(dir, "server-key.pem")}
	})
	return &TLSEngine{
		Engine:  e,
		Addr:    addr,
		CA:      ca,
		CertDir: CertDir(t, ca.PEM, client.Cert, client.Key),
		Client:  client,
	}
}

// freeLoopbackPort returns a port of 127.0.0.1 that was free a moment ago.
func freeLoopbackPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
