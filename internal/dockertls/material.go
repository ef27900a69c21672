package dockertls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// material is what the certificate directory provides.
type material struct {
	roots    *x509.CertPool   // from ca.pem; nil: none
	cert     *tls.Certificate // from cert.pem and key.pem; nil: none
	warnings []string
}

// loadMaterial reads ca.pem, cert.pem and key.pem from dir. requireCA: a
// missing ca.pem is an error (verifying a tcp:// engine, whose certificate a
// private CA signs). A file that exists but is unusable is always an error.
func loadMaterial(dir string, requireCA bool) (material, error) {
	var m material
	if dir == "" {
		if requireCA {
			return m, errors.New("no certificate directory")
		}
		// https:// (or DOCKER_TLS alone) with nowhere to look: the system
		// roots, no client certificate, as with an empty directory.
		return m, nil
	}
	now := time.Now()

	caPath := filepath.Join(dir, CAFile)
	caPEM, err := os.ReadFile(caPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !requireCA:
	case err != nil:
		return m, fmt.Errorf("cannot read %s: %w", CAFile, err)
	default:
		roots, expired, err := parseCA(caPEM)
		if err != nil {
			return m, fmt.Errorf("%s: %w", CAFile, err)
		}
		m.roots = roots
		if expired != "" {
			m.warnings = append(m.warnings, fmt.Sprintf("%s: CA certificate %s", caPath, expired))
		}
	}

	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	certMissing, keyMissing := errors.Is(certErr, fs.ErrNotExist), errors.Is(keyErr, fs.ErrNotExist)
	switch {
	case certMissing && keyMissing:
		if requireCA {
			m.warnings = append(m.warnings, fmt.Sprintf("no %s and %s in %s: no client certificate is sent, and an engine started with --tlsverify refuses the connection",
				CertFile, KeyFile, dir))
		}
		return m, nil
	case certMissing:
		return m, fmt.Errorf("%s exists but %s does not: a client certificate needs both", KeyFile, CertFile)
	case keyMissing:
		return m, fmt.Errorf("%s exists but %s does not: a client certificate needs both", CertFile, KeyFile)
	case certErr != nil:
		return m, fmt.Errorf("cannot read %s: %w", CertFile, certErr)
	case keyErr != nil:
		return m, fmt.Errorf("cannot read %s: %w", KeyFile, keyErr)
	}
	if encrypted(keyPEM) {
		return m, fmt.Errorf("%s is encrypted: like the docker CLI, the proxy needs an unencrypted private key", KeyFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return m, fmt.Errorf("certificate and key do not match (%s, %s): %w", CertFile, KeyFile, err)
		}
		return m, fmt.Errorf("cannot load %s and %s: %w", CertFile, KeyFile, err)
	}
	m.cert = &pair
	if leaf := pair.Leaf; leaf != nil {
		if v := validity(leaf, now); v != "" {
			m.warnings = append(m.warnings, fmt.Sprintf("%s: client certificate %s", certPath, v))
		}
		if !forClients(leaf) {
			m.warnings = append(m.warnings, fmt.Sprintf("%s: the certificate's extended key usage does not include client authentication; the engine will refuse it", certPath))
		}
	}
	return m, nil
}

// parseCA builds the root pool from ca.pem, and says whether every CA in it
// is outside its validity period.
func parseCA(data []byte) (pool *x509.CertPool, expired string, err error) {
	pool = x509.NewCertPool()
	n := 0
	var why string
	valid := false
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("certificate %d: %w", n+1, err)
		}
		pool.AddCert(c)
		n++
		if v := validity(c, time.Now()); v == "" {
			valid = true
		} else if why == "" {
			why = v
		}
	}
	if n == 0 {
		return nil, "", errors.New(`no certificate found (want PEM "CERTIFICATE" blocks)`)
	}
	if !valid {
		return pool, why, nil
	}
	return pool, "", nil
}

// validity describes a certificate outside its validity period; "" if valid.
func validity(c *x509.Certificate, now time.Time) string {
	switch {
	case now.After(c.NotAfter):
		return "expired on " + c.NotAfter.UTC().Format(time.RFC3339)
	case now.Before(c.NotBefore):
		return "is not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
	}
	return ""
}

// forClients reports whether a certificate may authenticate a TLS client.
func forClients(c *x509.Certificate) bool {
	return len(c.ExtKeyUsage) == 0 ||
		slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) ||
		slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// encrypted reports a legacy encrypted PEM key (Proc-Type: 4,ENCRYPTED) or
// a PKCS#8 encrypted one, which Go cannot load.
func encrypted(keyPEM []byte) bool {
	for rest := keyPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}
