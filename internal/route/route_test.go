package route

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		method, path string
		wantOp       Op
		wantVersion  string
		wantRef      string
	}{
		{"GET", "/containers/json", OpContainerList, "", ""},
		{"GET", "/v1.41/containers/json", OpContainerList, "1.41", ""},
		{"GET", "/v1.44.0/containers/json", OpContainerList, "1.44.0", ""},
		{"GET", "/v01.44/containers/json", OpContainerList, "01.44", ""},
		{"GET", "/containers/web/json", OpContainerInspect, "", "web"},
		{"GET", "/v1.55/containers/0123abc/json", OpContainerInspect, "1.55", "0123abc"},
		{"GET", "/containers/json-x/json", OpContainerInspect, "", "json-x"},
		{"GET", "/containers/json/json", OpContainerInspect, "", "json"},
		{"GET", "/containers/web/db/json", OpContainerInspect, "", "web/db"},
		{"GET", "/containers/a/logs/json", OpContainerInspect, "", "a/logs"},
		{"GET", "/containers/a/json/logs", OpContainerLogs, "", "a/json"},
		{"GET", "/containers/x/attach/ws", OpContainerAttachWebsocket, "", "x"},
		{"POST", "/containers/x/attach", OpContainerAttach, "", "x"},
		{"HEAD", "/containers/x/archive", OpContainerArchiveInfo, "", "x"},
		{"PUT", "/containers/x/archive", OpPutContainerArchive, "", "x"},
		{"DELETE", "/containers/x", OpContainerDelete, "", "x"},
		{"DELETE", "/containers/web/db", OpContainerDelete, "", "web/db"},
		{"DELETE", "/containers/x/checkpoints/cp1", OpCheckpointDelete, "", "x"},
		{"DELETE", "/containers/x/y/checkpoints/cp1", OpContainerDelete, "", "x/y/checkpoints/cp1"},
		{"POST", "/containers/create", OpContainerCreate, "", ""},
		{"POST", "/containers/prune", OpContainerPrune, "", ""},
		{"POST", "/containers/x/prune", OpUnknown, "", ""},
		{"POST", "/containers/x/stop", OpContainerStop, "", "x"},
		{"GET", "/exec/abc/json", OpExecInspect, "", "abc"},
		{"POST", "/exec/abc/start", OpExecStart, "", "abc"},
		{"GET", "/_ping", OpSystemPing, "", ""},
		{"HEAD", "/v1.41/_ping", OpSystemPingHead, "1.41", ""},
		{"GET", "/events", OpSystemEvents, "", ""},
		{"GET", "/networks", OpNetworkList, "", ""},
		{"GET", "/networks/", OpNetworkList, "", ""},
		{"GET", "/networks/abc", OpNetworkInspect, "", "abc"},
		{"GET", "/networks/a/b", OpNetworkInspect, "", "a/b"},
		{"GET", "/services/s1", OpServiceInspect, "", "s1"},
		{"GET", "/services/s1/x", OpUnknown, "", ""},
		{"GET", "/images/library/nginx/json", OpImageInspect, "", "library/nginx"},
		{"GET", "/debug/pprof/heap", OpDebugPprof, "", "heap"},
		{"OPTIONS", "/containers/x/json", OpOptions, "", "containers/x/json"},
		{"OPTIONS", "/v1.41/anything", OpOptions, "1.41", "anything"},
		// Unknown: wrong method, lowercase method, case-folded path, trailing
		// slash, no route, version without path.
		{"POST", "/containers/x/json", OpUnknown, "", ""},
		{"get", "/containers/x/json", OpUnknown, "", ""},
		{"GET", "/Containers/x/json", OpUnknown, "", ""},
		{"GET", "/containers/json/", OpUnknown, "", ""},
		{"GET", "/nothing", OpUnknown, "", ""},
		{"GET", "/v1.41", OpUnknown, "", ""},
		{"GET", "/v1.41/", OpUnknown, "1.41", ""},
		{"GET", "/v/containers/json", OpUnknown, "", ""},
		{"GET", "/vx/containers/json", OpUnknown, "", ""},
		{"GET", "/v1.41/v1.41/containers/json", OpUnknown, "1.41", ""},
		{"GET", "/volumes", OpVolumeList, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			u := &url.URL{Path: tt.path}
			r, err := Parse(tt.method, u.Path, u.EscapedPath())
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if r.Op() != tt.wantOp || r.Version != tt.wantVersion || r.Ref != tt.wantRef {
				t.Errorf("got op %s version %q ref %q; want op %s version %q ref %q",
					r.Name(), r.Version, r.Ref, nameOf(tt.wantOp), tt.wantVersion, tt.wantRef)
			}
		})
	}
}

func nameOf(op Op) string {
	for _, s := range Table {
		if s.Op == op {
			return s.Name
		}
	}
	return "Unknown"
}

func TestParseRefusesUncleanPaths(t *testing.T) {
	tests := []struct {
		raw  string // request target as a client sends it
		want error
	}{
		{"/containers/ok/../hidden/json", ErrUnclean},
		{"//containers/hidden/json", ErrUnclean},
		{"/containers//json", ErrUnclean},
		{"/containers/./x/json", ErrUnclean},
		{"/containers/ok/%2e%2e/hidden/json", ErrUnclean},
		{"/containers/ok/%2E%2E/hidden/json", ErrUnclean},
		{"/containers/x/.", ErrUnclean},
		{"/v1.41/../containers/hidden/json", ErrUnclean},
		{"/containers/hidden%2Fjson", ErrEncodedSlash},
		{"/containers/hidden%2fjson", ErrEncodedSlash},
		{"/containers/json%2F..", ErrUnclean},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := url.ParseRequestURI(tt.raw)
			if err != nil {
				t.Fatalf("ParseRequestURI: %v", err)
			}
			_, err = Parse("GET", u.Path, u.EscapedPath())
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) error = %v, want %v", tt.raw, err, tt.want)
			}
		})
	}
}

func TestParseAllowsEncodedSlashThatKeepsTheRoute(t *testing.T) {
	u, err := url.ParseRequestURI("/images/library%2Fnginx/json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse("GET", u.Path, u.EscapedPath())
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	if r.Op() != OpImageInspect || r.Ref != "library/nginx" {
		t.Errorf("got %s ref %q, want ImageInspect ref %q", r.Name(), r.Ref, "library/nginx")
	}
}

func TestWithRef(t *testing.T) {
	id := strings.Repeat("ab", 32)
	tests := []struct{ method, path, want string }{
		{"GET", "/v1.41/containers/web/json", "/v1.41/containers/" + id + "/json"},
		{"DELETE", "/containers/web", "/containers/" + id},
		{"DELETE", "/containers/web/checkpoints/c", "/containers/" + id + "/checkpoints/c"},
		{"GET", "/containers/a/json/logs", "/containers/" + id + "/logs"},
		{"GET", "/containers/json", "/containers/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, err := Parse(tt.method, tt.path, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.WithRef(id); got != tt.want {
				t.Errorf("WithRef = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTableIsComplete(t *testing.T) {
	seen := map[Op]bool{}
	for _, s := range Table {
		seen[s.Op] = true
		if s.Name == "" {
			t.Errorf("%s %s has no name", s.Method, s.Template)
		}
	}
	for op := OpUnknown + 1; op < opCount; op++ {
		if !seen[op] {
			t.Errorf("Op %d has no route in the table", op)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	paths := []struct{ method, path string }{
		{"GET", "/v1.41/containers/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/json"},
		{"GET", "/v1.41/containers/json"},
		{"POST", "/v1.41/containers/web/stop"},
		{"GET", "/v1.41/networks/abc"},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			if _, err := Parse(p.method, p.path, p.path); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestEveryRouteNamesItsStrategy(t *testing.T) {
	for _, spec := range Table {
		if spec.Strategy == Unset || spec.Strategy >= StrategyCount {
			t.Errorf("%s %s has no strategy", spec.Method, spec.Template)
		}
	}
}
