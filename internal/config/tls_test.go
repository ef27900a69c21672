package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestLoadUpstreamTLS: the docker CLI's variables choose TLS to the
// upstream, and a certificate problem is a configuration problem (exit 2)
// naming the variable and the file.
func TestLoadUpstreamTLS(t *testing.T) {
	ca := enginetest.NewCA(t, "test CA")
	client := ca.Issue(t, "client", enginetest.LeafOptions{})
	full := enginetest.CertDir(t, ca.PEM, client.Cert, client.Key)
	noKey := enginetest.CertDir(t, ca.PEM, client.Cert, nil)

	tests := []struct {
		name    string
		env     map[string]string
		address string
		mode    string // Upstream.TLSMode()
		warning string // a substring of a warning
		wantErr []string
	}{
		{name: "tcp with DOCKER_TLS_VERIFY, default port 2376",
			env:     map[string]string{"PROXY_URL": "tcp://engine.lan", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": full},
			address: "engine.lan:2376",
			mode:    "tls (verify, ca " + filepath.Join(full, "ca.pem") + ", client cert " + filepath.Join(full, "cert.pem") + ")"},
		{name: "DOCKER_HOST with the CLI's variables",
			env:     map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": full},
			address: "127.0.0.1:2376", mode: "tls (verify, ca "},
		{name: "https with the system roots",
			env:     map[string]string{"PROXY_URL": "https://engine.example.test"},
			address: "engine.example.test:2376", mode: "tls (verify, system roots, no client cert)"},
		{name: "DOCKER_TLS alone warns that nothing is verified",
			env:     map[string]string{"PROXY_URL": "tcp://127.0.0.1:2376", "DOCKER_TLS": "1", "DOCKER_CERT_PATH": full},
			address: "127.0.0.1:2376", mode: "tls (NO verification", warning: "does not verify the server's certificate"},
		{name: "tcp without the variables stays plain",
			env:     map[string]string{"PROXY_URL": "tcp://127.0.0.1:2375", "DOCKER_CERT_PATH": full},
			address: "127.0.0.1:2375", mode: "off"},
		{name: "a unix socket ignores them, with a warning",
			env:     map[string]string{"PROXY_URL": "unix:///run/docker.sock", "DOCKER_TLS_VERIFY": "1"},
			address: "/run/docker.sock", mode: "off", warning: "unix socket, which never uses TLS"},
		{name: "missing key.pem",
			env:     map[string]string{"PROXY_URL": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": noKey},
			wantErr: []string{`PROXY_URL="tcp://127.0.0.1:2376"`, "DOCKER_CERT_PATH=" + noKey, "cert.pem exists but key.pem does not"}},
		{name: "missing ca.pem",
			env:     map[string]string{"PROXY_URL": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": t.TempDir()},
			wantErr: []string{"cannot read ca.pem"}},
		{name: "http with DOCKER_TLS_VERIFY is contradictory",
			env:     map[string]string{"PROXY_URL": "http://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": full},
			wantErr: []string{"is plain HTTP but DOCKER_TLS_VERIFY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Load = %s %s, want an error", c.Upstream, c.Upstream.TLSMode())
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not contain %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Upstream.Address != tt.address || !strings.HasPrefix(c.Upstream.TLSMode(), tt.mode) {
				t.Errorf("Upstream = %s, TLS %q; want %s, TLS %q", c.Upstream, c.Upstream.TLSMode(), tt.address, tt.mode)
			}
			if got := strings.Join(c.Warnings, "\n"); tt.warning != "" && !strings.Contains(got, tt.warning) {
				t.Errorf("warnings %q, want one containing %q", c.Warnings, tt.warning)
			}
		})
	}
}

func TestParseUpstreamHTTPS(t *testing.T) {
	ep, err := ParseUpstream("https://engine.example.test:8443")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Network != "tcp" || ep.Address != "engine.example.test:8443" || ep.TLS == nil || !ep.TLS.Verify {
		t.Errorf("ParseUpstream(https) = %+v, want a verified TLS endpoint at engine.example.test:8443", ep)
	}
}
