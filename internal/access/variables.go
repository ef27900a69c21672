package access

// sw is one of LinuxServer's switches for the Docker Engine API: a category
// (an API area), POST, an action switch or a container-read switch.
type sw uint8

const (
	none sw = iota

	// Categories: one per first path segment of the Engine API.
	swAuth
	swBuild
	swCommit
	swConfigs
	swContainers
	swDistribution
	swEvents
	swExec
	swGRPC
	swImages
	swInfo
	swNetworks
	swNodes
	swPing
	swPlugins
	swSecrets
	swServices
	swSession
	swSwarm
	swSystem
	swTasks
	swVersion
	swVolumes

	// POST: any method other than GET and HEAD.
	swPost

	// Action switches: each allows its container actions outright, whatever
	// CONTAINERS and POST say.
	swAllowStart
	swAllowStop
	swAllowRestarts
	swAllowPause
	swAllowUnpause

	// Container-read switches: each is needed, on top of CONTAINERS, for its
	// container routes.
	swAllowArchive
	swAllowChanges
	swAllowExport
	swAllowLogs
	swAllowTop

	swCount
)

// switches describes every switch, in the order -h and the README list them.
// Defaults are those of the ENV block of LinuxServer's Dockerfile.
var switches = [swCount]struct {
	name    string
	def     bool
	meaning string
}{
	none:            {"", false, ""},
	swAuth:          {"AUTH", false, "POST /auth (registry login check)"},
	swBuild:         {"BUILD", false, "/build, /build/prune, /build/cancel"},
	swCommit:        {"COMMIT", false, "/commit"},
	swConfigs:       {"CONFIGS", false, "/configs (swarm configs)"},
	swContainers:    {"CONTAINERS", false, "/containers: list, inspect, stats, and with POST=1 create, remove, exec, ..."},
	swDistribution:  {"DISTRIBUTION", false, "/distribution (registry manifest lookup)"},
	swEvents:        {"EVENTS", true, "/events"},
	swExec:          {"EXEC", false, "/exec (exec inspect, start, resize)"},
	swGRPC:          {"GRPC", false, "/grpc (BuildKit; the proxy refuses it anyway)"},
	swImages:        {"IMAGES", false, "/images"},
	swInfo:          {"INFO", false, "/info"},
	swNetworks:      {"NETWORKS", false, "/networks"},
	swNodes:         {"NODES", false, "/nodes"},
	swPing:          {"PING", true, "/_ping"},
	swPlugins:       {"PLUGINS", false, "/plugins"},
	swSecrets:       {"SECRETS", false, "/secrets"},
	swServices:      {"SERVICES", false, "/services"},
	swSession:       {"SESSION", false, "/session (BuildKit; the proxy refuses it anyway)"},
	swSwarm:         {"SWARM", false, "/swarm"},
	swSystem:        {"SYSTEM", false, "/system (/system/df)"},
	swTasks:         {"TASKS", false, "/tasks"},
	swVersion:       {"VERSION", true, "/version"},
	swVolumes:       {"VOLUMES", false, "/volumes"},
	swPost:          {"POST", false, "methods other than GET and HEAD, in the categories switched on; 0: read-only"},
	swAllowStart:    {"ALLOW_START", false, "POST /containers/{id}/start, even with POST=0 and CONTAINERS=0"},
	swAllowStop:     {"ALLOW_STOP", false, "POST /containers/{id}/stop, even with POST=0 and CONTAINERS=0"},
	swAllowRestarts: {"ALLOW_RESTARTS", false, "POST /containers/{id}/stop, restart and kill, even with POST=0 and CONTAINERS=0"},
	swAllowPause:    {"ALLOW_PAUSE", false, "POST /containers/{id}/pause, even with POST=0 and CONTAINERS=0"},
	swAllowUnpause:  {"ALLOW_UNPAUSE", false, "POST /containers/{id}/unpause, even with POST=0 and CONTAINERS=0"},
	swAllowArchive:  {"ALLOW_ARCHIVE", false, "/containers/{id}/archive (HEAD, GET; PUT also needs POST=1); needs CONTAINERS=1 too"},
	swAllowChanges:  {"ALLOW_CHANGES", false, "GET /containers/{id}/changes; needs CONTAINERS=1 too"},
	swAllowExport:   {"ALLOW_EXPORT", false, "GET /containers/{id}/export; needs CONTAINERS=1 too"},
	swAllowLogs:     {"ALLOW_LOGS", false, "GET /containers/{id}/logs; needs CONTAINERS=1 too"},
	swAllowTop:      {"ALLOW_TOP", false, "GET /containers/{id}/top; needs CONTAINERS=1 too"},
}

func (s sw) String() string { return switches[s].name }

// isAction reports whether s is one of the switches that let a container
// action through even with POST=0: they are what makes a policy allow writes.
func (s sw) isAction() bool { return s >= swAllowStart && s <= swAllowUnpause }

// libpodSwitches are LinuxServer's switches for the Podman-native API
// (/libpod/...), with their defaults. This proxy serves the Docker Engine API
// only, so they are parsed and checked but can never allow anything.
var libpodSwitches = [...]struct {
	name string
	def  bool
}{
	{"LIBPOD_ALLOW_PAUSE", false},
	{"LIBPOD_ALLOW_POD_PAUSE", false},
	{"LIBPOD_ALLOW_POD_RESTARTS", false},
	{"LIBPOD_ALLOW_POD_START", false},
	{"LIBPOD_ALLOW_POD_STOP", false},
	{"LIBPOD_ALLOW_POD_UNPAUSE", false},
	{"LIBPOD_ALLOW_RESTARTS", false},
	{"LIBPOD_ALLOW_START", false},
	{"LIBPOD_ALLOW_STOP", false},
	{"LIBPOD_ALLOW_UNPAUSE", false},
	{"LIBPOD_CONTAINERS", false},
	{"LIBPOD_EVENTS", false},
	{"LIBPOD_EXEC", false},
	{"LIBPOD_GENERATE", false},
	{"LIBPOD_IMAGES", false},
	{"LIBPOD_INFO", false},
	{"LIBPOD_MANIFESTS", false},
	{"LIBPOD_NETWORKS", false},
	{"LIBPOD_PING", true},
	{"LIBPOD_PLAY", false},
	{"LIBPOD_PODS", false},
	{"LIBPOD_SECRETS", false},
	{"LIBPOD_SYSTEM", false},
	{"LIBPOD_VERSION", true},
	{"LIBPOD_VOLUMES", false},
}

// socketPathVar is LinuxServer's name for the engine socket it proxies.
const socketPathVar = "SOCKET_PATH"

// Variable documents one environment variable this package reads.
type Variable struct {
	Name    string
	Default string // "0" or "1" for switches, as LinuxServer's Dockerfile sets them
	Meaning string
}

// Variables lists every variable Load reads, for -h, the README table and
// checks that a compose file names no variable the proxy ignores. The slice
// is new on every call.
func Variables() []Variable {
	vars := make([]Variable, 0, int(swCount)+len(libpodSwitches))
	for s := none + 1; s < swCount; s++ {
		vars = append(vars, Variable{switches[s].name, bit(switches[s].def), switches[s].meaning})
	}
	for _, l := range libpodSwitches {
		vars = append(vars, Variable{l.name, bit(l.def), libpodMeaning(l.def)})
	}
	vars = append(vars, Variable{socketPathVar, "/var/run/docker.sock", "LinuxServer's engine socket; accepted only when PROXY_URL names the same socket"})
	return vars
}

func libpodMeaning(def bool) string {
	if def {
		return "Podman-native API, not served by this proxy: accepted at LinuxServer's default 1, allows nothing"
	}
	return "Podman-native API, not served by this proxy: 1 is a configuration error"
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
