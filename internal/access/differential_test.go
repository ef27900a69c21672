package access

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// sample is one request of the differential test.
type sample struct {
	method, path string // path as sent (escaped)
}

// samplePaths builds concrete paths from a route template: each variable
// replaced by a plausible value, with and without a version prefix.
func samplePaths(template string) []string {
	var out []string
	for _, ref := range []string{"web-1", "4f1c3e8a9b2d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e"} {
		p := template
		for {
			open := strings.IndexByte(p, '{')
			if open < 0 {
				break
			}
			end := strings.IndexByte(p, '}')
			name, _, _ := strings.Cut(p[open+1:end], ":")
			val := ref
			if name == "checkpoint" {
				val = "cp1"
			}
			p = p[:open] + val + p[end+1:]
		}
		for _, prefix := range []string{"", "/v1.41", "/v01.44"} {
			out = append(out, prefix+p)
		}
	}
	return out
}

// samples covers every route of the table with its own method, and OPTIONS
// on every such path plus paths only the OPTIONS catch-all routes.
func samples(t *testing.T) []sample {
	t.Helper()
	var list []sample
	seen := map[sample]bool{}
	add := func(s sample) {
		if !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	for _, spec := range route.Table {
		if spec.Op == route.OpOptions {
			continue
		}
		for _, p := range samplePaths(spec.Template) {
			add(sample{spec.Method, p})
			add(sample{"OPTIONS", p})
		}
	}
	for _, p := range []string{"/", "/containers", "/v1.41/containers", "/images", "/_ping/x", "/foo", "/debug", "/libpod/_ping"} {
		add(sample{"OPTIONS", p})
	}
	return list
}

// routed is a sample with its route, parsed once.
type routed struct {
	sample
	rt route.Route
}

func routedSamples(t *testing.T) []routed {
	t.Helper()
	ss := samples(t)
	out := make([]routed, len(ss))
	for i, s := range ss {
		out[i] = routed{s, mustParse(t, s.method, s.path)}
	}
	return out
}

// world is one environment block given to both proxies.
type world struct {
	name string
	env  map[string]string
}

func dockerSwitchNames() []string {
	var names []string
	for s := none + 1; s < swCount; s++ {
		names = append(names, s.String())
	}
	return names
}

// worlds: each switch alone at 1 and alone at 0 on top of the defaults, all
// at 0, all at 1, POST x CONTAINERS x each action or read switch, and seeded
// random blocks mixing integer spellings haproxy and this package share.
func worlds() []world {
	names := dockerSwitchNames()
	var ws []world
	for _, n := range names {
		ws = append(ws, world{n + "=1", map[string]string{n: "1"}}, world{n + "=0", map[string]string{n: "0"}})
	}
	allZero, allOne := map[string]string{}, map[string]string{}
	for _, n := range names {
		allZero[n], allOne[n] = "0", "1"
	}
	ws = append(ws, world{"all-zero", allZero}, world{"all-one", allOne})
	for s := swAllowStart; s <= swAllowTop; s++ {
		for _, post := range []string{"0", "1"} {
			for _, ctr := range []string{"0", "1"} {
				ws = append(ws, world{fmt.Sprintf("POST=%s CONTAINERS=%s %s=1", post, ctr, s), map[string]string{"POST": post, "CONTAINERS": ctr, s.String(): "1"}})
			}
		}
	}
	rng := rand.New(rand.NewPCG(8, 2026))
	spellings := []string{"0", "1", "2", "-1", "007", "00", "+1"}
	for i := range 60 {
		env := map[string]string{}
		for _, n := range names {
			if rng.IntN(3) > 0 {
				env[n] = spellings[rng.IntN(len(spellings))]
			}
		}
		if len(env) == 0 {
			env["PING"] = "1"
		}
		ws = append(ws, world{fmt.Sprintf("random-%d", i), env})
	}
	return ws
}

// knownDifference names the documented difference that explains a
// disagreement between Decide and LinuxServer on a clean sample path, or "".
func knownDifference(method string, rt *route.Route, p Policy, ours, theirs bool) string {
	if rt.Op() == route.OpContainerAttachWebsocket && !ours && theirs && !p.on[swPost] {
		return "attach/ws needs POST=1"
	}
	if rt.Op() == route.OpOptions && !ours && theirs && strings.HasPrefix(strings.TrimPrefix(rt.Path, "/v"+rt.Version), "/libpod/") {
		return "OPTIONS /libpod/... is denied"
	}
	return ""
}

// TestDecideMatchesLinuxServer checks Decide against the transcription of
// LinuxServer's rules for every route of the table in every world.
func TestDecideMatchesLinuxServer(t *testing.T) {
	ss := routedSamples(t)
	matches := make([][]bool, len(ss))
	for i, s := range ss {
		matches[i] = lsMatch(s.path)
	}
	var compared, explained int
	differences := map[string]int{}
	for _, w := range worlds() {
		p, errs := Load(mapEnv(w.env))
		if len(errs) > 0 {
			t.Fatalf("%s: Load: %v", w.name, errs)
		}
		for i, s := range ss {
			rt := s.rt
			ours := p.Decide(s.method, &rt).Allow
			theirs := lsApply(s.method, matches[i], w.env)
			compared++
			if ours == theirs {
				continue
			}
			if why := knownDifference(s.method, &rt, p, ours, theirs); why != "" {
				explained++
				differences[why]++
				continue
			}
			t.Errorf("%s: %s %s (%s): got allow=%v, LinuxServer allow=%v", w.name, s.method, s.path, rt.Name(), ours, theirs)
		}
	}
	t.Logf("%d comparisons over %d samples; %d documented differences %v", compared, len(ss), explained, differences)
	for _, why := range []string{"attach/ws needs POST=1", "OPTIONS /libpod/... is denied"} {
		if differences[why] == 0 {
			t.Errorf("difference %q never showed: the test no longer covers it", why)
		}
	}
}
