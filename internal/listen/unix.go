package listen

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Open listens on network ("tcp" or "unix") at address; a unix socket gets
// opts (see the package comment), a TCP address ignores them.
func Open(network, address string, opts SocketOptions) (net.Listener, error) {
	if network != "unix" {
		ln, err := net.Listen(network, address)
		if err != nil {
			return nil, fmt.Errorf("listen on %s://%s: %w", network, address, err)
		}
		return ln, nil
	}
	ln, err := Unix(address, opts)
	if err != nil {
		return nil, fmt.Errorf("listen on unix://%s: %w", address, err)
	}
	return ln, nil
}

// maxSocketPath is the longest path bind(2) takes for a unix socket (108
// bytes with the terminating NUL on Linux; 104 on the BSDs).
const maxSocketPath = 107

// probeTimeout bounds the dial that tells a live socket from a stale one. A
// live server accepts (or queues) a local connection at once.
const probeTimeout = 2 * time.Second

// ErrInUse is returned when another process accepts connections on the
// socket path.
var ErrInUse = errors.New("another process accepts connections on this socket (a second instance?); refusing to replace it")

// Unix listens on a unix socket at path, created with opts. See the package
// comment for what it refuses, what it replaces and how the file is
// protected.
func Unix(path string, opts SocketOptions) (*UnixListener, error) {
	if !filepath.IsAbs(path) {
		return nil, errors.New("want an absolute path")
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("path is %d bytes long, more than the %d a unix socket may have", len(path), maxSocketPath)
	}
	// Refuse early, before creating anything, when the path is taken.
	if err := claim(path); err != nil {
		return nil, err
	}

	// Bind in a directory only this process can enter, so the socket can
	// get its group and mode before anyone can reach it.
	private, err := os.MkdirTemp(filepath.Dir(path), ".dpf")
	if err != nil {
		return nil, fmt.Errorf("create a private directory next to the socket: %w", err)
	}
	defer os.RemoveAll(private) // the socket stays reachable at path (a hard link)
	bound := filepath.Join(private, "s")
	if len(bound) > maxSocketPath {
		return nil, fmt.Errorf("path is too long: binding needs %d bytes more than it (at most %d in all)", len(bound)-len(path), maxSocketPath)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// The file at path is removed by Close only if it is still ours; the
	// bound name goes with the private directory.
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*UnixListener, error) {
		ln.Close()
		return nil, err
	}
	if opts.SetGroup {
		if err := os.Chown(bound, -1, opts.GID); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fail(fmt.Errorf("give the socket group %d: %w (a process that is not root must belong to the group: compose group_add, docker run --group-add)", opts.GID, err))
			}
			return fail(fmt.Errorf("give the socket group %d: %w", opts.GID, err))
		}
	}
	if err := os.Chmod(bound, opts.mode()); err != nil {
		return fail(fmt.Errorf("set the socket's mode: %w", err))
	}
	if err := place(bound, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return &UnixListener{UnixListener: ln, path: path, file: fi}, nil
}

// place puts the prepared socket at path. A hard link never replaces a
// file, so an instance that took the path since claim cannot be displaced:
// the path is claimed again (and refused if that instance is live).
func place(bound, path string) error {
	for attempt := 0; ; attempt++ {
		err := os.Link(bound, path)
		if err == nil {
			return nil
		}
		if errors.Is(err, fs.ErrExist) && attempt < 3 {
			if err := claim(path); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("the path keeps being re-created by someone else: %w", err)
		}
		// A file system without hard links: rename, which replaces silently,
		// right after checking again that the path is free.
		if err := claim(path); err != nil {
			return err
		}
		if err := os.Rename(bound, path); err != nil {
			return fmt.Errorf("put the socket in place: %w", err)
		}
		return nil
	}
}

// claim makes path free for a new socket: nothing there, or a stale socket,
// which it removes. A live socket, a path that is not a socket and a socket
// whose state cannot be told are refused.
func claim(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("the path exists and is not a socket (%s); refusing to replace it", describe(fi.Mode()))
	}
	conn, err := net.DialTimeout("unix", path, probeTimeout)
	switch {
	case err == nil:
		conn.Close()
		return ErrInUse
	case errors.Is(err, syscall.ECONNREFUSED):
		// Stale. Remove it unless it changed since it was probed (another
		// instance replacing it at the same moment).
		if now, err := os.Lstat(path); err != nil || !os.SameFile(now, fi) {
			return claim(path)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the stale socket: %w", err)
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil // removed since the Lstat
	case errors.Is(err, syscall.EAGAIN):
		return ErrInUse // its backlog is full: very much alive
	}
	return fmt.Errorf("cannot tell whether another process accepts connections on the socket, so it is left alone: %w", err)
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "file type " + m.Type().String()
}

// UnixListener is a listener on a socket file that Open created. Its Addr
// is the socket's path.
type UnixListener struct {
	*net.UnixListener
	path string
	file fs.FileInfo // the socket file as created, to recognise it on Close
	once sync.Once
}

// Addr is the path clients connect to (not the private name it was bound
// under).
func (l *UnixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close stops listening and removes the socket file if it is still the one
// this listener created: a file another instance put there since is left
// alone.
func (l *UnixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if fi, statErr := os.Lstat(l.path); statErr == nil && os.SameFile(fi, l.file) {
			_ = os.Remove(l.path)
		}
	})
	return err
}
