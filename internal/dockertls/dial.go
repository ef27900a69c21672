package dockertls

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/moby/moby/client"
)

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

// SDKOptions point the Docker SDK at the upstream with these settings; pass
// them to client.New before options of your own (a later WithHTTPClient
// would replace the TLS transport):
//
//	c, err := client.New(append(settings.SDKOptions(), client.WithAPIVersionNegotiation())...)
//
// With TLS, the SDK talks https to Host, and its Dialer (used for hijacked
// streams and raw list streaming) dials TLS with the same configuration.
func (s Settings) SDKOptions() []client.Opt {
	var opts []client.Opt
	if s.TLS != nil {
		opts = append(opts, client.WithHTTPClient(&http.Client{
			Transport:     &http.Transport{TLSClientConfig: s.TLS.Clone()},
			CheckRedirect: client.CheckRedirect,
		}))
	}
	return append(opts, client.WithHost(s.Host))
}
