package enginetest

import (
	"context"
	"testing"

	"github.com/moby/moby/client"
)

// A private engine runs containers and swarm mode, and leaves nothing behind.
func TestStartPrivateEngine(t *testing.T) {
	e := StartPrivate(t)
	c := e.Run(t, RunSpec{})
	if !e.Exists(t, c.ID) {
		t.Fatal("container missing")
	}
	if _, err := e.Client.SwarmInit(context.Background(), client.SwarmInitOptions{ListenAddr: "127.0.0.1:2391", AdvertiseAddr: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
}
