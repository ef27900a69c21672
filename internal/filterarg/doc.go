// Package filterarg parses and re-encodes the Docker Engine API's `filters`
// query parameter exactly as the engine parses it.
//
// The proxy has to read a client's filters (GET /containers/json resolves
// `before` and `since` among all containers, so the proxy must resolve them
// among visible ones and send full IDs upstream; /events and the prune routes
// take container filters too) and sometimes rewrite them. Any difference
// between what this package accepts and what the engine accepts is a way to
// make the proxy and the engine see two different requests: a value the
// proxy reads as "no filter" but the engine reads as a filter, or the
// reverse. So Parse mirrors the engine's FromJSON step for step rather than
// being "a reasonable JSON parser":
//
//   - "" means no filters;
//   - first the map form {"key":{"value":true}} is decoded with encoding/json
//     into map[string]map[string]bool; if that fails for any reason the legacy
//     form {"key":["value",...]} is decoded into map[string][]string; if both
//     fail the whole parameter is rejected
//     (daemon/internal/filters/parse.go:65-87 at docker-v29.7.2; the same
//     steps in v20.10.24 api/types/filters/parse.go:84-106, which only
//     returns a different error);
//   - so everything encoding/json does is part of the contract: the top-level
//     value `null` is "no filters" (the engine's Args.UnmarshalJSON has a value
//     receiver, so null only clears a copy, parse.go:89-92); a key mapped to
//     null is present with no values; a value mapped to false is kept (and is
//     still a value for the engine's Get, Match and WalkValues, but not for
//     ExactMatch or GetBoolOrDefault); a null list item is the value "";
//     numbers, booleans or objects as list items, non-boolean map values,
//     and mixing the two forms in one parameter are rejected; duplicated keys
//     keep the last occurrence without merging; keys are case-sensitive;
//     JSON whitespace around the value is allowed; invalid UTF-8 becomes
//     U+FFFD; trailing content after the value is rejected (json.Unmarshal,
//     not a Decoder).
//
// Which keys a route accepts (and their values' syntax) is the route's
// business, not this package's: the engine validates them after FromJSON, for
// example 400 "invalid filter 'NAME'" for a key in the wrong case.
//
// The engine's answer to a parameter Parse rejects depends on its version:
// Engine 20.10 answers 500 with encoding/json's message for the map form
// (api/types/filters/parse.go:100-102 at v20.10.24 returns that error
// unwrapped), Engine 23.0 answers 400 "invalid filter: <that message>", and
// Engine 24 and later answer 400 "invalid filter"
// (daemon/internal/filters/errors.go:11-21). The proxy does not need to
// reproduce these: a rejected parameter has no effect upstream, so the
// request can be forwarded unchanged and the engine will answer it.
package filterarg
