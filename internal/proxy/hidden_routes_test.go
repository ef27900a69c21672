package proxy

import (
	"archive/tar"
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// containerRouteCase is one request on a route with a container reference
// in its path; REF stands for the reference.
type containerRouteCase struct {
	method, target string
	header         http.Header
	body           func() []byte
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

func smallTar() []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	_ = tw.WriteHeader(&tar.Header{Name: "planted", Mode: 0o644, Size: 2})
	_, _ = tw.Write([]byte("x\n"))
	_ = tw.Close()
	return b.Bytes()
}

// containerRouteCases covers every route of api-surface.md with a container
// reference in its path, with valid parameters, so that the engine's own
// answer for a nonexistent container is its plain "no such container".
func containerRouteCases() []containerRouteCase {
	js := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	return []containerRouteCase{
		{"GET", "/containers/REF/json", nil, nil},
		{"GET", "/containers/REF/top", nil, nil},
		{"GET", "/containers/REF/top?ps_args=auxeww", nil, nil},
		{"GET", "/containers/REF/logs?stdout=1&stderr=1", nil, nil},
		{"GET", "/containers/REF/logs?stdout=1&follow=1", nil, nil},
		{"GET", "/containers/REF/stats?stream=0", nil, nil},
		{"GET", "/containers/REF/changes", nil, nil},
		{"GET", "/containers/REF/export", nil, nil},
		{"GET", "/containers/REF/archive?path=/etc/hostname", nil, nil},
		{"HEAD", "/containers/REF/archive?path=/etc/shadow", nil, nil},
		{"PUT", "/containers/REF/archive?path=/tmp", http.Header{"Content-Type": {"application/x-tar"}}, smallTar},
		{"GET", "/containers/REF/attach/ws?stream=1&stdout=1", nil, nil},
		{"POST", "/containers/REF/start", nil, nil},
		{"POST", "/containers/REF/stop?t=1", nil, nil},
		{"POST", "/containers/REF/kill", nil, nil},
		{"POST", "/containers/REF/kill?signal=SIGKILL", nil, nil},
		{"POST", "/containers/REF/restart?t=1", nil, nil},
		{"POST", "/containers/REF/pause", nil, nil},
		{"POST", "/containers/REF/unpause", nil, nil},
		{"POST", "/containers/REF/wait", nil, nil},
		{"POST", "/containers/REF/resize?h=10&w=10", nil, nil},
		{"POST", "/containers/REF/attach?stream=1&stdout=1", nil, nil},
		{"POST", "/containers/REF/attach?stream=1&stdout=1", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"tcp"}}, nil},
		{"POST", "/containers/REF/exec", jsonHeader, js(`{"Cmd":["/app","env"],"AttachStdout":true}`)},
		{"POST", "/containers/REF/rename?name=renamed-by-attacker", nil, nil},
		{"POST", "/containers/REF/update", jsonHeader, js(`{"RestartPolicy":{"Name":"always"}}`)},
		{"DELETE", "/containers/REF?force=1", nil, nil},
		{"DELETE", "/containers/REF?force=1&v=1&link=0", nil, nil},
		{"GET", "/containers/REF/checkpoints", nil, nil},
		{"POST", "/containers/REF/checkpoints", jsonHeader, js(`{"CheckpointID":"cp"}`)},
		{"DELETE", "/containers/REF/checkpoints/cp", nil, nil},
		{"POST", "/containers/REF/copy", jsonHeader, js(`{"Resource":"/etc/hostname"}`)},
		{"POST", "/containers/REF/pause?a=/start", nil, nil},
	}
}

func TestEngineEveryContainerRouteHidesHiddenContainers(t *testing.T) {
	s := newScenario(t, false)
	before := s.hiddenState(t)
	missing := enginetest.UniqueName(t, "missing")
	refs := []string{s.hidden.Name, s.hidden.ID, s.hidden.ID[:12]}

	covered := map[route.Op]bool{}
	for _, c := range containerRouteCases() {
		for _, ref := range refs {
			for _, version := range []string{"", "/v1.41"} {
				target := version + strings.Replace(c.target, "REF", ref, 1)
				t.Run(c.method+" "+target, func(t *testing.T) {
					var body, wantBody []byte
					if c.body != nil {
						body, wantBody = c.body(), c.body()
					}
					got := rawDo(t, s.proxy.Host, c.method, target, bytes.NewReader(body), c.header)
					want := rawDo(t, s.e.Host, c.method, strings.Replace(target, ref, missing, 1), bytes.NewReader(wantBody), c.header)
					want = substitute(want, missing, ref)
					assertSameAnswer(t, got, want)
				})
				if rt, err := route.Parse(c.method, strings.SplitN(target, "?", 2)[0], strings.SplitN(target, "?", 2)[0]); err == nil {
					covered[rt.Op()] = true
				}
			}
		}
	}

	// Nothing about the hidden container reached the upstream through the
	// proxy's forwarding path, and the container is exactly as it was.
	if leaked := s.seen.mentioning(s.hidden.Name, s.hidden.ID, s.hidden.ID[:12]); len(leaked) > 0 {
		t.Errorf("requests on the hidden container reached the upstream: %q", leaked)
	}
	if after := s.hiddenState(t); after != before {
		t.Errorf("hidden container changed: before %+v, after %+v", before, after)
	}
	if !s.e.Exists(t, s.hidden.ID) {
		t.Error("hidden container was removed")
	}

	// Every container-path route of the table was exercised.
	for _, spec := range route.Table {
		if spec.Strategy == route.Container && !covered[spec.Op] {
			t.Errorf("route %s %s not covered", spec.Method, spec.Template)
		}
	}
}
