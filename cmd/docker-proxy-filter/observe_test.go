package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// explainEntry is what `explain --json` promises per entry.
type explainEntry struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Visible bool   `json:"visible"`
	Reason  string `json:"reason"`
}

// TestExplainAgreesWithTheProxy runs `explain --json` and the built binary
// with the same environment on a real engine: explain's visible containers
// are exactly what `docker ps -a` shows through the proxy, each with the
// reason, and the key-only item that also matches ...enable=false is
// warned about.
func TestExplainAgreesWithTheProxy(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "explain")
	web := e.Run(t, enginetest.RunSpec{NoStart: true, Labels: map[string]string{key + ".enable": "true"}})
	off := e.Run(t, enginetest.RunSpec{NoStart: true, Labels: map[string]string{key + ".enable": "false"}})
	byName := e.Run(t, enginetest.RunSpec{NoStart: true, Name: key + "-byname"})
	hidden := e.Run(t, enginetest.RunSpec{NoStart: true})
	env := map[string]string{"PROXY_URL": e.Host, "CONTAINER_LABELS": key, "CONTAINER_NAMES": key + "-byname"}

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"dpf", "explain", "--json"}, envMap(env), &out, &errOut); err != nil {
		t.Fatalf("explain --json: %v\n%s", err, errOut.String())
	}
	var entries []explainEntry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil {
		t.Fatalf("explain --json is not a JSON array: %v\n%s", err, out.String())
	}
	verdict := map[string]explainEntry{}
	var visible []string
	for _, en := range entries {
		if en.ID == "" || en.Name == "" || en.Reason == "" || en.Kind == "" {
			t.Errorf("entry lacks a field: %+v", en)
		}
		if en.Kind == "container" {
			verdict[en.ID] = en
			if en.Visible {
				visible = append(visible, en.ID)
			}
		}
	}
	for _, c := range []struct {
		id      string
		visible bool
		reason  string
	}{
		{web.ID, true, `CONTAINER_LABELS item "` + key + `" matches label ` + key + `.enable=true`},
		{off.ID, true, key + ".enable=false"},
		{byName.ID, true, `CONTAINER_NAMES item "` + key + `-byname" matches name "/` + byName.Name + `"`},
		{hidden.ID, false, "no filter matched"},
	} {
		got, ok := verdict[c.id]
		if !ok || got.Visible != c.visible || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("container %s: got %+v, want visible=%v with a reason containing %q", c.id[:12], got, c.visible, c.reason)
		}
	}
	if !strings.Contains(errOut.String(), key+".enable=false") || !strings.Contains(errOut.String(), key+".enable=true") {
		t.Errorf("no warning about the key-only item matching %s.enable=false on stderr:\n%s", key, errOut.String())
	}

	// The proxy, run with the same environment, shows exactly those.
	envList := []string{}
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	addr, logs := startBinary(t, append(envList, "LOG_FORMAT=json")...)
	shown := containersThrough(t, e, "tcp://"+addr)
	slices.Sort(visible)
	if !slices.Equal(shown, visible) {
		t.Errorf("docker ps -a through the proxy shows %v; explain says visible %v", shown, visible)
	}

	// The start-up log counts visible and hidden containers when the index
	// goes live.
	live := regexp.MustCompile(`"msg":"container index is live","component":"index","containers":(\d+),"visible":(\d+),"hidden":(\d+)`)
	enginetest.Eventually(t, 5*time.Second, "the index-live line with counts", func() bool {
		return live.MatchString(logs.String())
	})
	if m := live.FindStringSubmatch(logs.String()); m != nil && m[2] != "3" {
		t.Errorf("index-live line counts %s visible, want 3: %s", m[2], m[0])
	}

	// The text form says the same, with the summary and what passes.
	out.Reset()
	if err := run(context.Background(), []string{"dpf", "explain"}, envMap(env), &out, &errOut); err != nil {
		t.Fatalf("explain: %v", err)
	}
	for _, want := range []string{"CONTAINER ID", "/" + hidden.Name, "no filter matched", "containers: ", "warnings:", "API areas and actions: READ_ONLY=true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain text lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"dpf", "explain", "--bogus"}, envMap(env), &out, &errOut); exitCode(err) != 2 {
		t.Errorf("explain --bogus: exit %d, want 2", exitCode(err))
	}
}

// TestDebugLogNamesVisibilityChanges: at debug level the index names each
// container that becomes visible or hidden, and why.
func TestDebugLogNamesVisibilityChanges(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "dbg")
	addr, logs := startBinary(t, "PROXY_URL="+e.Host, "CONTAINER_NAMES="+key, "LOG_LEVEL=debug", "LOG_FORMAT=json")
	host := "tcp://" + addr
	enginetest.Eventually(t, 10*time.Second, "the index goes live", func() bool {
		return strings.Contains(logs.String(), "container index is live")
	})
	c := e.Run(t, enginetest.RunSpec{NoStart: true, Name: key + "-a"})
	enginetest.Eventually(t, 10*time.Second, "a debug line for the new visible container", func() bool {
		return strings.Contains(logs.String(), `"msg":"container visible","component":"index","container_id":"`+c.ID[:12]+`","container_name":"/`+c.Name+`","reason":"CONTAINER_NAMES item \"`+key+`\" matches name \"/`+c.Name+`\""`)
	})
	if _, errOut, err := e.Docker(t, e.Host, "rename", c.Name, "elsewhere-"+key[len(key)-6:]); err != nil {
		t.Fatalf("rename: %v %s", err, errOut)
	}
	enginetest.Eventually(t, 10*time.Second, "a debug line for the rename that hides it", func() bool {
		return strings.Contains(logs.String(), `"msg":"container hidden","component":"index","container_id":"`+c.ID[:12]+`"`)
	})
	_ = host
}

// TestVersionCommand: version and --version print the build; the start-up
// line carries it too.
func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"dpf", arg}, envMap(nil), &out, &out); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if !strings.HasPrefix(out.String(), "docker-proxy-filter ") || !strings.Contains(out.String(), runtime.Version()) || !strings.Contains(out.String(), "commit ") {
			t.Errorf("%s printed %q, want the program, version, commit and %s", arg, out.String(), runtime.Version())
		}
	}
	// A release build is stamped as the Dockerfile stamps it.
	bin := filepath.Join(t.TempDir(), "dpf")
	const pkg = "github.com/dpf-dev/docker-proxy-filter/internal/version"
	const commit = "0123456789abcdef0123456789abcdef01234567"
	build := exec.Command("go", "build", "-ldflags", "-X "+pkg+".version=v9.8.7 -X "+pkg+".commit="+commit, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if want := "docker-proxy-filter v9.8.7 (commit 0123456789ab, " + runtime.Version(); err != nil || !strings.HasPrefix(string(out), want) {
		t.Errorf("stamped binary --version = %q, %v; want %q...", out, err, want)
	}
}

// TestMetricsOnTheirOwnListener runs the built binary with METRICS_LISTEN on
// a real engine: /metrics serves Prometheus text with the requests by route
// and decision, the index's containers and state, events and open streams;
// the proxy port does not serve it.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "metrics")
	visible := e.Run(t, enginetest.RunSpec{NoStart: true, Labels: map[string]string{key: "1"}})
	metricsAddr := freePort(t)
	addr, logs := startBinary(t, "PROXY_URL="+e.Host, "CONTAINER_LABELS="+key, "METRICS_LISTEN="+metricsAddr, "LOG_FORMAT=json")
	host := "tcp://" + addr
	enginetest.Eventually(t, 10*time.Second, "the index goes live", func() bool {
		return strings.Contains(logs.String(), "container index is live")
	})
	if _, _, err := e.Docker(t, host, "inspect", visible.ID); err != nil {
		t.Fatalf("inspect through the proxy: %v", err)
	}
	if _, _, err := e.Docker(t, host, "inspect", "no-such-"+key); err == nil {
		t.Fatal("inspect of a missing container succeeded")
	}
	scrape := func() string {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// An events stream open while scraping, then container events on it.
	events := e.DockerCmd(t, host, "events", "--filter", "type=container")
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	enginetest.Eventually(t, 10*time.Second, "the events stream is counted open", func() bool {
		return strings.Contains(scrape(), `docker_proxy_filter_open_streams{route="SystemEvents"} 1`)
	})
	hiddenOne := e.Run(t, enginetest.RunSpec{NoStart: true})
	e.Run(t, enginetest.RunSpec{NoStart: true, Labels: map[string]string{key: "2"}})
	if _, _, err := e.Docker(t, host, "inspect", hiddenOne.Name); err == nil {
		t.Fatal("inspect of a hidden container succeeded")
	}

	wants := []string{
		`docker_proxy_filter_requests_total{decision="allow",route="ContainerInspect",status="2xx"}`,
		`docker_proxy_filter_requests_total{decision="deny",route="ContainerInspect",status="4xx"}`,
		`docker_proxy_filter_request_duration_seconds_bucket{route="ContainerInspect",le=`,
		`docker_proxy_filter_open_streams{route="SystemEvents"} 1`,
		`docker_proxy_filter_containers{visibility="visible"}`,
		`docker_proxy_filter_containers{visibility="hidden"}`,
		`docker_proxy_filter_index_state{state="live"} 1`,
		`docker_proxy_filter_index_resyncs_total{reason="start"} 1`,
		`docker_proxy_filter_events_delivered_total`,
		`docker_proxy_filter_events_dropped_total`,
		`docker_proxy_filter_upstream_errors_total{kind="connect"} 0`,
		`docker_proxy_filter_build_info{`,
	}
	var body string
	enginetest.Eventually(t, 10*time.Second, "metrics with every family", func() bool {
		body = scrape()
		for _, w := range wants {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return !strings.Contains(body, "docker_proxy_filter_events_delivered_total 0") &&
			!strings.Contains(body, "docker_proxy_filter_events_dropped_total 0")
	})
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the proxy port serves /metrics")
		}
	}

	if !strings.Contains(logs.String(), `"build":{"version":`) || !strings.Contains(logs.String(), `"metrics_listen":"`+metricsAddr+`"`) {
		t.Errorf("the start-up line lacks the build or the metrics address:\n%s", logs.String())
	}
	// JSON logs give the audit line's duration in seconds, as a float.
	dur := regexp.MustCompile(`"route":"ContainerInspect".*"duration":(\d+\.\d+|\d+e-\d+)[,}]`)
	if !dur.MatchString(logs.String()) {
		t.Errorf("audit duration is not a float of seconds:\n%s", logs.String())
	}
	// The operator learns more than the client: a missing ref's audit line
	// says so.
	if !strings.Contains(logs.String(), `"reason":"no visible container (no container by that ref)"`) {
		t.Errorf("audit line for the missing ref lacks the operator's detail:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"reason":"no visible container (hidden container /`+hiddenOne.Name+`)"`) {
		t.Errorf("audit line for the hidden ref lacks the operator's detail:\n%s", logs.String())
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"dpf"}, envMap(map[string]string{"PROXY_URL": e.Host, "LISTEN": "127.0.0.1:2375", "METRICS_LISTEN": ":2375"}), &out, &out); exitCode(err) != 2 || !strings.Contains(err.Error(), "METRICS_LISTEN") {
		t.Errorf("METRICS_LISTEN on the proxy port: %v (exit %d), want exit 2 naming it", err, exitCode(err))
	}
}
