package enginetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// StartPrivate starts a dockerd of the test's own, for tests that change the
// engine globally (swarm mode) or need a world no other test touches (a leak
// test that scans every answer). It needs what the shared engine needs: root
// and dockerd; without them it skips (fails with DPF_REQUIRE_ENGINE=1). The
// engine is stopped and its directory removed when the test ends.
func StartPrivate(t testing.TB) *Engine {
	t.Helper()
	return startPrivate(t, "dpfp", nil)
}

// startPrivate starts the engine in a new directory under /tmp named with
// prefix; extra, when set, writes what its flags need into that directory
// and returns them.
func startPrivate(t testing.TB, prefix string, extra func(dir string) []string) *Engine {
	t.Helper()
	unavailable := func(why string) *Engine {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("private engine cannot start and %s=1 forbids skipping: %s", EnvRequire, why)
		}
		t.Skipf("skipping: a private engine cannot start here: %s (run scripts/test as root with docker.io installed)", why)
		return nil
	}
	dockerd := os.Getenv(EnvDockerd)
	if dockerd == "" {
		var err error
		if dockerd, err = exec.LookPath("dockerd"); err != nil {
			// Not on the PATH of a non-login root shell, where apt puts it.
			if _, serr := os.Stat("/usr/sbin/dockerd"); serr != nil {
				return unavailable("dockerd is not installed")
			}
			dockerd = "/usr/sbin/dockerd"
		}
	}
	if os.Geteuid() != 0 {
		return unavailable("not running as root")
	}
	// Short: unix socket paths are limited to ~108 bytes.
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "d.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "e"),
		"-H", "unix://" + sock, "--pidfile", filepath.Join(dir, "pid"),
	}, strings.Fields(os.Getenv(EnvDockerdFlags))...)
	if extra != nil {
		args = append(args, extra(dir)...)
	}
	cmd := exec.Command(dockerd, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	e := &Engine{Host: "unix://" + sock}
	t.Cleanup(func() { stopPrivate(t, e, cmd, dir, logf) })

	c, err := client.New(client.WithHost(e.Host))
	if err != nil {
		t.Fatal(err)
	}
	e.Client = c
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("private dockerd did not answer within 30s:\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return e
}

// stopPrivate removes everything the engine ran, stops it, and deletes its
// directory; a dockerd that will not stop is killed with its shims.
func stopPrivate(t testing.TB, e *Engine, cmd *exec.Cmd, dir string, logf *os.File) {
	ctx, cancel := cleanupContext()
	defer cancel()
	if e.Client != nil {
		_, _ = e.Client.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true})
		if list, err := e.Client.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
			for _, c := range list.Items {
				_, _ = e.Client.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
		if nets, err := e.Client.NetworkList(ctx, client.NetworkListOptions{}); err == nil {
			for _, n := range nets.Items {
				switch n.Name {
				case "none", "host", "bridge":
				default:
					_, _ = e.Client.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
				}
			}
		}
		e.Client.Close()
	}
	stopDaemon(t, cmd, dir, logf, "engine")
}

// killProcessesMentioning kills leftover processes (containerd, shims) whose
// command line names the engine's directory.
// stopDaemon stops a daemon the tests started (dockerd, or Podman's
// service) with SIGTERM, then SIGKILL to its process group after 20 s,
// kills whatever still runs from its directory, unmounts what it left
// mounted there and removes the directory.
func stopDaemon(t testing.TB, cmd *exec.Cmd, dir string, logf *os.File, what string) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	killProcessesMentioning(dir)
	unmountUnder(dir)
	logf.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Logf("enginetest: removing private %s dir %s: %v", what, dir, err)
	}
}

func killProcessesMentioning(dir string) {
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		var pid int
		if _, err := fmt.Sscanf(ent.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// unmountUnder unmounts every mount below dir, deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		if syscall.Unmount(m, 0) != nil {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
}
