package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
)

// checkTimeout bounds CheckTLS: a healthy upstream answers a ping over a
// fresh TLS connection in milliseconds, and an unreachable one must not
// hold the start for long (it is the index's to retry).
const checkTimeout = 5 * time.Second

// CheckTLS pings a TLS upstream once and returns an error only when TLS
// itself failed: the engine's certificate does not verify (unknown CA,
// another host, expired), the engine refused the client certificate, or the
// port does not speak TLS. Those are configuration mistakes that no retry
// mends, so the proxy should not start with them; the error names the
// problem and the file to look at. An upstream that cannot be reached, or
// answers slowly, is not this check's concern (nil): the proxy starts,
// answers 502 and the index retries, as over plain HTTP. Without TLS it
// does nothing.
func CheckTLS(ctx context.Context, ep config.Endpoint) error {
	if ep.TLS == nil {
		return nil
	}
	t := NewTransport(ep)
	defer t.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+URLHost(ep)+"/_ping", nil)
	if err != nil {
		return err
	}
	// Ask for the answer, not just the handshake: with TLS 1.3 the engine
	// judges the client certificate after the client's handshake is done,
	// and its refusal arrives with the first read.
	resp, err := t.RoundTrip(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		return nil
	}
	hint, cause := tlsProblem(err, ep)
	if hint == "" {
		return nil
	}
	return fmt.Errorf("upstream %s with %s: TLS handshake failed: %s: %w", ep, ep.TLSMode(), hint, cause)
}

// tlsProblem explains a TLS failure in err and picks the error that says
// it best, or returns "" when err is not one (a refused connection, a
// timeout).
func tlsProblem(err error, ep config.Endpoint) (hint string, cause error) {
	s := ep.TLS
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA) && s.CAPath != "":
		return "the engine's certificate is not signed by the CA in " + s.CAPath +
			": ca.pem in DOCKER_CERT_PATH must be the CA that signed the engine's --tlscert", err
	case errors.As(err, &unknownCA):
		return "the engine's certificate is not signed by a CA this system trusts: put the engine's CA in DOCKER_CERT_PATH as ca.pem", err
	case errors.As(err, &hostname):
		return "the engine's certificate is not valid for the host of PROXY_URL/DOCKER_HOST: name the upstream by a host or IP address its certificate lists", err
	case errors.As(err, &invalid):
		return "the engine's certificate is not valid", err
	case errors.As(err, &verify):
		return "the engine's certificate does not verify", err
	case errors.As(err, &record):
		return "the upstream does not speak TLS on " + ep.Address +
			": for a plain-HTTP upstream use http://, or tcp:// without DOCKER_TLS_VERIFY and DOCKER_TLS", err
	}
	alert := remoteAlert(err)
	switch {
	case alert == nil:
		return "", nil
	case !strings.Contains(alert.Error(), "certificate") && !strings.Contains(alert.Error(), "access denied"):
		return "the engine refused the TLS handshake", alert
	case s.CertPath != "":
		return "the engine refused the handshake, most likely the client certificate " + s.CertPath +
			": it must be signed by the CA the engine trusts (its --tlscacert)", alert
	default:
		return "the engine refused the handshake, most likely because no client certificate was sent " +
			"(an engine started with --tlsverify demands one): put cert.pem and key.pem in DOCKER_CERT_PATH", alert
	}
}

// remoteAlert finds the TLS alert the upstream sent, which crypto/tls
// reports as a *net.OpError with Op "remote error" (its alert type is not
// exported); nil when the upstream sent none.
func remoteAlert(err error) error {
	for _, e := range unwrapAll(err) {
		if oe, ok := e.(*net.OpError); ok && oe.Op == "remote error" {
			return oe
		}
	}
	return nil
}

// unwrapAll lists err and every error it wraps, depth first.
func unwrapAll(err error) []error {
	if err == nil {
		return nil
	}
	all := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		all = append(all, unwrapAll(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			all = append(all, unwrapAll(e)...)
		}
	}
	return all
}
