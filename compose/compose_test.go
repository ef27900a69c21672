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

	"github.com/dpf-dev/docker-proxy-filter/internal/access"
)

// knownVariables are the variables docker-proxy-filter reads (see -h),
// LinuxServer's socket-proxy variables included.
func knownVariables() map[string]bool {
	known := map[string]bool{
		"PROXY_URL": true, "CONTAINER_NAMES": true, "CONTAINER_LABELS": true, "SCRUB_ENVS": true,
		"PORT": true, "LISTEN": true, "LOG_LEVEL": true, "LOG_FORMAT": true,
		"INDEX_CAPACITY": true, "POLL_INTERVAL": true, "READ_ONLY": true,
		"LISTEN_SOCKET_MODE": true, "LISTEN_SOCKET_GROUP": true, "SHUTDOWN_TIMEOUT": true,
	}
	for _, v := range access.Variables() {
		known[v.Name] = true
	}
	return known
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
	knownVariables := knownVariables()
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

// filterEnvironment returns the environment list of a file's
// docker-proxy-filter service, and the service's lines.
func filterEnvironment(t *testing.T, file string) (env map[string]string, service []string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	assignment := regexp.MustCompile(`^\s*-\s*([A-Z_]+)=(.*)$`)
	env = map[string]string{}
	inFilter := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			inFilter = strings.HasPrefix(strings.TrimSpace(line), "docker-proxy-filter:")
		}
		if !inFilter {
			continue
		}
		service = append(service, line)
		if m := assignment.FindStringSubmatch(line); m != nil {
			env[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return env, service
}

// TestSingleContainerFiles: the one-container scenarios put the filter on
// the socket itself, so its LinuxServer block must load cleanly and allow no
// writes, the socket must be mounted read-only and the non-root image must
// get the socket's group.
func TestSingleContainerFiles(t *testing.T) {
	files, err := filepath.Glob("*-single.yml")
	if err != nil || len(files) != 2 {
		t.Fatalf("single-container files: %v, %v; want homepage-single.yml and monitor-all-single.yml", files, err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			env, service := filterEnvironment(t, f)
			if got := env["PROXY_URL"]; got != "unix:///var/run/docker.sock" {
				t.Errorf("PROXY_URL: got %q, want the Docker socket", got)
			}
			p, problems := access.Load(func(k string) string { return env[k] })
			if len(problems) > 0 {
				t.Fatalf("access.Load: %v", problems)
			}
			if !p.Active() {
				t.Errorf("no LinuxServer variable: the socket would be open to every API area")
			}
			_, readOnlySet := env["READ_ONLY"]
			readOnly, problems := access.CombineReadOnly(p, readOnlySet, env["READ_ONLY"] != "false")
			if len(problems) > 0 {
				t.Errorf("access.CombineReadOnly: %v", problems)
			}
			if !readOnly && env["POST"] != "0" {
				t.Errorf("POST: got %q, want 0: these scenarios only read", env["POST"])
			}
			text := strings.Join(service, "\n")
			for _, want := range []string{
				"- /var/run/docker.sock:/var/run/docker.sock:ro",
				"group_add:",
				`- "${DOCKER_GID:-999}"`,
				"stat -c %g /var/run/docker.sock",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("the docker-proxy-filter service lacks %q", want)
				}
			}
		})
	}
}
