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

// Class says how an operation relates to containers; it is a bit set because
// an operation can, say, both describe containers and take container refs.
type Class uint8

const (
	// ContainerPath: a container reference is in the path.
	ContainerPath Class = 1 << iota
	// ExecPath: an exec instance ID is in the path; the exec belongs to a container.
	ExecPath
	// Describes: the answer describes containers (lists, counts, members, events).
	Describes
	// References: the request body or query names containers.
	References
	// Write: the operation changes engine state.
	Write
)

// Unrelated is the class of operations that neither name nor reveal containers.
const Unrelated Class = 0

// Has reports whether c includes every bit of o.
func (c Class) Has(o Class) bool { return c&o == o }

// Spec is one route the engine serves.
type Spec struct {
	Method   string
	Template string // gorilla/mux template, exactly as registered by the engine
	Op       Op
	Name     string // operation name, for logs
	Class    Class
}

// Table lists every route of the Docker Engine (moby/moby master of
// August 2026, API 1.55, plus routes that Engine 20.10 still serves), in the
// engine's registration order: gorilla/mux picks the first route that
// matches, so the order decides ambiguous paths exactly as the engine does.
// Each route is also reachable under a /v{version} prefix.
var Table = []Spec{
	{"GET", "/containers/{name:.*}/checkpoints", OpCheckpointList, "CheckpointList", ContainerPath},
	{"POST", "/containers/{name:.*}/checkpoints", OpCheckpointCreate, "CheckpointCreate", ContainerPath | Write},
	{"DELETE", "/containers/{name}/checkpoints/{checkpoint}", OpCheckpointDelete, "CheckpointDelete", ContainerPath | Write},

	{"HEAD", "/containers/{name:.*}/archive", OpContainerArchiveInfo, "ContainerArchiveInfo", ContainerPath},
	{"GET", "/containers/json", OpContainerList, "ContainerList", Describes | References},
	{"GET", "/containers/{name:.*}/export", OpContainerExport, "ContainerExport", ContainerPath},
	{"GET", "/containers/{name:.*}/changes", OpContainerChanges, "ContainerChanges", ContainerPath},
	{"GET", "/containers/{name:.*}/json", OpContainerInspect, "ContainerInspect", ContainerPath},
	{"GET", "/containers/{name:.*}/top", OpContainerTop, "ContainerTop", ContainerPath},
	{"GET", "/containers/{name:.*}/logs", OpContainerLogs, "ContainerLogs", ContainerPath},
	{"GET", "/containers/{name:.*}/stats", OpContainerStats, "ContainerStats", ContainerPath},
	{"GET", "/containers/{name:.*}/attach/ws", OpContainerAttachWebsocket, "ContainerAttachWebsocket", ContainerPath},
	{"GET", "/exec/{id:.*}/json", OpExecInspect, "ExecInspect", ExecPath | Describes},
	{"GET", "/containers/{name:.*}/archive", OpContainerArchive, "ContainerArchive", ContainerPath},
	{"POST", "/containers/create", OpContainerCreate, "ContainerCreate", References | Write},
	{"POST", "/containers/{name:.*}/kill", OpContainerKill, "ContainerKill", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/pause", OpContainerPause, "ContainerPause", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/unpause", OpContainerUnpause, "ContainerUnpause", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/restart", OpContainerRestart, "ContainerRestart", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/start", OpContainerStart, "ContainerStart", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/stop", OpContainerStop, "ContainerStop", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/wait", OpContainerWait, "ContainerWait", ContainerPath},
	{"POST", "/containers/{name:.*}/resize", OpContainerResize, "ContainerResize", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/attach", OpContainerAttach, "ContainerAttach", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/exec", OpContainerExec, "ContainerExec", ContainerPath | Write},
	{"POST", "/exec/{name:.*}/start", OpExecStart, "ExecStart", ExecPath | Write},
	{"POST", "/exec/{name:.*}/resize", OpExecResize, "ExecResize", ExecPath | Write},
	{"POST", "/containers/{name:.*}/rename", OpContainerRename, "ContainerRename", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/update", OpContainerUpdate, "ContainerUpdate", ContainerPath | Write},
	{"POST", "/containers/prune", OpContainerPrune, "ContainerPrune", Describes | Write},
	{"POST", "/commit", OpImageCommit, "ImageCommit", References | Write},
	{"PUT", "/containers/{name:.*}/archive", OpPutContainerArchive, "PutContainerArchive", ContainerPath | Write},
	{"DELETE", "/containers/{name:.*}", OpContainerDelete, "ContainerDelete", ContainerPath | Write},
	{"POST", "/containers/{name:.*}/copy", OpContainerCopy, "ContainerCopy", ContainerPath},

	{"GET", "/images/json", OpImageList, "ImageList", Describes},
	{"GET", "/images/search", OpImageSearch, "ImageSearch", Unrelated},
	{"GET", "/images/get", OpImageGetAll, "ImageGetAll", Unrelated},
	{"GET", "/images/{name:.*}/get", OpImageGet, "ImageGet", Unrelated},
	{"GET", "/images/{name:.*}/history", OpImageHistory, "ImageHistory", Unrelated},
	{"GET", "/images/{name:.*}/json", OpImageInspect, "ImageInspect", Describes},
	{"GET", "/images/{name:.*}/attestations", OpImageAttestations, "ImageAttestations", Unrelated},
	{"POST", "/images/load", OpImageLoad, "ImageLoad", Write},
	{"POST", "/images/create", OpImageCreate, "ImageCreate", Write},
	{"POST", "/images/{name:.*}/push", OpImagePush, "ImagePush", Write},
	{"POST", "/images/{name:.*}/tag", OpImageTag, "ImageTag", Write},
	{"POST", "/images/prune", OpImagePrune, "ImagePrune", Write},
	{"DELETE", "/images/{name:.*}", OpImageDelete, "ImageDelete", Describes | Write},

	{"OPTIONS", "/{anyroute:.*}", OpOptions, "Options", Unrelated},
	{"GET", "/_ping", OpSystemPing, "SystemPing", Unrelated},
	{"HEAD", "/_ping", OpSystemPingHead, "SystemPingHead", Unrelated},
	{"GET", "/events", OpSystemEvents, "SystemEvents", Describes | References},
	{"GET", "/info", OpSystemInfo, "SystemInfo", Describes},
	{"GET", "/version", OpSystemVersion, "SystemVersion", Unrelated},
	{"GET", "/system/df", OpSystemDataUsage, "SystemDataUsage", Describes},
	{"POST", "/auth", OpSystemAuth, "SystemAuth", Unrelated},

	{"GET", "/volumes", OpVolumeList, "VolumeList", Unrelated},
	{"GET", "/volumes/{name:.*}", OpVolumeInspect, "VolumeInspect", Unrelated},
	{"POST", "/volumes/create", OpVolumeCreate, "VolumeCreate", Write},
	{"POST", "/volumes/prune", OpVolumePrune, "VolumePrune", Write},
	{"PUT", "/volumes/{name:.*}", OpVolumeUpdate, "VolumeUpdate", Write},
	{"DELETE", "/volumes/{name:.*}", OpVolumeDelete, "VolumeDelete", Describes | Write},

	{"POST", "/build", OpImageBuild, "ImageBuild", References | Write},
	{"POST", "/build/prune", OpBuildPrune, "BuildPrune", Write},
	{"POST", "/build/cancel", OpBuildCancel, "BuildCancel", Write},
	{"POST", "/session", OpSession, "Session", Write},

	{"POST", "/swarm/init", OpSwarmInit, "SwarmInit", Write},
	{"POST", "/swarm/join", OpSwarmJoin, "SwarmJoin", Write},
	{"POST", "/swarm/leave", OpSwarmLeave, "SwarmLeave", Write},
	{"GET", "/swarm", OpSwarmInspect, "SwarmInspect", Unrelated},
	{"GET", "/swarm/unlockkey", OpSwarmUnlockkey, "SwarmUnlockkey", Unrelated},
	{"POST", "/swarm/update", OpSwarmUpdate, "SwarmUpdate", Write},
	{"POST", "/swarm/unlock", OpSwarmUnlock, "SwarmUnlock", Write},
	{"GET", "/services", OpServiceList, "ServiceList", Describes},
	{"GET", "/services/{id}", OpServiceInspect, "ServiceInspect", Describes},
	{"POST", "/services/create", OpServiceCreate, "ServiceCreate", Write},
	{"POST", "/services/{id}/update", OpServiceUpdate, "ServiceUpdate", Write},
	{"DELETE", "/services/{id}", OpServiceDelete, "ServiceDelete", Write},
	{"GET", "/services/{id}/logs", OpServiceLogs, "ServiceLogs", Describes},
	{"GET", "/nodes", OpNodeList, "NodeList", Unrelated},
	{"GET", "/nodes/{id}", OpNodeInspect, "NodeInspect", Unrelated},
	{"DELETE", "/nodes/{id}", OpNodeDelete, "NodeDelete", Write},
	{"POST", "/nodes/{id}/update", OpNodeUpdate, "NodeUpdate", Write},
	{"GET", "/tasks", OpTaskList, "TaskList", Describes},
	{"GET", "/tasks/{id}", OpTaskInspect, "TaskInspect", Describes},
	{"GET", "/tasks/{id}/logs", OpTaskLogs, "TaskLogs", Describes},
	{"GET", "/secrets", OpSecretList, "SecretList", Unrelated},
	{"POST", "/secrets/create", OpSecretCreate, "SecretCreate", Write},
	{"DELETE", "/secrets/{id}", OpSecretDelete, "SecretDelete", Write},
	{"GET", "/secrets/{id}", OpSecretInspect, "SecretInspect", Unrelated},
	{"POST", "/secrets/{id}/update", OpSecretUpdate, "SecretUpdate", Write},
	{"GET", "/configs", OpConfigList, "ConfigList", Unrelated},
	{"POST", "/configs/create", OpConfigCreate, "ConfigCreate", Write},
	{"DELETE", "/configs/{id}", OpConfigDelete, "ConfigDelete", Write},
	{"GET", "/configs/{id}", OpConfigInspect, "ConfigInspect", Unrelated},
	{"POST", "/configs/{id}/update", OpConfigUpdate, "ConfigUpdate", Write},

	{"GET", "/plugins", OpPluginList, "PluginList", Unrelated},
	{"GET", "/plugins/{name:.*}/json", OpPluginInspect, "PluginInspect", Unrelated},
	{"GET", "/plugins/privileges", OpGetPluginPrivileges, "GetPluginPrivileges", Unrelated},
	{"DELETE", "/plugins/{name:.*}", OpPluginDelete, "PluginDelete", Write},
	{"POST", "/plugins/{name:.*}/enable", OpPluginEnable, "PluginEnable", Write},
	{"POST", "/plugins/{name:.*}/disable", OpPluginDisable, "PluginDisable", Write},
	{"POST", "/plugins/pull", OpPluginPull, "PluginPull", Write},
	{"POST", "/plugins/{name:.*}/push", OpPluginPush, "PluginPush", Write},
	{"POST", "/plugins/{name:.*}/upgrade", OpPluginUpgrade, "PluginUpgrade", Write},
	{"POST", "/plugins/{name:.*}/set", OpPluginSet, "PluginSet", Write},
	{"POST", "/plugins/create", OpPluginCreate, "PluginCreate", Write},

	{"GET", "/distribution/{name:.*}/json", OpDistributionInspect, "DistributionInspect", Unrelated},

	{"GET", "/networks", OpNetworkList, "NetworkList", Describes},
	{"GET", "/networks/", OpNetworkList, "NetworkList", Describes},
	{"GET", "/networks/{id:.+}", OpNetworkInspect, "NetworkInspect", Describes},
	{"POST", "/networks/create", OpNetworkCreate, "NetworkCreate", Write},
	{"POST", "/networks/{id:.*}/connect", OpNetworkConnect, "NetworkConnect", References | Write},
	{"POST", "/networks/{id:.*}/disconnect", OpNetworkDisconnect, "NetworkDisconnect", References | Write},
	{"POST", "/networks/prune", OpNetworkPrune, "NetworkPrune", Write},
	{"DELETE", "/networks/{id:.*}", OpNetworkDelete, "NetworkDelete", Describes | Write},

	{"GET", "/debug/vars", OpDebugVars, "DebugVars", Describes},
	{"GET", "/debug/pprof/", OpDebugPprof, "DebugPprof", Describes},
	{"GET", "/debug/pprof/cmdline", OpDebugPprof, "DebugPprof", Describes},
	{"GET", "/debug/pprof/profile", OpDebugPprof, "DebugPprof", Describes},
	{"GET", "/debug/pprof/symbol", OpDebugPprof, "DebugPprof", Describes},
	{"GET", "/debug/pprof/trace", OpDebugPprof, "DebugPprof", Describes},
	{"GET", "/debug/pprof/{name}", OpDebugPprof, "DebugPprof", Describes},

	{"POST", "/grpc", OpGRPC, "GRPC", Write},
}
