// Package bodyref finds the references to other containers inside Docker
// Engine API request bodies, decoding them exactly as the engine does.
//
// A client of the proxy may only see and touch visible containers, and a
// hidden container must look like one that does not exist. A request body
// can name other containers (POST /containers/create: volumes-from, links,
// "container:<ref>" network, PID and IPC modes; network connect and
// disconnect: the container), so before forwarding such a request the proxy
// must find every one of those references and resolve it among visible
// containers. Missing one would let a client join a hidden container's
// namespaces, mount its volumes or probe its existence; so the decoding here
// is not "reasonable JSON handling" but a replica of what the engine does:
//
//   - encoding/json with the engine's own field names, types and nesting
//     (pointers where the engine has pointers), so that case-insensitive
//     keys ("hostconfig", "VOLUMESFROM", even "Lin\u212As" with a Kelvin
//     sign, as Go's case folding is Unicode's), duplicated keys (last wins,
//     and a repeated object is merged into the same struct), null values
//     (a null string keeps the previous value; a null HostConfig drops it),
//     unknown fields and type mismatches behave the same;
//   - only the first JSON value of the body is decoded, as the engine's
//     json.Decoder does. Engines 23 and later then reject more content with
//     400 "unexpected content after JSON" (unless it starts with '}' or ']'),
//     Engine 20.10 ignores it (v20.10.24 runconfig/config.go:42-45), so the
//     refs of the first value are the ones that matter either way;
//   - the value strings are parsed as the engine parses them (see Kind),
//     including the looser parsing of older engines, because reporting a
//     superset of what some engine version resolves is safe and missing one
//     is not;
//   - HostConfig fields at the top level of a create body are reported too:
//     Engines up to 26 (API 1.45) decode the body into a wrapper that embeds
//     HostConfig and use those fields when the body has no non-null
//     "HostConfig" (v20.10.24 runconfig/config_unix.go:13-60); they are
//     marked TopLevel and reported whether or not a HostConfig is present,
//     unless one of them has the wrong type (those engines then reject the
//     body, newer engines ignore the keys: no engine acts on them). Such a
//     mismatch is not an error here, since newer engines accept the body.
//
// An error from this package means every engine version rejects the body
// while decoding it, before acting on it: the fields decoded strictly here
// have the same types in every engine version, and syntax is checked by the
// same json.Decoder. The proxy can therefore forward such a body unchanged
// and let the engine answer. The reverse does not hold: fields this package
// does not look at (Memory, Cmd, ...) can still make the engine reject a body
// that decodes fine here.
//
// The package only reads bytes; Content-Type, Content-Length, chunked
// framing and body size limits are the proxy's business.
package bodyref
