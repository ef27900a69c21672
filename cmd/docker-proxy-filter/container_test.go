package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestImageRunsNonRootWithoutAShell reproduces the Dockerfile's final stage
// on the real engine (no registry here, so the image is imported rather than
// built): the static binary alone in an empty image, running as uid 65532,
// healthy through its own healthcheck subcommand.
func TestImageRunsNonRootWithoutAShell(t *testing.T) {
	e := enginetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref := importProxyImage(t, e)

	// The container joins the socket's group to use it, as a deployment
	// joins the docker group (compose group_add).
	sock := e.SocketPath(t)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	gid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid))
	created, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: enginetest.UniqueName(t, "dpf-image"),
		Config: &container.Config{
			Image: ref,
			Env:   []string{"PROXY_URL=unix:///var/run/docker.sock", "CONTAINER_LABELS=" + enginetest.UniqueName(t, "none")},
			Healthcheck: &container.HealthConfig{
				Test:     []string{"CMD", "/docker-proxy-filter", "healthcheck"},
				Interval: 300 * time.Millisecond,
				Retries:  3,
			},
		},
		HostConfig: &container.HostConfig{
			NetworkMode: "none",
			Binds:       []string{sock + ":/var/run/docker.sock"},
			GroupAdd:    []string{gid},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.Client.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := e.Client.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 30*time.Second, "container healthy", func() bool {
		in := e.Inspect(t, created.ID)
		return in.State.Health != nil && in.State.Health.Status == container.Healthy
	})
	in := e.Inspect(t, created.ID)
	if in.Config.User != "65532:65532" || !in.State.Running {
		t.Errorf("container user %q running %v, want 65532:65532 and running", in.Config.User, in.State.Running)
	}
}

// importProxyImage reproduces the Dockerfile's final stage on the engine
// (no registry here, so the image is imported rather than built): the
// static binary and the socket directory owned by 65532, USER 65532:65532.
func importProxyImage(t *testing.T, e *enginetest.Engine) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "docker-proxy-filter")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	_ = tw.WriteHeader(&tar.Header{Name: "docker-proxy-filter", Mode: 0o755, Size: int64(len(binary)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(binary)
	_ = tw.WriteHeader(&tar.Header{Name: "run/", Mode: 0o755, Typeflag: tar.TypeDir})
	_ = tw.WriteHeader(&tar.Header{Name: "run/docker-proxy-filter/", Mode: 0o755, Uid: 65532, Gid: 65532, Typeflag: tar.TypeDir})
	_ = tw.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref := "dpf-test/docker-proxy-filter:" + enginetest.UniqueName(t, "img")
	rc, err := e.Client.ImageImport(ctx, client.ImageImportSource{Source: &rootfs, SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: []string{
			`USER 65532:65532`,
			`EXPOSE 2375`,
			`ENTRYPOINT ["/docker-proxy-filter"]`,
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	t.Cleanup(func() {
		_, _ = e.Client.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true})
	})
	return ref
}
