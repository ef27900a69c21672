package enginetest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// InitSwarm puts the engine in one-node swarm mode, listening on a free
// loopback port. Use it on a private engine (StartPrivate): swarm mode
// changes what the shared engine's other tests see.
func (e *Engine) InitSwarm(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := e.Client.SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: addr, AdvertiseAddr: "127.0.0.1"}); err != nil {
		t.Fatalf("enginetest: swarm init: %v", err)
	}
}

// Service creates a one-replica service of the test image (its default
// ticker) with these labels and environment, and returns its ID.
func (e *Engine) Service(t testing.TB, name string, labels map[string]string, env ...string) string {
	t.Helper()
	one := uint64(1)
	res, err := e.Client.ServiceCreate(context.Background(), client.ServiceCreateOptions{Spec: swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: name, Labels: labels},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: e.TestImage(t), Env: env}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
	}})
	if err != nil {
		t.Fatalf("enginetest: service create %s: %v", name, err)
	}
	return res.ID
}

// RunningTasks waits until every service named has a running task with a
// container, and returns those tasks by service ID.
func (e *Engine) RunningTasks(t testing.TB, services ...string) map[string]swarm.Task {
	t.Helper()
	running := map[string]swarm.Task{}
	Eventually(t, 60*time.Second, "service tasks running", func() bool {
		res, err := e.Client.TaskList(context.Background(), client.TaskListOptions{})
		if err != nil {
			return false
		}
		for _, task := range res.Items {
			if task.Status.State == swarm.TaskStateRunning && task.Status.ContainerStatus != nil && task.Status.ContainerStatus.ContainerID != "" {
				running[task.ServiceID] = task
			}
		}
		for _, s := range services {
			if _, ok := running[s]; !ok {
				return false
			}
		}
		return true
	})
	return running
}
