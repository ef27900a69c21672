package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/listen"
)

// DefaultShutdownTimeout is how long a SIGTERM or SIGINT may take by
// default: the 5s the proxy always took, well inside the 10s Docker waits
// before it kills a container.
const DefaultShutdownTimeout = 5 * time.Second

// dockerStopGrace is Docker's default stop grace period; a longer
// SHUTDOWN_TIMEOUT needs a longer one.
const dockerStopGrace = 10 * time.Second

// loadServing reads how the proxy serves clients beyond LISTEN itself:
// the unix socket's mode and group (LISTEN_SOCKET_MODE, LISTEN_SOCKET_GROUP)
// and SHUTDOWN_TIMEOUT. It runs after cfg.Listen is parsed; warnings go to
// cfg.Warnings.
func loadServing(getenv func(string) string, cfg *Config) (problems []error) {
	problem := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	cfg.ListenSocket = listen.SocketOptions{Mode: listen.DefaultMode}
	mode := strings.TrimSpace(getenv("LISTEN_SOCKET_MODE"))
	group := strings.TrimSpace(getenv("LISTEN_SOCKET_GROUP"))
	if mode != "" {
		if m, err := listen.ParseMode(mode); err != nil {
			problem("LISTEN_SOCKET_MODE: %v", err)
		} else {
			cfg.ListenSocket.Mode = m
		}
	}
	if group != "" {
		if gid, err := listen.LookupGroup(group); err != nil {
			problem("LISTEN_SOCKET_GROUP: %v", err)
		} else {
			cfg.ListenSocket.GID, cfg.ListenSocket.SetGroup = gid, true
		}
	}
	// Set with a TCP listener they would protect nothing, while the user
	// believes the API is limited to a group: refuse, as READ_ONLY is
	// refused when another setting would override it.
	if cfg.Listen.Network == "tcp" {
		for _, v := range [][2]string{{"LISTEN_SOCKET_MODE", mode}, {"LISTEN_SOCKET_GROUP", group}} {
			if name := v[0]; v[1] != "" {
				problem("%s applies to a unix socket, but LISTEN is %s (TCP): use LISTEN=unix:///path or unset %s", name, cfg.Listen, name)
			}
		}
	}

	cfg.ShutdownTimeout = DefaultShutdownTimeout
	if v := strings.TrimSpace(getenv("SHUTDOWN_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			problem("SHUTDOWN_TIMEOUT=%q: want a duration such as 5s (0 cuts every request at once)", v)
		} else {
			cfg.ShutdownTimeout = d
			if d >= dockerStopGrace {
				cfg.Warnings = append(cfg.Warnings, fmt.Sprintf(
					"SHUTDOWN_TIMEOUT=%v is not below Docker's default stop grace period (10s): give the container a longer one (compose stop_grace_period, docker run --stop-timeout) or it is killed before it drains", d))
			}
		}
	}
	return problems
}
