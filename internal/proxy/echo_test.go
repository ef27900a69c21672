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
var echoRequests = []struct{ method, target string }{
	{"GET", "/images/{ref}/json"},
	{"GET", "/images/{ref}/history"},
	{"DELETE", "/images/{ref}"},
	{"POST", "/images/{ref}/tag?repo=dpf-echo&tag=x"},
	{"GET", "/networks/{ref}"},
	{"DELETE", "/networks/{ref}"},
	{"GET", "/volumes/{ref}"},
	{"DELETE", "/volumes/{ref}"},
	{"GET", "/plugins/{ref}/json"},
}

// assertEchoesLikeNonexistent sends each echo request about each of refs
// (a hidden container's name, ID and short ID) and about a nonexistent
// name of the same length to the proxy at host: the answers must be the
// same but for the ref itself.
func assertEchoesLikeNonexistent(t *testing.T, host string, refs []string) {
	t.Helper()
	for _, ref := range refs {
		// Nothing has these: an ID of zeros for an ID, a name for a name.
		missing := strings.Repeat("0", len(ref))
		if !isLowerHex(ref) {
			missing = "dpf-missing-" + strings.Repeat("x", max(1, len(ref)-len("dpf-missing-")))
		}
		for _, rq := range echoRequests {
			target := strings.ReplaceAll(rq.target, "{ref}", url.PathEscape(ref))
			t.Run(rq.method+" "+target, func(t *testing.T) {
				got := rawDo(t, host, rq.method, target, nil, nil)
				want := rawDo(t, host, rq.method, strings.ReplaceAll(rq.target, "{ref}", missing), nil, nil)
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
	assertEchoesLikeNonexistent(t, s.proxy.Host, []string{s.hidden.Name, s.hidden.ID, s.hidden.ID[:12]})

	// A name conflict with a hidden container still does not name it.
	got := rawDo(t, s.proxy.Host, "POST", "/containers/"+s.visible.Name+"/rename?name="+s.hidden.Name, nil, nil)
	if got.Status != http.StatusConflict || strings.Contains(got.Body, s.hidden.Name) || strings.Contains(got.Body, s.hidden.ID[:12]) {
		t.Errorf("rename onto a hidden name = %d %s, want a 409 naming nothing hidden", got.Status, got.Body)
	}
}
