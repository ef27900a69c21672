// Package config turns the process environment into a validated Config.
//
// Variable names and defaults follow FoxxMD/docker-proxy-filter so users can
// swap images. Parsing never stops at the first problem: Load returns every
// problem at once, so a user fixes a broken deployment in one round trip.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
	"github.com/dpf-dev/docker-proxy-filter/internal/dockertls"
	"github.com/dpf-dev/docker-proxy-filter/internal/listen"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/metrics"
)

// Config is the sidecar's effective configuration.
type Config struct {
	// Upstream is the engine or socket proxy every request is forwarded to.
	Upstream Endpoint
	// Criteria choose the visible containers; empty means all are visible.
	Criteria match.Criteria
	// ScrubEnvs replaces Config.Env with [] in container inspect answers (and
	// hides environments wherever else the API shows them).
	ScrubEnvs bool
	// ReadOnly lets only GET and HEAD requests through.
	ReadOnly bool
	// Access is the category policy of LinuxServer's socket-proxy variables
	// (which API areas and actions pass); inactive when none is set.
	Access access.Policy
	// MaxBodySize bounds request bodies the proxy must read to decide (create,
	// network connect, commit): larger ones are refused with 413.
	MaxBodySize int64
	// BodyTimeout bounds how long a request body may take: the whole of one
	// the proxy reads to decide, and any pause in one streamed upstream.
	BodyTimeout time.Duration
	// Listen is where the proxy serves clients.
	Listen Endpoint
	// MetricsListen is where Prometheus metrics are served (host:port); ""
	// when off. Never the proxy's own port.
	MetricsListen string
	// ListenSocket is how a unix Listen socket file is created: its mode
	// and group (LISTEN_SOCKET_MODE, LISTEN_SOCKET_GROUP).
	ListenSocket listen.SocketOptions
	// ShutdownTimeout bounds a SIGTERM/SIGINT shutdown: requests in flight
	// may finish within it; streams still open near its end are cut.
	ShutdownTimeout time.Duration
	// LogLevel and LogJSON shape the logger.
	LogLevel slog.Level
	LogJSON  bool
	// IndexCapacity bounds how many containers the live index remembers.
	IndexCapacity int
	// PollInterval is how often the index relists containers when the
	// upstream refuses the events stream.
	PollInterval time.Duration
	// Warnings are harmless oddities worth logging at start (e.g. an empty
	// filter item that was ignored).
	Warnings []string
}

// Endpoint is a parsed address: Network is "unix" or "tcp".
type Endpoint struct {
	Network string
	Address string
	// TLS, when set, is how connections to an upstream are wrapped in TLS
	// (tcp:// with DOCKER_TLS_VERIFY or DOCKER_TLS, or https://); nil:
	// plain HTTP or a unix socket. Never set on Listen.
	TLS *dockertls.Settings
}

// String renders the endpoint as a URL-ish string for logs.
func (e Endpoint) String() string {
	if e.Network == "unix" {
		return "unix://" + e.Address
	}
	return "tcp://" + e.Address
}

// TLSMode describes the endpoint's TLS for the start-up line: "off", or
// e.g. "tls (verify, ca /certs/ca.pem, client cert /certs/cert.pem)".
func (e Endpoint) TLSMode() string {
	if e.TLS == nil {
		return "off"
	}
	return e.TLS.String()
}

// Defaults that a user may rely on; documented in Usage and the README.
const (
	DefaultUpstream      = "unix:///var/run/docker.sock"
	DefaultPort          = "2375"
	DefaultIndexCapacity = 65536
	DefaultPollInterval  = 5 * time.Second
	DefaultMaxBodySize   = 1 << 20
	DefaultBodyTimeout   = 30 * time.Second
)

// Load reads the configuration through getenv (os.Getenv in production, a map
// in tests). The returned error lists every problem, one per line.
func Load(getenv func(string) string) (Config, error) {
	var (
		cfg  Config
		errs []error
	)
	problem := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	upstream := strings.TrimSpace(getenv("PROXY_URL"))
	upstreamVar := "PROXY_URL"
	if upstream == "" {
		upstream, upstreamVar = strings.TrimSpace(getenv("DOCKER_HOST")), "DOCKER_HOST"
	}
	if upstream == "" {
		upstream, upstreamVar = DefaultUpstream, "PROXY_URL (default)"
	}
	// TLS as the docker CLI decides it: DOCKER_TLS_VERIFY, DOCKER_TLS and
	// DOCKER_CERT_PATH apply to whichever of the two names the upstream.
	if ep, warnings, err := parseUpstream(upstream, getenv); err != nil {
		problem("%s=%q: %v", upstreamVar, upstream, err)
	} else {
		cfg.Upstream = ep
		cfg.Warnings = append(cfg.Warnings, warnings...)
	}

	names, warn := splitList("CONTAINER_NAMES", getenv("CONTAINER_NAMES"))
	cfg.Criteria.Names = names
	cfg.Warnings = append(cfg.Warnings, warn...)

	labelItems, warn := splitList("CONTAINER_LABELS", getenv("CONTAINER_LABELS"))
	cfg.Warnings = append(cfg.Warnings, warn...)
	for _, item := range labelItems {
		l, ok := match.ParseLabel(item)
		if !ok {
			problem("CONTAINER_LABELS item %q has an empty label key; it would match every label", item)
			continue
		}
		cfg.Criteria.Labels = append(cfg.Criteria.Labels, l)
	}
	if cfg.Criteria.Empty() {
		cfg.Warnings = append(cfg.Warnings, "no CONTAINER_NAMES or CONTAINER_LABELS: every container is visible")
	}

	if b, err := parseBool(getenv("SCRUB_ENVS"), false); err != nil {
		problem("SCRUB_ENVS: %v", err)
	} else {
		cfg.ScrubEnvs = b
	}

	if b, err := parseBool(getenv("READ_ONLY"), true); err != nil {
		problem("READ_ONLY: %v", err)
	} else {
		cfg.ReadOnly = b
	}
	// LinuxServer's socket-proxy variables (CONTAINERS=1, POST=0, ...): off
	// unless one is set; with them, READ_ONLY applies only when set too,
	// and then must agree (access.CombineReadOnly).
	policy, problems := access.Load(getenv)
	errs = append(errs, problems...)
	cfg.ReadOnly, problems = access.CombineReadOnly(policy, strings.TrimSpace(getenv("READ_ONLY")) != "", cfg.ReadOnly)
	errs = append(errs, problems...)
	cfg.Access = policy
	cfg.Warnings = append(cfg.Warnings, policy.Warnings()...)

	cfg.MaxBodySize = DefaultMaxBodySize
	if v := strings.TrimSpace(getenv("MAX_BODY_SIZE")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			problem("MAX_BODY_SIZE=%q: want a number of bytes, at least 1024", v)
		} else {
			cfg.MaxBodySize = n
		}
	}

	cfg.BodyTimeout = DefaultBodyTimeout
	if v := strings.TrimSpace(getenv("BODY_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			problem("BODY_TIMEOUT=%q: want a duration of at least 100ms, such as 30s", v)
		} else {
			cfg.BodyTimeout = d
		}
	}

	if ep, err := parseListen(getenv("LISTEN"), getenv("PORT")); err != nil {
		problem("%v", err)
	} else {
		cfg.Listen = ep
	}
	proxyTCP := ""
	if cfg.Listen.Network == "tcp" {
		proxyTCP = cfg.Listen.Address
	}
	if err := metrics.CheckListen(getenv("METRICS_LISTEN"), proxyTCP); err != nil {
		problem("%v", err)
	} else {
		cfg.MetricsListen = strings.TrimSpace(getenv("METRICS_LISTEN"))
	}
	errs = append(errs, loadServing(getenv, &cfg)...) // socket mode and group, SHUTDOWN_TIMEOUT

	if lvl, err := parseLevel(getenv("LOG_LEVEL")); err != nil {
		problem("LOG_LEVEL: %v", err)
	} else {
		cfg.LogLevel = lvl
	}
	switch f := strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT"))); f {
	case "", "text":
	case "json":
		cfg.LogJSON = true
	default:
		problem("LOG_FORMAT=%q: want text or json", f)
	}

	cfg.IndexCapacity = DefaultIndexCapacity
	if v := strings.TrimSpace(getenv("INDEX_CAPACITY")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problem("INDEX_CAPACITY=%q: want a positive integer", v)
		} else {
			cfg.IndexCapacity = n
		}
	}

	cfg.PollInterval = DefaultPollInterval
	if v := strings.TrimSpace(getenv("POLL_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			problem("POLL_INTERVAL=%q: want a duration of at least 100ms, such as 5s", v)
		} else {
			cfg.PollInterval = d
		}
	}

	if len(errs) > 0 {
		return Config{}, &Error{Problems: errs}
	}
	return cfg, nil
}

// Error is an invalid configuration; it carries every problem found.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap exposes the individual problems to errors.Is/As.
func (e *Error) Unwrap() []error { return e.Problems }

// splitList splits a comma list, trimming items and dropping empty ones with a
// warning: a stray comma must never become a filter that matches everything.
func splitList(name, raw string) (items, warnings []string) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	for i, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			warnings = append(warnings, fmt.Sprintf("%s: ignored empty item #%d (stray comma?)", name, i+1))
			continue
		}
		items = append(items, item)
	}
	return items, warnings
}

func parseBool(raw string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "":
		return def, nil
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false/1/0/yes/no)", raw)
}

func parseLevel(raw string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "", "info", "notice":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "err", "crit", "alert", "emerg":
		// LinuxServer's socket proxy takes haproxy's levels; a block moved
		// from it must not stop this proxy from starting.
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q: want debug, info, warn or error", raw)
}

// ParseUpstream parses PROXY_URL / DOCKER_HOST as if no DOCKER_TLS*
// variable were set: http://host:port and tcp://host:port (plain HTTP),
// https://host:port (TLS, verified against the system roots) or
// unix:///absolute/path.
func ParseUpstream(raw string) (Endpoint, error) {
	ep, _, err := parseUpstream(raw, func(string) string { return "" })
	return ep, err
}

// parseUpstream parses the upstream URL and resolves its TLS settings from
// the environment (dockertls.Load); warnings are worth logging at start.
func parseUpstream(raw string, getenv func(string) string) (Endpoint, []string, error) {
	if err := checkUpstreamURL(raw); err != nil {
		return Endpoint{}, nil, err
	}
	s, err := dockertls.Load(raw, getenv)
	if err != nil {
		return Endpoint{}, nil, err
	}
	ep := Endpoint{Network: s.Network, Address: s.Address}
	if s.TLS != nil {
		ep.TLS = &s
	}
	return ep, s.Warnings, nil
}

// checkUpstreamURL reports a malformed upstream URL in fewer words than
// dockertls.Load, which checks the same and resolves the address.
func checkUpstreamURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return errors.New("want unix:///absolute/path/to/docker.sock")
		}
		return nil
	case "http", "tcp", "https":
		if u.Host == "" {
			return fmt.Errorf("want %s://host:port", u.Scheme)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return errors.New("must not carry a path, query or credentials")
		}
		return nil
	case "":
		return errors.New("missing scheme: want http://host:port, tcp://host:port, https://host:port or unix:///path")
	}
	return fmt.Errorf("scheme %q is not supported: want http, tcp, https or unix", u.Scheme)
}

// parseListen resolves LISTEN, falling back to ":$PORT" (all interfaces, as
// the original image does).
func parseListen(listen, port string) (Endpoint, error) {
	listen, port = strings.TrimSpace(listen), strings.TrimSpace(port)
	if listen != "" {
		if path, ok := strings.CutPrefix(listen, "unix://"); ok {
			if !strings.HasPrefix(path, "/") {
				return Endpoint{}, fmt.Errorf("LISTEN=%q: want unix:///absolute/path", listen)
			}
			return Endpoint{Network: "unix", Address: path}, nil
		}
		host, p, err := net.SplitHostPort(listen)
		if err != nil {
			return Endpoint{}, fmt.Errorf("LISTEN=%q: want host:port or unix:///path", listen)
		}
		if err := checkPort(p); err != nil {
			return Endpoint{}, fmt.Errorf("LISTEN=%q: %v", listen, err)
		}
		return Endpoint{Network: "tcp", Address: net.JoinHostPort(host, p)}, nil
	}
	if port == "" {
		port = DefaultPort
	}
	if err := checkPort(port); err != nil {
		return Endpoint{}, fmt.Errorf("PORT=%q: %v", port, err)
	}
	return Endpoint{Network: "tcp", Address: ":" + port}, nil
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("want a port number between 0 and 65535")
	}
	return nil
}
