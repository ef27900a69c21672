package enginetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// DockerTimeout bounds one [Engine.Docker] call, so a proxy that hangs a
// request fails the test instead of stalling the whole run.
const DockerTimeout = 2 * time.Minute

// preferredCLI is the newest CLI on the machines this project uses; it
// negotiates down to the engine's API version, exercising the proxy the way
// current users do. Any docker on PATH is the fallback.
const preferredCLI = "/usr/local/bin/docker"

// DockerCLI returns the path of the docker CLI the helpers run, failing the
// test when there is none.
func DockerCLI(t testing.TB) string {
	t.Helper()
	if st, err := os.Stat(preferredCLI); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return preferredCLI
	}
	p, err := exec.LookPath("docker")
	if err != nil {
		t.Fatalf("enginetest: no docker CLI (%s or on PATH): %v", preferredCLI, err)
	}
	return p
}

// Docker runs the real docker CLI against host (usually the proxy under
// test, or e.Host for the engine itself) and returns its output. A non-zero
// exit is returned as err (an *exec.ExitError), not a test failure, because
// tests often expect the CLI to be refused. The CLI gets no TTY, an empty
// stdin and a private config dir so the developer's settings and contexts
// cannot leak in.
func (e *Engine) Docker(t testing.TB, host string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	// Not t.Context(): that is already canceled when cleanups run, and
	// tests do use the CLI in cleanups.
	ctx, cancel := context.WithTimeout(context.Background(), DockerTimeout)
	defer cancel()
	cmd := e.dockerCmd(ctx, t, host, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		t.Errorf("enginetest: docker %s: timed out after %v", strings.Join(args, " "), DockerTimeout)
	}
	return out.String(), errb.String(), err
}

// DockerCmd prepares the same CLI invocation as [Engine.Docker] without
// running it, for tests that stream (logs -f, events), feed stdin (attach,
// exec -i) or need to interrupt it. If still running when the test ends, it
// is killed (before cleanups registered earlier run, e.g. stopping a proxy).
func (e *Engine) DockerCmd(t testing.TB, host string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return e.dockerCmd(ctx, t, host, args...)
}

func (e *Engine) dockerCmd(ctx context.Context, t testing.TB, host string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, DockerCLI(t), args...)
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"DOCKER_HOST="+host,
		"DOCKER_CONFIG="+t.TempDir(),
		"DOCKER_CLI_HINTS=false",
	)
	// The CLI may leave a helper holding the output pipes; don't let that
	// block Wait forever after the CLI itself exited or was killed.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
