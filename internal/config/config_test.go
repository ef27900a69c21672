package config

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
	"github.com/dpf-dev/docker-proxy-filter/internal/listen"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load(empty) error: %v", err)
	}
	want := Config{
		Upstream:        Endpoint{Network: "unix", Address: "/var/run/docker.sock"},
		Listen:          Endpoint{Network: "tcp", Address: ":2375"},
		LogLevel:        slog.LevelInfo,
		IndexCapacity:   DefaultIndexCapacity,
		PollInterval:    DefaultPollInterval,
		ReadOnly:        true,
		MaxBodySize:     DefaultMaxBodySize,
		BodyTimeout:     DefaultBodyTimeout,
		ListenSocket:    listen.SocketOptions{Mode: 0o660},
		ShutdownTimeout: DefaultShutdownTimeout,
		Warnings:        []string{"no CONTAINER_NAMES or CONTAINER_LABELS: every container is visible"},
	}
	want.Access, _ = access.Load(func(string) string { return "" }) // inactive
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(empty) = %+v\nwant %+v", cfg, want)
	}
}

func TestLoadTakesLinuxServerBlocks(t *testing.T) {
	env := map[string]string{"CONTAINERS": "1", "POST": "1", "LOG_LEVEL": "notice"}
	cfg, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("a LinuxServer block with POST=1: %v", err)
	}
	if !cfg.Access.Active() || cfg.ReadOnly {
		t.Errorf("Access active %v, ReadOnly %v; want the policy alone to decide writes", cfg.Access.Active(), cfg.ReadOnly)
	}
	env["READ_ONLY"] = "true"
	if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "READ_ONLY") {
		t.Errorf("READ_ONLY=true with POST=1 = %v, want a contradiction reported", err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"PROXY_URL http", map[string]string{"PROXY_URL": "http://socket-proxy:2375"}, func(t *testing.T, c Config) {
			if got, want := c.Upstream, (Endpoint{Network: "tcp", Address: "socket-proxy:2375"}); got != want {
				t.Errorf("Upstream = %v, want %v", got, want)
			}
		}},
		{"PROXY_URL tcp without port", map[string]string{"PROXY_URL": "tcp://10.0.0.1"}, func(t *testing.T, c Config) {
			if got, want := c.Upstream, (Endpoint{Network: "tcp", Address: "10.0.0.1:2375"}); got != want {
				t.Errorf("Upstream = %v, want %v", got, want)
			}
		}},
		{"DOCKER_HOST fallback", map[string]string{"DOCKER_HOST": "unix:///run/x.sock"}, func(t *testing.T, c Config) {
			if got, want := c.Upstream, (Endpoint{Network: "unix", Address: "/run/x.sock"}); got != want {
				t.Errorf("Upstream = %v, want %v", got, want)
			}
		}},
		{"PROXY_URL beats DOCKER_HOST", map[string]string{"DOCKER_HOST": "unix:///run/x.sock", "PROXY_URL": "http://p:1"}, func(t *testing.T, c Config) {
			if got, want := c.Upstream, (Endpoint{Network: "tcp", Address: "p:1"}); got != want {
				t.Errorf("Upstream = %v, want %v", got, want)
			}
		}},
		{"filters trimmed, empty items dropped with a warning", map[string]string{
			"CONTAINER_NAMES":  " web , ,db,",
			"CONTAINER_LABELS": "homepage, com.foo=bar=baz",
		}, func(t *testing.T, c Config) {
			want := match.Criteria{
				Names:  []string{"web", "db"},
				Labels: []match.Label{{Key: "homepage"}, {Key: "com.foo", Value: "bar=baz", HasValue: true}},
			}
			if !reflect.DeepEqual(c.Criteria, want) {
				t.Errorf("Criteria = %+v, want %+v", c.Criteria, want)
			}
			if len(c.Warnings) != 2 {
				t.Errorf("Warnings = %q, want two empty-item warnings", c.Warnings)
			}
		}},
		{"only commas means no filters", map[string]string{"CONTAINER_NAMES": ",,"}, func(t *testing.T, c Config) {
			if !c.Criteria.Empty() {
				t.Errorf("Criteria = %+v, want empty", c.Criteria)
			}
			if !strings.Contains(strings.Join(c.Warnings, "\n"), "every container is visible") {
				t.Errorf("Warnings = %q, want the every-container warning", c.Warnings)
			}
		}},
		{"booleans", map[string]string{"SCRUB_ENVS": "Yes", "READ_ONLY": "0"}, func(t *testing.T, c Config) {
			if !c.ScrubEnvs || c.ReadOnly {
				t.Errorf("ScrubEnvs, ReadOnly = %v, %v; want true, false", c.ScrubEnvs, c.ReadOnly)
			}
		}},
		{"body size", map[string]string{"MAX_BODY_SIZE": "4096"}, func(t *testing.T, c Config) {
			if c.MaxBodySize != 4096 {
				t.Errorf("MaxBodySize = %d, want 4096", c.MaxBodySize)
			}
		}},
		{"PORT", map[string]string{"PORT": "2380"}, func(t *testing.T, c Config) {
			if got, want := c.Listen, (Endpoint{Network: "tcp", Address: ":2380"}); got != want {
				t.Errorf("Listen = %v, want %v", got, want)
			}
		}},
		{"LISTEN beats PORT", map[string]string{"PORT": "2380", "LISTEN": "127.0.0.1:9"}, func(t *testing.T, c Config) {
			if got, want := c.Listen, (Endpoint{Network: "tcp", Address: "127.0.0.1:9"}); got != want {
				t.Errorf("Listen = %v, want %v", got, want)
			}
		}},
		{"LISTEN unix", map[string]string{"LISTEN": "unix:///run/dpf.sock"}, func(t *testing.T, c Config) {
			if got, want := c.Listen, (Endpoint{Network: "unix", Address: "/run/dpf.sock"}); got != want {
				t.Errorf("Listen = %v, want %v", got, want)
			}
		}},
		{"logging", map[string]string{"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"}, func(t *testing.T, c Config) {
			if c.LogLevel != slog.LevelDebug || !c.LogJSON {
				t.Errorf("LogLevel, LogJSON = %v, %v; want debug, true", c.LogLevel, c.LogJSON)
			}
		}},
		{"index and poll", map[string]string{"INDEX_CAPACITY": "10", "POLL_INTERVAL": "250ms"}, func(t *testing.T, c Config) {
			if c.IndexCapacity != 10 || c.PollInterval != 250*time.Millisecond {
				t.Errorf("IndexCapacity, PollInterval = %d, %v; want 10, 250ms", c.IndexCapacity, c.PollInterval)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load(%v) error: %v", tt.env, err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PROXY_URL":        "ftp://x",
		"CONTAINER_LABELS": "=oops",
		"SCRUB_ENVS":       "maybe",
		"PORT":             "99999",
		"LOG_LEVEL":        "loud",
		"LOG_FORMAT":       "xml",
		"INDEX_CAPACITY":   "0",
		"POLL_INTERVAL":    "fast",
		"READ_ONLY":        "sometimes",
		"MAX_BODY_SIZE":    "1",
	}))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load error = %v, want *config.Error", err)
	}
	for _, name := range []string{"PROXY_URL", "CONTAINER_LABELS", "SCRUB_ENVS", "PORT", "LOG_LEVEL", "LOG_FORMAT", "INDEX_CAPACITY", "POLL_INTERVAL", "READ_ONLY", "MAX_BODY_SIZE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %s:\n%v", name, err)
		}
	}
	if got := len(cerr.Problems); got != 10 {
		t.Errorf("got %d problems, want 10:\n%v", got, err)
	}
}

func TestParseUpstream(t *testing.T) {
	tests := []struct {
		raw     string
		want    Endpoint
		wantErr bool
	}{
		{"unix:///var/run/docker.sock", Endpoint{Network: "unix", Address: "/var/run/docker.sock"}, false},
		{"http://socket-proxy:2375", Endpoint{Network: "tcp", Address: "socket-proxy:2375"}, false},
		{"http://socket-proxy:2375/", Endpoint{Network: "tcp", Address: "socket-proxy:2375"}, false},
		{"tcp://[::1]:2375", Endpoint{Network: "tcp", Address: "[::1]:2375"}, false},
		{"unix://relative.sock", Endpoint{}, true},
		{"http://", Endpoint{}, true},
		{"http://p:2375/v1.41", Endpoint{}, true},
		{"ssh://user@host", Endpoint{}, true},
		{"socket-proxy:2375", Endpoint{}, true},
		{"/var/run/docker.sock", Endpoint{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseUpstream(tt.raw)
			if got.TLS != nil {
				t.Fatalf("ParseUpstream(%q) has TLS %s, want none", tt.raw, got.TLSMode())
			}
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseUpstream(%q) = %v, %v; want %v, error %v", tt.raw, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestUsageNamesEveryVariable(t *testing.T) {
	for _, name := range []string{"PROXY_URL", "CONTAINER_NAMES", "CONTAINER_LABELS", "SCRUB_ENVS", "PORT", "LISTEN", "LOG_LEVEL", "LOG_FORMAT", "INDEX_CAPACITY", "POLL_INTERVAL", "READ_ONLY", "MAX_BODY_SIZE", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"} {
		if !strings.Contains(Usage, name) {
			t.Errorf("Usage does not document %s", name)
		}
	}
}
