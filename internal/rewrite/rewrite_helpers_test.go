package rewrite

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// homepageIDs returns the IDs of the containers in a JSON list of
// container summaries that CONTAINER_LABELS=homepage keeps (a label key
// containing "homepage"), and all IDs.
func homepageIDs(tb testing.TB, list []byte) (visible, all map[string]bool) {
	tb.Helper()
	var cs []struct {
		ID     string `json:"Id"`
		Labels map[string]string
	}
	if err := json.Unmarshal(list, &cs); err != nil {
		tb.Fatalf("not a container list: %v", err)
	}
	visible, all = map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		all[c.ID] = true
		for k := range c.Labels {
			if strings.Contains(k, "homepage") {
				visible[c.ID] = true
			}
		}
	}
	return visible, all
}

// engineVisible is homepageIDs of an engine's containers-list-all fixture.
func engineVisible(tb testing.TB, engine string) (visible, all map[string]bool) {
	tb.Helper()
	return homepageIDs(tb, httpBody(tb, engine+"/containers-list-all.http"))
}

// inSet is a keepContainer over a set of IDs that records its calls.
type inSet struct {
	ids   map[string]bool
	calls []string
}

func (s *inSet) keep(id string) bool {
	s.calls = append(s.calls, id)
	return s.ids[id]
}

// mustMalformed fails unless err wraps ErrMalformed and out is nil.
func mustMalformed(t *testing.T, in string, out []byte, err error) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) || out != nil {
		t.Errorf("%q: got %q, %v; want nil, ErrMalformed", in, out, err)
	}
}

// decode unmarshals JSON for a test, failing on error.
func decode[T any](tb testing.TB, b []byte) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("output is not the expected JSON: %v\n%s", err, b)
	}
	return v
}

// sameSlice reports whether out is in itself (not a copy).
func sameSlice(in, out []byte) bool {
	return len(in) > 0 && len(out) > 0 && &in[0] == &out[0]
}

// TestNilCallbacks checks that nil decisions keep everything.
func TestNilCallbacks(t *testing.T) {
	for name, f := range map[string]func(b []byte) ([]byte, error){
		"engine-29.7/network-inspect":                  func(b []byte) ([]byte, error) { return NetworkInspect(b, nil) },
		"private-20.10/networks-list-v1.27":            func(b []byte) ([]byte, error) { return NetworkList(b, nil) },
		"private-20.10/system-df":                      func(b []byte) ([]byte, error) { return DiskUsage(b, nil) },
		"private-20.10/images-list":                    func(b []byte) ([]byte, error) { return ImageList(b, nil, nil) },
		"private-20.10/image-inspect-committed-hidden": func(b []byte) ([]byte, error) { return ImageInspect(b, nil, false) },
	} {
		in := httpBody(t, name+".http")
		out, err := f(in)
		if err != nil || !sameSlice(in, out) {
			t.Errorf("%s: nil callback changed the body (err %v)", name, err)
		}
	}
}
