package enginetest

import (
	"testing"
	"time"
)

// A Podman service imports the test image and runs containers from it
// through the Docker-compatible API, as the engine helpers expect.
func TestStartPodman(t *testing.T) {
	e := StartPodman(t)
	c := e.Run(t, RunSpec{})
	if !e.Exists(t, c.ID) {
		t.Fatal("container missing")
	}
	e.WaitLog(t, c.ID, "tick 1", 30*time.Second)
}
