package explain

import (
	"reflect"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

func filters(t *testing.T, names []string, labels ...string) *match.Criteria {
	t.Helper()
	f := &match.Criteria{Names: names}
	for _, item := range labels {
		l, ok := match.ParseLabel(item)
		if !ok {
			t.Fatalf("bad label item %q", item)
		}
		f.Labels = append(f.Labels, l)
	}
	return f
}

func TestContainerVerdicts(t *testing.T) {
	tests := []struct {
		name      string
		f         *match.Criteria
		c         Container
		wantVis   bool
		wantBasis string
		wantWhy   string
		wantMatch []Match
	}{
		{
			name: "no filters", f: &match.Criteria{},
			c:       Container{ID: "1", Name: "/db"},
			wantVis: true, wantBasis: BasisNoFilters, wantWhy: "no filters: every container is visible",
		},
		{
			name: "nil filters", f: nil,
			c:       Container{ID: "1", Name: "/db"},
			wantVis: true, wantBasis: BasisNoFilters, wantWhy: "no filters: every container is visible",
		},
		{
			name: "name item", f: filters(t, []string{"web"}),
			c:       Container{ID: "1", Name: "/my-web-1"},
			wantVis: true, wantBasis: BasisMatch, wantWhy: `CONTAINER_NAMES item "web" matches name "/my-web-1"`,
			wantMatch: []Match{{Variable: VarNames, Item: "web", Name: "/my-web-1"}},
		},
		{
			name: "name given without its slash", f: filters(t, []string{"/web"}),
			c:       Container{ID: "1", Name: "web-1"},
			wantVis: true, wantBasis: BasisMatch, wantWhy: `CONTAINER_NAMES item "/web" matches name "/web-1"`,
			wantMatch: []Match{{Variable: VarNames, Item: "/web", Name: "/web-1"}},
		},
		{
			name: "anchored name item misses", f: filters(t, []string{"/web"}),
			c:       Container{ID: "1", Name: "/my-web"},
			wantVis: false, wantBasis: BasisNoMatch, wantWhy: "no filter matched",
		},
		{
			name: "key-only label item", f: filters(t, nil, "traefik"),
			c:       Container{ID: "1", Name: "/x", Labels: map[string]string{"traefik.enable": "false", "other": "1"}},
			wantVis: true, wantBasis: BasisMatch, wantWhy: `CONTAINER_LABELS item "traefik" matches label traefik.enable=false`,
			wantMatch: []Match{{Variable: VarLabels, Item: "traefik", Key: "traefik.enable", Value: "false"}},
		},
		{
			name: "key=value needs both in one label", f: filters(t, nil, "traefik.enable=true"),
			c:       Container{ID: "1", Name: "/x", Labels: map[string]string{"traefik.enable": "false", "x": "true"}},
			wantVis: false, wantBasis: BasisNoMatch, wantWhy: "no filter matched",
		},
		{
			name: "names OR labels, all matches listed in order", f: filters(t, []string{"x", "nomatch"}, "b", "a=1"),
			c:       Container{ID: "1", Name: "/x", Labels: map[string]string{"b2": "v", "b1": "v", "a": "10"}},
			wantVis: true, wantBasis: BasisMatch,
			wantWhy: `CONTAINER_NAMES item "x" matches name "/x"; CONTAINER_LABELS item "b" matches labels b1=v, b2=v; CONTAINER_LABELS item "a=1" matches label a=10`,
			wantMatch: []Match{
				{Variable: VarNames, Item: "x", Name: "/x"},
				{Variable: VarLabels, Item: "b", Key: "b1", Value: "v"},
				{Variable: VarLabels, Item: "b", Key: "b2", Value: "v"},
				{Variable: VarLabels, Item: "a=1", Key: "a", Value: "10"},
			},
		},
		{
			name: "case-sensitive", f: filters(t, []string{"Web"}, "Homepage"),
			c:       Container{ID: "1", Name: "/web", Labels: map[string]string{"homepage.group": "x"}},
			wantVis: false, wantBasis: BasisNoMatch, wantWhy: "no filter matched",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(tt.f, []Container{tt.c}, nil)
			if len(r.Containers) != 1 {
				t.Fatalf("got %d container entries, want 1", len(r.Containers))
			}
			e := r.Containers[0]
			if e.Visible != tt.wantVis || e.Basis != tt.wantBasis || e.Reason != tt.wantWhy {
				t.Errorf("got visible=%v basis=%q reason=%q\nwant visible=%v basis=%q reason=%q", e.Visible, e.Basis, e.Reason, tt.wantVis, tt.wantBasis, tt.wantWhy)
			}
			if !reflect.DeepEqual(e.Matches, tt.wantMatch) {
				t.Errorf("matches = %+v, want %+v", e.Matches, tt.wantMatch)
			}
			if e.Kind != KindContainer {
				t.Errorf("kind = %q, want %q", e.Kind, KindContainer)
			}
		})
	}
}

func TestSwarm(t *testing.T) {
	services := []Service{
		{ID: "svcweb0000000000", Name: "web", Labels: map[string]string{"homepage.group": "apps"}},
		{ID: "svcdb00000000000", Name: "db"},
	}
	task := func(name, service string, labels map[string]string) Container {
		l := map[string]string{ServiceLabel: service}
		for k, v := range labels {
			l[k] = v
		}
		return Container{ID: "c-" + name, Name: name, Labels: l}
	}
	tests := []struct {
		name      string
		f         *match.Criteria
		c         Container
		wantVis   bool
		wantBasis string
		wantWhy   string
		wantSvc   string
	}{
		{"task of a service visible by label", filters(t, nil, "homepage"), task("/web.1.abc", "svcweb0000000000", nil),
			true, BasisService, `task of visible service "web" (svcweb000000)`, "web"},
		{"task of a service visible by name", filters(t, []string{"/we"}), task("/x.1.abc", "svcweb0000000000", nil),
			true, BasisService, `task of visible service "web" (svcweb000000)`, "web"},
		{"task matching by itself", filters(t, []string{"db.1"}), task("/db.1.abc", "svcdb00000000000", nil),
			true, BasisMatch, `CONTAINER_NAMES item "db.1" matches name "/db.1.abc"`, "db"},
		{"task of a hidden service", filters(t, nil, "homepage"), task("/db.1.abc", "svcdb00000000000", nil),
			false, BasisNoMatch, `no filter matched; task of hidden service "db"`, "db"},
		{"task of an unlisted service", filters(t, nil, "homepage"), task("/gone.1.abc", "svcgone000000000", nil),
			false, BasisNoMatch, "no filter matched; task of service svcgone00000, which is not listed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(tt.f, []Container{tt.c}, services)
			e := r.Containers[0]
			if e.Visible != tt.wantVis || e.Basis != tt.wantBasis || e.Reason != tt.wantWhy || e.ServiceName != tt.wantSvc {
				t.Errorf("got visible=%v basis=%q reason=%q service_name=%q\nwant visible=%v basis=%q reason=%q service_name=%q",
					e.Visible, e.Basis, e.Reason, e.ServiceName, tt.wantVis, tt.wantBasis, tt.wantWhy, tt.wantSvc)
			}
			if e.Service != tt.c.Labels[ServiceLabel] {
				t.Errorf("service = %q, want %q", e.Service, tt.c.Labels[ServiceLabel])
			}
		})
	}

	r := Build(filters(t, []string{"/we"}), nil, services)
	want := []struct {
		name, reason string
		visible      bool
	}{
		{"db", "no filter matched", false},
		{"web", `CONTAINER_NAMES item "/we" matches name "/web"`, true},
	}
	for i, w := range want {
		s := r.Services[i]
		if s.Name != w.name || s.Reason != w.reason || s.Visible != w.visible || s.Kind != KindService {
			t.Errorf("service %d = %+v, want name %q, visible %v, reason %q", i, s, w.name, w.visible, w.reason)
		}
	}
	if r.Summary != (Summary{ServicesVisible: 1, ServicesHidden: 1}) {
		t.Errorf("summary = %+v, want 1 visible and 1 hidden service", r.Summary)
	}
}

// TestVerdictIsTheMatchPackages checks, over a world and many filter sets,
// that each container's verdict is exactly match.Criteria' answer (plus the
// service rule), and that every listed match is real on its own.
func TestVerdictIsTheMatchPackages(t *testing.T) {
	world := []Container{
		{ID: "a", Name: "/web", Labels: map[string]string{"traefik.enable": "true", "com.docker.compose.project": "site"}},
		{ID: "b", Name: "/db", Labels: map[string]string{"traefik.enable": "false"}},
		{ID: "c", Name: "/homepage", Labels: map[string]string{"homepage.group": "media", "homepage.name": ""}},
		{ID: "d", Name: "/worker-web", Labels: nil},
		{ID: "e", Name: "/x=y", Labels: map[string]string{"k=v": "=", "": "empty-key"}},
	}
	sets := []*match.Criteria{
		{},
		filters(t, []string{"web"}),
		filters(t, []string{"/web", "db"}),
		filters(t, nil, "traefik"),
		filters(t, nil, "traefik.enable=true", "homepage"),
		filters(t, []string{"x=y"}, "k=", "homepage.name="),
		filters(t, []string{"/"}, "compose.project=si"),
	}
	for i, f := range sets {
		r := Build(f, world, nil)
		for _, e := range r.Containers {
			var c Container
			for _, w := range world {
				if w.ID == e.ID {
					c = w
				}
			}
			if want := f.MatchMap(c.Name, c.Labels); e.Visible != want {
				t.Errorf("set %d, %s: visible = %v, want match's %v", i, e.Name, e.Visible, want)
			}
			if f.Empty() != (e.Basis == BasisNoFilters) || e.Visible != (e.Basis == BasisMatch || e.Basis == BasisNoFilters) {
				t.Errorf("set %d, %s: basis %q does not fit visible=%v", i, e.Name, e.Basis, e.Visible)
			}
			if !f.Empty() && e.Visible != (len(e.Matches) > 0) {
				t.Errorf("set %d, %s: visible=%v with %d matches", i, e.Name, e.Visible, len(e.Matches))
			}
			for _, m := range e.Matches {
				one := &match.Criteria{}
				if m.Variable == VarNames {
					one.Names = []string{m.Item}
					if !one.MatchName(m.Name) || m.Name != c.Name {
						t.Errorf("set %d, %s: listed match %+v is not a match", i, e.Name, m)
					}
					continue
				}
				l, _ := match.ParseLabel(m.Item)
				one.Labels = []match.Label{l}
				if v, ok := c.Labels[m.Key]; !ok || v != m.Value || !one.MatchLabel(m.Key, m.Value) {
					t.Errorf("set %d, %s: listed match %+v is not a match", i, e.Name, m)
				}
			}
		}
	}
}

func TestReason(t *testing.T) {
	n := func(item string) Match { return Match{Variable: VarNames, Item: item, Name: "/n"} }
	l := func(item, key string) Match { return Match{Variable: VarLabels, Item: item, Key: key, Value: "v"} }
	tests := []struct {
		name string
		ms   []Match
		want string
	}{
		{"one name", []Match{n("a")}, `CONTAINER_NAMES item "a" matches name "/n"`},
		{"one label", []Match{l("k", "k1")}, `CONTAINER_LABELS item "k" matches label k1=v`},
		{"labels grouped", []Match{l("k", "k1"), l("k", "k2")}, `CONTAINER_LABELS item "k" matches labels k1=v, k2=v`},
		{"labels capped", []Match{l("k", "k1"), l("k", "k2"), l("k", "k3"), l("k", "k4"), l("k", "k5")},
			`CONTAINER_LABELS item "k" matches labels k1=v, k2=v, k3=v and 2 more`},
		{"items capped", []Match{n("a"), n("b"), l("k", "k1"), l("k", "k2"), l("j", "j1"), l("i", "i1")},
			`CONTAINER_NAMES item "a" matches name "/n"; CONTAINER_NAMES item "b" matches name "/n"; ` +
				`CONTAINER_LABELS item "k" matches labels k1=v, k2=v; and 2 more items`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reason(tt.ms); got != tt.want {
				t.Errorf("reason() = %q\nwant       %q", got, tt.want)
			}
		})
	}
}
