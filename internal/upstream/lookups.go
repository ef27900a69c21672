package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/moby/moby/client"
)

// Service is a swarm service as visibility needs it.
type Service struct {
	ID, Name string
	Labels   map[string]string
}

// Services lists the swarm services (ID, Spec.Name, Spec.Labels). An
// engine that is not a swarm manager answers 503: it has none, and swarm is
// false.
func (c *Client) Services(ctx context.Context) (services []Service, swarm bool, err error) {
	res, err := c.sdk.ServiceList(ctx, client.ServiceListOptions{})
	if err != nil {
		if errhttpStatus(err) == http.StatusServiceUnavailable {
			return nil, false, nil
		}
		return nil, false, err
	}
	out := make([]Service, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, Service{ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels})
	}
	return out, true, nil
}

// Task is a swarm task as visibility needs it.
type Task struct {
	ID, Name, ServiceID string
	ContainerID         string // "" before it has one
}

// Tasks lists the swarm tasks; swarm is false on an engine that is not a
// swarm manager.
func (c *Client) Tasks(ctx context.Context) (tasks []Task, swarm bool, err error) {
	res, err := c.sdk.TaskList(ctx, client.TaskListOptions{})
	if err != nil {
		if errhttpStatus(err) == http.StatusServiceUnavailable {
			return nil, false, nil
		}
		return nil, false, err
	}
	out := make([]Task, 0, len(res.Items))
	for _, t := range res.Items {
		task := Task{ID: t.ID, Name: t.Annotations.Name, ServiceID: t.ServiceID}
		if t.Status.ContainerStatus != nil {
			task.ContainerID = t.Status.ContainerStatus.ContainerID
		}
		out = append(out, task)
	}
	return out, true, nil
}

// ExecContainer returns the ID of the container an exec instance belongs
// to; found is false when the engine has no such exec.
func (c *Client) ExecContainer(ctx context.Context, execID string) (containerID string, found bool, err error) {
	res, err := c.sdk.ExecInspect(ctx, execID, client.ExecInspectOptions{})
	switch {
	case errhttpStatus(err) == http.StatusNotFound:
		return "", false, nil
	case err != nil:
		return "", false, err
	case res.ContainerID == "":
		return "", false, errors.New("upstream: exec inspect names no container")
	}
	return res.ContainerID, true, nil
}

// ImageLabels returns an image's Config.Labels; found is false when the
// engine has no such image.
func (c *Client) ImageLabels(ctx context.Context, name string) (labels map[string]string, found bool, err error) {
	var img struct {
		Config *struct{ Labels map[string]string }
	}
	if found, err = c.getJSON(ctx, "/images/"+url.PathEscape(name)+"/json", &img); !found || err != nil {
		return nil, found, err
	}
	if img.Config != nil {
		labels = img.Config.Labels
	}
	return labels, true, nil
}

// ImageSource returns the ID of the container an image was committed from
// ("" for none), read at API version (the field is left out of answers
// from API 1.45 on); found is false when the engine has no such image.
func (c *Client) ImageSource(ctx context.Context, version, name string) (container string, found bool, err error) {
	var img struct{ Container string }
	found, err = c.getJSON(ctx, "/v"+version+"/images/"+url.PathEscape(name)+"/json", &img)
	return img.Container, found, err
}

// Ping asks /_ping and returns the answer's headers (the engine's version
// and identity).
func (c *Client) Ping(ctx context.Context) (http.Header, error) {
	resp, err := c.get(ctx, "/_ping", http.StatusOK)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp.Header, nil
}

// MinAPIVersion is the oldest API version the engine accepts, from /version.
func (c *Client) MinAPIVersion(ctx context.Context) (string, error) {
	var v struct{ MinAPIVersion string }
	if _, err := c.getJSON(ctx, "/version", &v); err != nil {
		return "", err
	}
	return v.MinAPIVersion, nil
}

// getJSON GETs a lookup answer into v; found is false for a 404.
func (c *Client) getJSON(ctx context.Context, path string, v any) (found bool, err error) {
	resp, err := c.get(ctx, path, http.StatusOK)
	if IsStatus(err, http.StatusNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	body, err := readBounded(resp, MaxLookup)
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(body, v)
}
