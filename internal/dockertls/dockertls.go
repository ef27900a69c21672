// Package dockertls decides whether and how the proxy speaks TLS to its
// upstream, reading the same environment the docker CLI reads, so that an
// engine a user reaches with `docker` (DOCKER_HOST=tcp://host:2376,
// DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH=~/.docker) is reached by the proxy
// with the same settings, and a misconfiguration fails at start with a
// message naming the variable and the file.
//
// The rules, after the docker CLI (cli/flags/options.go and
// cli/context/docker/load.go in github.com/docker/cli):
//
//   - unix:// never uses TLS; DOCKER_TLS* are ignored, with a warning.
//   - tcp:// uses TLS when DOCKER_TLS_VERIFY or DOCKER_TLS is non-empty. Like
//     the CLI, any non-empty DOCKER_TLS_VERIFY (even "0") turns verification
//     on; a value that reads as "no" gets a warning saying so. DOCKER_TLS
//     alone gives TLS without verifying the server, as the CLI does, with a
//     warning.
//   - https:// always uses TLS and always verifies the server.
//   - http:// is plain HTTP; with DOCKER_TLS_VERIFY or DOCKER_TLS set the
//     configuration is contradictory and refused, rather than silently
//     sending in the clear what the user meant to protect.
//
// Files come from DOCKER_CERT_PATH, else $DOCKER_CONFIG, else ~/.docker:
// ca.pem (required to verify a tcp:// server; for https:// the system roots
// are used when it is absent), cert.pem and key.pem (the client certificate
// a --tlsverify engine demands; both or neither). When ca.pem is used, it is
// the only trusted root, as in the CLI: a daemon's private CA must not be
// widened to every public CA. TLS 1.2 is the minimum and ServerName is the
// upstream's host, so an IP address is checked against the certificate's IP
// SANs.
package dockertls

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Environment variables, as the docker CLI names them.
const (
	EnvTLS       = "DOCKER_TLS"
	EnvTLSVerify = "DOCKER_TLS_VERIFY"
	EnvCertPath  = "DOCKER_CERT_PATH"
	EnvConfig    = "DOCKER_CONFIG"
)

// Default ports when the upstream URL has none: the engine's conventions.
const (
	PlainPort = "2375"
	TLSPort   = "2376"
)

// File names in the certificate directory.
const (
	CAFile   = "ca.pem"
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// Settings are the upstream connection settings.
type Settings struct {
	// Network is "unix" or "tcp", and Address the socket path or host:port
	// to dial (the port defaulted to TLSPort or PlainPort).
	Network, Address string
	// Host is the upstream in the form the Docker SDK's client.WithHost
	// takes: "unix:///path" or "tcp://host:port".
	Host string
	// TLS is the client configuration; nil: plain HTTP or a unix socket.
	TLS *tls.Config
	// Verify reports whether the server certificate is checked (false only
	// for tcp:// with DOCKER_TLS and no DOCKER_TLS_VERIFY).
	Verify bool
	// CertDir is the directory the files come from, and CAPath, CertPath
	// the files actually used ("" when none); for the start-up line.
	CertDir, CAPath, CertPath string
	// Warnings are worth logging at start.
	Warnings []string
}

// Load resolves the settings for an upstream URL (PROXY_URL or DOCKER_HOST)
// from the environment, read through getenv (os.Getenv in main, a map in
// tests). The error names the variable and file at fault.
func Load(upstream string, getenv func(string) string) (Settings, error) {
	u, err := url.Parse(strings.TrimSpace(upstream))
	if err != nil || u.Scheme == "" {
		return Settings{}, fmt.Errorf("upstream %q is not a URL: want unix:///path, tcp://host:port, http://host:port or https://host:port", upstream)
	}
	tlsVerify, tlsOn := getenv(EnvTLSVerify), getenv(EnvTLS)
	asked := tlsVerify != "" || tlsOn != ""
	var s Settings

	switch u.Scheme {
	case "unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return Settings{}, fmt.Errorf("upstream %q: want unix:///absolute/path/to/docker.sock", upstream)
		}
		s = Settings{Network: "unix", Address: u.Path, Host: "unix://" + u.Path}
		if asked {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s/%s are ignored: the upstream %s is a unix socket, which never uses TLS", EnvTLSVerify, EnvTLS, upstream))
		}
		return s, nil
	case "http":
		if asked {
			return Settings{}, fmt.Errorf("upstream %q is plain HTTP but %s=%q %s=%q ask for TLS: use tcp:// or https:// for TLS, or unset them",
				upstream, EnvTLSVerify, tlsVerify, EnvTLS, tlsOn)
		}
	case "tcp":
	case "https":
	default:
		return Settings{}, fmt.Errorf("upstream %q: scheme %q is not supported: want unix, tcp, http or https", upstream, u.Scheme)
	}
	if u.Hostname() == "" {
		return Settings{}, fmt.Errorf("upstream %q: want %s://host:port", upstream, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return Settings{}, fmt.Errorf("upstream %q must not carry a path, query or credentials", upstream)
	}

	useTLS := u.Scheme == "https" || u.Scheme == "tcp" && asked
	port := u.Port()
	if port == "" {
		port = PlainPort
		if useTLS {
			port = TLSPort
		}
	}
	s.Network, s.Address = "tcp", net.JoinHostPort(u.Hostname(), port)
	s.Host = "tcp://" + s.Address
	if !useTLS {
		return s, nil
	}

	s.Verify = u.Scheme == "https" || tlsVerify != ""
	if falsy(tlsVerify) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s=%q turns server verification ON: like the docker CLI, any non-empty value does; unset it to turn it off", EnvTLSVerify, tlsVerify))
	}
	if !s.Verify {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s is set without %s: TLS to %s does not verify the server's certificate, so anyone on the path can pose as the engine", EnvTLS, EnvTLSVerify, s.Address))
	}

	dir, dirVar := certDir(getenv)
	s.CertDir = dir
	m, err := loadMaterial(dir, u.Scheme == "tcp" && s.Verify)
	if err != nil {
		if dir == "" {
			return Settings{}, fmt.Errorf("%s is not set and $HOME is unknown: cannot find %s, %s and %s", EnvCertPath, CAFile, CertFile, KeyFile)
		}
		return Settings{}, fmt.Errorf("%s: %w", dirVar, err)
	}
	s.Warnings = append(s.Warnings, m.warnings...)
	if m.roots != nil {
		s.CAPath = filepath.Join(dir, CAFile)
	}
	if m.cert != nil {
		s.CertPath = filepath.Join(dir, CertFile)
	}

	s.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: u.Hostname(),
		RootCAs:    m.roots, // nil: the system roots (https:// without ca.pem)
		// The proxy speaks HTTP/1.1 upstream only (streams, hijacked attach).
		NextProtos:         []string{"http/1.1"},
		InsecureSkipVerify: !s.Verify, //nolint:gosec // DOCKER_TLS without DOCKER_TLS_VERIFY, as the docker CLI; warned above
	}
	if m.cert != nil {
		s.TLS.Certificates = []tls.Certificate{*m.cert}
	}
	return s, nil
}

// certDir is where the CLI looks for ca.pem, cert.pem and key.pem, and how
// to name that choice in a message.
func certDir(getenv func(string) string) (dir, described string) {
	if d := getenv(EnvCertPath); d != "" {
		return d, EnvCertPath + "=" + d
	}
	if d := getenv(EnvConfig); d != "" {
		return d, EnvCertPath + " (unset; " + EnvConfig + "=" + d + ")"
	}
	if home := getenv("HOME"); home != "" {
		d := filepath.Join(home, ".docker")
		return d, EnvCertPath + " (default " + d + ")"
	}
	return "", EnvCertPath
}

// falsy reports values a user writes to mean "off".
func falsy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "0", "false", "no", "off":
		return true
	}
	return false
}

// String describes the settings for the start-up line, e.g.
// "tls (verify, ca /certs/ca.pem, client cert /certs/cert.pem)".
func (s Settings) String() string {
	if s.TLS == nil {
		return "off"
	}
	parts := []string{"verify"}
	if !s.Verify {
		parts[0] = "NO verification"
	}
	switch {
	case s.CAPath != "":
		parts = append(parts, "ca "+s.CAPath)
	case s.Verify:
		parts = append(parts, "system roots")
	}
	if s.CertPath != "" {
		parts = append(parts, "client cert "+s.CertPath)
	} else {
		parts = append(parts, "no client cert")
	}
	return "tls (" + strings.Join(parts, ", ") + ")"
}

// DialFunc is the type of http.Transport.DialContext.
type DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// handshakeTimeout bounds a TLS handshake, as http.Transport's default
// TLSHandshakeTimeout does for its own TLS.
const handshakeTimeout = 10 * time.Second

// WrapDial returns dial with a TLS handshake on top when the settings use
// TLS, and dial itself otherwise. Set it as the proxy transport's
// DialContext and keep "http" as the upstream URL scheme:
//
//	tr.DialContext = settings.WrapDial(tr.DialContext)
//
// The transport then speaks HTTP/1.1 over the TLS connection: it never
// attempts HTTP/2 (which the proxy must not speak upstream), hijacked attach
// and exec sessions keep working, and the transport's dialing code stays
// the same for unix sockets, plain TCP and TLS.
func (s Settings) WrapDial(dial DialFunc) DialFunc {
	if s.TLS == nil {
		return dial
	}
	cfg := s.TLS.Clone()
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
		conn := tls.Client(raw, cfg)
		if err := conn.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, &net.OpError{Op: "tls handshake", Net: network, Addr: raw.RemoteAddr(), Err: err}
		}
		return conn, nil
	}
}
