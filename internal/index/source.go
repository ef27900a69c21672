package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
)

// Container is what the index needs to know about one container.
type Container struct {
	ID     string
	Name   string // primary name with its leading slash, "/web"
	Labels map[string]string
}

// Event is a container lifecycle event the index follows.
type Event struct {
	Action string // "create", "rename" or "destroy"
	ID     string
	// Attributes are the event's Actor.Attributes: the container's labels,
	// overwritten by the engine's own "image" and "name" (and, for rename,
	// "oldName").
	Attributes map[string]string
}

// Errors a Source reports for an inspect, mirroring the engine's answers.
var (
	ErrNotFound  = errors.New("no such container")
	ErrAmbiguous = errors.New("multiple IDs found with provided prefix")
)

// Source is the index's view of the upstream engine. The production Source
// is the official Docker SDK (NewSDKSource).
type Source interface {
	// List returns every container, running or not.
	List(ctx context.Context) ([]Container, error)
	// ListByIDPrefix returns every container whose ID starts with prefix.
	ListByIDPrefix(ctx context.Context, prefix string) ([]Container, error)
	// Newest returns the n most recently created containers, running or
	// not.
	Newest(ctx context.Context, n int) ([]Container, error)
	// Inspect resolves ref the way the engine does (full ID, name, unique ID
	// prefix) among ALL containers. It returns ErrNotFound or ErrAmbiguous for
	// those engine answers.
	Inspect(ctx context.Context, ref string) (Container, error)
	// Events streams create, rename and destroy events, replaying those still
	// in the engine's buffer first, until ctx ends or the stream fails. The
	// error channel receives exactly one error when the stream ends.
	Events(ctx context.Context) (<-chan Event, <-chan error)
}

// SDKSource is a Source backed by github.com/moby/moby/client.
type SDKSource struct {
	Client *client.Client
	logger *slog.Logger
	// lists streams container lists over the SDK's own dialer.
	lists *http.Client
}

// NewSDKSource connects the SDK to host ("unix:///path" or "tcp://host:port"),
// negotiating the API version with the upstream.
func NewSDKSource(host string, logger *slog.Logger) (*SDKSource, error) {
	c, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	dial := c.Dialer()
	lists := &http.Client{Transport: &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		DisableCompression:  true,
		MaxIdleConnsPerHost: 2,
	}}
	return &SDKSource{Client: c, logger: logger, lists: lists}, nil
}

// List implements Source.
func (s *SDKSource) List(ctx context.Context) ([]Container, error) {
	return s.list(ctx, nil, 0)
}

// Newest implements Source: the engine sorts its list newest first and cuts
// it at limit.
func (s *SDKSource) Newest(ctx context.Context, n int) ([]Container, error) {
	return s.list(ctx, nil, n)
}

// ListByIDPrefix implements Source. The engine's id filter is a regular
// expression matched anywhere in the ID, so the prefix (hex only, checked by
// the caller) is narrowed here.
func (s *SDKSource) ListByIDPrefix(ctx context.Context, prefix string) ([]Container, error) {
	all, err := s.list(ctx, make(client.Filters).Add("id", prefix), 0)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if strings.HasPrefix(c.ID, prefix) {
			out = append(out, c)
		}
	}
	return out, nil
}

// list streams GET /containers/json?all=1 (and limit, when > 0) and keeps
// only what the index
// needs. The SDK's ContainerList would hold the whole answer and decode
// every container into full structs: about 60 MB allocated for 10,000
// containers, memory the process then keeps. This reads one element at a
// time over the SDK's own connection to the upstream. The path is
// unversioned, so the engine answers in its own (newest) version.
func (s *SDKSource) list(ctx context.Context, f client.Filters, limit int) ([]Container, error) {
	q := url.Values{"all": {"1"}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if len(f) > 0 {
		b, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		q.Set("filters", string(b))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.moby.localhost/containers/json?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.lists.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("container list: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var out []Container
	counts, err := rewrite.EachContainer(resp.Body, func(id, name string, labels iter.Seq2[string, string]) {
		c := Container{ID: id, Name: name}
		for k, v := range labels {
			if c.Labels == nil {
				c.Labels = make(map[string]string)
			}
			c.Labels[k] = v
		}
		out = append(out, c)
	})
	if err != nil {
		return nil, fmt.Errorf("container list: %w", err)
	}
	if counts.Oversized > 0 {
		// Such a container cannot be decided on; it stays out of the index,
		// so it is hidden (and a ref to it is answered as missing).
		s.logger.Warn("containers left out of the index: their list entries are larger than the proxy holds",
			"count", counts.Oversized, "max_bytes", rewrite.MaxListElement)
	}
	return out, nil
}

// Inspect implements Source.
func (s *SDKSource) Inspect(ctx context.Context, ref string) (Container, error) {
	res, err := s.Client.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return Container{}, ErrNotFound
	case err != nil && strings.Contains(strings.ToLower(err.Error()), "multiple ids found with provided prefix"):
		// 400 on current engines; 500 "Multiple IDs found..." up to 23.0.
		return Container{}, ErrAmbiguous
	case err != nil:
		return Container{}, err
	}
	c := Container{ID: res.Container.ID, Name: res.Container.Name}
	if res.Container.Config != nil {
		c.Labels = res.Container.Config.Labels
	}
	return c, nil
}

// Events implements Source.
func (s *SDKSource) Events(ctx context.Context) (<-chan Event, <-chan error) {
	f := make(client.Filters).Add("type", string(events.ContainerEventType)).
		Add("event", string(events.ActionCreate), string(events.ActionRename), string(events.ActionDestroy))
	// since=0 replays the engine's whole event buffer before the live stream.
	// The engine flushes the response headers before it subscribes, so an
	// event could otherwise fall between "stream open" and the initial list;
	// the replay covers that gap without trusting clocks, and replaying older
	// events on top of the list converges because every event carries the
	// container's full state.
	res := s.Client.Events(ctx, client.EventsListOptions{Since: "0", Filters: f})
	out := make(chan Event)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case m := <-res.Messages:
				select {
				case out <- Event{Action: string(m.Action), ID: m.Actor.ID, Attributes: m.Actor.Attributes}:
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

// PrimaryName picks a container's own name from the engine's Names list, which
// also carries legacy link aliases ("/parent/alias").
func PrimaryName(names []string) string {
	for _, n := range names {
		if strings.Count(n, "/") == 1 && strings.HasPrefix(n, "/") {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// Services implements ServiceSource. An engine that is not a swarm manager
// answers 503: it has no services.
func (s *SDKSource) Services(ctx context.Context) ([]Service, error) {
	res, err := s.Client.ServiceList(ctx, client.ServiceListOptions{})
	if err != nil {
		if errhttp.ToHTTP(err) == http.StatusServiceUnavailable {
			return nil, nil
		}
		return nil, err
	}
	out := make([]Service, 0, len(res.Items))
	for _, svc := range res.Items {
		out = append(out, Service{ID: svc.ID, Name: svc.Spec.Name, Labels: svc.Spec.Labels})
	}
	return out, nil
}
