// Package fakeengine is a FAKE Docker Engine, for the tests a real engine
// cannot serve.
//
// Integration tests talk to a real engine (internal/enginetest): its
// streaming, hijacking and error shapes are what the proxy has to preserve,
// and a fake would only repeat what its author believed. This package is for
// the rest, and only the rest:
//
//   - answers no engine sends: malformed, gzipped, hung, cut or oversized
//     bodies, bytes past Content-Length, an events stream that ends or breaks
//     mid-way ([Case], chosen per request by [CaseHeader]; [Answer], [Hang],
//     [EventStream]);
//   - engines that are not on this machine: answers captured from real ones
//     (testdata/engine-*) are replayed with their headers and error shapes
//     ([Fixture]), such as the API 1.55 shapes a local Engine 20.10 cannot
//     produce;
//   - states a real engine will not hold: swarm services without a swarm,
//     containers that stay restarting, an upstream that refuses /events;
//   - thousands of containers with every answer precomputed, so that
//     benchmarks measure the proxy rather than the engine ([Generate]).
//
// An [Engine] speaks the part of the Engine API the proxy and its index rely
// on: ping, version, the container list, container inspect (resolved as the
// engine resolves references), events, swarm services and tasks. Everything
// else is the engine's "page not found".
//
// Import this package from _test.go files only.
package fakeengine
