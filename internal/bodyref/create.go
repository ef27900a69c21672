package bodyref

import (
	"maps"
	"slices"
)

// createBody is the part of the engine's create request that names other
// containers or decides the new container's visibility, with the engine's
// field names, types and nesting: container.CreateRequest embeds *Config
// (Image, Labels) next to HostConfig and NetworkingConfig pointers
// (docker-v29.7.2 api/types/container/create_request.go:9-13). Every field
// here has the same type in every engine version since 20.10, so a decode
// error here is a decode error in the engine.
type createBody struct {
	Image            string
	Labels           map[string]string
	HostConfig       *hostConfig
	NetworkingConfig *networkingConfig

	// The HostConfig fields Engines up to 26 also read at the top level
	// (v20.10.24 runconfig/config_unix.go:13-19 embeds *HostConfig in the
	// wrapper), decoded leniently; see lenientString. Their refs are
	// reported unless one of them has the wrong type.
	TopNetworkMode lenientString  `json:"NetworkMode"`
	TopVolumesFrom lenientStrings `json:"VolumesFrom"`
	TopIpcMode     lenientString  `json:"IpcMode"`
	TopLinks       lenientStrings `json:"Links"`
	TopPidMode     lenientString  `json:"PidMode"`
}

// topMismatched reports whether a top-level HostConfig field has the wrong
// type, which makes Engines up to 26 reject the body (and newer engines
// ignore those fields anyway).
func (b *createBody) topMismatched() bool {
	return b.TopNetworkMode.mismatched || b.TopVolumesFrom.mismatched || b.TopIpcMode.mismatched ||
		b.TopLinks.mismatched || b.TopPidMode.mismatched
}

// hostConfig holds the container.HostConfig fields that name containers.
type hostConfig struct {
	NetworkMode string
	VolumesFrom []string
	IpcMode     string
	Links       []string
	PidMode     string
}

// networkingConfig is network.NetworkingConfig: endpoint settings per
// network name, by pointer as in the engine (a repeated network key
// replaces the whole entry, it does not merge).
type networkingConfig struct {
	EndpointsConfig map[string]*endpointSettings
}

// endpointSettings holds the network.EndpointSettings field that names
// containers.
type endpointSettings struct {
	Links []string
}

// CreateInfo is what the proxy needs from a POST /containers/create body.
type CreateInfo struct {
	// Refs lists every container reference, in roughly the order Engine
	// 20.10 looks them up at create: HostConfig's IpcMode, PidMode,
	// VolumesFrom, Links, NetworkMode; then the same top-level fields
	// (TopLevel); then NetworkingConfig's endpoint links by network name.
	// Newer engines look Links up before VolumesFrom; no engine version's
	// order is guaranteed. Values that name no container (NetworkMode
	// "host", PidMode "" ...) are not listed.
	Refs []Ref
	// Image is Config.Image, the image the container is created from (the
	// engine adds the image's labels to Labels).
	Image string
	// Labels is Config.Labels as sent; nil when absent or null.
	Labels map[string]string
	// Trailing reports content after the first JSON value that Engines 23
	// and later reject with 400 "unexpected content after JSON" (their
	// dec.More() check: anything but whitespace, '}' or ']'), while Engine
	// 20.10 ignores it and creates the container from the first value.
	// Either way the refs of the first value are the ones to check.
	Trailing bool
}

// ContainerCreate returns the container references, image and labels of a
// POST /containers/create body, decoded as the engine decodes it. The same
// decoding applies to Engine 20.10's POST /containers/{id}/start body (API
// < 1.24), which goes through the same wrapper.
//
// An empty or blank body is an *Error (the engine answers "invalid JSON:
// EOF", or 500 "EOF" on 20.10); `null` and `{}` decode to nothing (the engine
// answers 400 "config cannot be empty in order to create a container").
func ContainerCreate(body []byte) (CreateInfo, error) {
	var b createBody
	trailing, err := decodeFirst(body, &b)
	if err != nil {
		return CreateInfo{}, err
	}
	info := CreateInfo{Image: b.Image, Labels: b.Labels, Trailing: trailing}
	if hc := b.HostConfig; hc != nil {
		info.Refs = hostRefs(info.Refs, hc.IpcMode, hc.PidMode, hc.VolumesFrom, hc.Links, hc.NetworkMode, false)
	}
	if !b.topMismatched() {
		info.Refs = hostRefs(info.Refs, b.TopIpcMode.value, b.TopPidMode.value,
			b.TopVolumesFrom.value, b.TopLinks.value, b.TopNetworkMode.value, true)
	}
	if nc := b.NetworkingConfig; nc != nil {
		for _, network := range slices.Sorted(maps.Keys(nc.EndpointsConfig)) {
			if ep := nc.EndpointsConfig[network]; ep != nil {
				info.Refs = endpointLinks(info.Refs, ep.Links)
			}
		}
	}
	return info, nil
}

// hostRefs appends the references in one set of HostConfig fields.
func hostRefs(refs []Ref, ipc, pid string, volumesFrom, links []string, network string, top bool) []Ref {
	if ref, ok := ContainerMode(ipc); ok {
		refs = append(refs, Ref{Kind: IpcMode, Ref: ref, Raw: ipc, TopLevel: top})
	}
	if ref, ok := pidModeRef(pid); ok {
		refs = append(refs, Ref{Kind: PidMode, Ref: ref, Raw: pid, TopLevel: top})
	}
	for _, v := range volumesFrom {
		refs = append(refs, Ref{Kind: VolumesFrom, Ref: volumesFromRef(v), Raw: v, TopLevel: top})
	}
	for _, v := range links {
		refs = append(refs, Ref{Kind: Link, Ref: linkRef(v), Raw: v, TopLevel: top})
	}
	if ref, ok := ContainerMode(network); ok {
		refs = append(refs, Ref{Kind: NetworkMode, Ref: ref, Raw: network, TopLevel: top})
	}
	return refs
}

// endpointLinks appends the references in an EndpointSettings.Links list.
func endpointLinks(refs []Ref, links []string) []Ref {
	for _, v := range links {
		refs = append(refs, Ref{Kind: EndpointLink, Ref: linkRef(v), Raw: v})
	}
	return refs
}
