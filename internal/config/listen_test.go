package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/listen"
)

func TestLoadListenSocketAndShutdown(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want listen.SocketOptions
		stop time.Duration
	}{
		{"unix defaults", map[string]string{"LISTEN": "unix:///run/dpf.sock"}, listen.SocketOptions{Mode: 0o660}, 5 * time.Second},
		{"mode and numeric group", map[string]string{"LISTEN": "unix:///run/dpf.sock", "LISTEN_SOCKET_MODE": "0600", "LISTEN_SOCKET_GROUP": "998"},
			listen.SocketOptions{Mode: 0o600, GID: 998, SetGroup: true}, 5 * time.Second},
		{"group 0 is a group", map[string]string{"LISTEN": "unix:///run/dpf.sock", "LISTEN_SOCKET_GROUP": "0"},
			listen.SocketOptions{Mode: 0o660, GID: 0, SetGroup: true}, 5 * time.Second},
		{"shutdown timeout", map[string]string{"SHUTDOWN_TIMEOUT": "1500ms"}, listen.SocketOptions{Mode: 0o660}, 1500 * time.Millisecond},
		{"shutdown at once", map[string]string{"SHUTDOWN_TIMEOUT": "0"}, listen.SocketOptions{Mode: 0o660}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load(%v): %v", tt.env, err)
			}
			if cfg.ListenSocket != tt.want || cfg.ShutdownTimeout != tt.stop {
				t.Errorf("ListenSocket %+v, ShutdownTimeout %v; want %+v, %v", cfg.ListenSocket, cfg.ShutdownTimeout, tt.want, tt.stop)
			}
		})
	}
}

func TestLoadListenSocketGroupByName(t *testing.T) {
	if _, err := os.Stat("/etc/group"); err != nil {
		t.Skip("no /etc/group")
	}
	cfg, err := Load(env(map[string]string{"LISTEN": "unix:///run/dpf.sock", "LISTEN_SOCKET_GROUP": "root"}))
	if err != nil {
		t.Fatalf("LISTEN_SOCKET_GROUP=root: %v", err)
	}
	if !cfg.ListenSocket.SetGroup || cfg.ListenSocket.GID != 0 {
		t.Errorf("ListenSocket = %+v, want gid 0", cfg.ListenSocket)
	}
}

func TestLoadListenSocketProblems(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		wants []string // each must appear in the error, one problem each
	}{
		{"bad mode and group", map[string]string{"LISTEN": "unix:///run/dpf.sock", "LISTEN_SOCKET_MODE": "rw-rw----", "LISTEN_SOCKET_GROUP": "no-such-group-dpf-7c1f"},
			[]string{"LISTEN_SOCKET_MODE", "LISTEN_SOCKET_GROUP"}},
		{"mode beyond permissions", map[string]string{"LISTEN": "unix:///run/dpf.sock", "LISTEN_SOCKET_MODE": "4770"}, []string{"LISTEN_SOCKET_MODE"}},
		{"mode nobody can connect with", map[string]string{"LISTEN": "unix:///run/dpf.sock", "LISTEN_SOCKET_MODE": "0440"}, []string{"write permission"}},
		{"socket settings with TCP", map[string]string{"PORT": "2375", "LISTEN_SOCKET_MODE": "0600", "LISTEN_SOCKET_GROUP": "0"},
			[]string{"LISTEN_SOCKET_MODE applies to a unix socket", "LISTEN_SOCKET_GROUP applies to a unix socket"}},
		{"bad shutdown timeouts", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, []string{"SHUTDOWN_TIMEOUT"}},
		{"shutdown timeout without unit", map[string]string{"SHUTDOWN_TIMEOUT": "5"}, []string{"SHUTDOWN_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load(%v) = %v, want a configuration error", tt.env, err)
			}
			if len(cerr.Problems) != len(tt.wants) {
				t.Errorf("%d problems, want %d:\n%v", len(cerr.Problems), len(tt.wants), err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadWarnsOfAShutdownLongerThanDockerWaits(t *testing.T) {
	cfg, err := Load(env(map[string]string{"SHUTDOWN_TIMEOUT": "30s"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cfg.Warnings, "\n"), "stop_grace_period") {
		t.Errorf("Warnings = %q, want advice on the stop grace period", cfg.Warnings)
	}
}

func TestUsageNamesTheServingVariables(t *testing.T) {
	for _, name := range []string{"LISTEN_SOCKET_MODE", "LISTEN_SOCKET_GROUP", "SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(Usage, name) {
			t.Errorf("Usage does not document %s", name)
		}
	}
}
