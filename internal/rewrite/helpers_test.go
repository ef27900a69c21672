package rewrite

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var engines = []string{"engine-20.10", "engine-29.7"}

// httpBody returns the body of a captured raw HTTP response in testdata.
func httpBody(tb testing.TB, path string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		tb.Fatal(err)
	}
	_, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		tb.Fatalf("%s: no blank line after the headers", path)
	}
	return body
}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\ngot:  %s\nwant: %s", path, got, want)
	}
}

// keepAll keeps every container.
func keepAll(string, iter.Seq2[string, string]) bool { return true }

// keepLabelKey keeps containers with a label key containing sub, like
// CONTAINER_LABELS=sub.
func keepLabelKey(sub string) Keep {
	return func(_ string, labels iter.Seq2[string, string]) bool {
		for k := range labels {
			if strings.Contains(k, sub) {
				return true
			}
		}
		return false
	}
}

// keepNames keeps containers whose primary name is one of names.
func keepNames(names ...string) Keep {
	return func(name string, _ iter.Seq2[string, string]) bool {
		for _, n := range names {
			if name == n {
				return true
			}
		}
		return false
	}
}

// recorder is a Keep that logs each call as `name{k=v,...}` (labels
// sorted) and delegates the decision.
type recorder struct {
	calls []string
	keep  Keep
}

func (r *recorder) Keep(name string, labels iter.Seq2[string, string]) bool {
	r.calls = append(r.calls, describe(name, labels))
	if r.keep == nil {
		return true
	}
	return r.keep(name, labels)
}

func describe(name string, labels iter.Seq2[string, string]) string {
	var kv []string
	for k, v := range labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return fmt.Sprintf("%s{%s}", name, strings.Join(kv, ","))
}

// summary is the part of a container summary the filter decides on, as a
// Go client decodes it.
type summary struct {
	Names  []string
	Labels map[string]string
}

// primary applies the primary-name rule to names decoded by encoding/json.
func primary(names []string) string {
	for _, n := range names {
		if len(n) == 0 || !strings.Contains(n[1:], "/") {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// mapSeq iterates a map, for calling a Keep with encoding/json's view.
func mapSeq(m map[string]string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for k, v := range m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// elements splits a JSON array into its raw elements with encoding/json.
func elements(tb testing.TB, list []byte) []json.RawMessage {
	tb.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal(list, &raw); err != nil {
		tb.Fatalf("output is not a JSON array: %v\n%s", err, list)
	}
	return raw
}
