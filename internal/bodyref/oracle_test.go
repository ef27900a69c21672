package bodyref

import (
	"bytes"
	"encoding/json"
	"strings"
)

// This file is the differential oracle: the engine's create request layout
// reproduced field by field, for the current engine (docker-v29.7.2) and for
// Engine 20.10 (v20.10.24), and decoded the way each engine decodes it.
//
// Every field keeps its JSON name, its position (embedded structs stay
// embedded, pointers stay pointers), so encoding/json routes each key
// (case folding, dominance of shallower fields, merging of repeated
// objects) exactly as in the engine. Fields that cannot name a container
// are json.RawMessage, which accepts any value: the oracle is about which
// key lands where, not about validating Memory or Cmd. Exported type names
// are needed because encoding/json cannot allocate an embedded pointer to an
// unexported struct type.

type anyJSON = json.RawMessage

// CreateRequest29 is api/types/container/create_request.go:9-13.
type CreateRequest29 struct {
	*Config29
	HostConfig       *HostConfig29       `json:"HostConfig,omitempty"`
	NetworkingConfig *NetworkingConfig29 `json:"NetworkingConfig,omitempty"`
}

// Config29 is api/types/container/config.go Config.
type Config29 struct {
	Hostname        anyJSON
	Domainname      anyJSON
	User            anyJSON
	AttachStdin     anyJSON
	AttachStdout    anyJSON
	AttachStderr    anyJSON
	ExposedPorts    anyJSON `json:",omitempty"`
	Tty             anyJSON
	OpenStdin       anyJSON
	StdinOnce       anyJSON
	Env             anyJSON
	Cmd             anyJSON
	Healthcheck     anyJSON `json:",omitempty"`
	ArgsEscaped     anyJSON `json:",omitempty"`
	Image           string
	Volumes         anyJSON
	WorkingDir      anyJSON
	Entrypoint      anyJSON
	NetworkDisabled anyJSON `json:",omitempty"`
	OnBuild         anyJSON `json:",omitempty"`
	Labels          map[string]string
	StopSignal      anyJSON `json:",omitempty"`
	StopTimeout     anyJSON `json:",omitempty"`
	Shell           anyJSON `json:",omitempty"`
}

// Resources29 is api/types/container/hostconfig.go Resources.
type Resources29 struct {
	CPUShares            anyJSON `json:"CpuShares"`
	Memory               anyJSON
	NanoCPUs             anyJSON `json:"NanoCpus"`
	CgroupParent         anyJSON
	BlkioWeight          anyJSON
	BlkioWeightDevice    anyJSON
	BlkioDeviceReadBps   anyJSON
	BlkioDeviceWriteBps  anyJSON
	BlkioDeviceReadIOps  anyJSON
	BlkioDeviceWriteIOps anyJSON
	CPUPeriod            anyJSON `json:"CpuPeriod"`
	CPUQuota             anyJSON `json:"CpuQuota"`
	CPURealtimePeriod    anyJSON `json:"CpuRealtimePeriod"`
	CPURealtimeRuntime   anyJSON `json:"CpuRealtimeRuntime"`
	CpusetCpus           anyJSON
	CpusetMems           anyJSON
	Devices              anyJSON
	DeviceCgroupRules    anyJSON
	DeviceRequests       anyJSON
	MemoryReservation    anyJSON
	MemorySwap           anyJSON
	MemorySwappiness     anyJSON
	OomKillDisable       anyJSON
	PidsLimit            anyJSON
	Ulimits              anyJSON
	CPUCount             anyJSON `json:"CpuCount"`
	CPUPercent           anyJSON `json:"CpuPercent"`
	IOMaximumIOps        anyJSON
	IOMaximumBandwidth   anyJSON
}

// HostConfig29 is api/types/container/hostconfig.go HostConfig.
type HostConfig29 struct {
	Binds           anyJSON
	ContainerIDFile anyJSON
	LogConfig       anyJSON
	NetworkMode     string
	PortBindings    anyJSON
	RestartPolicy   anyJSON
	AutoRemove      anyJSON
	VolumeDriver    anyJSON
	VolumesFrom     []string
	ConsoleSize     anyJSON
	Annotations     anyJSON `json:",omitempty"`
	CapAdd          anyJSON
	CapDrop         anyJSON
	CgroupnsMode    anyJSON
	DNS             anyJSON `json:"Dns"`
	DNSOptions      anyJSON `json:"DnsOptions"`
	DNSSearch       anyJSON `json:"DnsSearch"`
	ExtraHosts      anyJSON
	GroupAdd        anyJSON
	IpcMode         string
	Cgroup          anyJSON
	Links           []string
	OomScoreAdj     anyJSON
	PidMode         string
	Privileged      anyJSON
	PublishAllPorts anyJSON
	ReadonlyRootfs  anyJSON
	SecurityOpt     anyJSON
	StorageOpt      anyJSON `json:",omitempty"`
	Tmpfs           anyJSON `json:",omitempty"`
	UTSMode         anyJSON
	UsernsMode      anyJSON
	ShmSize         anyJSON
	Sysctls         anyJSON `json:",omitempty"`
	Runtime         anyJSON `json:",omitempty"`
	Isolation       anyJSON
	Resources29
	Mounts        anyJSON `json:",omitempty"`
	MaskedPaths   anyJSON
	ReadonlyPaths anyJSON
	Init          anyJSON `json:",omitempty"`
}

// NetworkingConfig29 is api/types/network/network_types.go:35-37.
type NetworkingConfig29 struct {
	EndpointsConfig map[string]*EndpointSettings29
}

// EndpointSettings29 is api/types/network/endpoint.go:10-40.
type EndpointSettings29 struct {
	IPAMConfig          anyJSON
	Links               []string
	Aliases             anyJSON
	DriverOpts          anyJSON
	GwPriority          anyJSON
	NetworkID           anyJSON
	EndpointID          anyJSON
	Gateway             anyJSON
	IPAddress           anyJSON
	MacAddress          anyJSON
	IPPrefixLen         anyJSON
	IPv6Gateway         anyJSON
	GlobalIPv6Address   anyJSON
	GlobalIPv6PrefixLen anyJSON
	DNSNames            anyJSON
}

// Wrapper20 is v20.10.24 runconfig/config_unix.go:13-19: Config and
// HostConfig both embedded, plus the real "HostConfig" one level up.
type Wrapper20 struct {
	*Config20
	InnerHostConfig  *HostConfig20       `json:"HostConfig,omitempty"`
	Cpuset           anyJSON             `json:",omitempty"`
	NetworkingConfig *NetworkingConfig20 `json:"NetworkingConfig,omitempty"`
	*HostConfig20
}

// Config20 is v20.10.24 api/types/container/config.go Config.
type Config20 struct {
	Hostname        anyJSON
	Domainname      anyJSON
	User            anyJSON
	AttachStdin     anyJSON
	AttachStdout    anyJSON
	AttachStderr    anyJSON
	ExposedPorts    anyJSON `json:",omitempty"`
	Tty             anyJSON
	OpenStdin       anyJSON
	StdinOnce       anyJSON
	Env             anyJSON
	Cmd             anyJSON
	Healthcheck     anyJSON `json:",omitempty"`
	ArgsEscaped     anyJSON `json:",omitempty"`
	Image           string
	Volumes         anyJSON
	WorkingDir      anyJSON
	Entrypoint      anyJSON
	NetworkDisabled anyJSON `json:",omitempty"`
	MacAddress      anyJSON `json:",omitempty"`
	OnBuild         anyJSON
	Labels          map[string]string
	StopSignal      anyJSON `json:",omitempty"`
	StopTimeout     anyJSON `json:",omitempty"`
	Shell           anyJSON `json:",omitempty"`
}

// Resources20 is v20.10.24 api/types/container/host_config.go Resources.
type Resources20 struct {
	Resources29
	KernelMemory    anyJSON
	KernelMemoryTCP anyJSON
}

// HostConfig20 is v20.10.24 api/types/container/host_config.go HostConfig
// (no Annotations yet; Resources has the kernel memory fields).
type HostConfig20 struct {
	Binds           anyJSON
	ContainerIDFile anyJSON
	LogConfig       anyJSON
	NetworkMode     string
	PortBindings    anyJSON
	RestartPolicy   anyJSON
	AutoRemove      anyJSON
	VolumeDriver    anyJSON
	VolumesFrom     []string
	CapAdd          anyJSON
	CapDrop         anyJSON
	CgroupnsMode    anyJSON
	DNS             anyJSON `json:"Dns"`
	DNSOptions      anyJSON `json:"DnsOptions"`
	DNSSearch       anyJSON `json:"DnsSearch"`
	ExtraHosts      anyJSON
	GroupAdd        anyJSON
	IpcMode         string
	Cgroup          anyJSON
	Links           []string
	OomScoreAdj     anyJSON
	PidMode         string
	Privileged      anyJSON
	PublishAllPorts anyJSON
	ReadonlyRootfs  anyJSON
	SecurityOpt     anyJSON
	StorageOpt      anyJSON `json:",omitempty"`
	Tmpfs           anyJSON `json:",omitempty"`
	UTSMode         anyJSON
	UsernsMode      anyJSON
	ShmSize         anyJSON
	Sysctls         anyJSON `json:",omitempty"`
	Runtime         anyJSON `json:",omitempty"`
	ConsoleSize     anyJSON
	Isolation       anyJSON
	Resources20
	Mounts        anyJSON `json:",omitempty"`
	MaskedPaths   anyJSON
	ReadonlyPaths anyJSON
	Init          anyJSON `json:",omitempty"`
}

// NetworkingConfig20 and EndpointSettings20 are v20.10.24
// api/types/network/network.go:49-65 and :104-106.
type NetworkingConfig20 struct {
	EndpointsConfig map[string]*EndpointSettings20
}

type EndpointSettings20 struct {
	IPAMConfig          anyJSON
	Links               []string
	Aliases             anyJSON
	NetworkID           anyJSON
	EndpointID          anyJSON
	Gateway             anyJSON
	IPAddress           anyJSON
	IPPrefixLen         anyJSON
	IPv6Gateway         anyJSON
	GlobalIPv6Address   anyJSON
	GlobalIPv6PrefixLen anyJSON
	MacAddress          anyJSON
	DriverOpts          anyJSON
}

// decode29 decodes like docker-v29.7.2 daemon/internal/runconfig/config.go
// loadJSON (:87-97): a json.Decoder into a pointer held in an interface.
func decode29(body []byte) (CreateRequest29, error) {
	var w CreateRequest29
	var out any = &w
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&out)
	return w, err
}

// decode20 decodes like v20.10.24 runconfig/config.go:39-45. On a type
// error it still returns what encoding/json managed to decode.
func decode20(body []byte) (Wrapper20, error) {
	var w Wrapper20
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&w)
	return w, err
}

// The oracle's value parsers are written after Engine 20.10's code, which
// uses strings.SplitN/Split where this package uses strings.Cut, so the two
// implementations are independent.

// oraclePid is v20.10.24 PidMode.Container (host_config.go:262-268): what
// follows the first colon, whatever precedes it.
func oraclePid(v string) (string, bool) {
	parts := strings.SplitN(v, ":", 2)
	if len(parts) < 2 {
		return "", false
	}
	return parts[1], true
}

// oracleContainerMode is IpcMode.Container / NetworkMode.IsContainer.
func oracleContainerMode(v string) (string, bool) {
	parts := strings.SplitN(v, ":", 2)
	if len(parts) < 2 || parts[0] != "container" {
		return "", false
	}
	return parts[1], true
}

// oracleLink is opts.ParseLink (v20.10.24 opts/opts.go:288-307), with ""
// for the values it rejects.
func oracleLink(v string) string {
	if v == "" {
		return ""
	}
	arr := strings.Split(v, ":")
	switch {
	case len(arr) > 2:
		return ""
	case len(arr) == 1:
		return v
	case strings.HasPrefix(arr[0], "/"):
		return arr[0][1:]
	}
	return arr[0]
}

// oracleVolumesFrom is linuxParser.ParseVolumesFrom's id.
func oracleVolumesFrom(v string) string {
	return strings.SplitN(v, ":", 2)[0]
}

func oracleHostRefs(pid, ipc, network string, volumesFrom, links []string, top bool) []Ref {
	var refs []Ref
	if r, ok := oraclePid(pid); ok {
		refs = append(refs, Ref{Kind: PidMode, Ref: r, Raw: pid, TopLevel: top})
	}
	if r, ok := oracleContainerMode(ipc); ok {
		refs = append(refs, Ref{Kind: IpcMode, Ref: r, Raw: ipc, TopLevel: top})
	}
	if r, ok := oracleContainerMode(network); ok {
		refs = append(refs, Ref{Kind: NetworkMode, Ref: r, Raw: network, TopLevel: top})
	}
	for _, v := range volumesFrom {
		refs = append(refs, Ref{Kind: VolumesFrom, Ref: oracleVolumesFrom(v), Raw: v, TopLevel: top})
	}
	for _, v := range links {
		refs = append(refs, Ref{Kind: Link, Ref: oracleLink(v), Raw: v, TopLevel: top})
	}
	return refs
}

// oracleCreate returns the refs any engine version could act on: the
// current engine's HostConfig and endpoint links, plus the top-level
// HostConfig fields Engine 20.10 decodes into its embedded HostConfig
// (whether or not it would use them) when it accepts the body. err is the current engine's decode
// error; err20 is Engine 20.10's, whose layout decodes more fields strictly.
func oracleCreate(body []byte) (refs []Ref, image string, labels map[string]string, err, err20 error) {
	w, err := decode29(body)
	w20, err20 := decode20(body)
	if err != nil {
		return nil, "", nil, err, err20
	}
	if hc := w.HostConfig; hc != nil {
		refs = append(refs, oracleHostRefs(hc.PidMode, hc.IpcMode, hc.NetworkMode, hc.VolumesFrom, hc.Links, false)...)
	}
	// With the current layout accepting the body, an Engine 20.10 error
	// can only come from a top-level field: it rejects the body, so none of
	// those refs is acted on.
	if hc := w20.HostConfig20; hc != nil && err20 == nil {
		refs = append(refs, oracleHostRefs(hc.PidMode, hc.IpcMode, hc.NetworkMode, hc.VolumesFrom, hc.Links, true)...)
	}
	if nc := w.NetworkingConfig; nc != nil {
		for _, ep := range nc.EndpointsConfig {
			if ep == nil {
				continue
			}
			for _, v := range ep.Links {
				refs = append(refs, Ref{Kind: EndpointLink, Ref: oracleLink(v), Raw: v})
			}
		}
	}
	if w.Config29 != nil {
		image, labels = w.Image, w.Labels
	}
	return refs, image, labels, nil, err20
}
