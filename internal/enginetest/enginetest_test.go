package enginetest_test

import (
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

func TestRunLogsExecCleanup(t *testing.T) {
	t.Parallel()
	e := enginetest.Require(t)

	var id string
	t.Run("container", func(t *testing.T) {
		label := enginetest.UniqueName(t, "lbl")
		c := e.Run(t, enginetest.RunSpec{
			Name:   enginetest.UniqueName(t, "harness"),
			Labels: map[string]string{"dpf.test.harness": label},
			Env:    []string{"DPF_HARNESS=" + label},
		})
		id = c.ID

		st := e.Inspect(t, c.ID)
		if !st.State.Running || st.State.Paused {
			t.Fatalf("state = %+v, want running", st.State)
		}
		if got := strings.TrimPrefix(st.Name, "/"); got != c.Name {
			t.Fatalf("name = %q, want %q", got, c.Name)
		}
		if st.Config.Labels["dpf.test.harness"] != label || st.Config.Labels[enginetest.LabelTest] != t.Name() {
			t.Fatalf("labels = %v", st.Config.Labels)
		}
		if st.HostConfig.NetworkMode != "none" {
			t.Fatalf("network mode = %q, want none", st.HostConfig.NetworkMode)
		}

		e.WaitLog(t, c.ID, "tick 2", 10*time.Second)
		out, stderr, err := e.Docker(t, e.Host, "logs", c.Name)
		if err != nil || !strings.Contains(out, "tick 1\n") {
			t.Fatalf("docker logs: err=%v stdout=%q stderr=%q", err, out, stderr)
		}

		out, stderr, err = e.Docker(t, e.Host, "exec", c.Name, "/app", "echo", "hi", "there")
		if err != nil || out != "hi there\n" {
			t.Fatalf("docker exec echo: err=%v stdout=%q stderr=%q", err, out, stderr)
		}
		out, _, err = e.Docker(t, e.Host, "exec", c.ID, "/app", "env")
		if err != nil || !strings.Contains(out, "DPF_HARNESS="+label+"\n") {
			t.Fatalf("docker exec env: err=%v stdout=%q", err, out)
		}
		cmd := e.DockerCmd(t, e.Host, "exec", "-i", c.ID, "/app", "cat")
		cmd.Stdin = strings.NewReader("piped\n")
		if b, err := cmd.Output(); err != nil || string(b) != "piped\n" {
			t.Fatalf("docker exec -i cat: err=%v stdout=%q", err, b)
		}
		_, _, err = e.Docker(t, e.Host, "exec", c.ID, "/app", "exit", "3")
		if code := exitCode(err); code != 3 {
			t.Fatalf("docker exec exit 3: exit code %d (err=%v)", code, err)
		}

		// A stop must be quick: testapp handles SIGTERM as PID 1.
		start := time.Now()
		if _, stderr, err := e.Docker(t, e.Host, "stop", c.ID); err != nil {
			t.Fatalf("docker stop: %v: %s", err, stderr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("docker stop took %v; SIGTERM not handled?", d)
		}
		if st := e.Inspect(t, c.ID).State; st.Running || st.ExitCode != 0 {
			t.Fatalf("after stop: running=%v exit=%d", st.Running, st.ExitCode)
		}
	})
	if id == "" {
		t.Fatal("subtest did not create a container")
	}
	if e.Exists(t, id) {
		t.Fatalf("container %s still exists after its test's cleanup", id)
	}
}

func TestRunNoStartAndCmd(t *testing.T) {
	t.Parallel()
	e := enginetest.Require(t)
	c := e.Run(t, enginetest.RunSpec{NoStart: true, Cmd: []string{"echo", "once"}})
	if st := e.Inspect(t, c.ID).State; st.Status != "created" {
		t.Fatalf("status = %q, want created", st.Status)
	}
	if _, stderr, err := e.Docker(t, e.Host, "start", "-a", c.ID); err != nil {
		t.Fatalf("docker start -a: %v: %s", err, stderr)
	}
	if got := e.Logs(t, c.ID); got != "once\n" {
		t.Fatalf("logs = %q, want %q", got, "once\n")
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	e := enginetest.Require(t)
	var netID string
	t.Run("create", func(t *testing.T) {
		netID = e.Network(t, "")
		c := e.Run(t, enginetest.RunSpec{Network: netID})
		nets := e.Inspect(t, c.ID).NetworkSettings.Networks
		if len(nets) != 1 {
			t.Fatalf("networks = %v, want only the test network", nets)
		}
	})
	if _, _, err := e.Docker(t, e.Host, "network", "inspect", netID); err == nil {
		t.Fatalf("network %s still exists after its test's cleanup", netID)
	}
}

func TestUniqueName(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		n := enginetest.UniqueName(t, "My Test/Name")
		if !strings.HasPrefix(n, "my-test-name-") || seen[n] {
			t.Fatalf("bad or repeated name %q", n)
		}
		seen[n] = true
	}
	if n := enginetest.UniqueName(t, "--"); !strings.HasPrefix(n, "dpf-") {
		t.Fatalf("empty prefix gave %q", n)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func TestTempSocket(t *testing.T) {
	t.Parallel()
	p := enginetest.TempSocket(t)
	if len(p) > 100 {
		t.Fatalf("socket path too long (%d bytes): %s", len(p), p)
	}
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

func TestDockerAgainstDeadHost(t *testing.T) {
	t.Parallel()
	e := enginetest.Require(t)
	// A refused connection must come back as an error, not hang or fail the test.
	_, stderr, err := e.Docker(t, "unix://"+enginetest.TempSocket(t), "ps")
	if err == nil || exitCode(err) <= 0 {
		t.Fatalf("docker ps against nothing: err=%v stderr=%q", err, stderr)
	}
}
