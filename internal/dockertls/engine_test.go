package dockertls

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestRealEngine checks the settings against the engine users run: a
// private dockerd serving the API on 127.0.0.1 with --tlsverify, so that a
// client certificate is required, exactly as `dockerd --tlsverify` in
// production.
func TestRealEngine(t *testing.T) {
	w := newWorld(t)
	addr := startTLSEngine(t, w.ca)
	full := certDirWith(t, w.ca.pem, w.client.cert, w.client.key)
	load := func(t *testing.T, upstream string, vars map[string]string) Settings {
		t.Helper()
		s, err := Load(upstream, env(vars))
		if err != nil {
			t.Fatalf("Load(%q): %v", upstream, err)
		}
		return s
	}

	t.Run("ping with the docker CLI's variables", func(t *testing.T) {
		s := load(t, "tcp://"+addr, map[string]string{EnvTLSVerify: "1", EnvCertPath: full})
		if got, err := ping(t, s); err != nil || got != "OK" {
			t.Fatalf("GET /_ping = %q, %v; want OK", got, err)
		}
	})
	t.Run("SDK over https", func(t *testing.T) {
		s := load(t, "https://"+addr, map[string]string{EnvCertPath: full})
		c, err := client.New(s.SDKOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
		if err != nil {
			t.Fatalf("SDK ServerVersion over TLS: %v", err)
		}
		if v.APIVersion == "" {
			t.Errorf("ServerVersion = %+v, want an API version", v)
		}
	})
	t.Run("wrong CA is a certificate error", func(t *testing.T) {
		s := load(t, "tcp://"+addr, map[string]string{EnvTLSVerify: "1", EnvCertPath: certDirWith(t, w.rogue.pem, w.client.cert, w.client.key)})
		_, err := ping(t, s)
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Fatalf("ping error = %v, want x509: certificate signed by unknown authority", err)
		}
		t.Logf("as the proxy would report it: %v", err)
	})
	t.Run("missing client certificate is refused", func(t *testing.T) {
		s := load(t, "tcp://"+addr, map[string]string{EnvTLSVerify: "1", EnvCertPath: certDirWith(t, w.ca.pem, nil, nil)})
		_, err := ping(t, s)
		if err == nil || !strings.Contains(err.Error(), "certificate required") && !strings.Contains(err.Error(), "bad certificate") {
			t.Fatalf("ping error = %v, want the engine to refuse the handshake", err)
		}
		t.Logf("as the proxy would report it: %v", err)
	})
	t.Run("plain HTTP to the TLS port gets nothing", func(t *testing.T) {
		s := load(t, "tcp://"+addr, nil)
		_, err := ping(t, s)
		if err == nil || !strings.Contains(err.Error(), "HTTP request to an HTTPS server") {
			t.Fatalf("ping error = %v, want the engine's refusal of plain HTTP", err)
		}
	})
}

// startTLSEngine starts a private dockerd serving the API on a free port of
// 127.0.0.1 with --tlsverify and a server certificate from ca, plus a unix
// socket of its own used only to see when it is ready. It skips when no
// dockerd can run here (fails with DPF_REQUIRE_ENGINE=1) and stops the engine
// and removes its directory when the test ends.
func startTLSEngine(t *testing.T, ca *pki) string {
	t.Helper()
	unavailable := func(why string) string {
		if os.Getenv(enginetest.EnvRequire) == "1" {
			t.Fatalf("TLS engine cannot start and %s=1 forbids skipping: %s", enginetest.EnvRequire, why)
		}
		t.Skipf("skipping: a private TLS engine cannot start here: %s (run as root with docker.io installed)", why)
		return ""
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dockerd"); serr != nil {
			return unavailable("dockerd is not installed")
		}
		dockerd = "/usr/sbin/dockerd"
	}
	if os.Geteuid() != 0 {
		return unavailable("not running as root")
	}
	dir, err := os.MkdirTemp("/tmp", "dpftls") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	srv := ca.issue(t, "engine", leafOpts{server: true, ips: []net.IP{net.IPv4(127, 0, 0, 1)}})
	files := map[string][]byte{"ca.pem": ca.pem, "server-cert.pem": srv.cert, "server-key.pem": srv.key}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	sock := filepath.Join(dir, "d.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerd,
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "e"),
		"--pidfile", filepath.Join(dir, "pid"),
		"-H", "unix://"+sock, "-H", "tcp://"+addr,
		"--tlsverify", "--tlscacert", filepath.Join(dir, "ca.pem"),
		"--tlscert", filepath.Join(dir, "server-cert.pem"), "--tlskey", filepath.Join(dir, "server-key.pem"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	t.Cleanup(func() { stopEngine(t, cmd, dir, logf) })

	unix := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := unix.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("private TLS dockerd did not answer within 30s:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopEngine stops the dockerd this test started (and its containerd, in
// the same process group), unmounts what it left under dir and removes dir.
func stopEngine(t *testing.T, cmd *exec.Cmd, dir string, logf *os.File) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Logf("dockerd (pid %d) did not stop within 20s; killing its process group", cmd.Process.Pid)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	if syscall.Kill(-cmd.Process.Pid, 0) == nil { // a member of the group is left
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// containerd runs in a session of its own; it names our dir on its
	// command line. dockerd stops it on SIGTERM, so this only finds one
	// after a kill.
	killMentioning(dir)
	unmountUnder(dir)
	logf.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Logf("removing %s: %v", dir, err)
	}
}

// killMentioning kills the processes whose command line names dir: the
// containerd (and shims) of the engine this test started, by pid.
func killMentioning(dir string) {
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir+"/") {
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
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
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
