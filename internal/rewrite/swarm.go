package rewrite

import (
	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// Swarm services and tasks are decided on by the caller: a service by its
// name and the labels of its spec (Spec.Labels; these are not the labels
// its task containers carry), a task by its service and its container.
// The rewriters here find those values the way a Go client decodes them,
// drop what the caller rejects from lists, and scrub environments.

// Where ContainerSpec.Env lives in a service and in a task.
var (
	serviceEnvPaths = [][]string{
		{"Spec", "TaskTemplate", "ContainerSpec", "Env"},
		{"PreviousSpec", "TaskTemplate", "ContainerSpec", "Env"},
	}
	taskEnvPaths = [][]string{{"Spec", "ContainerSpec", "Env"}}
)

// ServiceList rewrites a GET /services body: services for which
// keepService(Spec.Name, Spec.Labels) returns false are removed (a nil
// keepService keeps all), and with scrubEnvs every kept service's
// Spec.TaskTemplate.ContainerSpec.Env and PreviousSpec.TaskTemplate
// .ContainerSpec.Env becomes []. labels is nil when the spec has none and
// may be kept by the callee. Kept services are otherwise byte for byte as
// sent (ServiceStatus, from ?status=true, counts the service's own tasks,
// so it needs no change).
//
// A body that is not one JSON array of objects, or whose Spec, Name or
// Labels have the wrong type, gives an error wrapping ErrMalformed. When
// nothing changes the result is body itself.
func ServiceList(body []byte, keepService func(name string, labels map[string]string) bool, scrubEnvs bool) ([]byte, Counts, error) {
	return swarmList(body, "service list", serviceEnvPaths, scrubEnvs, func(b []byte, obj member) (bool, error) {
		name, labels, err := serviceIdentity(b, obj, 1)
		if err != nil || keepService == nil {
			return true, err
		}
		return keepService(name, labels), nil
	})
}

// ServiceInspect reads a GET /services/{id} body for the caller to decide
// on: name is Spec.Name and labels Spec.Labels (nil when none). out is
// the body, with scrubEnvs with every Env scrubbed as in ServiceList; when
// the service is hidden the caller answers as for a missing one
// (404 "service <ref> not found") and must not send out.
func ServiceInspect(body []byte, scrubEnvs bool) (name string, labels map[string]string, out []byte, err error) {
	root, err := topObject(body, "service inspect")
	if err != nil {
		return "", nil, nil, err
	}
	if name, labels, err = serviceIdentity(body, root, 0); err != nil {
		return "", nil, nil, err
	}
	e := &editor{body: body}
	if scrubEnvs {
		if err := scrubPaths(e, root, 0, serviceEnvPaths); err != nil {
			return "", nil, nil, err
		}
	}
	out, err = e.apply()
	if err != nil {
		return "", nil, nil, err
	}
	return name, labels, out, nil
}

// TaskList rewrites a GET /tasks body: tasks for which
// keepTask(ServiceID, Status.ContainerStatus.ContainerID) returns false are
// removed (a nil keepTask keeps all; containerID is "" for a task that has
// no container yet), and with scrubEnvs each kept task's
// Spec.ContainerSpec.Env becomes []. Errors as in ServiceList.
func TaskList(body []byte, keepTask func(serviceID, containerID string) bool, scrubEnvs bool) ([]byte, Counts, error) {
	return swarmList(body, "task list", taskEnvPaths, scrubEnvs, func(b []byte, obj member) (bool, error) {
		service, ctr, err := taskIdentity(b, obj, 1)
		if err != nil || keepTask == nil {
			return true, err
		}
		return keepTask(service, ctr), nil
	})
}

// TaskInspect reads a GET /tasks/{id} body for the caller to decide on:
// its ServiceID and Status.ContainerStatus.ContainerID. out is the body,
// with scrubEnvs with Spec.ContainerSpec.Env scrubbed; for a hidden task
// the caller answers 404 "task <ref> not found" and must not send out.
func TaskInspect(body []byte, scrubEnvs bool) (serviceID, containerID string, out []byte, err error) {
	root, err := topObject(body, "task inspect")
	if err != nil {
		return "", "", nil, err
	}
	if serviceID, containerID, err = taskIdentity(body, root, 0); err != nil {
		return "", "", nil, err
	}
	e := &editor{body: body}
	if scrubEnvs {
		if err := scrubPaths(e, root, 0, taskEnvPaths); err != nil {
			return "", "", nil, err
		}
	}
	out, err = e.apply()
	if err != nil {
		return "", "", nil, err
	}
	return serviceID, containerID, out, nil
}

// swarmList filters a JSON array of objects with keep and scrubs the
// kept ones' environments.
func swarmList(body []byte, what string, envPaths [][]string, scrubEnvs bool, keep func(b []byte, obj member) (bool, error)) ([]byte, Counts, error) {
	var counts Counts
	els, err := topElems(body)
	if err != nil {
		return nil, counts, scanErr(what, err)
	}
	e := &editor{body: body}
	drop := make([]bool, len(els))
	for k, el := range els {
		if body[el.start] != '{' {
			return nil, counts, shape(what, "element %d is not an object", k)
		}
		obj := member{vs: el.start, ve: el.end}
		ok, err := keep(body, obj)
		if err != nil {
			return nil, counts, err
		}
		counts.Total++
		if !ok {
			drop[k] = true
			continue
		}
		counts.Kept++
		if scrubEnvs {
			if err := scrubPaths(e, obj, 1, envPaths); err != nil {
				return nil, counts, err
			}
		}
	}
	e.dropItems(els, drop)
	out, err := e.apply()
	if err != nil {
		return nil, counts, err
	}
	return out, counts, nil
}

// topObject returns the one object that body holds as a member whose
// value is it.
func topObject(body []byte, what string) (member, error) {
	if _, err := topMembers(body); err != nil {
		return member{}, scanErr(what, err)
	}
	start := jsonscan.SkipSpace(body, 0)
	end, _ := jsonscan.ValueEndFinal(body, start)
	return member{vs: start, ve: end}, nil
}

// serviceIdentity returns Spec.Name and Spec.Labels of the service object
// obj, whose members are nested depth deep.
func serviceIdentity(b []byte, obj member, depth int) (name string, labels map[string]string, err error) {
	spec, err := objectPath(b, obj, depth, "Spec")
	if err != nil {
		return "", nil, err
	}
	for _, m := range spec {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Name"):
			err = bindString(b, m, &name, "service")
		case jsonscan.KeyEqualFold(m.key, "Labels"):
			labels, err = bindLabels(b, m, depth+2, labels)
		}
		if err != nil {
			return "", nil, err
		}
	}
	return name, labels, nil
}

// bindLabels decodes a map[string]string member into labels as
// encoding/json does: objects merge into the map, null resets it, a null
// value is "".
func bindLabels(b []byte, m member, depth int, labels map[string]string) (map[string]string, error) {
	if isNull(b, m.vs) {
		return nil, nil
	}
	if b[m.vs] != '{' {
		return nil, shape("service", `"Labels" is not an object`)
	}
	ms, _, err := objectMembers(b, m.vs, depth)
	if err != nil {
		return nil, scanErr("service", err)
	}
	if labels == nil {
		labels = make(map[string]string, len(ms))
	}
	for _, l := range ms {
		k, err := jsonscan.Unquote(l.key)
		if err != nil {
			return nil, shape("service", "bad label key")
		}
		var v string
		if err := bindString(b, l, &v, "service"); err != nil {
			return nil, err
		}
		labels[k] = v
	}
	return labels, nil
}

// taskIdentity returns ServiceID and Status.ContainerStatus.ContainerID
// of the task object obj.
func taskIdentity(b []byte, obj member, depth int) (serviceID, containerID string, err error) {
	top, err := objectPath(b, obj, depth)
	if err != nil {
		return "", "", err
	}
	for _, m := range top {
		if jsonscan.KeyEqualFold(m.key, "ServiceID") {
			if err := bindString(b, m, &serviceID, "task"); err != nil {
				return "", "", err
			}
		}
	}
	status, err := objectPath(b, obj, depth, "Status", "ContainerStatus")
	if err != nil {
		return "", "", err
	}
	for _, m := range status {
		if jsonscan.KeyEqualFold(m.key, "ContainerID") {
			if err := bindString(b, m, &containerID, "task"); err != nil {
				return "", "", err
			}
		}
	}
	return serviceID, containerID, nil
}

// scrubPaths replaces with [] every value at the member paths (the last
// name is the member to replace) under obj, unless it already is [].
func scrubPaths(e *editor, obj member, depth int, paths [][]string) error {
	for _, path := range paths {
		ms, err := objectPath(e.body, obj, depth, path[:len(path)-1]...)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if jsonscan.KeyEqualFold(m.key, path[len(path)-1]) && string(e.body[m.vs:m.ve]) != "[]" {
				e.replace(m.vs, m.ve, "[]")
			}
		}
	}
	return nil
}
