package config

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
)

// TestVariablesIsWhatLoadReads: a variable Load reads but Variables omits
// would be missing from the docs and the compose checks.
func TestVariablesIsWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	// Some are read only when others ask for them (the certificates when
	// TLS is on): read with nothing set, then with TLS on.
	for _, env := range []map[string]string{nil, {"PROXY_URL": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"}} {
		_, _ = Load(func(k string) string { read[k] = true; return env[k] })
	}
	for _, v := range access.Variables() {
		delete(read, v.Name)
	}
	// Defaults taken from the docker CLI's environment, not settings of ours.
	for _, v := range []string{"DOCKER_HOST", "DOCKER_CONFIG", "HOME"} {
		delete(read, v)
	}
	for _, v := range Variables {
		if !read[v] {
			t.Errorf("Variables lists %s, which Load does not read", v)
		}
		delete(read, v)
	}
	for v := range read {
		if !strings.HasPrefix(v, "LIBPOD_") {
			t.Errorf("Load reads %s, which Variables does not list", v)
		}
	}
}

// TestEveryVariableIsDocumented: each variable is in -h and in the README's
// Configuration table.
func TestEveryVariableIsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	help := Help()
	for _, v := range Variables {
		if !regexp.MustCompile(`(?m)^  ` + v + `(\s|$)`).MatchString(help) {
			t.Errorf("-h does not describe %s", v)
		}
		if !strings.Contains(string(readme), "| `"+v+"` |") {
			t.Errorf("the README's Configuration table has no row for %s", v)
		}
	}
}

// TestReadmeDocumentsNoOtherVariable: the other way round, every variable
// row of the README's tables is one the proxy reads, so the README cannot
// promise a setting that does nothing.
func TestReadmeDocumentsNoOtherVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"LIBPOD_*": true}
	for _, v := range Variables {
		known[v] = true
	}
	for _, v := range access.Variables() {
		known[v.Name] = true
	}
	rows := regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]*\\*?)`").FindAllStringSubmatch(string(readme), -1)
	if len(rows) < len(Variables) {
		t.Fatalf("found %d variable rows in the README, fewer than the %d variables: the pattern is stale", len(rows), len(Variables))
	}
	for _, m := range rows {
		if !known[m[1]] {
			t.Errorf("the README has a row for %s, which the proxy does not read", m[1])
		}
	}
}
