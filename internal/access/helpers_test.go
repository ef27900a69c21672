package access

import (
	"net/url"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// policy loads env and fails the test on any problem.
func policy(t *testing.T, env map[string]string) Policy {
	t.Helper()
	p, errs := Load(mapEnv(env))
	if len(errs) > 0 {
		t.Fatalf("Load(%v): %v", env, errs)
	}
	return p
}

// mustParse routes a path as sent, the way the proxy does.
func mustParse(t *testing.T, method, raw string) route.Route {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	rt, err := route.Parse(method, u.Path, u.EscapedPath())
	if err != nil || rt.Spec == nil {
		t.Fatalf("route.Parse(%s %s): spec %v, error %v; want a route", method, raw, rt.Spec, err)
	}
	return rt
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}
