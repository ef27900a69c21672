package fakeengine

import "net/http"

// A real swarm needs overlay networks, which the test machines' engines
// cannot run (no bridge, no iptables): the fake lists services and tasks
// without one.

// Swarm is what a swarm manager lists.
type Swarm struct {
	Services []Service
	Tasks    []Task
}

// Service is one swarm service, as GET /services lists it.
type Service struct {
	ID, Name string
	Labels   map[string]string // Spec.Labels
}

// Task is one swarm task, as GET /tasks lists it.
type Task struct {
	ID, Name, ServiceID string
	ContainerID         string // "": no container yet
}

func (e *Engine) services(w http.ResponseWriter) {
	if e.opts.Swarm == nil {
		e.notSwarmManager(w)
		return
	}
	type spec struct {
		Name   string
		Labels map[string]string
	}
	type service struct {
		ID   string
		Spec spec
	}
	list := []service{}
	for _, s := range e.opts.Swarm.Services {
		list = append(list, service{ID: s.ID, Spec: spec{Name: s.Name, Labels: s.Labels}})
	}
	writeJSON(w, http.StatusOK, list)
}

func (e *Engine) tasks(w http.ResponseWriter) {
	if e.opts.Swarm == nil {
		e.notSwarmManager(w)
		return
	}
	type containerStatus struct{ ContainerID string }
	type status struct {
		ContainerStatus *containerStatus `json:",omitempty"`
	}
	type task struct {
		ID          string
		Annotations struct{ Name string }
		ServiceID   string
		Status      status
	}
	list := []task{}
	for _, t := range e.opts.Swarm.Tasks {
		tk := task{ID: t.ID, ServiceID: t.ServiceID}
		tk.Annotations.Name = t.Name
		if t.ContainerID != "" {
			tk.Status.ContainerStatus = &containerStatus{ContainerID: t.ContainerID}
		}
		list = append(list, tk)
	}
	writeJSON(w, http.StatusOK, list)
}

func (e *Engine) notSwarmManager(w http.ResponseWriter) {
	writeJSON(w, http.StatusServiceUnavailable, message(
		"This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."))
}
