package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lmittmann/tint"

	"github.com/dpf-dev/docker-proxy-filter/internal/config"
	"github.com/dpf-dev/docker-proxy-filter/internal/listen"
	"github.com/dpf-dev/docker-proxy-filter/internal/proxy"
	"github.com/dpf-dev/docker-proxy-filter/internal/serve"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
	"github.com/dpf-dev/docker-proxy-filter/internal/version"
)

// usageError is a bad command line or configuration: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// run is the whole program; main only wires it to the process. Tests call it
// with their own context, environment and writers.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		if args[1] != "explain" && len(args) > 2 {
			return &usageError{fmt.Errorf("unexpected arguments after %q; see -h", args[1])}
		}
		switch args[1] {
		case "-h", "-help", "--help", "help":
			_, err := io.WriteString(stdout, config.Help())
			return err
		case "healthcheck":
			return healthcheck(ctx, getenv)
		case "explain":
			return explainCommand(ctx, args[2:], getenv, stdout, stderr)
		case "version", "--version", "-version", "-v":
			_, err := fmt.Fprintln(stdout, version.Get())
			return err
		default:
			return &usageError{fmt.Errorf("unknown argument %q; see -h", args[1])}
		}
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return &usageError{err}
	}
	logger := newLogger(cfg, stderr)
	defer logSIGHUP(logger)()
	logger.Info("starting",
		"build", version.Get(),
		"upstream", cfg.Upstream.String(),
		"upstream_tls", cfg.Upstream.TLSMode(),
		"listen", cfg.Listen.String(),
		"container_names", strings.Join(cfg.Criteria.Names, ","),
		"container_labels", labelList(cfg),
		"scrub_envs", cfg.ScrubEnvs,
		"read_only", readOnlyField(cfg),
		"access", cfg.Access.Summary(),
		"max_body_size", cfg.MaxBodySize,
		"body_timeout", cfg.BodyTimeout.String(),
		"index_capacity", cfg.IndexCapacity,
		"poll_interval", cfg.PollInterval.String(),
		"log_level", cfg.LogLevel.String(),
		"metrics_listen", cfg.MetricsListen,
		"shutdown_timeout", cfg.ShutdownTimeout.String(),
	)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	// A certificate the upstream refuses is a configuration mistake: stop
	// here, naming it, rather than answer 502 forever.
	if err := upstream.CheckTLS(ctx, cfg.Upstream); err != nil {
		return &usageError{err}
	}

	sidecar, err := proxy.NewSidecar(cfg, logger)
	if err != nil {
		return err
	}
	defer sidecar.Close()
	stopMetrics, err := serveMetrics(sidecar.Metrics, cfg.MetricsListen, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()

	ln, err := listen.Open(cfg.Listen.Network, cfg.Listen.Address, cfg.ListenSocket)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           sidecar.Handler,
		ReadHeaderTimeout: 10 * time.Second, // slowloris
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}

	sidecarDone := make(chan struct{})
	go func() {
		defer close(sidecarDone)
		sidecar.Run(ctx)
	}()

	logger.Info("listening", listeningAttrs(cfg, ln)...)
	// Until ctx ends (SIGTERM, SIGINT), then a drain of at most
	// SHUTDOWN_TIMEOUT that cuts, and logs, the streams still open.
	if err := serve.Run(ctx, srv, ln, cfg.ShutdownTimeout, logger); err != nil {
		return err
	}
	<-sidecarDone
	logger.Info("stopped")
	return nil
}

// listeningAttrs describe the listener: its address and, for a unix
// socket, the mode and group its file has.
func listeningAttrs(cfg config.Config, ln net.Listener) []any {
	attrs := []any{"address", ln.Addr().String()}
	if cfg.Listen.Network != "unix" {
		return attrs
	}
	if fi, err := os.Lstat(cfg.Listen.Address); err == nil {
		attrs = append(attrs, "socket_mode", fmt.Sprintf("%04o", uint32(fi.Mode().Perm())))
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			attrs = append(attrs, "socket_group", strconv.FormatUint(uint64(st.Gid), 10))
		}
	}
	return attrs
}

// readOnlyField says how writes are decided: by READ_ONLY alone, or, once a
// LinuxServer variable is set, by those variables (READ_ONLY, if set too,
// was checked to agree with them).
func readOnlyField(cfg config.Config) string {
	if cfg.Access.Active() {
		return "decided by the LinuxServer variables (see access)"
	}
	return strconv.FormatBool(cfg.ReadOnly)
}

func labelList(cfg config.Config) string {
	items := make([]string, len(cfg.Criteria.Labels))
	for i, l := range cfg.Criteria.Labels {
		items[i] = l.String()
	}
	return strings.Join(items, ",")
}

// newLogger builds the one logger: tint text (coloured only on a terminal)
// or JSON.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: secondsInJSON}))
	}
	return slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:      cfg.LogLevel,
		TimeFormat: time.RFC3339,
		NoColor:    !isTerminal(w),
	}))
}

// secondsInJSON writes every duration (the audit line's "duration") as
// seconds in a float, the unit Prometheus and most log pipelines use, where
// slog's JSON default is an integer of nanoseconds.
func secondsInJSON(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// healthcheck asks the proxy at LISTEN/PORT for /_ping, so a container's
// HEALTHCHECK works without a shell or curl in the image.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return &usageError{err}
	}
	ep := cfg.Listen
	if ep.Network == "tcp" {
		host, port, _ := net.SplitHostPort(ep.Address)
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		ep.Address = net.JoinHostPort(host, port)
	}
	client := &http.Client{Transport: upstream.NewTransport(ep), Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+upstream.URLHost(ep)+"/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /_ping answered %s", resp.Status)
	}
	return nil
}
