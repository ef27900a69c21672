package upstream

import (
	"context"
	"net/http"

	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// Event is a container lifecycle event the index follows.
type Event struct {
	Action string // "create", "rename" or "destroy"
	ID     string
	// Attributes are the event's Actor.Attributes: the container's labels,
	// overwritten by the engine's own "image" and "name" (and, for rename,
	// "oldName").
	Attributes map[string]string
}

// podmanRemove is the action of Podman's event for a removed container,
// which Docker calls destroy. Podman's rename events carry no "oldName".
const podmanRemove = "remove"

// Events streams create, rename and destroy events of containers (Podman's
// remove events arrive as destroy), replaying those still in the engine's
// buffer first, until ctx ends or the stream fails. The error channel
// receives exactly one error when the stream ends.
func (c *Client) Events(ctx context.Context) (<-chan Event, <-chan error) {
	f := make(client.Filters).Add("type", string(events.ContainerEventType)).
		Add("event", string(events.ActionCreate), string(events.ActionRename), string(events.ActionDestroy), podmanRemove)
	// since=0 replays the engine's whole event buffer before the live stream.
	// The engine flushes the response headers before it subscribes, so an
	// event could otherwise fall between "stream open" and the initial list;
	// the replay covers that gap without trusting clocks.
	res := c.sdk.Events(ctx, client.EventsListOptions{Since: "0", Filters: f})
	out := make(chan Event)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m := <-res.Messages:
				action := string(m.Action)
				if action == podmanRemove {
					action = string(events.ActionDestroy)
				}
				select {
				case out <- Event{Action: action, ID: m.Actor.ID, Attributes: m.Actor.Attributes}:
				case <-ctx.Done():
					errc <- ctx.Err()
					return
				}
			case err := <-res.Err:
				errc <- err
				return
			}
		}
	}()
	return out, errc
}

// Refused reports whether err means the upstream will not serve the request
// at all (a socket proxy denying /events), as opposed to a passing failure.
func Refused(err error) bool {
	if err == nil || client.IsErrConnectionFailed(err) {
		return false
	}
	switch errhttp.ToHTTP(err) {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// errhttpStatus is the HTTP status an SDK error stands for, 0 for none.
func errhttpStatus(err error) int {
	if err == nil {
		return 0
	}
	return errhttp.ToHTTP(err)
}
