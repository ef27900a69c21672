package listen

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// DefaultMode is a socket file's mode when none is configured: read and
// write (connecting needs write) for its owner and its group, like the
// engine's own /var/run/docker.sock, and nothing for others.
const DefaultMode os.FileMode = 0o660

// SocketOptions are how a unix socket file is created. The zero value
// gives DefaultMode and leaves the group as the process creates files.
type SocketOptions struct {
	// Mode is the socket file's permission bits; zero means DefaultMode.
	Mode os.FileMode
	// GID is the group given to the socket file when SetGroup is true.
	GID int
	// SetGroup says whether GID applies; false leaves the file with the
	// group the process creates files with (its primary group).
	SetGroup bool
}

func (o SocketOptions) mode() os.FileMode {
	if o.Mode == 0 {
		return DefaultMode
	}
	return o.Mode
}

// ParseMode reads an octal permission mode such as 0660, 660 or 0o660.
// Only permission bits are accepted (at most 0777), and at least one write
// bit: connecting to a unix socket needs write permission, so a mode
// without one shuts out every client but root.
func ParseMode(raw string) (os.FileMode, error) {
	s := strings.TrimSpace(raw)
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || digits == "" || strings.HasPrefix(digits, "+") {
		return 0, fmt.Errorf("%q is not an octal mode such as 0660", raw)
	}
	if n > 0o777 {
		return 0, fmt.Errorf("%q has bits beyond the permissions (0777 at most)", raw)
	}
	if n&0o222 == 0 {
		return 0, fmt.Errorf("%q gives no one write permission, which connecting to a socket needs", raw)
	}
	return os.FileMode(n), nil
}

// LookupGroup resolves a group given as a numeric gid or a group name (from
// /etc/group, or the system's group database where cgo is enabled).
func LookupGroup(raw string) (int, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, errors.New("empty group")
	}
	if n, err := strconv.ParseUint(s, 10, 31); err == nil {
		return int(n), nil
	}
	if s[0] >= '0' && s[0] <= '9' || s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("%q is not a valid gid", raw)
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		var unknown user.UnknownGroupError
		if errors.As(err, &unknown) {
			return 0, fmt.Errorf("no group named %q on this system (a numeric gid needs no entry)", s)
		}
		return 0, fmt.Errorf("looking up group %q: %v", s, err)
	}
	n, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("group %q has gid %q, not a number", s, g.Gid)
	}
	return n, nil
}
