package access

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Policy is the category policy read from LinuxServer's variables. The zero
// Policy is inactive: it allows every request and leaves writes to
// READ_ONLY. A Policy is a value; nothing changes it after Load.
type Policy struct {
	active   bool
	on       [swCount]bool
	warnings []string
}

// Load reads LinuxServer's variables through getenv (os.Getenv in
// production, a map in tests). Unset and empty variables take LinuxServer's
// defaults. It returns every problem found, not only the first, so that the
// configuration loader can report them all at once.
func Load(getenv func(string) string) (Policy, []error) {
	var (
		p    Policy
		errs []error
	)
	for s := none + 1; s < swCount; s++ {
		name := switches[s].name
		raw := getenv(name)
		p.on[s] = switches[s].def
		if strings.TrimSpace(raw) == "" {
			continue
		}
		p.active = true
		b, word, err := parseBool(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			continue
		}
		p.on[s] = b
		if word && b {
			// haproxy's "-m bool" reads only a leading integer: LinuxServer's
			// proxy treats CONTAINERS=true as 0. Say so, since the same block
			// opens more here than it did there.
			p.warnings = append(p.warnings, fmt.Sprintf("%s=%s: LinuxServer's socket-proxy reads this as 0 (off); docker-proxy-filter reads it as on", name, strings.TrimSpace(raw)))
		}
	}
	for _, l := range libpodSwitches {
		raw := getenv(l.name)
		if strings.TrimSpace(raw) == "" {
			continue
		}
		b, _, err := parseBool(raw)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %v", l.name, err))
		case b && !l.def:
			errs = append(errs, fmt.Errorf("%s=%s: the Podman-native API (/libpod/...) is not served by this proxy, so this switch cannot allow anything; remove it or set it to 0",
				l.name, strings.TrimSpace(raw)))
		}
	}
	if err := checkSocketPath(getenv); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Policy{}, errs
	}
	return p, nil
}

// parseBool accepts what LinuxServer's haproxy accepts for a switch, an
// integer (non-zero is on; "007", "+1" and "-1" included), and this
// project's words true/false/yes/no. word reports a word that haproxy would
// have read as 0. Anything else is refused rather than guessed: haproxy would
// read "1abc" as on and "on" as off.
func parseBool(raw string) (b, word bool, err error) {
	v := strings.TrimSpace(raw)
	switch strings.ToLower(v) {
	case "true", "yes":
		return true, true, nil
	case "false", "no":
		return false, true, nil
	}
	digits := strings.TrimLeft(v, "+-")
	if len(v)-len(digits) > 1 || digits == "" {
		return false, false, fmt.Errorf("%q is not a boolean (an integer, non-zero for on, or true/false/yes/no)", raw)
	}
	for _, c := range digits {
		switch {
		case c < '0' || c > '9':
			return false, false, fmt.Errorf("%q is not a boolean (an integer, non-zero for on, or true/false/yes/no)", raw)
		case c != '0':
			b = true
		}
	}
	return b, false, nil
}

// checkSocketPath refuses a SOCKET_PATH (LinuxServer's name for the socket it
// proxies) that names another socket than this proxy's upstream: moved
// verbatim, it would otherwise be ignored while the proxy talked to a
// different engine.
func checkSocketPath(getenv func(string) string) error {
	sock := strings.TrimSpace(getenv(socketPathVar))
	if sock == "" {
		return nil
	}
	upstream, from := strings.TrimSpace(getenv("PROXY_URL")), "PROXY_URL"
	if upstream == "" {
		upstream, from = strings.TrimSpace(getenv("DOCKER_HOST")), "DOCKER_HOST"
	}
	if upstream == "" {
		upstream, from = "unix:///var/run/docker.sock", "the default PROXY_URL"
	}
	if u, err := url.Parse(upstream); err == nil && u.Scheme == "unix" && u.Host == "" &&
		path.Clean(u.Path) == path.Clean(sock) {
		return nil
	}
	return fmt.Errorf("%s=%s is LinuxServer's name for the engine socket, but %s is %s; this proxy reads PROXY_URL: set PROXY_URL=unix://%s and remove %s",
		socketPathVar, sock, from, upstream, sock, socketPathVar)
}

// Active reports whether any LinuxServer variable for the Docker API was set.
// LIBPOD_* and SOCKET_PATH do not count: they allow nothing here.
func (p Policy) Active() bool { return p.active }

// Warnings are harmless oddities worth logging at start, such as a switch set
// to a word LinuxServer's proxy would have read differently.
func (p Policy) Warnings() []string { return append([]string(nil), p.warnings...) }
