package config

import (
	"os"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
)

// TestVariablesIsWhatLoadReads: a variable Load reads but Variables omits
// would be missing from the docs and the compose checks.
func TestVariablesIsWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	_, _ = Load(func(k string) string { read[k] = true; return "" })
	for _, v := range access.Variables() {
		delete(read, v.Name)
	}
	delete(read, "DOCKER_HOST") // PROXY_URL's default, not a setting of ours
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
		if !strings.Contains(help, "  "+v+" ") {
			t.Errorf("-h does not describe %s", v)
		}
		if !strings.Contains(string(readme), "| `"+v+"` |") {
			t.Errorf("the README's Configuration table has no row for %s", v)
		}
	}
}
