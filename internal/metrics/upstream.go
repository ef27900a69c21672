package metrics

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// Kinds of upstream errors, the values of upstream_errors_total's kind label.
// They are what an operator acts on differently: a socket proxy that is down
// (connect), slow (timeout), misconfigured certificates (tls), an answer the
// proxy could not filter and refused with 502 (malformed), a stream cut
// mid-way (stream).
const (
	KindConnect   = "connect"
	KindTimeout   = "timeout"
	KindTLS       = "tls"
	KindMalformed = "malformed"
	KindStream    = "stream"
	KindOther     = "other"
)

func (m *Metrics) registerUpstream() {
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "upstream_errors_total",
		Help: "Failures talking to the upstream engine or socket proxy, by kind (connect, timeout, tls, malformed, stream, other).",
	}, []string{"kind"})
	m.upstreamErrors = make(map[string]prometheus.Counter, 6)
	for _, k := range []string{KindConnect, KindTimeout, KindTLS, KindMalformed, KindStream, KindOther} {
		m.upstreamErrors[k] = errs.WithLabelValues(k)
	}
	m.reg.MustRegister(errs)
}

// UpstreamError counts one failure talking to the upstream. kind is one of
// the Kind constants (ErrorKind(err) picks one for a transport error); any
// other value is counted as KindOther.
func (m *Metrics) UpstreamError(kind string) {
	if m == nil {
		return
	}
	c, ok := m.upstreamErrors[kind]
	if !ok {
		c = m.upstreamErrors[KindOther]
	}
	c.Inc()
}

// ErrorKind classifies an error from the upstream transport or the SDK:
// KindTLS for handshake and certificate errors, KindTimeout for deadlines,
// KindConnect when no connection could be made (refused, no socket, no
// route, unknown host), else KindOther. A client that went away
// (context.Canceled) is not an upstream error: "" (count nothing). Errors the
// caller recognises itself (an answer it could not parse: KindMalformed; a
// stream cut mid-way: KindStream) it names directly.
func ErrorKind(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	var (
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	if errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return KindTLS
	}
	// The engine refusing our handshake over TCP (no client certificate,
	// one from another CA) arrives as a "remote error" OpError, not as a
	// tls.AlertError (which only QUIC returns).
	if oe := (*net.OpError)(nil); errors.As(err, &oe) && oe.Op == "remote error" {
		return KindTLS
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	var (
		op  *net.OpError
		dns *net.DNSError
	)
	if errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return KindConnect
	}
	return KindOther
}
