package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

const (
	// ImageRepo is the repository of the test image; its tag is a content
	// hash of the binary, so a rebuilt testapp gets a new image while an
	// unchanged one is reused across runs on a long-lived engine.
	ImageRepo = "dpf-enginetest/testapp"

	testappPkg = "github.com/dpf-dev/docker-proxy-filter/internal/enginetest/testapp"
)

// TestImage returns the reference of an image whose entrypoint is /app, the
// testapp program (see its package doc for the subcommands). There is no
// registry to pull from, so the image is built from source and imported,
// once per test binary.
func (e *Engine) TestImage(t testing.TB) string {
	t.Helper()
	e.imageOnce.Do(func() {
		start := time.Now()
		e.image, e.imageErr = e.buildImage()
		if e.imageErr == nil {
			t.Logf("enginetest: test image %s ready in %v", e.image, time.Since(start).Round(time.Millisecond))
		}
	})
	if e.imageErr != nil {
		t.Fatalf("enginetest: test image: %v", e.imageErr)
	}
	return e.image
}

func (e *Engine) buildImage() (string, error) {
	bin, err := buildTestapp()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(bin)
	ref := ImageRepo + ":" + hex.EncodeToString(sum[:])[:16]

	// Test binaries of different packages start at the same moment; serialize
	// them so the image is imported once rather than by each of them.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "dpf-enginetest-image.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := e.Client.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	}

	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	if err := tw.WriteHeader(&tar.Header{
		Name:     "app",
		Mode:     0o755,
		Size:     int64(len(bin)),
		Typeflag: tar.TypeReg,
		ModTime:  time.Unix(0, 0),
	}); err != nil {
		return "", err
	}
	if _, err := tw.Write(bin); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}

	rc, err := e.Client.ImageImport(ctx,
		client.ImageImportSource{Source: &rootfs, SourceName: "-"},
		ref,
		client.ImageImportOptions{Changes: []string{`ENTRYPOINT ["/app"]`}})
	if err != nil {
		return "", fmt.Errorf("import %s: %w", ref, err)
	}
	out, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("import %s: %w", ref, err)
	}
	// Import errors arrive inside the 200 response's JSON stream, so
	// confirm the result instead of parsing the stream.
	if _, err := e.Client.ImageInspect(ctx, ref); err != nil {
		return "", fmt.Errorf("import %s: image missing afterwards (%v); engine said: %s", ref, err, out)
	}
	return ref, nil
}

// buildTestapp compiles testapp statically for the engine's platform (this
// machine: the engine is local) and returns the binary.
func buildTestapp() ([]byte, error) {
	// The go tool running the tests is on PATH (scripts/test puts
	// /usr/local/go/bin there); GOROOT names its root otherwise.
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "dpf-testapp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "app")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// -trimpath and -buildvcs=false keep the binary (and so the image tag)
	// identical across checkouts and commits when testapp is unchanged.
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", out, testappPkg)
	if _, file, _, ok := runtime.Caller(0); ok {
		if st, err := os.Stat(filepath.Join(filepath.Dir(file), "testapp")); err == nil && st.IsDir() {
			cmd.Dir = filepath.Dir(file) // inside the module, whatever the test's cwd
		}
	}
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", testappPkg, err, msg)
	}
	return os.ReadFile(out)
}

// lockFile takes an exclusive advisory lock shared by all processes on this
// machine; the lock goes away with the process, so a crash cannot wedge it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
