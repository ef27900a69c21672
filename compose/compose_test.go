// Package compose holds runnable compose files for the article's scenarios;
// this test keeps them valid and pointed at this repository's image.
package compose

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// knownVariables are the variables docker-proxy-filter reads (see -h).
var knownVariables = map[string]bool{
	"PROXY_URL": true, "CONTAINER_NAMES": true, "CONTAINER_LABELS": true, "SCRUB_ENVS": true,
	"PORT": true, "LISTEN": true, "LOG_LEVEL": true, "LOG_FORMAT": true,
	"INDEX_CAPACITY": true, "POLL_INTERVAL": true, "READ_ONLY": true,
}

func composeFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.yml")
	if err != nil || len(files) < 2 {
		t.Fatalf("compose files: %v, %v; want the article's two scenarios", files, err)
	}
	return files
}

// TestComposeFilesAreValid asks docker-compose itself to parse each file.
// CI installs docker-compose; elsewhere the check skips, saying why.
func TestComposeFilesAreValid(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("DPF_REQUIRE_ENGINE") == "1" {
			t.Fatal("docker-compose is not installed, and CI (DPF_REQUIRE_ENGINE=1) must validate the compose files")
		}
		t.Skip("docker-compose is not installed (apt-get install docker-compose); skipping compose validation")
	}
	for _, f := range composeFiles(t) {
		t.Run(f, func(t *testing.T) {
			out, err := exec.Command(bin, "-f", f, "config").CombinedOutput()
			if err != nil {
				t.Fatalf("docker-compose -f %s config: %v\n%s", f, err, out)
			}
			// The filter service builds this repository (context resolves to
			// the repo root, which holds the Dockerfile).
			root, _ := filepath.Abs("..")
			if !strings.Contains(string(out), "context: "+root) {
				t.Errorf("%s does not build this repository (context %s):\n%s", f, root, out)
			}
		})
	}
}

// TestComposeFilesUseDocumentedVariables catches a typo in a variable name,
// which the proxy would silently ignore.
func TestComposeFilesUseDocumentedVariables(t *testing.T) {
	assignment := regexp.MustCompile(`^\s*-\s*([A-Z_]+)=`)
	for _, f := range composeFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inFilter := false
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
				inFilter = strings.HasPrefix(strings.TrimSpace(line), "docker-proxy-filter:")
			}
			if m := assignment.FindStringSubmatch(line); inFilter && m != nil && !knownVariables[m[1]] {
				t.Errorf("%s: docker-proxy-filter gets unknown variable %s", f, m[1])
			}
		}
		if !strings.Contains(string(b), "SCRUB_ENVS=true") {
			t.Errorf("%s: both scenarios scrub envs", f)
		}
	}
}
