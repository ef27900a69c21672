package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestBinaryTakesALinuxServerBlock runs the shipped binary with an autoheal
// block moved verbatim from LinuxServer's socket proxy, with the real docker
// CLI on a real engine: the restart it needs works without touching
// READ_ONLY, the areas it did not switch on are denied with the variable
// that would allow them, hidden containers stay missing, and the start-up
// line says what the block allows.
func TestBinaryTakesALinuxServerBlock(t *testing.T) {
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "heal")
	visible := e.Run(t, enginetest.RunSpec{Labels: map[string]string{key: "1"}})
	hidden := e.Run(t, enginetest.RunSpec{})
	addr, logs := startBinary(t, "PROXY_URL="+e.Host, "CONTAINER_LABELS="+key, "LOG_FORMAT=json",
		"CONTAINERS=1", "POST=0", "ALLOW_RESTARTS=1")
	host := "tcp://" + addr
	enginetest.Eventually(t, 10*time.Second, "the binary answers", func() bool {
		_, _, err := e.Docker(t, host, "version")
		return err == nil
	})

	if out, errOut, err := e.Docker(t, host, "ps", "-q", "--no-trunc"); err != nil || !strings.Contains(out, visible.ID) || strings.Contains(out, hidden.ID) {
		t.Errorf("docker ps = %q %q %v, want only the visible container", out, errOut, err)
	}
	if _, errOut, err := e.Docker(t, host, "restart", "-t", "0", visible.Name); err != nil {
		t.Errorf("docker restart of the visible container: %v %s", err, errOut)
	}
	if _, errOut, err := e.Docker(t, host, "restart", "-t", "0", hidden.Name); err == nil || !strings.Contains(errOut, "No such container: "+hidden.Name) {
		t.Errorf("docker restart of the hidden container: %v %q, want the engine's 404", err, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rm", "-f", visible.Name}, "denied: set POST=1"},
		{[]string{"logs", visible.Name}, "denied: set ALLOW_LOGS=1"},
		{[]string{"network", "ls"}, "denied: set NETWORKS=1"},
		{[]string{"exec", visible.Name, "true"}, "denied: set POST=1"},
	} {
		if _, errOut, err := e.Docker(t, host, c.args...); err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("docker %s = %v %q, want a 403 saying %q", strings.Join(c.args, " "), err, errOut, c.want)
		}
	}
	if !e.Exists(t, visible.ID) {
		t.Error("a denied rm removed the container")
	}
	enginetest.Eventually(t, 5*time.Second, "audit lines for the denials", func() bool {
		return strings.Contains(logs.String(), `"decision":"deny"`) && strings.Contains(logs.String(), `denied: set ALLOW_LOGS=1`)
	})
	for _, want := range []string{`"msg":"starting"`, `"read_only":"decided by the LinuxServer variables`, `"access":"categories CONTAINERS,EVENTS,PING,VERSION; POST=0 (GET and HEAD only); actions ALLOW_RESTARTS;`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

// TestContradictoryReadOnlyExitsTwo: READ_ONLY and LinuxServer's switches
// must agree on whether writes pass, or one of them would be ignored.
func TestContradictoryReadOnlyExitsTwo(t *testing.T) {
	for _, env := range []map[string]string{
		{"READ_ONLY": "true", "ALLOW_RESTARTS": "1"},
		{"READ_ONLY": "true", "CONTAINERS": "1", "POST": "1"},
		{"READ_ONLY": "false", "CONTAINERS": "1"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"dpf"}, envMap(env), &out, &out)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "READ_ONLY") {
			t.Errorf("%v: run = %v (exit %d), want exit 2 naming READ_ONLY", env, err, exitCode(err))
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"dpf"}, envMap(map[string]string{"LIBPOD_CONTAINERS": "1"}), &out, &out); exitCode(err) != 2 || !strings.Contains(err.Error(), "LIBPOD_CONTAINERS") {
		t.Errorf("LIBPOD_CONTAINERS=1: run = %v (exit %d), want exit 2 naming it", err, exitCode(err))
	}
}
