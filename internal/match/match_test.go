package match

import (
	"fmt"
	"testing"
)

func TestMatch(t *testing.T) {
	labels := map[string]string{"homepage.group": "media", "com.example.tier": "db-primary"}
	tests := []struct {
		name    string
		filters Criteria
		cname   string
		labels  map[string]string
		want    bool
	}{
		{"no filters shows everything", Criteria{}, "/anything", nil, true},
		{"name substring", Criteria{Names: []string{"web"}}, "/my-web-1", nil, true},
		{"name without slash is normalised", Criteria{Names: []string{"/web"}}, "web-1", nil, true},
		{"slash anchors at the start", Criteria{Names: []string{"/web"}}, "/my-web", nil, false},
		{"name is case-sensitive", Criteria{Names: []string{"Web"}}, "/web", nil, false},
		{"any name item", Criteria{Names: []string{"db", "web"}}, "/web", nil, true},
		{"name miss", Criteria{Names: []string{"db"}}, "/web", labels, false},
		{"empty name item never matches", Criteria{Names: []string{""}}, "/web", nil, false},
		{"label key substring", Criteria{Labels: []Label{{Key: "homepage"}}}, "/x", labels, true},
		{"label key miss", Criteria{Labels: []Label{{Key: "traefik"}}}, "/x", labels, false},
		{"label key=value both substrings", Criteria{Labels: []Label{{Key: "example.tier", Value: "db", HasValue: true}}}, "/x", labels, true},
		{"label value must match the same label", Criteria{Labels: []Label{{Key: "homepage", Value: "db", HasValue: true}}}, "/x", labels, false},
		{"label key= matches any value", Criteria{Labels: []Label{{Key: "homepage", HasValue: true}}}, "/x", labels, true},
		{"label value is case-sensitive", Criteria{Labels: []Label{{Key: "homepage.group", Value: "Media", HasValue: true}}}, "/x", labels, false},
		{"empty label key never matches", Criteria{Labels: []Label{{Key: ""}}}, "/x", labels, false},
		{"nil labels", Criteria{Labels: []Label{{Key: "homepage"}}}, "/x", nil, false},
		{"names OR labels", Criteria{Names: []string{"nomatch"}, Labels: []Label{{Key: "homepage"}}}, "/x", labels, true},
		{"names OR labels, name side", Criteria{Names: []string{"x"}, Labels: []Label{{Key: "nomatch"}}}, "/x", labels, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filters.MatchMap(tt.cname, tt.labels); got != tt.want {
				t.Errorf("Match(%q, %v) = %v, want %v", tt.cname, tt.labels, got, tt.want)
			}
		})
	}
}

func TestParseLabel(t *testing.T) {
	tests := []struct {
		item   string
		want   Label
		wantOK bool
	}{
		{"homepage", Label{Key: "homepage"}, true},
		{"com.foo=bar", Label{Key: "com.foo", Value: "bar", HasValue: true}, true},
		{"k=a=b", Label{Key: "k", Value: "a=b", HasValue: true}, true},
		{"k=", Label{Key: "k", HasValue: true}, true},
		{"=value", Label{}, false},
		{"", Label{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.item, func(t *testing.T) {
			got, ok := ParseLabel(tt.item)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseLabel(%q) = %+v, %v; want %+v, %v", tt.item, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	f := Criteria{Names: []string{"web", "db"}, Labels: []Label{{Key: "homepage"}, {Key: "traefik.enable", Value: "true", HasValue: true}}}
	labels := map[string]string{}
	for i := range 10 {
		labels[fmt.Sprintf("com.example.label%d", i)] = "value"
	}
	b.ReportAllocs()
	for b.Loop() {
		f.MatchMap("/some-container-name", labels)
	}
}
