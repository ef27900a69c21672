package explain

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

func TestWarnings(t *testing.T) {
	// Ten containers: a compose project, a traefik-fronted app, a disabled one.
	world := []Container{
		{ID: "1", Name: "/site-web-1", Labels: map[string]string{"com.docker.compose.project": "site", "traefik.enable": "true"}},
		{ID: "2", Name: "/site-api-1", Labels: map[string]string{"com.docker.compose.project": "site", "traefik.enable": "true"}},
		{ID: "3", Name: "/site-db-1", Labels: map[string]string{"com.docker.compose.project": "site", "traefik.enable": "false"}},
		{ID: "4", Name: "/site-cache-1", Labels: map[string]string{"com.docker.compose.project": "site", "traefik.enable": "0"}},
		{ID: "5", Name: "/homepage", Labels: map[string]string{"homepage.group": "tools"}},
		{ID: "6", Name: "/backup", Labels: map[string]string{"backup.enabled": "no"}},
		{ID: "7", Name: "/metrics", Labels: nil},
		{ID: "8", Name: "/site-worker-1", Labels: map[string]string{"com.docker.compose.project": "site"}},
		{ID: "9", Name: "/site-cron-1", Labels: map[string]string{"com.docker.compose.project": "site"}},
		{ID: "10", Name: "/dozzle", Labels: nil},
	}
	tests := []struct {
		name string
		f    *match.Criteria
		want []string // code:item
		// message, when set, is the first warning's exact message.
		message string
	}{
		{"no filters", &match.Criteria{}, []string{"no_filters:"}, "no CONTAINER_NAMES or CONTAINER_LABELS: every container is visible"},
		{"good filters", filters(t, []string{"homepage"}, "traefik.enable=true"), []string{}, ""},
		{
			"key-only item matches disabled containers", filters(t, nil, "traefik"), []string{"falsy_value:traefik"},
			`CONTAINER_LABELS item "traefik" matches traefik.enable=0 on 2 visible containers (/site-cache-1, /site-db-1): ` +
				`an item without a value matches any value; to require one, write "traefik.enable=true"`,
		},
		{"key= is key-only too", filters(t, nil, "backup="), []string{"falsy_value:backup="}, ""},
		{"a value avoids the falsy warning", filters(t, nil, "traefik.enable=t"), []string{}, ""},
		{"falsy label on a container that is hidden anyway is fine", filters(t, nil, "traefik=x"), []string{"unused_item:traefik=x"}, ""},
		{
			"broad name item", filters(t, []string{"site"}), []string{"broad_item:site"},
			`CONTAINER_NAMES item "site" matches 6 of 10 containers: is it specific enough?`,
		},
		{"broad label item", filters(t, nil, "compose.project=site"), []string{"broad_item:compose.project=site"}, ""},
		{
			"one-character name item", filters(t, []string{"k"}), []string{"short_item:k"},
			`CONTAINER_NAMES item "k" is one character long: it matches every name containing "k"`,
		},
		{"anchored one-character item", filters(t, []string{"/b"}), []string{"short_item:/b"}, ""},
		{"slash matches every name", filters(t, []string{"/"}), []string{"short_item:/"}, `CONTAINER_NAMES item "/" matches every name: every container is visible`},
		{"one-character label key", filters(t, nil, "h"), []string{"short_item:h"}, ""},
		{
			"unused items, in configured order", filters(t, []string{"hompage", "dozzle"}, "hompage.group"),
			[]string{"unused_item:hompage", "unused_item:hompage.group"},
			`CONTAINER_NAMES item "hompage" matches no container or service (a typo, or nothing to show yet?)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(tt.f, world, nil)
			got := []string{}
			for _, w := range r.Warnings {
				got = append(got, w.Code+":"+w.Item)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("warnings = %q, want %q\nmessages: %+v", got, tt.want, r.Warnings)
			}
			if tt.message != "" && len(r.Warnings) > 0 && r.Warnings[0].Message != tt.message {
				t.Errorf("message = %q\nwant      %q", r.Warnings[0].Message, tt.message)
			}
		})
	}
}

func TestBroadNeedsAPopulation(t *testing.T) {
	world := []Container{{ID: "1", Name: "/web-1"}, {ID: "2", Name: "/web-2"}, {ID: "3", Name: "/db"}}
	if r := Build(filters(t, []string{"web"}), world, nil); len(r.Warnings) != 0 {
		t.Errorf("with %d containers: warnings %+v, want none", len(world), r.Warnings)
	}
}

func TestUnusedCountsServices(t *testing.T) {
	r := Build(filters(t, []string{"/api"}), nil, []Service{{ID: "s", Name: "api"}})
	if len(r.Warnings) != 0 {
		t.Errorf("an item matching only a service: warnings %+v, want none", r.Warnings)
	}
}

func TestFalsyListIsBounded(t *testing.T) {
	var world []Container
	for i := range 8 {
		world = append(world, Container{ID: fmt.Sprint(i), Name: fmt.Sprintf("/c%d", i), Labels: map[string]string{"traefik.enable": "false"}})
	}
	r := Build(filters(t, nil, "traefik"), world, nil)
	want := `CONTAINER_LABELS item "traefik" matches traefik.enable=false on 8 visible containers (/c0, /c1, /c2, /c3, /c4 and 3 more): ` +
		`an item without a value matches any value; to require one, write "traefik.enable=true"`
	if len(r.Warnings) == 0 || r.Warnings[0].Message != want {
		t.Errorf("warnings = %+v\nwant first message %q", r.Warnings, want)
	}
}

func TestFalsy(t *testing.T) {
	for v, want := range map[string]bool{"false": true, "FALSE": true, " 0 ": true, "no": true, "off": true, "disabled": true,
		"true": false, "1": false, "": false, "nope": false, "falsey": false} {
		if got := falsy(v); got != want {
			t.Errorf("falsy(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestFalsyOnServices(t *testing.T) {
	r := Build(filters(t, nil, "traefik"),
		[]Container{{ID: "1", Name: "/a", Labels: map[string]string{"traefik.enable": "false"}}},
		[]Service{{ID: "s", Name: "api", Labels: map[string]string{"traefik.enable": "no"}}})
	want := `CONTAINER_LABELS item "traefik" matches traefik.enable=false on 1 visible container and 1 visible service (/a, api): ` +
		`an item without a value matches any value; to require one, write "traefik.enable=true"`
	if len(r.Warnings) != 1 || r.Warnings[0].Message != want {
		t.Errorf("warnings = %+v\nwant one with message %q", r.Warnings, want)
	}
}
