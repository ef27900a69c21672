// Package version says which build of docker-proxy-filter is running.
//
// A bug report, a start-up line or a metrics scrape is only useful with the
// exact code behind it. Release builds stamp the version and commit at link
// time:
//
//	go build -ldflags "-X github.com/dpf-dev/docker-proxy-filter/internal/version.version=v1.2.3 \
//	                   -X github.com/dpf-dev/docker-proxy-filter/internal/version.commit=$(git rev-parse HEAD)"
//
// Without those flags, Get falls back to what the Go toolchain records in the
// binary (runtime/debug.ReadBuildInfo): the module version and, for a `go
// build` or `go install` from a git checkout, vcs.revision and vcs.modified.
// So a developer's binary still names its commit, and says when the tree was
// dirty.
package version

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped with -ldflags -X at build time; empty otherwise. These are the only
// package-level variables: the linker writes them, nothing at run time does.
var (
	version string
	commit  string
)

// Program is the name the one-line form starts with.
const Program = "docker-proxy-filter"

// Info describes one build.
type Info struct {
	// Version is the release ("v1.2.3"), the module version recorded by the
	// toolchain (a pseudo-version such as "v0.0.0-20260101120000-0123456789ab"),
	// or "devel" when neither is known.
	Version string `json:"version"`
	// Commit is the full git revision; empty when unknown.
	Commit string `json:"commit,omitempty"`
	// Modified reports a build from a tree with uncommitted changes (only
	// known from the toolchain's vcs.modified).
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary ("go1.26.8").
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH ("linux/amd64").
	Platform string `json:"platform"`
}

// Get describes the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolve(version, commit, bi, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// resolve is Get's pure core: link-time values win over build info, which
// wins over "devel".
func resolve(ldVersion, ldCommit string, bi *debug.BuildInfo, goVersion, platform string) Info {
	info := Info{
		Version:   strings.TrimSpace(ldVersion),
		Commit:    strings.TrimSpace(ldCommit),
		GoVersion: goVersion,
		Platform:  platform,
	}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if info.Version == "" {
			if v := bi.Main.Version; v != "" && v != "(devel)" {
				info.Version = v
			}
		}
		if info.Commit == "" {
			// The modified flag belongs to the recorded revision: a commit
			// given at link time says nothing about the tree's state.
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					info.Commit = s.Value
				case "vcs.modified":
					info.Modified = s.Value == "true"
				}
			}
			if info.Commit == "" {
				info.Modified = false
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}

// ShortCommit is the commit's first 12 characters (as `docker version`
// shows its own), with "-dirty" when the tree was modified; "unknown" when no
// commit is known.
func (i Info) ShortCommit() string {
	if i.Commit == "" {
		return "unknown"
	}
	c := i.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if i.Modified {
		c += "-dirty"
	}
	return c
}

// String is the one-line form for `docker-proxy-filter version`:
//
//	docker-proxy-filter v1.2.3 (commit 0123456789ab, go1.26.8, linux/amd64)
func (i Info) String() string {
	return Program + " " + i.Version + " (commit " + i.ShortCommit() + ", " + i.GoVersion + ", " + i.Platform + ")"
}

// LogValue lets a logger take Info as one attribute:
// logger.Info("starting", "build", version.Get()).
func (i Info) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("version", i.Version),
		slog.String("commit", i.ShortCommit()),
		slog.String("go", i.GoVersion),
		slog.String("platform", i.Platform),
	)
}
