package listen

import (
	"errors"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// socketPath is a fresh socket path in a short temporary directory (socket
// paths are limited to 107 bytes; t.TempDir can be longer).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dpfl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "dpf.sock")
}

// serveEcho answers every connection on ln with word, so a test can tell
// which listener a client reached.
func serveEcho(ln net.Listener, word string) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, word)
			c.Close()
		}
	}()
}

func reach(t *testing.T, path string) string {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read from %s: %v", path, err)
	}
	return string(b)
}

func stat(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("%s is %v, want a socket", path, fi.Mode())
	}
	return fi.Sys().(*syscall.Stat_t)
}

func TestUnixCreatesTheSocketWithItsModeAndLeavesNothingElse(t *testing.T) {
	for _, mode := range []os.FileMode{0, 0o600, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			path := socketPath(t)
			ln, err := Unix(path, SocketOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			serveEcho(ln, "first")
			want := mode
			if want == 0 {
				want = DefaultMode
			}
			if got := os.FileMode(stat(t, path).Mode) & os.ModePerm; got != want {
				t.Errorf("socket mode = %o, want %o", got, want)
			}
			if got := int(stat(t, path).Gid); got != os.Getegid() {
				t.Errorf("socket group = %d, want the process's %d when no group is set", got, os.Getegid())
			}
			if got := reach(t, path); got != "first" {
				t.Errorf("client reached %q", got)
			}
			if got := ln.Addr().String(); got != path {
				t.Errorf("Addr = %q, want %q", got, path)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("directory holds %v, want only the socket (no private directory left behind)", entries)
			}
		})
	}
}

func TestUnixGivesTheSocketItsGroup(t *testing.T) {
	gid := os.Getegid()
	if os.Geteuid() == 0 {
		g, err := user.LookupGroup("daemon")
		if err != nil {
			t.Skipf("no daemon group: %v", err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	} else if groups, _ := os.Getgroups(); len(groups) > 0 {
		gid = groups[len(groups)-1]
	}
	path := socketPath(t)
	ln, err := Unix(path, SocketOptions{Mode: 0o660, GID: gid, SetGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if st := stat(t, path); int(st.Gid) != gid || os.FileMode(st.Mode)&os.ModePerm != 0o660 {
		t.Errorf("socket gid %d mode %o, want %d 0660", st.Gid, os.FileMode(st.Mode)&os.ModePerm, gid)
	}
}

func TestUnixRefusesALiveSocket(t *testing.T) {
	path := socketPath(t)
	first, err := Unix(path, SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	serveEcho(first, "first")
	before := stat(t, path)

	second, err := Unix(path, SocketOptions{})
	if !errors.Is(err, ErrInUse) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second Unix on a live socket = %v, want ErrInUse", err)
	}
	if after := stat(t, path); after.Ino != before.Ino {
		t.Error("the live socket file was replaced")
	}
	if got := reach(t, path); got != "first" {
		t.Errorf("after the refused second listener, a client reached %q, want the first", got)
	}
	// A socket net.Listen made (not one of ours) is just as live.
	other := socketPath(t)
	ln, err := net.Listen("unix", other)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if l, err := Open("unix", other, SocketOptions{}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "unix://"+other) {
		if l != nil {
			l.Close()
		}
		t.Errorf("Open on another program's live socket = %v, want ErrInUse naming the path", err)
	}
}

func TestUnixReplacesAStaleSocket(t *testing.T) {
	path := socketPath(t)
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close() // as a killed instance leaves it
	old := stat(t, path).Ino

	ln, err := Unix(path, SocketOptions{})
	if err != nil {
		t.Fatalf("Unix over a stale socket: %v", err)
	}
	defer ln.Close()
	serveEcho(ln, "new")
	if stat(t, path).Ino == old {
		t.Error("the stale socket is still there")
	}
	if got := reach(t, path); got != "new" {
		t.Errorf("client reached %q", got)
	}
}

func TestUnixRefusesWhatIsNotASocket(t *testing.T) {
	for _, kind := range []string{"file", "directory", "symlink"} {
		t.Run(kind, func(t *testing.T) {
			path := socketPath(t)
			switch kind {
			case "file":
				if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
					t.Fatal(err)
				}
			case "directory":
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			case "symlink":
				// Even to a stale socket: the link is not ours to replace.
				target := socketPath(t)
				stale, _ := net.ListenUnix("unix", &net.UnixAddr{Name: target, Net: "unix"})
				stale.SetUnlinkOnClose(false)
				stale.Close()
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.Lstat(path)
			ln, err := Unix(path, SocketOptions{})
			if err == nil {
				ln.Close()
				t.Fatalf("Unix over a %s succeeded", kind)
			}
			if !strings.Contains(err.Error(), "not a socket") {
				t.Errorf("error %q does not say the path is not a socket", err)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) {
				t.Errorf("the %s was touched: %v", kind, err)
			}
			if b, _ := os.ReadFile(path); kind == "file" && string(b) != "keep me" {
				t.Errorf("file now holds %q", b)
			}
		})
	}
}

func TestCloseRemovesOnlyItsOwnSocket(t *testing.T) {
	path := socketPath(t)
	ln, err := Unix(path, SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close the socket is still there: %v", err)
	}

	// Another instance took the path over (an operator removed ours and
	// started a new one): closing ours must not delete theirs.
	ln, err = Unix(path, SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	theirs, err := Unix(path, SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	serveEcho(theirs, "theirs")
	ln.Close()
	if got := reach(t, path); got != "theirs" {
		t.Errorf("after the old listener closed, a client reached %q", got)
	}
}

func TestUnixConcurrentStartsLeaveOneWinner(t *testing.T) {
	for range 20 {
		path := socketPath(t)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []*UnixListener
			errs    []error
		)
		for range 4 {
			wg.Go(func() {
				ln, err := Unix(path, SocketOptions{})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				winners = append(winners, ln)
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("%d listeners on one path (errors %v), want exactly one", len(winners), errs)
		}
		for _, err := range errs {
			if !errors.Is(err, ErrInUse) {
				t.Errorf("a losing start failed with %v, want ErrInUse", err)
			}
		}
		serveEcho(winners[0], "winner")
		if got := reach(t, path); got != "winner" {
			t.Errorf("client reached %q", got)
		}
		winners[0].Close()
	}
}

func TestUnixRefusesTooLongAPath(t *testing.T) {
	dir := socketPath(t)
	long := filepath.Join(filepath.Dir(dir), strings.Repeat("x", 100)+".sock")
	if _, err := Unix(long, SocketOptions{}); err == nil || !strings.Contains(err.Error(), "107") {
		t.Errorf("Unix(%d-byte path) = %v, want an error naming the limit", len(long), err)
	}
	// Short enough to bind, too long with the private directory's name.
	deep := filepath.Join(filepath.Dir(dir), strings.Repeat("y", maxSocketPath-len(filepath.Dir(dir))-4))
	if err := os.Mkdir(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	if ln, err := Unix(filepath.Join(deep, "s"), SocketOptions{}); err == nil || !strings.Contains(err.Error(), "too long") {
		if ln != nil {
			ln.Close()
		}
		t.Errorf("Unix(%d-byte path) = %v, want an error saying it is too long", len(deep)+2, err)
	}
	if entries, _ := os.ReadDir(deep); len(entries) != 0 {
		t.Errorf("a refused start left %v behind", entries)
	}
	if _, err := Unix("relative.sock", SocketOptions{}); err == nil {
		t.Error("Unix(relative path) succeeded")
	}
}

// TestUnixSocketNeverAppearsMoreOpen watches the path while sockets are
// created: the first time the file is seen it already has its mode and
// group (a bind at the path followed by chmod would show the umask's mode
// for a moment).
func TestUnixSocketNeverAppearsMoreOpen(t *testing.T) {
	gid := os.Getegid()
	if os.Geteuid() == 0 {
		gid = 1 // daemon on Debian-like systems; any gid works as root
	}
	for range 50 {
		path := socketPath(t)
		seen := make(chan *syscall.Stat_t, 1)
		go func() {
			for {
				if fi, err := os.Lstat(path); err == nil {
					seen <- fi.Sys().(*syscall.Stat_t)
					return
				}
			}
		}()
		ln, err := Unix(path, SocketOptions{Mode: 0o600, GID: gid, SetGroup: true})
		if err != nil {
			t.Fatal(err)
		}
		st := <-seen
		ln.Close()
		if os.FileMode(st.Mode)&os.ModePerm != 0o600 || int(st.Gid) != gid {
			t.Fatalf("socket first seen with mode %o gid %d, want 0600 gid %d", os.FileMode(st.Mode)&os.ModePerm, st.Gid, gid)
		}
	}
}
