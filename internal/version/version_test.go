package version

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func buildInfo(mainVersion string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/dpf-dev/docker-proxy-filter", Version: mainVersion}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestResolve(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name                string
		ldVersion, ldCommit string
		bi                  *debug.BuildInfo
		want                Info
	}{
		{
			name: "nothing known",
			want: Info{Version: "devel", GoVersion: "go0", Platform: "os/arch"},
		},
		{
			name: "go build from a clean checkout",
			bi:   buildInfo("(devel)", "vcs.revision", rev, "vcs.modified", "false"),
			want: Info{Version: "devel", Commit: rev, GoVersion: "go1.26.8", Platform: "os/arch"},
		},
		{
			name: "go build from a dirty checkout with a pseudo-version",
			bi:   buildInfo("v0.0.0-20260101120000-0123456789ab+dirty", "vcs.revision", rev, "vcs.modified", "true"),
			want: Info{Version: "v0.0.0-20260101120000-0123456789ab+dirty", Commit: rev, Modified: true, GoVersion: "go1.26.8", Platform: "os/arch"},
		},
		{
			name:      "ldflags win over build info",
			ldVersion: "v1.2.3", ldCommit: "abc",
			bi:   buildInfo("(devel)", "vcs.revision", rev, "vcs.modified", "true"),
			want: Info{Version: "v1.2.3", Commit: "abc", GoVersion: "go1.26.8", Platform: "os/arch"},
		},
		{
			name:      "ldflags version alone keeps the recorded commit",
			ldVersion: " v1.2.3 ",
			bi:        buildInfo("(devel)", "vcs.revision", rev),
			want:      Info{Version: "v1.2.3", Commit: rev, GoVersion: "go1.26.8", Platform: "os/arch"},
		},
		{
			name: "modified without a revision is not reported",
			bi:   buildInfo("", "vcs.modified", "true"),
			want: Info{Version: "devel", GoVersion: "go1.26.8", Platform: "os/arch"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.ldVersion, tt.ldCommit, tt.bi, "go0", "os/arch")
			if got != tt.want {
				t.Errorf("resolve() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		info Info
		want string
	}{
		{Info{Version: "v1.2.3", Commit: "0123456789abcdef", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"docker-proxy-filter v1.2.3 (commit 0123456789ab, go1.26.8, linux/amd64)"},
		{Info{Version: "devel", Commit: "abc", Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"},
			"docker-proxy-filter devel (commit abc-dirty, go1.26.8, linux/arm64)"},
		{Info{Version: "devel", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"docker-proxy-filter devel (commit unknown, go1.26.8, linux/amd64)"},
	}
	for _, tt := range tests {
		if got := tt.info.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.info, got, tt.want)
		}
	}
}

func TestLogValue(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	logger.Info("starting", "build", Info{Version: "v1", Commit: "0123456789abcdef", GoVersion: "go1.26.8", Platform: "linux/amd64"})
	got := strings.TrimSpace(buf.String())
	want := "level=INFO msg=starting build.version=v1 build.commit=0123456789ab build.go=go1.26.8 build.platform=linux/amd64"
	if got != want {
		t.Errorf("log line = %q, want %q", got, want)
	}
}

func TestGetInTestBinary(t *testing.T) {
	got := Get()
	if got.GoVersion != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH || got.Version == "" {
		t.Errorf("Get() = %+v, want the running toolchain and platform and a version", got)
	}
}

// TestBuiltBinary builds testdata/printversion with and without -ldflags -X,
// to check the variable paths the Dockerfile will use and the toolchain
// fallback developers rely on.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go toolchain on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "printversion")
	build := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command(gobin, append(append([]string{"build", "-o", bin}, args...), "./testdata/printversion")...)
		// The machine's GOFLAGS may say -buildvcs=false; the flags given here decide.
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
		out, err := exec.Command(bin).Output()
		if err != nil {
			t.Fatalf("run %s: %v", bin, err)
		}
		return strings.TrimSpace(string(out))
	}

	const path = "github.com/dpf-dev/docker-proxy-filter/internal/version"
	got := build(t, "-ldflags", "-X "+path+".version=v9.8.7 -X "+path+".commit=fedcba9876543210")
	if want := "docker-proxy-filter v9.8.7 (commit fedcba987654, " + runtime.Version(); !strings.HasPrefix(got, want) {
		t.Errorf("with -ldflags: got %q, want prefix %q", got, want)
	}

	got = build(t, "-buildvcs=false")
	if want := "(commit unknown, "; !strings.Contains(got, want) {
		t.Errorf("with -buildvcs=false: got %q, want it to contain %q", got, want)
	}

	// From a git clone (CI uses one), a build names HEAD. The go command
	// recognises a repository by a .git directory only, so a linked worktree
	// (.git is a file there) gets no stamp: the reason -ldflags exist.
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Logf("not checking the vcs fallback: git rev-parse HEAD: %v", err)
		return
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Logf("not checking the vcs fallback: %s is a linked git worktree, which the go command does not stamp", strings.TrimSpace(string(top)))
		return
	}
	got = build(t, "-buildvcs=true")
	if want := "(commit " + string(head[:12]); !strings.Contains(got, want) {
		t.Errorf("from a git checkout: got %q, want it to contain %q", got, want)
	}
}
