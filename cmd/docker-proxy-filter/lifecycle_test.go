package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// process is the built binary running with an environment of the test's
// choosing (startBinary always sets a TCP LISTEN).
type process struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error // receives cmd.Wait's result once
}

func startProcess(t *testing.T, env ...string) *process {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: exec.Command(bin), logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

// wait returns the process's exit code once it exits, or fails the test
// after timeout.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("the process did not exit within %v\n%s", timeout, p.logs)
		return -1
	}
}

// socketDir is a short directory for unix sockets (paths are limited to
// 107 bytes).
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dpfb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// pingUnix asks the proxy on a unix socket for /_ping.
func pingUnix(path string) (int, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	resp, err := client.Get("http://docker/_ping")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func waitPingUnix(t *testing.T, path string) {
	t.Helper()
	enginetest.Eventually(t, 10*time.Second, "proxy answers /_ping on "+path, func() bool {
		status, err := pingUnix(path)
		return err == nil && status == http.StatusOK
	})
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestBinarySecondInstanceOnALiveSocketRefusesAndTheFirstKeepsServing(t *testing.T) {
	e := enginetest.Require(t)
	sock := filepath.Join(socketDir(t), "dpf.sock")
	first := startProcess(t, "PROXY_URL="+e.Host, "LISTEN=unix://"+sock)
	waitPingUnix(t, sock)
	before := inode(t, sock)

	second := startProcess(t, "PROXY_URL="+e.Host, "LISTEN=unix://"+sock)
	if code := second.wait(t, 10*time.Second); code == 0 {
		t.Errorf("second instance on a live socket exited 0\n%s", second.logs)
	}
	if out := second.logs.String(); !strings.Contains(out, "another process accepts connections") || !strings.Contains(out, sock) {
		t.Errorf("second instance's error does not say the socket is in use:\n%s", out)
	}
	if inode(t, sock) != before {
		t.Error("the second instance replaced the first one's socket")
	}
	if status, err := pingUnix(sock); err != nil || status != http.StatusOK {
		t.Errorf("first instance after the second one's attempt: %d %v", status, err)
	}

	// The first instance's socket survives the second one's exit, and goes
	// with its own clean exit.
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	if code := first.wait(t, 10*time.Second); code != 0 {
		t.Errorf("first instance exit %d after SIGTERM\n%s", code, first.logs)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after a clean exit: %v, want it removed", err)
	}
}

func TestBinaryReplacesAStaleSocketAndRefusesOtherFiles(t *testing.T) {
	e := enginetest.Require(t)
	dir := socketDir(t)
	sock := filepath.Join(dir, "dpf.sock")
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close() // what a killed instance leaves behind
	old := inode(t, sock)
	startProcess(t, "PROXY_URL="+e.Host, "LISTEN=unix://"+sock)
	waitPingUnix(t, sock)
	if inode(t, sock) == old {
		t.Error("the stale socket was not replaced")
	}

	file := filepath.Join(dir, "not-a-socket")
	if err := os.WriteFile(file, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	q := startProcess(t, "PROXY_URL="+e.Host, "LISTEN=unix://"+file)
	if code := q.wait(t, 10*time.Second); code == 0 || !strings.Contains(q.logs.String(), "not a socket") {
		t.Errorf("LISTEN on a regular file: exit %d\n%s", code, q.logs)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("the regular file now holds %q", b)
	}
}

func TestBinarySocketHasTheConfiguredModeAndGroup(t *testing.T) {
	e := enginetest.Require(t)
	group, gid := "", 0
	if os.Geteuid() == 0 {
		g, err := user.LookupGroup("daemon")
		if err != nil {
			t.Skipf("no daemon group to give the socket: %v", err)
		}
		group = g.Name
		gid, _ = strconv.Atoi(g.Gid)
	} else {
		groups, _ := os.Getgroups()
		if len(groups) == 0 {
			t.Skip("this user belongs to no supplementary group")
		}
		gid = groups[len(groups)-1]
		group = strconv.Itoa(gid)
	}
	dir := socketDir(t)
	tests := []struct {
		name      string
		env       []string
		mode, gid uint32
	}{
		{"defaults", nil, 0o660, uint32(os.Getegid())},
		{"mode and group by name", []string{"LISTEN_SOCKET_MODE=0620", "LISTEN_SOCKET_GROUP=" + group}, 0o620, uint32(gid)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(dir, "s"+strconv.Itoa(i))
			p := startProcess(t, append(tt.env, "PROXY_URL="+e.Host, "LISTEN=unix://"+sock, "LOG_FORMAT=json")...)
			waitPingUnix(t, sock)
			fi, err := os.Lstat(sock)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if uint32(fi.Mode().Perm()) != tt.mode || st.Gid != tt.gid {
				t.Errorf("socket mode %04o gid %d, want %04o gid %d", fi.Mode().Perm(), st.Gid, tt.mode, tt.gid)
			}
			want := `"socket_mode":"` + "0" + strconv.FormatUint(uint64(tt.mode), 8) + `","socket_group":"` + strconv.FormatUint(uint64(tt.gid), 10) + `"`
			if !strings.Contains(p.logs.String(), want) {
				t.Errorf("listening line lacks %s:\n%s", want, p.logs)
			}
		})
	}
}

func TestInvalidSocketSettingsExitTwo(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"dpf"}, envMap(map[string]string{
		"LISTEN": "unix:///tmp/dpf-never.sock", "LISTEN_SOCKET_MODE": "rw-rw----", "LISTEN_SOCKET_GROUP": "no-such-group-dpf-7c1f",
		"SHUTDOWN_TIMEOUT": "soon",
	}), &out, &out)
	if exitCode(err) != 2 {
		t.Fatalf("run with bad socket settings = %v (exit %d), want exit 2", err, exitCode(err))
	}
	for _, v := range []string{"LISTEN_SOCKET_MODE", "LISTEN_SOCKET_GROUP", "SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not mention %s:\n%v", v, err)
		}
	}
	err = run(context.Background(), []string{"dpf"}, envMap(map[string]string{"LISTEN": "127.0.0.1:0", "LISTEN_SOCKET_MODE": "0600"}), &out, &out)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "unix socket") {
		t.Errorf("LISTEN_SOCKET_MODE with a TCP LISTEN = %v (exit %d), want exit 2", err, exitCode(err))
	}
	if _, statErr := os.Lstat("/tmp/dpf-never.sock"); statErr == nil {
		t.Error("an invalid configuration created the socket")
	}
}

func TestBinarySIGHUPIsLoggedAndLeavesItServing(t *testing.T) {
	e := enginetest.Require(t)
	addr := freePort(t)
	p := startProcess(t, "PROXY_URL="+e.Host, "LISTEN="+addr)
	ping := func() bool {
		resp, err := http.Get("http://" + addr + "/_ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	enginetest.Eventually(t, 10*time.Second, "binary answers /_ping", ping)
	for i := range 2 {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		enginetest.Eventually(t, 5*time.Second, "SIGHUP logged", func() bool {
			return strings.Count(p.logs.String(), "SIGHUP ignored: configuration is read at start") == i+1
		})
	}
	if !ping() {
		t.Fatalf("not serving after SIGHUP:\n%s", p.logs)
	}
	if strings.Contains(p.logs.String(), "shutting down") {
		t.Errorf("SIGHUP started a shutdown:\n%s", p.logs)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM following SIGHUP\n%s", code, p.logs)
	}
}

func TestBinarySIGTERMCutsAnOpenEventsStreamWithinTheTimeout(t *testing.T) {
	e := enginetest.Require(t)
	addr := freePort(t)
	const timeout = 2 * time.Second
	p := startProcess(t, "PROXY_URL="+e.Host, "LISTEN="+addr, "SHUTDOWN_TIMEOUT="+timeout.String(), "LOG_FORMAT=json")
	enginetest.Eventually(t, 10*time.Second, "binary answers /_ping", func() bool {
		resp, err := http.Get("http://" + addr + "/_ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	resp, err := http.Get("http://" + addr + "/v1.41/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %s", resp.Status)
	}
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body)) }()

	begin := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, timeout+5*time.Second)
	took := time.Since(begin)
	if code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0\n%s", code, p.logs)
	}
	if took > timeout+time.Second { // process exit, sidecar stop; on a loaded machine
		t.Errorf("exit took %v with an open events stream, want at most SHUTDOWN_TIMEOUT (%v) and a little\n%s", took, timeout, p.logs)
	}
	if took < timeout/2-200*time.Millisecond {
		t.Errorf("exit took %v: the stream was cut before the drain (%v)", took, timeout/2)
	}
	logs := p.logs.String()
	for _, want := range []string{`"msg":"stream cut at shutdown"`, `"route":"SystemEvents"`, `"path":"/v1.41/events"`, `"shutdown_timeout":"2s"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

// TestBinarySecondSIGTERMEndsTheDrain: an operator who does not want to
// wait for SHUTDOWN_TIMEOUT sends the signal again (a second Ctrl-C).
func TestBinarySecondSIGTERMEndsTheDrain(t *testing.T) {
	e := enginetest.Require(t)
	addr := freePort(t)
	p := startProcess(t, "PROXY_URL="+e.Host, "LISTEN="+addr, "SHUTDOWN_TIMEOUT=60s")
	enginetest.Eventually(t, 10*time.Second, "binary answers /_ping", func() bool {
		resp, err := http.Get("http://" + addr + "/_ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	resp, err := http.Get("http://" + addr + "/v1.41/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go func() { _, _ = io.Copy(io.Discard, resp.Body) }()

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 5*time.Second, "the drain starts", func() bool {
		return strings.Contains(p.logs.String(), "shutting down")
	})
	begin := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 10*time.Second)
	if code == 0 || time.Since(begin) > 5*time.Second {
		t.Errorf("second SIGTERM: exit %d after %v, want the process ended at once by the signal\n%s", code, time.Since(begin), p.logs)
	}
}
