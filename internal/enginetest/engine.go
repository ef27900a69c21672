// Package enginetest is the harness for tests that need a real Docker Engine.
//
// The proxy's behaviour only means something against a real engine (its
// streaming, hijacking and error shapes are what the proxy has to preserve),
// so engine tests talk to one named by DPF_TEST_DOCKER_HOST. scripts/test
// starts a private dockerd and sets that variable; without it the tests skip,
// unless DPF_REQUIRE_ENGINE=1 (as in CI), where a missing engine is a failure.
//
// Test binaries of several packages share one engine concurrently, so every
// name and label a test creates must be unique: use [UniqueName].
//
// Import this package from _test.go files only.
package enginetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// Environment variables read by [Require].
const (
	// EnvHost names the engine the tests use, e.g. unix:///tmp/x/docker.sock.
	EnvHost = "DPF_TEST_DOCKER_HOST"
	// EnvRequire, set to 1, turns a missing engine into a test failure so
	// that CI can never pass by skipping.
	EnvRequire = "DPF_REQUIRE_ENGINE"
	// EnvDockerd names the dockerd binary [StartPrivate] runs (default:
	// dockerd from PATH), and EnvDockerdFlags adds flags to it, so the
	// tests that need an engine of their own run on the same engine
	// version as the shared one (scripts/test sets both for Engine 29).
	EnvDockerd      = "DPF_DOCKERD"
	EnvDockerdFlags = "DPF_DOCKERD_FLAGS"
)

// pingTimeout bounds how long Require waits for the engine to answer; an
// engine that is up answers in milliseconds.
const pingTimeout = 5 * time.Second

// Engine is the shared test engine. It is safe for concurrent use by
// parallel tests.
type Engine struct {
	// Host is the engine address (DOCKER_HOST syntax), for tests that point
	// a proxy or the docker CLI at the engine itself.
	Host string
	// Client is an SDK client for setting up and checking state directly
	// on the engine, bypassing the code under test. It negotiates the API
	// version on first use.
	Client *client.Client

	imageOnce sync.Once
	image     string
	imageErr  error
}

// shared connects at most once per test binary: every test calls Require,
// and pinging (and building the test image) again for each would be slow.
var shared = sync.OnceValues(connect)

// Require returns the shared test engine, or skips the test (fails it when
// DPF_REQUIRE_ENGINE=1) when no engine is configured or it does not answer.
func Require(t testing.TB) *Engine {
	t.Helper()
	e, err := shared()
	if err == nil {
		return e
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("engine test cannot run and %s=1 forbids skipping: %v", EnvRequire, err)
	}
	t.Skipf("skipping engine test: %v. Run scripts/test (as root it starts a private dockerd), "+
		"or set %s to a running engine, e.g. %s=unix:///tmp/dpf-engine/docker.sock", err, EnvHost, EnvHost)
	return nil
}

func connect() (*Engine, error) {
	host := strings.TrimSpace(os.Getenv(EnvHost))
	if host == "" {
		return nil, fmt.Errorf("%s is not set", EnvHost)
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvHost, host, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	var pingErr error
	for {
		_, pingErr = c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		if pingErr == nil {
			break
		}
		select {
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("engine at %s=%s did not answer a ping within %v: %w", EnvHost, host, pingTimeout, pingErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return &Engine{Host: host, Client: c}, nil
}

// SocketPath returns the filesystem path of the engine's unix socket, for
// tests that dial it directly (e.g. to configure a proxy's upstream). It
// fails the test when the engine is not reached over a unix socket.
func (e *Engine) SocketPath(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(e.Host)
	if err != nil || u.Scheme != "unix" || u.Path == "" {
		t.Fatalf("engine host %q is not a unix socket", e.Host)
	}
	return u.Path
}

// TempSocket returns a path for a unix socket (e.g. the proxy's listener) in
// a private directory removed when the test ends. t.TempDir() paths embed
// the test name and easily exceed the ~108-byte limit on socket paths.
func TempSocket(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "dpfs")
	if err != nil {
		t.Fatalf("enginetest: socket dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

// cleanupContext is for t.Cleanup functions: t.Context() is already
// canceled when they run, and a hung engine must not hang the test binary.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// isGone reports whether a removal error only says the object is already
// gone or going (auto-removed containers race with our force-remove). The
// engine's message is matched because the SDK's typed errors would need an
// extra direct dependency.
func isGone(err error) bool {
	if err == nil {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"no such container", "not found", "is already in progress"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// ServesAPI reports whether the engine serves API version v (e.g. "1.23"):
// Engine 29 refuses versions below 1.40, Engine 20.10 serves from 1.12.
// Tests of old-version behaviour skip where the engine has none.
func (e *Engine) ServesAPI(t testing.TB, v string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	ver, err := e.Client.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatalf("enginetest: server version: %v", err)
	}
	return !versionLess(v, ver.MinAPIVersion) && !versionLess(ver.APIVersion, v)
}

// versionLess compares dotted API versions numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
