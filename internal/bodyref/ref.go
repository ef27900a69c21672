package bodyref

import (
	"strconv"
	"strings"
)

// Kind says where a container reference was found, which decides how the
// engine parses and uses it.
type Kind uint8

// The kinds of container references. Line numbers are docker-v29.7.2 unless
// a version is given.
const (
	// VolumesFrom is an element of HostConfig.VolumesFrom, "<ref>[:<mode>]".
	// The engine looks <ref> up at create and mounts that container's
	// volumes (daemon/volumes.go:105-114; the ref is everything before the
	// first colon, daemon/volume/mounts/linux_parser.go:368-392). An invalid
	// mode is rejected before the lookup; it is reported anyway.
	VolumesFrom Kind = iota + 1
	// Link is an element of HostConfig.Links, "<ref>[:<alias>]", parsed by
	// the legacy link parser (daemon/pkg/opts/opts.go:359-379): no colon
	// means the whole value; "/<ref>:<path>" drops the one leading slash;
	// more than one colon is rejected before any lookup (Ref is empty). The
	// engine looks <ref> up at create unless NetworkMode is a user-defined
	// network (daemon/daemon_unix.go:1516-1556) and registers the alias on
	// the linked container, visible in its Names.
	Link
	// NetworkMode is HostConfig.NetworkMode "container:<ref>" (prefix
	// exactly "container:", case-sensitive; the ref is everything after the
	// first colon, api/types/container/hostconfig.go:482-488). Looked up
	// silently at create to store the full ID, enforced at start; "bridge",
	// "host", "none", "default" and network names are not references.
	NetworkMode
	// PidMode is HostConfig.PidMode with a colon. Engines 24 and later use
	// only "container:<ref>", but Engines up to 23 look up whatever follows
	// the first colon of any value at create ("foo:db" answers 400 "No such
	// container: db" or 201 depending on db's existence on 20.10.24,
	// v20.10.24 daemon/create.go:272-297 with
	// api/types/container/host_config.go:262-268), so every value with a
	// colon is reported.
	PidMode
	// IpcMode is HostConfig.IpcMode "container:<ref>" (exact prefix in every
	// version); looked up at create (daemon/create.go:313-326).
	IpcMode
	// EndpointLink is an element of EndpointSettings.Links (in a create
	// body's NetworkingConfig.EndpointsConfig or a connect body's
	// EndpointConfig), parsed like Link. The engine never looks it up: it
	// becomes a DNS alias for whatever container holds that name on the
	// network (daemon/network.go:1236-1242).
	EndpointLink
	// NetworkContainer is the Container of a network connect or disconnect
	// body, looked up as is.
	NetworkContainer
)

var kindNames = [...]string{
	VolumesFrom:      "VolumesFrom",
	Link:             "Link",
	NetworkMode:      "NetworkMode",
	PidMode:          "PidMode",
	IpcMode:          "IpcMode",
	EndpointLink:     "EndpointLink",
	NetworkContainer: "NetworkContainer",
}

// String returns the name of the constant, for logs.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Ref is one container reference found in a body.
type Ref struct {
	Kind Kind
	// Ref is the string the engine resolves as a container (full ID, then
	// name with or without the leading slash, then unique ID prefix), e.g.
	// "db" for VolumesFrom "db:ro" or PidMode "container:db". It is empty
	// when the engine rejects the value without resolving anything (Link
	// "a:b:c", NetworkMode "container:"): the engine never resolves the
	// empty string to a container (daemon/container.go:37-40), so an empty
	// Ref names no container, hidden or not.
	Ref string
	// Raw is the whole value as decoded (after JSON unescaping), e.g.
	// "db:ro" or "container:db".
	Raw string
	// TopLevel marks a HostConfig field found at the top level of a create
	// body, which only Engines up to 26 honour, and only when the body has
	// no non-null "HostConfig".
	TopLevel bool
}

// ContainerMode parses a NetworkMode or IpcMode value (or a query parameter
// with the same syntax, like POST /build's networkmode) as the engine does:
// it reports whether the value names a container and which one. The prefix
// is exactly "container:"; "Container:db", " container:db" and "container"
// are not container modes. "container:" yields ok with an empty ref, which
// the engine rejects.
func ContainerMode(value string) (ref string, ok bool) {
	mode, ref, found := strings.Cut(value, ":")
	if !found || mode != "container" {
		return "", false
	}
	return ref, true
}

// pidModeRef returns what Engines up to 23 look up for a PidMode value:
// everything after the first colon, whatever precedes it.
func pidModeRef(value string) (ref string, ok bool) {
	_, ref, ok = strings.Cut(value, ":")
	return ref, ok
}

// volumesFromRef returns the container part of a VolumesFrom element.
func volumesFromRef(value string) string {
	ref, _, _ := strings.Cut(value, ":")
	return ref
}

// linkRef returns the container name the legacy link parser extracts from
// "<name>[:<alias>]", or "" when it rejects the value.
func linkRef(value string) string {
	name, alias, found := strings.Cut(value, ":")
	switch {
	case !found:
		return value
	case strings.Contains(alias, ":"):
		return ""
	case strings.HasPrefix(name, "/"):
		return name[1:]
	}
	return name
}
