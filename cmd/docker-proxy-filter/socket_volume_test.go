package main

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestImageSharesItsSocketThroughAVolume runs the README's unix socket
// setup on the real engine: the image (uid 65532) listens on a socket in a
// named volume, and a client container running as another user reaches it
// through the same volume when, and only when, it has the socket's group.
func TestImageSharesItsSocketThroughAVolume(t *testing.T) {
	e := enginetest.Require(t)
	ref := importProxyImage(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fi, err := os.Stat(e.SocketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	engineGID := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid))
	const dir, sock = "/run/docker-proxy-filter", "unix:///run/docker-proxy-filter/docker.sock"

	create := func(t *testing.T, name, vol string, cfg *container.Config, host *container.HostConfig) string {
		t.Helper()
		cfg.Image = ref
		host.NetworkMode = "none"
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeVolume, Source: vol, Target: dir})
		created, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{Name: enginetest.UniqueName(t, name), Config: cfg, HostConfig: host})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = e.Client.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
		})
		if _, err := e.Client.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
		return created.ID
	}
	// runClient runs the image's healthcheck subcommand (GET /_ping on LISTEN)
	// as user, and returns its exit code.
	runClient := func(t *testing.T, vol, user string, groups ...string) int64 {
		t.Helper()
		id := create(t, "dpf-client", vol, &container.Config{User: user, Cmd: []string{"healthcheck"}, Env: []string{"LISTEN=" + sock}},
			&container.HostConfig{GroupAdd: groups})
		wait := e.Client.ContainerWait(ctx, id, client.ContainerWaitOptions{})
		select {
		case res := <-wait.Result:
			return res.StatusCode
		case err := <-wait.Error:
			t.Fatal(err)
		}
		return -1
	}

	tests := []struct {
		name        string
		proxyEnv    []string
		proxyGroups []string
		clientGroup string // the group that lets the client in
	}{
		// Defaults: the socket is 65532:65532 0660, so the client joins 65532.
		{"default group", nil, nil, "65532"},
		// LISTEN_SOCKET_GROUP: the socket takes the client's group, which
		// the proxy must belong to.
		{"LISTEN_SOCKET_GROUP", []string{"LISTEN_SOCKET_GROUP=1500"}, []string{"1500"}, "1500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vol := enginetest.UniqueName(t, "dpf-sock")
			if _, err := e.Client.VolumeCreate(ctx, client.VolumeCreateOptions{Name: vol}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { // after the containers' cleanups, which were registered later
				if _, err := e.Client.VolumeRemove(context.Background(), vol, client.VolumeRemoveOptions{Force: true}); err != nil {
					t.Errorf("remove volume %s: %v", vol, err)
				}
			})
			proxy := create(t, "dpf-proxy", vol, &container.Config{
				Env: append([]string{"PROXY_URL=unix:///var/run/docker.sock", "LISTEN=" + sock,
					"CONTAINER_LABELS=" + enginetest.UniqueName(t, "none")}, tt.proxyEnv...),
				Healthcheck: &container.HealthConfig{
					Test:     []string{"CMD", "/docker-proxy-filter", "healthcheck"},
					Interval: 300 * time.Millisecond,
					Retries:  3,
				},
			}, &container.HostConfig{
				Binds:    []string{e.SocketPath(t) + ":/var/run/docker.sock"},
				GroupAdd: append([]string{engineGID}, tt.proxyGroups...),
			})
			enginetest.Eventually(t, 30*time.Second, "proxy healthy on its unix socket", func() bool {
				in := e.Inspect(t, proxy)
				if !in.State.Running {
					t.Fatalf("proxy exited:\n%s", e.Logs(t, proxy))
				}
				return in.State.Health != nil && in.State.Health.Status == container.Healthy
			})
			if code := runClient(t, vol, "1000:1000", tt.clientGroup); code != 0 {
				t.Errorf("client 1000 in group %s: healthcheck exit %d, want 0\n%s", tt.clientGroup, code, e.Logs(t, proxy))
			}
			if code := runClient(t, vol, "1000:1000"); code == 0 {
				t.Errorf("client 1000 without the socket's group reached the proxy (negative control)")
			}
		})
	}
}
