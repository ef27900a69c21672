package access

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

func TestDecideMessages(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		method      string
		path        string
		wantAllow   bool
		wantNeed    []string
		wantMessage string
	}{
		{"action switch alone", map[string]string{"CONTAINERS": "1"}, "POST", "/containers/web/restart",
			false, []string{"ALLOW_RESTARTS"}, "denied: set ALLOW_RESTARTS=1 to allow POST /containers/{id}/restart"},
		{"stop suggests its own switch", map[string]string{"CONTAINERS": "1"}, "POST", "/v1.41/containers/web/stop",
			false, []string{"ALLOW_STOP"}, "denied: set ALLOW_STOP=1 to allow POST /containers/{id}/stop"},
		{"kill is ALLOW_RESTARTS", map[string]string{"ALLOW_STOP": "1"}, "POST", "/containers/web/kill",
			false, []string{"ALLOW_RESTARTS"}, "denied: set ALLOW_RESTARTS=1 to allow POST /containers/{id}/kill"},
		{"category and POST", map[string]string{"PING": "1"}, "DELETE", "/containers/web",
			false, []string{"CONTAINERS", "POST"}, "denied: set CONTAINERS=1 and POST=1 to allow DELETE /containers/{id}"},
		{"POST only", map[string]string{"CONTAINERS": "1"}, "POST", "/containers/create",
			false, []string{"POST"}, "denied: set POST=1 to allow POST /containers/create"},
		{"category only", map[string]string{"POST": "1"}, "GET", "/info",
			false, []string{"INFO"}, "denied: set INFO=1 to allow GET /info"},
		{"read switch, category and POST", map[string]string{"PING": "1"}, "PUT", "/containers/web/archive",
			false, []string{"ALLOW_ARCHIVE", "CONTAINERS", "POST"}, "denied: set ALLOW_ARCHIVE=1, CONTAINERS=1 and POST=1 to allow PUT /containers/{id}/archive"},
		{"read switch only", map[string]string{"CONTAINERS": "1"}, "GET", "/containers/web/logs",
			false, []string{"ALLOW_LOGS"}, "denied: set ALLOW_LOGS=1 to allow GET /containers/{id}/logs"},
		{"read switch without its category", map[string]string{"ALLOW_LOGS": "1"}, "GET", "/containers/web/logs",
			false, []string{"CONTAINERS"}, "denied: set CONTAINERS=1 to allow GET /containers/{id}/logs"},
		{"websocket attach writes", map[string]string{"CONTAINERS": "1"}, "GET", "/containers/web/attach/ws",
			false, []string{"POST"}, "denied: set POST=1 to allow GET /containers/{id}/attach/ws"},
		{"exec route names its id", map[string]string{"CONTAINERS": "1", "POST": "1"}, "POST", "/exec/abc/start",
			false, []string{"EXEC"}, "denied: set EXEC=1 to allow POST /exec/{id}/start"},
		{"other templates keep their names", map[string]string{"PING": "1"}, "GET", "/networks/n1",
			false, []string{"NETWORKS"}, "denied: set NETWORKS=1 to allow GET /networks/{id}"},
		{"image names", map[string]string{"PING": "1"}, "GET", "/images/library/nginx/json",
			false, []string{"IMAGES"}, "denied: set IMAGES=1 to allow GET /images/{name}/json"},
		{"checkpoint", map[string]string{"CONTAINERS": "1"}, "DELETE", "/containers/web/checkpoints/cp1",
			false, []string{"POST"}, "denied: set POST=1 to allow DELETE /containers/{id}/checkpoints/{checkpoint}"},
		{"no variable allows debug", allOnEnv(), "GET", "/debug/vars",
			false, nil, "denied: no variable allows GET /debug/vars"},
		{"OPTIONS on a container route", map[string]string{"CONTAINERS": "1"}, "OPTIONS", "/containers/web/json",
			false, []string{"POST"}, "denied: set POST=1 to allow OPTIONS /containers/{id}/json"},
		{"OPTIONS on an area root", map[string]string{"PING": "1"}, "OPTIONS", "/v1.41/containers",
			false, []string{"CONTAINERS", "POST"}, "denied: set CONTAINERS=1 and POST=1 to allow OPTIONS /containers"},
		{"OPTIONS on nothing", allOnEnv(), "OPTIONS", "/nothing/here",
			false, nil, "denied: no variable allows OPTIONS /{path}"},

		{"allowed by category", map[string]string{"CONTAINERS": "1"}, "GET", "/containers/json",
			true, nil, "allowed by CONTAINERS=1"},
		{"allowed by action", map[string]string{"ALLOW_RESTARTS": "1"}, "POST", "/containers/web/restart",
			true, nil, "allowed by ALLOW_RESTARTS=1"},
		{"allowed by category and POST", map[string]string{"CONTAINERS": "1", "POST": "1"}, "POST", "/containers/web/rename",
			true, nil, "allowed by CONTAINERS=1 and POST=1"},
		{"allowed by read switch and category", map[string]string{"CONTAINERS": "1", "ALLOW_LOGS": "1"}, "GET", "/containers/web/logs",
			true, nil, "allowed by ALLOW_LOGS=1 and CONTAINERS=1"},
		{"HEAD is a read", map[string]string{"PING": "1"}, "HEAD", "/_ping",
			true, nil, "allowed by PING=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(t, tt.env)
			rt := mustParse(t, tt.method, tt.path)
			got := p.Decide(tt.method, &rt)
			if got.Allow != tt.wantAllow || !slices.Equal(got.Need, tt.wantNeed) || got.Message != tt.wantMessage {
				t.Errorf("Decide(%s %s):\n got allow=%v need=%v %q\nwant allow=%v need=%v %q",
					tt.method, tt.path, got.Allow, got.Need, got.Message, tt.wantAllow, tt.wantNeed, tt.wantMessage)
			}
		})
	}
}

func allOnEnv() map[string]string {
	env := map[string]string{}
	for _, n := range dockerSwitchNames() {
		env[n] = "1"
	}
	return env
}

// TestDecideNeedAllows checks, for every route in every world, that setting
// the variables a denial names does allow the request: the message never
// sends a user round in circles.
func TestDecideNeedAllows(t *testing.T) {
	ss := routedSamples(t)
	for _, w := range worlds() {
		p := policy(t, w.env)
		with := map[string]Policy{} // the world with a Need set, by Need
		for _, s := range ss {
			rt := s.rt
			v := p.Decide(s.method, &rt)
			if v.Allow || len(v.Need) == 0 {
				continue
			}
			key := strings.Join(v.Need, ",")
			q, ok := with[key]
			if !ok {
				env := map[string]string{}
				for k, val := range w.env {
					env[k] = val
				}
				for _, n := range v.Need {
					env[n] = "1"
				}
				q = policy(t, env)
				with[key] = q
			}
			if again := q.Decide(s.method, &rt); !again.Allow {
				t.Errorf("%s: %s %s: %q, but with %v set it is still %q", w.name, s.method, s.path, v.Message, v.Need, again.Message)
			}
		}
	}
}

func TestDecideWithoutRouteDenies(t *testing.T) {
	p := policy(t, allOnEnv())
	rt, err := route.Parse("GET", "/nothing", "/nothing")
	if err != nil || rt.Spec != nil {
		t.Fatalf("route.Parse(GET /nothing): %v, %s; want no route", err, rt.Name())
	}
	if v := p.Decide("GET", &rt); v.Allow || v.Message != "denied: GET /nothing is not an Engine API route" {
		t.Errorf("Decide without a route: got %+v, want a denial", v)
	}
}

// TestStartWithHostConfigNeedsWhatACreateNeeds: a start body the engine
// applies as HostConfig (API < 1.24) is not covered by ALLOW_START.
func TestStartWithHostConfigNeedsWhatACreateNeeds(t *testing.T) {
	rt := mustParse(t, "POST", "/v1.23/containers/web/start")
	for _, tt := range []struct {
		env   map[string]string
		allow bool
		msg   string
	}{
		{map[string]string{"ALLOW_START": "1"}, false, "denied: set CONTAINERS=1 and POST=1 to allow POST /containers/{id}/start with a HostConfig body (API < 1.24)"},
		{map[string]string{"ALLOW_START": "1", "CONTAINERS": "1"}, false, "denied: set POST=1 to allow POST /containers/{id}/start with a HostConfig body (API < 1.24)"},
		{map[string]string{"CONTAINERS": "1", "POST": "1"}, true, "allowed by CONTAINERS=1 and POST=1"},
	} {
		p := policy(t, tt.env)
		if v := p.Decide("POST", &rt); !v.Allow && tt.env["ALLOW_START"] == "1" {
			t.Errorf("%v: Decide denied the start itself: %+v", tt.env, v)
		}
		if v := p.DecideStartHostConfig("POST", &rt); v.Allow != tt.allow || v.Message != tt.msg {
			t.Errorf("%v: DecideStartHostConfig = %+v, want allow=%v %q", tt.env, v, tt.allow, tt.msg)
		}
	}
	var inactive Policy
	if v := inactive.DecideStartHostConfig("POST", &rt); !v.Allow {
		t.Errorf("inactive policy: %+v, want allow (READ_ONLY decides then)", v)
	}
}

func TestInactivePolicyAllowsEverything(t *testing.T) {
	var p Policy // the zero Policy, as for an unset environment
	for _, s := range samples(t) {
		rt := mustParse(t, s.method, s.path)
		if v := p.Decide(s.method, &rt); !v.Allow || v.Need != nil {
			t.Errorf("inactive policy: Decide(%s %s) = %+v, want allow", s.method, s.path, v)
		}
	}
}

// TestAdversarialPaths: what reaches Decide is the route the engine runs, so
// encodings, version prefixes and case give no other category.
func TestAdversarialPaths(t *testing.T) {
	restartsOnly := map[string]string{"ALLOW_RESTARTS": "1"}
	containers := map[string]string{"CONTAINERS": "1"}
	tests := []struct {
		name   string
		env    map[string]string
		method string
		raw    string
		// wantRefused: route.Parse refuses the path or finds no route, so the
		// proxy answers before the policy is asked.
		wantRefused bool
		wantOp      route.Op
		wantAllow   bool
	}{
		{"upper-case area", allOnEnv(), "GET", "/CONTAINERS/json", true, 0, false},
		{"upper-case action", restartsOnly, "POST", "/v1.41/containers/x/RESTART", true, 0, false},
		{"upper-case version", allOnEnv(), "GET", "/V1.41/containers/json", true, 0, false},
		{"exact action", restartsOnly, "POST", "/v1.41/containers/x/restart", false, route.OpContainerRestart, true},
		{"zero-padded version", containers, "GET", "/v01.44/containers/x/logs", false, route.OpContainerLogs, false},
		{"long version", containers, "GET", "/v1.44.0.0/containers/json", false, route.OpContainerList, true},
		{"version alone is not an area", allOnEnv(), "GET", "/v1.41", true, 0, false},
		{"double version", allOnEnv(), "GET", "/v1.41/v1.41/containers/json", true, 0, false},
		{"empty version", allOnEnv(), "GET", "/v/containers/json", true, 0, false},
		{"encoded letters decode to the route", containers, "GET", "/containers/x/log%73", false, route.OpContainerLogs, false},
		{"encoded area", map[string]string{"PING": "1"}, "GET", "/%63ontainers/json", false, route.OpContainerList, false},
		{"encoded underscore", map[string]string{"PING": "1"}, "GET", "/%5Fping", false, route.OpSystemPing, true},
		{"encoded slash into logs", containers, "GET", "/containers/x%2Flogs", true, 0, false},
		{"encoded slash in the area", allOnEnv(), "GET", "/containers%2Fjson", true, 0, false},
		{"encoded slash after the version", allOnEnv(), "GET", "/v1.41%2Fcontainers/json", true, 0, false},
		{"encoded slash inside a reference", containers, "GET", "/containers/x%2Flogs/json", false, route.OpContainerInspect, true},
		{"encoded dots", allOnEnv(), "GET", "/containers/x/%2e%2e/json", true, 0, false},
		{"dot segments", restartsOnly, "POST", "/containers/x/restart/../json", true, 0, false},
		{"dot segment into an action", restartsOnly, "POST", "/containers/x/json/../restart", true, 0, false},
		{"empty segment", restartsOnly, "POST", "/containers//restart", true, 0, false},
		{"trailing slash", allOnEnv(), "GET", "/containers/json/", true, 0, false},
		{"prefix word is no route", restartsOnly, "POST", "/containers/x/restarts", true, 0, false},
		{"area prefix is no route", allOnEnv(), "GET", "/infox", true, 0, false},
		{"newline in a reference", containers, "GET", "/containers/x%0A/logs", true, 0, false},
		{"long s is not s", allOnEnv(), "GET", "/containerſ/json", true, 0, false},
		// A word inside a reference is part of the reference.
		{"logs inside a reference", containers, "GET", "/containers/x/logs/json", false, route.OpContainerInspect, true},
		{"stop inside a reference", restartsOnly, "DELETE", "/containers/x/stop", false, route.OpContainerDelete, false},
		{"restart inside a reference", restartsOnly, "POST", "/containers/x/restart/kill", false, route.OpContainerKill, true},
		// References LinuxServer's rules cannot see.
		{"odd reference, logs", containers, "GET", "/containers/a:b/logs", false, route.OpContainerLogs, false},
		{"slashed reference, logs", containers, "GET", "/containers/a/b/logs", false, route.OpContainerLogs, false},
		{"odd reference, restart", restartsOnly, "POST", "/containers/a:b/restart", false, route.OpContainerRestart, true},
		// Actions are exactly their switch.
		{"start is not unpause", map[string]string{"ALLOW_START": "1"}, "POST", "/containers/x/unpause", false, route.OpContainerUnpause, false},
		{"pause is not unpause", map[string]string{"ALLOW_PAUSE": "1"}, "POST", "/containers/x/unpause", false, route.OpContainerUnpause, false},
		{"stop does not kill", map[string]string{"ALLOW_STOP": "1"}, "POST", "/containers/x/kill", false, route.OpContainerKill, false},
		{"actions are not exec", restartsOnly, "POST", "/containers/x/exec", false, route.OpContainerExec, false},
		{"exec needs its container area", map[string]string{"EXEC": "1", "POST": "1"}, "POST", "/containers/x/exec", false, route.OpContainerExec, false},
		{"containers are not exec", map[string]string{"CONTAINERS": "1", "POST": "1"}, "POST", "/exec/e1/start", false, route.OpExecStart, false},
		{"HEAD archive needs its switch", containers, "HEAD", "/containers/x/archive", false, route.OpContainerArchiveInfo, false},
		{"OPTIONS borrows the action", restartsOnly, "OPTIONS", "/containers/x/restart", false, route.OpOptions, true},
		{"OPTIONS borrows the guard", map[string]string{"CONTAINERS": "1", "POST": "1"}, "OPTIONS", "/containers/x/logs", false, route.OpOptions, false},
		{"OPTIONS on libpod", map[string]string{"POST": "1", "LIBPOD_PING": "1"}, "OPTIONS", "/libpod/_ping", false, route.OpOptions, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(t, tt.env)
			u, err := url.Parse(tt.raw)
			if err != nil {
				if tt.wantRefused {
					return // net/http would answer 400 before the proxy sees it
				}
				t.Fatalf("url.Parse(%q): %v", tt.raw, err)
			}
			rt, err := route.Parse(tt.method, u.Path, u.EscapedPath())
			if refused := err != nil || rt.Spec == nil; refused != tt.wantRefused {
				t.Fatalf("route.Parse(%s %s): got refused=%v (%v, %s), want refused=%v", tt.method, tt.raw, refused, err, rt.Name(), tt.wantRefused)
			}
			if tt.wantRefused {
				return
			}
			if rt.Op() != tt.wantOp {
				t.Errorf("route.Parse(%s %s): got %s, want op %d", tt.method, tt.raw, rt.Name(), tt.wantOp)
			}
			if v := p.Decide(tt.method, &rt); v.Allow != tt.wantAllow {
				t.Errorf("Decide(%s %s): got allow=%v (%s), want %v", tt.method, tt.raw, v.Allow, v.Message, tt.wantAllow)
			}
		})
	}
}

// TestVersionPrefixNeverChangesTheDecision: for every route and world, the
// versioned and unversioned paths get the same verdict.
func TestVersionPrefixNeverChangesTheDecision(t *testing.T) {
	type variants struct {
		plain     routed
		versioned []routed
	}
	var cases []variants
	for _, s := range routedSamples(t) {
		if strings.HasPrefix(s.path, "/v") {
			continue
		}
		c := variants{plain: s}
		for _, prefix := range []string{"/v1.24", "/v1.55", "/v1.44.0", "/v01.44", "/v.", "/v9"} {
			c.versioned = append(c.versioned, routed{sample{s.method, prefix + s.path}, mustParse(t, s.method, prefix+s.path)})
		}
		cases = append(cases, c)
	}
	for _, w := range worlds() {
		p := policy(t, w.env)
		for _, c := range cases {
			want := p.Decide(c.plain.method, &c.plain.rt)
			for _, v := range c.versioned {
				if got := p.Decide(v.method, &v.rt); got.Allow != want.Allow || got.Message != want.Message {
					t.Errorf("%s: %s %s: got %q, want %q as without the prefix", w.name, v.method, v.path, got.Message, want.Message)
				}
			}
		}
	}
}
