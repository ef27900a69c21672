package route

// Op names one Engine API operation, after the operation IDs of the Engine
// API's swagger where one exists.
type Op uint8

// Operations, in the order of the table below.
const (
	OpUnknown Op = iota

	// checkpoint router (registered before the container router so that its
	// DELETE is not masked by DELETE /containers/{name:.*}).
	OpCheckpointList
	OpCheckpointCreate
	OpCheckpointDelete

	// container router
	OpContainerList
	OpContainerArchiveInfo // HEAD archive: a stat in the X-Docker-Container-Path-Stat header
	OpContainerExport
	OpContainerChanges
	OpContainerInspect
	OpContainerTop
	OpContainerLogs
	OpContainerStats
	OpContainerAttachWebsocket
	OpExecInspect
	OpContainerArchive
	OpContainerCreate
	OpContainerKill
	OpContainerPause
	OpContainerUnpause
	OpContainerRestart
	OpContainerStart
	OpContainerStop
	OpContainerWait
	OpContainerResize
	OpContainerAttach
	OpContainerExec
	OpExecStart
	OpExecResize
	OpContainerRename
	OpContainerUpdate
	OpContainerPrune
	OpImageCommit
	OpPutContainerArchive
	OpContainerDelete
	OpContainerCopy // Engine 20.10 only; errors out since API 1.12, still routed

	// image router
	OpImageList
	OpImageSearch
	OpImageGetAll
	OpImageGet
	OpImageHistory
	OpImageInspect
	OpImageAttestations
	OpImageLoad
	OpImageCreate
	OpImagePush
	OpImageTag
	OpImagePrune
	OpImageDelete

	// system router
	OpOptions
	OpSystemPing
	OpSystemPingHead
	OpSystemEvents
	OpSystemInfo
	OpSystemVersion
	OpSystemDataUsage
	OpSystemAuth

	// volume router
	OpVolumeList
	OpVolumeInspect
	OpVolumeCreate
	OpVolumePrune
	OpVolumeUpdate
	OpVolumeDelete

	// build and session routers
	OpImageBuild
	OpBuildPrune
	OpBuildCancel
	OpSession

	// swarm router
	OpSwarmInit
	OpSwarmJoin
	OpSwarmLeave
	OpSwarmInspect
	OpSwarmUnlockkey
	OpSwarmUpdate
	OpSwarmUnlock
	OpServiceList
	OpServiceInspect
	OpServiceCreate
	OpServiceUpdate
	OpServiceDelete
	OpServiceLogs
	OpNodeList
	OpNodeInspect
	OpNodeDelete
	OpNodeUpdate
	OpTaskList
	OpTaskInspect
	OpTaskLogs
	OpSecretList
	OpSecretCreate
	OpSecretDelete
	OpSecretInspect
	OpSecretUpdate
	OpConfigList
	OpConfigCreate
	OpConfigDelete
	OpConfigInspect
	OpConfigUpdate

	// plugin, distribution, network, debug and grpc routers
	OpPluginList
	OpPluginInspect
	OpGetPluginPrivileges
	OpPluginDelete
	OpPluginEnable
	OpPluginDisable
	OpPluginPull
	OpPluginPush
	OpPluginUpgrade
	OpPluginSet
	OpPluginCreate
	OpDistributionInspect
	OpNetworkList
	OpNetworkInspect
	OpNetworkCreate
	OpNetworkConnect
	OpNetworkDisconnect
	OpNetworkPrune
	OpNetworkDelete
	OpDebugVars
	OpDebugPprof
	OpGRPC

	opCount
)

// Strategy names how the proxy handles a route, in the route's own entry:
// one source of truth per route, as moby binds each route's handler in its
// router. The proxy binds every strategy to one handler; a test checks that
// every route of the table has a strategy with a handler.
type Strategy uint8

const (
	// Unset is the zero value; no route of the table has it.
	Unset Strategy = iota
	// Refuse: never forwarded, whatever the request names (the engine's
	// debug endpoints, BuildKit's raw streams, and swarm and node changes
	// that act on containers the client cannot see).
	Refuse
	// Pass: names and reveals no container; forwarded as asked.
	Pass
	// PassProgress: like Pass, but the answer is a progress stream whose
	// error messages are redacted.
	PassProgress
	// Container: a container reference in the path.
	Container
	// Exec: an exec instance ID in the path; decided by its container.
	Exec
	// ContainerList, ContainerCreate, ContainerPrune, NetworkAttach, Commit,
	// Build and Events each have a handler of their own.
	ContainerList
	ContainerCreate
	ContainerPrune
	NetworkAttach
	Commit
	Build
	Events
	// NetworkInspect, NetworkList, DiskUsage, Info, ImageList and
	// ImageInspect answers describe containers and are rewritten.
	NetworkInspect
	NetworkList
	DiskUsage
	Info
	ImageList
	ImageInspect
	// ImageExport: refused for an image committed from a hidden container.
	ImageExport
	// ServiceList, TaskList and ServiceCreate; Service and Task have a
	// service or task reference in the path.
	ServiceList
	TaskList
	ServiceCreate
	Service
	Task

	// StrategyCount is the number of strategies, for tables indexed by one.
	StrategyCount
)

// Spec is one route the engine serves.
type Spec struct {
	Method   string
	Template string // gorilla/mux template, exactly as registered by the engine
	Op       Op
	Name     string // operation name, for logs
	Strategy Strategy
}

// Table lists every route of the Docker Engine (moby/moby master of
// August 2026, API 1.55, plus routes that Engine 20.10 still serves), in the
// engine's registration order: gorilla/mux picks the first route that
// matches, so the order decides ambiguous paths exactly as the engine does.
// Each route is also reachable under a /v{version} prefix.
var Table = []Spec{
	{"GET", "/containers/{name:.*}/checkpoints", OpCheckpointList, "CheckpointList", Container},
	{"POST", "/containers/{name:.*}/checkpoints", OpCheckpointCreate, "CheckpointCreate", Container},
	{"DELETE", "/containers/{name}/checkpoints/{checkpoint}", OpCheckpointDelete, "CheckpointDelete", Container},

	{"HEAD", "/containers/{name:.*}/archive", OpContainerArchiveInfo, "ContainerArchiveInfo", Container},
	{"GET", "/containers/json", OpContainerList, "ContainerList", ContainerList},
	{"GET", "/containers/{name:.*}/export", OpContainerExport, "ContainerExport", Container},
	{"GET", "/containers/{name:.*}/changes", OpContainerChanges, "ContainerChanges", Container},
	{"GET", "/containers/{name:.*}/json", OpContainerInspect, "ContainerInspect", Container},
	{"GET", "/containers/{name:.*}/top", OpContainerTop, "ContainerTop", Container},
	{"GET", "/containers/{name:.*}/logs", OpContainerLogs, "ContainerLogs", Container},
	{"GET", "/containers/{name:.*}/stats", OpContainerStats, "ContainerStats", Container},
	{"GET", "/containers/{name:.*}/attach/ws", OpContainerAttachWebsocket, "ContainerAttachWebsocket", Container},
	{"GET", "/exec/{id:.*}/json", OpExecInspect, "ExecInspect", Exec},
	{"GET", "/containers/{name:.*}/archive", OpContainerArchive, "ContainerArchive", Container},
	{"POST", "/containers/create", OpContainerCreate, "ContainerCreate", ContainerCreate},
	{"POST", "/containers/{name:.*}/kill", OpContainerKill, "ContainerKill", Container},
	{"POST", "/containers/{name:.*}/pause", OpContainerPause, "ContainerPause", Container},
	{"POST", "/containers/{name:.*}/unpause", OpContainerUnpause, "ContainerUnpause", Container},
	{"POST", "/containers/{name:.*}/restart", OpContainerRestart, "ContainerRestart", Container},
	{"POST", "/containers/{name:.*}/start", OpContainerStart, "ContainerStart", Container},
	{"POST", "/containers/{name:.*}/stop", OpContainerStop, "ContainerStop", Container},
	{"POST", "/containers/{name:.*}/wait", OpContainerWait, "ContainerWait", Container},
	{"POST", "/containers/{name:.*}/resize", OpContainerResize, "ContainerResize", Container},
	{"POST", "/containers/{name:.*}/attach", OpContainerAttach, "ContainerAttach", Container},
	{"POST", "/containers/{name:.*}/exec", OpContainerExec, "ContainerExec", Container},
	{"POST", "/exec/{name:.*}/start", OpExecStart, "ExecStart", Exec},
	{"POST", "/exec/{name:.*}/resize", OpExecResize, "ExecResize", Exec},
	{"POST", "/containers/{name:.*}/rename", OpContainerRename, "ContainerRename", Container},
	{"POST", "/containers/{name:.*}/update", OpContainerUpdate, "ContainerUpdate", Container},
	{"POST", "/containers/prune", OpContainerPrune, "ContainerPrune", ContainerPrune},
	{"POST", "/commit", OpImageCommit, "ImageCommit", Commit},
	{"PUT", "/containers/{name:.*}/archive", OpPutContainerArchive, "PutContainerArchive", Container},
	{"DELETE", "/containers/{name:.*}", OpContainerDelete, "ContainerDelete", Container},
	{"POST", "/containers/{name:.*}/copy", OpContainerCopy, "ContainerCopy", Container},

	{"GET", "/images/json", OpImageList, "ImageList", ImageList},
	{"GET", "/images/search", OpImageSearch, "ImageSearch", Pass},
	{"GET", "/images/get", OpImageGetAll, "ImageGetAll", ImageExport},
	{"GET", "/images/{name:.*}/get", OpImageGet, "ImageGet", ImageExport},
	{"GET", "/images/{name:.*}/history", OpImageHistory, "ImageHistory", Pass},
	{"GET", "/images/{name:.*}/json", OpImageInspect, "ImageInspect", ImageInspect},
	{"GET", "/images/{name:.*}/attestations", OpImageAttestations, "ImageAttestations", Pass},
	{"POST", "/images/load", OpImageLoad, "ImageLoad", PassProgress},
	{"POST", "/images/create", OpImageCreate, "ImageCreate", PassProgress},
	{"POST", "/images/{name:.*}/push", OpImagePush, "ImagePush", PassProgress},
	{"POST", "/images/{name:.*}/tag", OpImageTag, "ImageTag", Pass},
	{"POST", "/images/prune", OpImagePrune, "ImagePrune", Pass},
	{"DELETE", "/images/{name:.*}", OpImageDelete, "ImageDelete", Pass},

	{"OPTIONS", "/{anyroute:.*}", OpOptions, "Options", Pass},
	{"GET", "/_ping", OpSystemPing, "SystemPing", Pass},
	{"HEAD", "/_ping", OpSystemPingHead, "SystemPingHead", Pass},
	{"GET", "/events", OpSystemEvents, "SystemEvents", Events},
	{"GET", "/info", OpSystemInfo, "SystemInfo", Info},
	{"GET", "/version", OpSystemVersion, "SystemVersion", Pass},
	{"GET", "/system/df", OpSystemDataUsage, "SystemDataUsage", DiskUsage},
	{"POST", "/auth", OpSystemAuth, "SystemAuth", Pass},

	{"GET", "/volumes", OpVolumeList, "VolumeList", Pass},
	{"GET", "/volumes/{name:.*}", OpVolumeInspect, "VolumeInspect", Pass},
	{"POST", "/volumes/create", OpVolumeCreate, "VolumeCreate", Pass},
	{"POST", "/volumes/prune", OpVolumePrune, "VolumePrune", Pass},
	{"PUT", "/volumes/{name:.*}", OpVolumeUpdate, "VolumeUpdate", Pass},
	{"DELETE", "/volumes/{name:.*}", OpVolumeDelete, "VolumeDelete", Pass},

	{"POST", "/build", OpImageBuild, "ImageBuild", Build},
	{"POST", "/build/prune", OpBuildPrune, "BuildPrune", Pass},
	{"POST", "/build/cancel", OpBuildCancel, "BuildCancel", Pass},
	{"POST", "/session", OpSession, "Session", Refuse},

	{"POST", "/swarm/init", OpSwarmInit, "SwarmInit", Pass},
	{"POST", "/swarm/join", OpSwarmJoin, "SwarmJoin", Pass},
	{"POST", "/swarm/leave", OpSwarmLeave, "SwarmLeave", Refuse},
	{"GET", "/swarm", OpSwarmInspect, "SwarmInspect", Pass},
	{"GET", "/swarm/unlockkey", OpSwarmUnlockkey, "SwarmUnlockkey", Pass},
	{"POST", "/swarm/update", OpSwarmUpdate, "SwarmUpdate", Pass},
	{"POST", "/swarm/unlock", OpSwarmUnlock, "SwarmUnlock", Pass},
	{"GET", "/services", OpServiceList, "ServiceList", ServiceList},
	{"GET", "/services/{id}", OpServiceInspect, "ServiceInspect", Service},
	{"POST", "/services/create", OpServiceCreate, "ServiceCreate", ServiceCreate},
	{"POST", "/services/{id}/update", OpServiceUpdate, "ServiceUpdate", Service},
	{"DELETE", "/services/{id}", OpServiceDelete, "ServiceDelete", Service},
	{"GET", "/services/{id}/logs", OpServiceLogs, "ServiceLogs", Service},
	{"GET", "/nodes", OpNodeList, "NodeList", Pass},
	{"GET", "/nodes/{id}", OpNodeInspect, "NodeInspect", Pass},
	{"DELETE", "/nodes/{id}", OpNodeDelete, "NodeDelete", Refuse},
	{"POST", "/nodes/{id}/update", OpNodeUpdate, "NodeUpdate", Refuse},
	{"GET", "/tasks", OpTaskList, "TaskList", TaskList},
	{"GET", "/tasks/{id}", OpTaskInspect, "TaskInspect", Task},
	{"GET", "/tasks/{id}/logs", OpTaskLogs, "TaskLogs", Task},
	{"GET", "/secrets", OpSecretList, "SecretList", Pass},
	{"POST", "/secrets/create", OpSecretCreate, "SecretCreate", Pass},
	{"DELETE", "/secrets/{id}", OpSecretDelete, "SecretDelete", Pass},
	{"GET", "/secrets/{id}", OpSecretInspect, "SecretInspect", Pass},
	{"POST", "/secrets/{id}/update", OpSecretUpdate, "SecretUpdate", Pass},
	{"GET", "/configs", OpConfigList, "ConfigList", Pass},
	{"POST", "/configs/create", OpConfigCreate, "ConfigCreate", Pass},
	{"DELETE", "/configs/{id}", OpConfigDelete, "ConfigDelete", Pass},
	{"GET", "/configs/{id}", OpConfigInspect, "ConfigInspect", Pass},
	{"POST", "/configs/{id}/update", OpConfigUpdate, "ConfigUpdate", Pass},

	{"GET", "/plugins", OpPluginList, "PluginList", Pass},
	{"GET", "/plugins/{name:.*}/json", OpPluginInspect, "PluginInspect", Pass},
	{"GET", "/plugins/privileges", OpGetPluginPrivileges, "GetPluginPrivileges", Pass},
	{"DELETE", "/plugins/{name:.*}", OpPluginDelete, "PluginDelete", Pass},
	{"POST", "/plugins/{name:.*}/enable", OpPluginEnable, "PluginEnable", Pass},
	{"POST", "/plugins/{name:.*}/disable", OpPluginDisable, "PluginDisable", Pass},
	{"POST", "/plugins/pull", OpPluginPull, "PluginPull", PassProgress},
	{"POST", "/plugins/{name:.*}/push", OpPluginPush, "PluginPush", PassProgress},
	{"POST", "/plugins/{name:.*}/upgrade", OpPluginUpgrade, "PluginUpgrade", PassProgress},
	{"POST", "/plugins/{name:.*}/set", OpPluginSet, "PluginSet", Pass},
	{"POST", "/plugins/create", OpPluginCreate, "PluginCreate", Pass},

	{"GET", "/distribution/{name:.*}/json", OpDistributionInspect, "DistributionInspect", Pass},

	{"GET", "/networks", OpNetworkList, "NetworkList", NetworkList},
	{"GET", "/networks/", OpNetworkList, "NetworkList", NetworkList},
	{"GET", "/networks/{id:.+}", OpNetworkInspect, "NetworkInspect", NetworkInspect},
	{"POST", "/networks/create", OpNetworkCreate, "NetworkCreate", Pass},
	{"POST", "/networks/{id:.*}/connect", OpNetworkConnect, "NetworkConnect", NetworkAttach},
	{"POST", "/networks/{id:.*}/disconnect", OpNetworkDisconnect, "NetworkDisconnect", NetworkAttach},
	{"POST", "/networks/prune", OpNetworkPrune, "NetworkPrune", Pass},
	{"DELETE", "/networks/{id:.*}", OpNetworkDelete, "NetworkDelete", Pass},

	{"GET", "/debug/vars", OpDebugVars, "DebugVars", Refuse},
	{"GET", "/debug/pprof/", OpDebugPprof, "DebugPprof", Refuse},
	{"GET", "/debug/pprof/cmdline", OpDebugPprof, "DebugPprof", Refuse},
	{"GET", "/debug/pprof/profile", OpDebugPprof, "DebugPprof", Refuse},
	{"GET", "/debug/pprof/symbol", OpDebugPprof, "DebugPprof", Refuse},
	{"GET", "/debug/pprof/trace", OpDebugPprof, "DebugPprof", Refuse},
	{"GET", "/debug/pprof/{name}", OpDebugPprof, "DebugPprof", Refuse},

	{"POST", "/grpc", OpGRPC, "GRPC", Refuse},
}
