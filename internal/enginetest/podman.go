package enginetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// Environment variables read by [StartPodman].
const (
	// EnvPodmanHost names a running Podman API service (podman system
	// service) the Podman tests use instead of starting one of their own.
	EnvPodmanHost = "DPF_TEST_PODMAN_HOST"
	// EnvRequirePodman, set to 1, turns a Podman that cannot be reached or
	// started into a test failure, as EnvRequire does for the engine.
	EnvRequirePodman = "DPF_REQUIRE_PODMAN"
)

// podmanConf is the private service's containers.conf (CONTAINERS_CONF
// replaces the system's files, so nothing outside its directory is read
// or written):
//   - default_ulimits: Podman gives a container nofile and nproc limits far
//     above the hard limits of a test machine or CI runner (nofile 20000
//     here), and runc then fails every start with "error setting rlimits
//     for ready process: operation not permitted";
//   - lock_type "file": the default shm locks live in one /dev/shm segment
//     shared by every Podman on the host, and a fresh service frees them
//     all at its first start; file locks live in its --tmpdir;
//   - events_logger "file": journald is not there on CI machines.
const podmanConf = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
lock_type = "file"
events_logger = "file"
cgroup_manager = "cgroupfs"
image_copy_tmp_dir = %q
`

// StartPodman returns a Podman serving its Docker-compatible API: the one
// named by DPF_TEST_PODMAN_HOST, else a service of the test's own (as root
// with podman installed: apt-get install podman) in a private directory,
// stopped and removed when the test ends. Elsewhere it skips, or fails
// with DPF_REQUIRE_PODMAN=1 (CI).
//
// The returned Engine's helpers (Run, TestImage, Docker, ...) work on it
// as on a Docker Engine: Podman imports the test image through the same
// API call.
func StartPodman(t testing.TB) *Engine {
	t.Helper()
	unavailable := func(why string) *Engine {
		if os.Getenv(EnvRequirePodman) == "1" {
			t.Fatalf("Podman test cannot run and %s=1 forbids skipping: %s", EnvRequirePodman, why)
		}
		t.Skipf("skipping Podman test: %s. Run the tests as root with podman installed (apt-get install podman), "+
			"or set %s to a running service (podman system service --time=0 unix:///tmp/p/podman.sock)", why, EnvPodmanHost)
		return nil
	}
	if host := strings.TrimSpace(os.Getenv(EnvPodmanHost)); host != "" {
		e, err := connectPodman(host, pingTimeout)
		if err != nil {
			return unavailable(fmt.Sprintf("%s=%s: %v", EnvPodmanHost, host, err))
		}
		t.Cleanup(func() { e.Client.Close() })
		return e
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		return unavailable("podman is not installed")
	}
	if os.Geteuid() != 0 {
		return unavailable("not running as root, which a private Podman service needs here")
	}
	// Short: unix socket paths are limited to ~108 bytes.
	dir, err := os.MkdirTemp("/tmp", "dpfpm")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, podmanConf, tmp), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "podman.log"))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "p.sock")
	cmd := exec.Command(podman,
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--tmpdir", tmp, "--network-config-dir", filepath.Join(dir, "net"),
		"--storage-driver", "vfs",
		"system", "service", "--time=0", "unix://"+sock)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf, "TMPDIR="+tmp)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start podman: %v", err)
	}
	var e *Engine
	t.Cleanup(func() { stopPodman(t, e, cmd, dir, logf) })
	if e, err = connectPodman("unix://"+sock, 30*time.Second); err != nil {
		log, _ := os.ReadFile(logf.Name())
		t.Fatalf("private Podman service did not answer: %v\n%s", err, log)
	}
	return e
}

// connectPodman pings host until it answers as Podman or timeout passes.
func connectPodman(host string, timeout time.Duration) (*Engine, error) {
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, err = c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("no answer to a ping within %v: %w", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		c.Close()
		return nil, err
	}
	for _, comp := range v.Components {
		if comp.Name == "Podman Engine" {
			return &Engine{Host: host, Client: c}, nil
		}
	}
	c.Close()
	return nil, fmt.Errorf("not a Podman service (version %s, no Podman Engine component)", v.Version)
}

// stopPodman removes every container, stops the service and deletes its
// directory. Containers' monitors (conmon) run outside the service's
// process group, so leftovers are found by the directory they name.
func stopPodman(t testing.TB, e *Engine, cmd *exec.Cmd, dir string, logf *os.File) {
	if e != nil {
		ctx, cancel := cleanupContext()
		if list, err := e.Client.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
			for _, c := range list.Items {
				_, _ = e.Client.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
		cancel()
		e.Client.Close()
	}
	stopDaemon(t, cmd, dir, logf, "Podman")
}
