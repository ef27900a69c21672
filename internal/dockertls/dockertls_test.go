package dockertls

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

func TestLoadModes(t *testing.T) {
	ca := enginetest.NewCA(t, "test CA")
	client := ca.Issue(t, "client", enginetest.LeafOptions{})
	full := enginetest.CertDir(t, ca.PEM, client.Cert, client.Key)
	caOnly := enginetest.CertDir(t, ca.PEM, nil, nil)
	empty := enginetest.CertDir(t, nil, nil, nil)

	tests := []struct {
		name     string
		upstream string
		env      map[string]string
		wantTLS  bool
		verify   bool
		address  string
		host     string
		ca, cert bool   // RootCAs and a client certificate configured
		warning  string // a substring of some warning; "" wants none
		str      string // Settings.String()
	}{
		{name: "unix socket", upstream: "unix:///var/run/docker.sock",
			address: "/var/run/docker.sock", host: "unix:///var/run/docker.sock", str: "off"},
		{name: "unix socket ignores TLS variables", upstream: "unix:///var/run/docker.sock", env: map[string]string{EnvTLSVerify: "1"},
			address: "/var/run/docker.sock", host: "unix:///var/run/docker.sock", warning: "unix socket, which never uses TLS", str: "off"},
		{name: "plain tcp", upstream: "tcp://socket-proxy:2375", env: map[string]string{EnvCertPath: full},
			address: "socket-proxy:2375", host: "tcp://socket-proxy:2375", str: "off"},
		{name: "plain tcp, default port", upstream: "tcp://socket-proxy",
			address: "socket-proxy:2375", host: "tcp://socket-proxy:2375", str: "off"},
		{name: "plain http", upstream: "http://127.0.0.1:2375",
			address: "127.0.0.1:2375", host: "tcp://127.0.0.1:2375", str: "off"},
		{name: "tcp with DOCKER_TLS_VERIFY", upstream: "tcp://127.0.0.1:2376", env: map[string]string{EnvTLSVerify: "1", EnvCertPath: full},
			wantTLS: true, verify: true, address: "127.0.0.1:2376", host: "tcp://127.0.0.1:2376", ca: true, cert: true,
			str: "tls (verify, ca " + filepath.Join(full, CAFile) + ", client cert " + filepath.Join(full, CertFile) + ")"},
		{name: "tcp with TLS, default port 2376", upstream: "tcp://engine.lan", env: map[string]string{EnvTLSVerify: "1", EnvCertPath: full},
			wantTLS: true, verify: true, address: "engine.lan:2376", host: "tcp://engine.lan:2376", ca: true, cert: true},
		{name: "DOCKER_TLS_VERIFY=0 still verifies, as in the CLI", upstream: "tcp://127.0.0.1:2376", env: map[string]string{EnvTLSVerify: "0", EnvCertPath: full},
			wantTLS: true, verify: true, address: "127.0.0.1:2376", host: "tcp://127.0.0.1:2376", ca: true, cert: true,
			warning: `DOCKER_TLS_VERIFY="0" turns server verification ON`},
		{name: "DOCKER_TLS alone: TLS without verification", upstream: "tcp://127.0.0.1:2376", env: map[string]string{EnvTLS: "1", EnvCertPath: empty},
			wantTLS: true, verify: false, address: "127.0.0.1:2376", host: "tcp://127.0.0.1:2376",
			warning: "does not verify the server's certificate", str: "tls (NO verification, no client cert)"},
		{name: "verify without a client certificate", upstream: "tcp://127.0.0.1:2376", env: map[string]string{EnvTLSVerify: "1", EnvCertPath: caOnly},
			wantTLS: true, verify: true, address: "127.0.0.1:2376", host: "tcp://127.0.0.1:2376", ca: true,
			warning: "an engine started with --tlsverify refuses the connection"},
		{name: "https with system roots", upstream: "https://docker.example.test", env: map[string]string{EnvCertPath: empty},
			wantTLS: true, verify: true, address: "docker.example.test:2376", host: "tcp://docker.example.test:2376",
			str: "tls (verify, system roots, no client cert)"},
		{name: "https without HOME or DOCKER_CERT_PATH: system roots", upstream: "https://docker.example.test:8443",
			wantTLS: true, verify: true, address: "docker.example.test:8443", host: "tcp://docker.example.test:8443",
			str: "tls (verify, system roots, no client cert)"},
		{name: "https with ca.pem and a client cert", upstream: "https://127.0.0.1:8443", env: map[string]string{EnvCertPath: full},
			wantTLS: true, verify: true, address: "127.0.0.1:8443", host: "tcp://127.0.0.1:8443", ca: true, cert: true},
		{name: "https: DOCKER_TLS does not weaken it", upstream: "https://127.0.0.1:8443", env: map[string]string{EnvTLS: "1", EnvCertPath: caOnly},
			wantTLS: true, verify: true, address: "127.0.0.1:8443", host: "tcp://127.0.0.1:8443", ca: true},
		{name: "files from DOCKER_CONFIG", upstream: "tcp://127.0.0.1:2376", env: map[string]string{EnvTLSVerify: "1", EnvConfig: full},
			wantTLS: true, verify: true, address: "127.0.0.1:2376", host: "tcp://127.0.0.1:2376", ca: true, cert: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.upstream, env(tt.env))
			if err != nil {
				t.Fatalf("Load(%q) error: %v", tt.upstream, err)
			}
			if (s.TLS != nil) != tt.wantTLS || s.Verify != tt.verify {
				t.Fatalf("TLS=%v verify=%v, want TLS=%v verify=%v", s.TLS != nil, s.Verify, tt.wantTLS, tt.verify)
			}
			if s.Address != tt.address || s.Host != tt.host {
				t.Errorf("address %q host %q, want %q %q", s.Address, s.Host, tt.address, tt.host)
			}
			if got := strings.Join(s.Warnings, "\n"); tt.warning == "" && got != "" || !strings.Contains(got, tt.warning) {
				t.Errorf("warnings %q, want one containing %q", s.Warnings, tt.warning)
			}
			if tt.str != "" && s.String() != tt.str {
				t.Errorf("String() = %q, want %q", s.String(), tt.str)
			}
			if s.TLS == nil {
				return
			}
			if s.TLS.MinVersion != tls.VersionTLS12 || s.TLS.InsecureSkipVerify == s.Verify {
				t.Errorf("MinVersion %x InsecureSkipVerify %v, want TLS 1.2 and %v", s.TLS.MinVersion, s.TLS.InsecureSkipVerify, !s.Verify)
			}
			if host := strings.TrimPrefix(tt.host, "tcp://"); s.TLS.ServerName != host[:strings.LastIndexByte(host, ':')] {
				t.Errorf("ServerName %q, want the host of %q", s.TLS.ServerName, tt.host)
			}
			if (s.TLS.RootCAs != nil) != tt.ca || (len(s.TLS.Certificates) == 1) != tt.cert {
				t.Errorf("RootCAs set %v, client certs %d; want CA %v, cert %v", s.TLS.RootCAs != nil, len(s.TLS.Certificates), tt.ca, tt.cert)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	ca := enginetest.NewCA(t, "test CA")
	client := ca.Issue(t, "client", enginetest.LeafOptions{})
	other := ca.Issue(t, "other", enginetest.LeafOptions{})
	encryptedKey := []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n")
	noCA := enginetest.CertDir(t, nil, client.Cert, client.Key)
	tests := []struct {
		name     string
		upstream string
		env      map[string]string
		want     string // the whole message; "{dir}" is the cert directory
		dir      string
	}{
		{name: "no ca.pem to verify with", upstream: "tcp://127.0.0.1:2376", dir: noCA,
			want: "DOCKER_CERT_PATH={dir}: cannot read ca.pem: open {dir}/ca.pem: no such file or directory"},
		{name: "cert.pem without key.pem", upstream: "tcp://127.0.0.1:2376", dir: enginetest.CertDir(t, ca.PEM, client.Cert, nil),
			want: "DOCKER_CERT_PATH={dir}: cert.pem exists but key.pem does not: a client certificate needs both"},
		{name: "key.pem without cert.pem", upstream: "tcp://127.0.0.1:2376", dir: enginetest.CertDir(t, ca.PEM, nil, client.Key),
			want: "DOCKER_CERT_PATH={dir}: key.pem exists but cert.pem does not: a client certificate needs both"},
		{name: "certificate and key do not match", upstream: "tcp://127.0.0.1:2376", dir: enginetest.CertDir(t, ca.PEM, client.Cert, other.Key),
			want: "DOCKER_CERT_PATH={dir}: certificate and key do not match (cert.pem, key.pem): tls: private key does not match public key"},
		{name: "encrypted key", upstream: "tcp://127.0.0.1:2376", dir: enginetest.CertDir(t, ca.PEM, client.Cert, encryptedKey),
			want: "DOCKER_CERT_PATH={dir}: key.pem is encrypted: like the docker CLI, the proxy needs an unencrypted private key"},
		{name: "ca.pem without a certificate", upstream: "https://127.0.0.1:2376", dir: enginetest.CertDir(t, client.Key, nil, nil),
			want: `DOCKER_CERT_PATH={dir}: ca.pem: no certificate found (want PEM "CERTIFICATE" blocks)`},
		{name: "http with DOCKER_TLS_VERIFY", upstream: "http://127.0.0.1:2376",
			want: `upstream "http://127.0.0.1:2376" is plain HTTP but DOCKER_TLS_VERIFY="1" DOCKER_TLS="" ask for TLS: use tcp:// or https:// for TLS, or unset them`},
		{name: "unsupported scheme", upstream: "ssh://user@host",
			want: `upstream "ssh://user@host": scheme "ssh" is not supported: want unix, tcp, http or https`},
		{name: "path", upstream: "tcp://127.0.0.1:2376/v1.41",
			want: `upstream "tcp://127.0.0.1:2376/v1.41" must not carry a path, query or credentials`},
		{name: "relative unix path", upstream: "unix://docker.sock",
			want: `upstream "unix://docker.sock": want unix:///absolute/path/to/docker.sock`},
		{name: "no scheme", upstream: "127.0.0.1:2375",
			want: `upstream "127.0.0.1:2375" is not a URL: want unix:///path, tcp://host:port, http://host:port or https://host:port`},
		{name: "default directory from HOME", upstream: "tcp://127.0.0.1:2376", env: map[string]string{"HOME": "/nonexistent-home"},
			want: "DOCKER_CERT_PATH (default /nonexistent-home/.docker): cannot read ca.pem: open /nonexistent-home/.docker/ca.pem: no such file or directory"},
		{name: "no HOME", upstream: "tcp://127.0.0.1:2376", env: map[string]string{},
			want: "DOCKER_CERT_PATH is not set and $HOME is unknown: cannot find ca.pem, cert.pem and key.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{EnvTLSVerify: "1"}
			if tt.env != nil {
				e = tt.env
				e[EnvTLSVerify] = "1"
			}
			if tt.dir != "" {
				e[EnvCertPath] = tt.dir
			}
			_, err := Load(tt.upstream, env(e))
			want := strings.ReplaceAll(tt.want, "{dir}", tt.dir)
			if err == nil || err.Error() != want {
				t.Errorf("Load(%q) error:\n got %v\nwant %s", tt.upstream, err, want)
			}
		})
	}
}

func TestLoadWarnsAboutCertificates(t *testing.T) {
	ca := enginetest.NewCA(t, "test CA")
	expired := ca.Issue(t, "client", enginetest.LeafOptions{NotAfter: time.Now().Add(-time.Hour)})
	serverOnly := ca.Issue(t, "server", enginetest.LeafOptions{Server: true})
	tests := []struct {
		name string
		l    enginetest.Leaf
		want string
	}{
		{"expired client certificate", expired, "client certificate expired on "},
		{"certificate not for clients", serverOnly, "does not include client authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := enginetest.CertDir(t, ca.PEM, tt.l.Cert, tt.l.Key)
			s, err := Load("tcp://127.0.0.1:2376", env(map[string]string{EnvTLSVerify: "1", EnvCertPath: dir}))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(s.Warnings, "\n"); !strings.Contains(got, tt.want) {
				t.Errorf("warnings %q, want one containing %q", s.Warnings, tt.want)
			}
		})
	}
}

// TestCAIsExclusive: with ca.PEM, a server certificate from another CA is
// refused even if the system would trust that CA (the pool holds ca.PEM only).
func TestCAIsExclusive(t *testing.T) {
	ca := enginetest.NewCA(t, "test CA")
	s, err := Load("tcp://127.0.0.1:2376", env(map[string]string{EnvTLSVerify: "1", EnvCertPath: enginetest.CertDir(t, ca.PEM, nil, nil)}))
	if err != nil {
		t.Fatal(err)
	}
	want := x509.NewCertPool()
	want.AddCert(ca.Cert)
	if !s.TLS.RootCAs.Equal(want) {
		t.Error("RootCAs is not exactly ca.pem's certificate")
	}
}

// env is a getenv over a map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}
