package access

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadDefaults(t *testing.T) {
	p, errs := Load(mapEnv(nil))
	if len(errs) > 0 {
		t.Fatalf("Load(empty): %v", errs)
	}
	if p.Active() {
		t.Errorf("Active() with no variable set: got true, want false")
	}
	if got := p.Allowed(); got != nil {
		t.Errorf("Allowed() of an inactive policy: got %v, want nil", got)
	}

	p, errs = Load(mapEnv(map[string]string{"CONTAINERS": "1"}))
	if len(errs) > 0 {
		t.Fatalf("Load(CONTAINERS=1): %v", errs)
	}
	if !p.Active() {
		t.Errorf("Active() with CONTAINERS=1: got false, want true")
	}
	// LinuxServer's Dockerfile: EVENTS=1 PING=1 VERSION=1, everything else 0.
	if got, want := p.Allowed(), []string{"CONTAINERS", "EVENTS", "PING", "VERSION"}; !slices.Equal(got, want) {
		t.Errorf("Allowed() with CONTAINERS=1: got %v, want %v", got, want)
	}
}

func TestLoadActivation(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing", nil, false},
		{"blank value is unset", map[string]string{"CONTAINERS": "  "}, false},
		{"a default value still activates", map[string]string{"PING": "1"}, true},
		{"a zero activates", map[string]string{"POST": "0"}, true},
		{"an action switch", map[string]string{"ALLOW_RESTARTS": "1"}, true},
		{"a read switch", map[string]string{"ALLOW_LOGS": "0"}, true},
		{"LIBPOD alone does not", map[string]string{"LIBPOD_CONTAINERS": "0", "LIBPOD_PING": "1"}, false},
		{"SOCKET_PATH alone does not", map[string]string{"SOCKET_PATH": "/var/run/docker.sock"}, false},
		{"unrelated variables do not", map[string]string{"READ_ONLY": "false", "LOG_LEVEL": "info", "TZ": "Etc/UTC"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := Load(mapEnv(tt.env))
			if len(errs) > 0 {
				t.Fatalf("Load: %v", errs)
			}
			if got := p.Active(); got != tt.want {
				t.Errorf("Active(): got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		raw      string
		want     bool
		wantWord bool
		wantErr  bool
	}{
		// haproxy's integers
		{"1", true, false, false},
		{"0", false, false, false},
		{"2", true, false, false},
		{"-1", true, false, false},
		{"+1", true, false, false},
		{"007", true, false, false},
		{"00", false, false, false},
		{"-0", false, false, false},
		{"99999999999999999999", true, false, false},
		{" 1 ", true, false, false},
		// this project's words
		{"true", true, true, false},
		{"TRUE", true, true, false},
		{"yes", true, true, false},
		{"false", false, true, false},
		{"No", false, true, false},
		// refused: haproxy would read these as a leading integer or as 0
		{"1abc", false, false, true},
		{"1.5", false, false, true},
		{"0x1", false, false, true},
		{"on", false, false, true},
		{"off", false, false, true},
		{"+-1", false, false, true},
		{"-", false, false, true},
		{"1 1", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, word, err := parseBool(tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseBool(%q): got error %v, want error %v", tt.raw, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got != tt.want || word != tt.wantWord {
				t.Errorf("parseBool(%q): got %v (word %v), want %v (word %v)", tt.raw, got, word, tt.want, tt.wantWord)
			}
			// Where haproxy reads an integer, both proxies agree.
			if !tt.wantWord && lsBool(strings.TrimSpace(tt.raw)) != got {
				t.Errorf("parseBool(%q) = %v disagrees with haproxy's reading %v", tt.raw, got, !got)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"CONTAINERS":         "maybe",
		"POST":               "1.0",
		"ALLOW_LOGS":         "on",
		"LIBPOD_CONTAINERS":  "1",
		"LIBPOD_PODS":        "yes",
		"LIBPOD_EXEC":        "sometimes",
		"LIBPOD_PING":        "1", // LinuxServer's default: accepted
		"LIBPOD_VERSION":     "1", // likewise
		"LIBPOD_IMAGES":      "0", // off: accepted
		"SOCKET_PATH":        "/run/user/1000/docker.sock",
		"INFO":               "1",
		"ALLOW_RESTARTS":     "true",
		"LIBPOD_ALLOW_START": "0",
	}
	_, errs := Load(mapEnv(env))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	wantPrefixes := []string{
		`CONTAINERS: "maybe" is not a boolean`,
		`POST: "1.0" is not a boolean`,
		`ALLOW_LOGS: "on" is not a boolean`,
		`LIBPOD_CONTAINERS=1: the Podman-native API (/libpod/...) is not served by this proxy`,
		`LIBPOD_EXEC: "sometimes" is not a boolean`,
		`LIBPOD_PODS=yes: the Podman-native API (/libpod/...) is not served by this proxy`,
		`SOCKET_PATH=/run/user/1000/docker.sock is LinuxServer's name for the engine socket, but the default PROXY_URL is unix:///var/run/docker.sock`,
	}
	if len(got) != len(wantPrefixes) {
		t.Fatalf("Load: got %d problems, want %d:\n%s", len(got), len(wantPrefixes), strings.Join(got, "\n"))
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("problem %d: got %q, want it to start with %q", i, got[i], want)
		}
	}
}

func TestLoadSocketPath(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{"default socket, default upstream", map[string]string{"SOCKET_PATH": "/var/run/docker.sock"}, false},
		{"same socket in PROXY_URL", map[string]string{"SOCKET_PATH": "/run/docker.sock", "PROXY_URL": "unix:///run/docker.sock"}, false},
		{"same socket, uncleaned", map[string]string{"SOCKET_PATH": "/run//docker.sock", "PROXY_URL": "unix:///run/docker.sock"}, false},
		{"same socket in DOCKER_HOST", map[string]string{"SOCKET_PATH": "/run/docker.sock", "DOCKER_HOST": "unix:///run/docker.sock"}, false},
		{"PROXY_URL wins over DOCKER_HOST", map[string]string{"SOCKET_PATH": "/run/docker.sock", "PROXY_URL": "http://proxy:2375", "DOCKER_HOST": "unix:///run/docker.sock"}, true},
		{"another socket", map[string]string{"SOCKET_PATH": "/run/podman/podman.sock"}, true},
		{"a TCP upstream", map[string]string{"SOCKET_PATH": "/var/run/docker.sock", "PROXY_URL": "tcp://socket-proxy:2375"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Load(mapEnv(tt.env))
			if got := len(errs) > 0; got != tt.wantErr {
				t.Errorf("Load: got problems %v, want a problem: %v", errs, tt.wantErr)
			}
		})
	}
}

func TestLoadWarnsAboutWordsLinuxServerReadsAsZero(t *testing.T) {
	p, errs := Load(mapEnv(map[string]string{"CONTAINERS": "true", "POST": "false", "INFO": "1"}))
	if len(errs) > 0 {
		t.Fatalf("Load: %v", errs)
	}
	got := p.Warnings()
	if len(got) != 1 || !strings.HasPrefix(got[0], "CONTAINERS=true: LinuxServer's socket-proxy reads this as 0 (off)") {
		t.Errorf("Warnings(): got %q, want one warning about CONTAINERS=true", got)
	}
	if !p.on[swContainers] || p.on[swPost] {
		t.Errorf("CONTAINERS=true POST=false: got CONTAINERS %v POST %v, want true false", p.on[swContainers], p.on[swPost])
	}
}

func TestVariables(t *testing.T) {
	vars := Variables()
	seen := map[string]bool{}
	for _, v := range vars {
		if seen[v.Name] {
			t.Errorf("Variables(): %s listed twice", v.Name)
		}
		seen[v.Name] = true
		if v.Meaning == "" || v.Default == "" {
			t.Errorf("Variables(): %s has no default or meaning", v.Name)
		}
	}
	// Every variable of LinuxServer's Dockerfile that concerns access.
	for name, def := range lsDefaults {
		if !seen[name] {
			t.Errorf("Variables(): %s missing", name)
		}
		for _, v := range vars {
			if v.Name == name && v.Default != def {
				t.Errorf("Variables(): %s default: got %s, want LinuxServer's %s", name, v.Default, def)
			}
		}
	}
	// GRPC is read by haproxy.cfg but has no ENV line in the Dockerfile
	// (unset: off, which is also its default here).
	if _, ok := lsDefaults["GRPC"]; ok || !seen["GRPC"] {
		t.Errorf("Variables(): GRPC listed %v; LinuxServer's Dockerfile lists it %v: recheck the transcription", seen["GRPC"], ok)
	}
	if got, want := len(vars), len(lsDefaults)+2; got != want {
		t.Errorf("Variables(): got %d, want %d (the Dockerfile's switches, GRPC and SOCKET_PATH)", got, want)
	}
	vars[0].Name = "CHANGED"
	if Variables()[0].Name == "CHANGED" {
		t.Errorf("Variables() shares its slice with callers")
	}
}
