package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// echoRequests are requests about images, networks, volumes and plugins
// whose errors repeat the client's own ref. A client that names a hidden
// container there must get exactly what it gets for a name nothing has:
// "(hidden)" in the echo would tell it that a hidden container has that
// name or ID.
var echoRequests = []struct{ method, target, body string }{
	{"GET", "/images/{ref}/json", ""},
	{"GET", "/images/{ref}/history", ""},
	{"DELETE", "/images/{ref}", ""},
	{"POST", "/images/{ref}/tag?repo=dpf-echo&tag=x", ""},
	{"GET", "/networks/{ref}", ""},
	{"DELETE", "/networks/{ref}", ""},
	{"GET", "/volumes/{ref}", ""},
	{"DELETE", "/volumes/{ref}", ""},
	{"GET", "/plugins/{ref}/json", ""},
	// docker create <ref>: the image is named in the body.
	{"POST", "/containers/create", `{"Image":"{ref}","Labels":{"{label}":"x"},"HostConfig":{"NetworkMode":"none"}}`},
}

// assertEchoesLikeNonexistent sends each echo request about each of refs
// (a hidden container's name, ID and short ID) and about a nonexistent
// name of the same length to the proxy at host: the answers must be the
// same but for the ref itself. label makes a created container visible.
func assertEchoesLikeNonexistent(t *testing.T, host string, refs []string, label string) {
	t.Helper()
	for _, ref := range refs {
		// Nothing has these: an ID of zeros for an ID, a name for a name.
		missing := strings.Repeat("0", len(ref))
		if !isLowerHex(ref) {
			missing = "dpf-missing-" + strings.Repeat("x", max(1, len(ref)-len("dpf-missing-")))
		}
		for _, rq := range echoRequests {
			target := strings.ReplaceAll(rq.target, "{ref}", url.PathEscape(ref))
			do := func(target, ref string) rawResponse {
				if rq.body == "" {
					return rawDo(t, host, rq.method, target, nil, nil)
				}
				body := strings.NewReplacer("{ref}", ref, "{label}", label).Replace(rq.body)
				return rawDo(t, host, rq.method, target, strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
			}
			t.Run(rq.method+" "+target+" "+ref, func(t *testing.T) {
				got := do(target, ref)
				want := do(strings.ReplaceAll(rq.target, "{ref}", missing), missing)
				want = substitute(want, missing, ref)
				if strings.Contains(got.Body, hiddenPlaceholder) {
					t.Errorf("the echo of the client's ref says %s: %s", hiddenPlaceholder, got.Body)
				}
				if got.Status != want.Status || got.Body != want.Body {
					t.Errorf("answer about a hidden container's ref = %d %q, want the one about a nonexistent ref: %d %q",
						got.Status, got.Body, want.Status, want.Body)
				}
			})
		}
	}
}

func TestEngineEchoedRefsAnswerLikeNonexistent(t *testing.T) {
	s := newScenario(t, false)
	assertEchoesLikeNonexistent(t, s.proxy.Host, []string{s.hidden.Name, s.hidden.ID, s.hidden.ID[:12]}, s.key+".app")

	// A name conflict with a hidden container still does not name it.
	got := rawDo(t, s.proxy.Host, "POST", "/containers/"+s.visible.Name+"/rename?name="+s.hidden.Name, nil, nil)
	if got.Status != http.StatusConflict || strings.Contains(got.Body, s.hidden.Name) || strings.Contains(got.Body, s.hidden.ID[:12]) {
		t.Errorf("rename onto a hidden name = %d %s, want a 409 naming nothing hidden", got.Status, got.Body)
	}
}
