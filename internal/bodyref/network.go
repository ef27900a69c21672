package bodyref

// connectBody is the engine's network connect request: Container and an
// optional EndpointConfig (docker-v29.7.2
// daemon/server/networkbackend/network.go:7-10; v20.10.24 api/types/types.go
// NetworkConnect has the same layout).
type connectBody struct {
	Container      string
	EndpointConfig *endpointSettings
}

// disconnectBody is the engine's network disconnect request
// (networkbackend/network.go:14-17).
type disconnectBody struct {
	Container string
	Force     bool
}

// NetworkConnect returns the container a POST /networks/{id}/connect body
// names (Kind NetworkContainer) and the links of its EndpointConfig (Kind
// EndpointLink: DNS aliases for whatever container holds that name on the
// network, never looked up).
//
// A zero-length body decodes to the zero request, as current engines decode
// a body with Content-Length 0 (httputils.ReadJSON); Engine 20.10 and
// chunked empty bodies get 400 "got EOF while reading request body"
// instead. Either way the container ref is "", which names no container.
// Content after the first JSON value is ignored, as 20.10 ignores it
// (current engines reject it).
func NetworkConnect(body []byte) (ref Ref, links []Ref, err error) {
	var b connectBody
	if len(body) > 0 {
		if _, err := decodeFirst(body, &b); err != nil {
			return Ref{}, nil, err
		}
	}
	if b.EndpointConfig != nil {
		links = endpointLinks(nil, b.EndpointConfig.Links)
	}
	return Ref{Kind: NetworkContainer, Ref: b.Container, Raw: b.Container}, links, nil
}

// NetworkDisconnect returns the container a POST /networks/{id}/disconnect
// body names and its Force flag. With Force, an engine that cannot resolve
// the container deletes the endpoint with that name on the network instead
// (daemon/network.go:586-595), so a ref to a hidden container must not reach
// the engine even with Force. Empty bodies and trailing content are treated
// as by NetworkConnect.
func NetworkDisconnect(body []byte) (ref Ref, force bool, err error) {
	var b disconnectBody
	if len(body) > 0 {
		if _, err := decodeFirst(body, &b); err != nil {
			return Ref{}, false, err
		}
	}
	return Ref{Kind: NetworkContainer, Ref: b.Container, Raw: b.Container}, b.Force, nil
}
