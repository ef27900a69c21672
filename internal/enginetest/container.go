package enginetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// LabelTest is set by [Engine.Run] on every container to the creating test's
// name, so a container leaked on a shared engine can be traced to its test.
// Tests that compare a container's full label set must allow for it.
const LabelTest = "dpf.enginetest.test"

// RunSpec describes a container for [Engine.Run]. The zero value runs the
// test image's default (a ticker that logs every 200ms) with no network
// under a unique name.
type RunSpec struct {
	// Name defaults to UniqueName(t, "dpf").
	Name string
	// Image defaults to the test image.
	Image string
	// Cmd is passed to /app, e.g. {"sleep", "60"}; empty means the ticker.
	Cmd    []string
	Labels map[string]string
	Env    []string
	// Network defaults to "none"; name a network from [Engine.Network]
	// for containers that must be on a bridge.
	Network string
	// NoStart leaves the container created but not started.
	NoStart bool
	// AutoRemove makes the engine delete the container when it exits.
	AutoRemove bool
	// OpenStdin keeps stdin open for attach and `cat` tests.
	OpenStdin bool
	// Tty allocates a TTY (logs and attach streams are then not multiplexed).
	Tty bool
}

// Container identifies a container created by [Engine.Run].
type Container struct {
	ID   string
	Name string // without the leading slash
}

// Run creates (and unless spec.NoStart, starts) a container and removes it
// with force when the test ends, so tests never leak containers into the
// shared engine.
func (e *Engine) Run(t testing.TB, spec RunSpec) Container {
	t.Helper()
	if spec.Image == "" {
		spec.Image = e.TestImage(t)
	}
	if spec.Name == "" {
		spec.Name = UniqueName(t, "dpf")
	}
	if spec.Network == "" {
		spec.Network = "none"
	}
	labels := map[string]string{LabelTest: t.Name()}
	for k, v := range spec.Labels {
		labels[k] = v
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name,
		Config: &container.Config{
			Image:     spec.Image,
			Cmd:       spec.Cmd,
			Env:       spec.Env,
			Labels:    labels,
			OpenStdin: spec.OpenStdin,
			Tty:       spec.Tty,
		},
		HostConfig: &container.HostConfig{
			NetworkMode: container.NetworkMode(spec.Network),
			AutoRemove:  spec.AutoRemove,
		},
	})
	if err != nil {
		t.Fatalf("enginetest: create container %s: %v", spec.Name, err)
	}
	t.Cleanup(func() { e.remove(t, created.ID) })
	if !spec.NoStart {
		if _, err := e.Client.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("enginetest: start container %s: %v", spec.Name, err)
		}
	}
	return Container{ID: created.ID, Name: spec.Name}
}

func (e *Engine) remove(t testing.TB, id string) {
	ctx, cancel := cleanupContext()
	defer cancel()
	_, err := e.Client.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if !isGone(err) {
		t.Errorf("enginetest: cleanup: remove container %.12s: %v", id, err)
	}
}

// Inspect returns the engine's own view of a container, bypassing the code
// under test, e.g. to assert that a refused request left it untouched.
func (e *Engine) Inspect(t testing.TB, id string) container.InspectResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.Client.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("enginetest: inspect container %s: %v", id, err)
	}
	return res.Container
}

// Exists reports whether the engine still knows the container, e.g. to
// assert that a refused delete did not remove it.
func (e *Engine) Exists(t testing.TB, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := e.Client.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err == nil {
		return true
	}
	if strings.Contains(strings.ToLower(err.Error()), "no such container") {
		return false
	}
	t.Fatalf("enginetest: inspect container %s: %v", id, err)
	return false
}

// Logs returns what the container has written so far (stdout and stderr
// interleaved), read straight from the engine.
func (e *Engine) Logs(t testing.TB, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tty := e.Inspect(t, id).Config.Tty
	rc, err := e.Client.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("enginetest: logs of %s: %v", id, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if tty {
		_, err = io.Copy(&buf, rc)
	} else {
		_, err = stdcopy.StdCopy(&buf, &buf, rc)
	}
	if err != nil {
		t.Fatalf("enginetest: logs of %s: %v", id, err)
	}
	return buf.String()
}

// WaitLog waits until the container's logs contain substr, for tests that
// must not act before the container has produced output.
func (e *Engine) WaitLog(t testing.TB, id, substr string, timeout time.Duration) {
	t.Helper()
	var last string
	if !poll(timeout, func() bool {
		last = e.Logs(t, id)
		return strings.Contains(last, substr)
	}) {
		t.Fatalf("enginetest: logs of %s did not contain %q within %v; got:\n%s", id, substr, timeout, last)
	}
}

// Network creates a user-defined bridge network (these work without
// iptables) and removes it when the test ends. An empty name picks a unique
// one. It returns the network ID.
func (e *Engine) Network(t testing.TB, name string) string {
	t.Helper()
	if name == "" {
		name = UniqueName(t, "dpfnet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.Client.NetworkCreate(ctx, name, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{LabelTest: t.Name()},
	})
	if err != nil {
		t.Fatalf("enginetest: create network %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := e.Client.NetworkRemove(ctx, res.ID, client.NetworkRemoveOptions{}); !isGone(err) {
			t.Errorf("enginetest: cleanup: remove network %s: %v", name, err)
		}
	})
	return res.ID
}

// UniqueName returns prefix plus a random suffix, valid as a container,
// network or label value. Test binaries of all packages share one engine at
// the same time (and a developer's engine across runs), so fixed names
// would collide.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("enginetest: random name: %v", err)
	}
	p := sanitize(prefix)
	if p == "" {
		p = "dpf"
	}
	return p + "-" + hex.EncodeToString(b[:])
}

// sanitize keeps prefix within [a-z0-9_.-], starting with a letter or digit
// and short enough for readable names.
func sanitize(prefix string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(prefix) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case r == '_' || r == '.' || r == '-':
			if sb.Len() > 0 {
				sb.WriteRune(r)
			}
		default:
			if sb.Len() > 0 {
				sb.WriteByte('-')
			}
		}
		if sb.Len() >= 24 {
			break
		}
	}
	return strings.TrimRight(sb.String(), "_.-")
}

// Eventually polls cond every 50ms until it returns true, failing the test
// with msg after timeout. Engine state changes (a container exiting, a log
// line arriving) are asynchronous, and fixed sleeps make tests slow and flaky.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v: %s", timeout, msg)
	}
}

func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
