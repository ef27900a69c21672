package access

import (
	"net/url"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// TestProfiles replays each real client's requests against its documented
// block, moved verbatim, with READ_ONLY left unset.
func TestProfiles(t *testing.T) {
	profiles := Profiles()
	if len(profiles) != 3 {
		t.Fatalf("Profiles(): got %d, want homepage, autoheal and dozzle-actions", len(profiles))
	}
	for _, pr := range profiles {
		t.Run(pr.Name, func(t *testing.T) {
			p := policy(t, pr.Env)
			if !p.Active() {
				t.Fatalf("%s: the block does not activate the policy", pr.Name)
			}
			if ro, problems := CombineReadOnly(p, false, true); ro || len(problems) > 0 {
				t.Fatalf("%s: CombineReadOnly with READ_ONLY unset: got READ_ONLY %v, problems %v; want false, none", pr.Name, ro, problems)
			}
			check := func(r Request, wantAllow bool) {
				t.Helper()
				rt := parseTarget(t, r)
				v := p.Decide(r.Method, &rt)
				if v.Allow != wantAllow {
					t.Errorf("%s %s (%s): got allow=%v %q, want allow=%v", r.Method, r.Target, r.Why, v.Allow, v.Message, wantAllow)
				}
				// What LinuxServer's proxy does with the same block, on the
				// same request: the profiles hold no deliberate difference
				// except the websocket attach.
				u, _ := url.Parse(r.Target)
				if theirs := lsDecide(r.Method, u.EscapedPath(), pr.Env); theirs != v.Allow && rt.Op() != route.OpContainerAttachWebsocket {
					t.Errorf("%s %s: got allow=%v, LinuxServer allow=%v", r.Method, r.Target, v.Allow, theirs)
				}
			}
			for _, r := range pr.Allow {
				check(r, true)
			}
			for _, r := range pr.Deny {
				check(r, false)
			}
		})
	}
}

func TestProfilesAreFresh(t *testing.T) {
	a := Profiles()
	a[0].Env["POST"] = "1"
	a[0].Allow[0].Method = "DELETE"
	b := Profiles()
	if b[0].Env["POST"] != "0" || b[0].Allow[0].Method != "GET" {
		t.Errorf("Profiles() shares its data between calls")
	}
}

// parseTarget routes a request target the way the proxy does.
func parseTarget(t *testing.T, r Request) route.Route {
	t.Helper()
	u, err := url.Parse(r.Target)
	if err != nil {
		t.Fatalf("%s: %v", r.Target, err)
	}
	rt, err := route.Parse(r.Method, u.Path, u.EscapedPath())
	if err != nil || rt.Spec == nil {
		t.Fatalf("route.Parse(%s %s): %v, %s; want a route", r.Method, r.Target, err, rt.Name())
	}
	return rt
}
