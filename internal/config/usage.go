package config

import (
	"fmt"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
)

// Usage is printed by -h. Keep it in step with Load and the README table.
const Usage = `docker-proxy-filter: a Docker Engine API proxy that shows a client only the
containers it needs, chosen by name and label, with env secrets scrubbed.

Usage:
  docker-proxy-filter                   serve (configured by the environment below)
  docker-proxy-filter explain [--json]  list the upstream's containers and services once:
                                        which are visible through this configuration and why
  docker-proxy-filter healthcheck       exit 0 when the proxy at LISTEN/PORT answers /_ping,
                                        which it forwards: it fails while the upstream is down
  docker-proxy-filter version           print the version, commit and Go version (also --version)
  docker-proxy-filter -h                print this help

Environment:
  variable          default                          meaning
  PROXY_URL         $DOCKER_HOST, else               upstream engine or socket proxy: unix:///path,
                    unix:///var/run/docker.sock      http://host:port (plain), tcp://host:port (plain,
                                                     or TLS with DOCKER_TLS_VERIFY/DOCKER_TLS) or
                                                     https://host:port (TLS, always verified); default
                                                     port 2375, or 2376 with TLS
  DOCKER_TLS_VERIFY (empty)                          any non-empty value (even 0, as in the docker CLI):
                                                     TLS to a tcp:// upstream, verified against ca.pem
  DOCKER_TLS        (empty)                          non-empty: TLS to a tcp:// upstream WITHOUT
                                                     verifying it (warned); prefer DOCKER_TLS_VERIFY
  DOCKER_CERT_PATH  $DOCKER_CONFIG, else ~/.docker   ca.pem (required to verify tcp://; https:// uses
                                                     the system roots without it), cert.pem and key.pem
                                                     (client certificate: both or neither, unencrypted)
  CONTAINER_NAMES   (empty)                          comma list; a container is visible when its name
                                                     ("/name") contains any item
  CONTAINER_LABELS  (empty)                          comma list of key or key=value; key: some label key
                                                     contains it; key=value: one label whose key contains
                                                     key AND whose value contains value
  SCRUB_ENVS        false                            container inspect answers carry Config.Env: [];
                                                     top may not print environments; service and
                                                     task specs lose Env
  READ_ONLY         true                             only GET and HEAD pass; any other method gets 403.
                                                     With false, writes are decided like reads and a
                                                     container created through the proxy must be visible
  MAX_BODY_SIZE     1048576                          bytes of a request body the proxy reads to decide
                                                     (create, network connect, commit); larger: 413
  BODY_TIMEOUT      30s                              how long a request body may take: the whole of one
                                                     the proxy reads to decide, any pause in one it
                                                     streams to the engine; slower clients are cut off
  PORT              2375                             listen port (all interfaces)
  LISTEN            :$PORT                           full listen address: host:port or unix:///path
  LISTEN_SOCKET_MODE
                    0660                             unix LISTEN only: the socket's mode (octal);
                                                     connecting needs write permission
  LISTEN_SOCKET_GROUP
                    (the process's group)            unix LISTEN only: the socket's group, a gid or
                                                     a name; the process must belong to it
  SHUTDOWN_TIMEOUT  5s                               how long SIGTERM/SIGINT may take: requests in
                                                     flight get it to finish, streams still open
                                                     (events, logs -f, attach) are cut near its end
  LOG_LEVEL         info                             debug, info, warn or error (haproxy's notice reads
                                                     as info; err, crit, alert, emerg as error)
  LOG_FORMAT        text                             text (coloured on a terminal) or json; in
                                                     json, durations are in seconds (a float)
  INDEX_CAPACITY    65536                            containers the live index remembers (LRU); misses
                                                     are settled by asking the upstream
  POLL_INTERVAL     5s                               relist period when the upstream refuses /events
  METRICS_LISTEN    (empty: off)                     host:port serving Prometheus metrics at /metrics,
                                                     on a listener of its own (never the proxy port)

A container matching CONTAINER_NAMES OR CONTAINER_LABELS is visible; with neither
set every container is visible. Matching is case-sensitive. Booleans accept
true/false/1/0/yes/no. Invalid configuration exits with status 2, and so does
an upstream whose TLS handshake fails at start (unknown CA, a certificate
for another host, a client certificate the engine refuses, no TLS on the port).
`

// Help is what -h prints: Usage, then LinuxServer's socket-proxy variables.
func Help() string {
	var b strings.Builder
	b.WriteString(Usage)
	b.WriteString(`
API areas and actions (LinuxServer docker-socket-proxy variables, same meaning;
none set: READ_ONLY alone decides writes; any set: these decide, and READ_ONLY,
if set too, must agree):
`)
	libpod := 0
	for _, v := range access.Variables() {
		if strings.HasPrefix(v.Name, "LIBPOD_") {
			libpod++ // one row for them all, below
			continue
		}
		fmt.Fprintf(&b, "  %-18s %-21s %s\n", v.Name, v.Default, v.Meaning)
	}
	fmt.Fprintf(&b, "  %-18s %-21s %s\n", "LIBPOD_*", "0 (PING, VERSION: 1)",
		fmt.Sprintf("Podman-native API (%d switches, LinuxServer's names), not served by this proxy:", libpod))
	fmt.Fprintf(&b, "  %-18s %-21s %s\n", "", "", "1 is a configuration error, except LIBPOD_PING and LIBPOD_VERSION (allow nothing)")
	return b.String()
}
