package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
)

// Container is what the index needs to know about one container.
type Container struct {
	ID     string
	Name   string // primary name with its leading slash, "/web"
	Labels map[string]string
}

// Errors of Inspect, mirroring the engine's answers.
var (
	ErrNotFound  = errors.New("no such container")
	ErrAmbiguous = errors.New("multiple IDs found with provided prefix")
)

// List returns every container, running or not.
func (c *Client) List(ctx context.Context) ([]Container, error) {
	return c.list(ctx, nil, 0)
}

// Newest returns the n most recently created containers: the engine sorts
// its list newest first and cuts it at limit.
func (c *Client) Newest(ctx context.Context, n int) ([]Container, error) {
	return c.list(ctx, nil, n)
}

// ListByIDPrefix returns every container whose ID starts with prefix. The
// engine's id filter is a regular expression matched anywhere in the ID, so
// the prefix (hex only, checked by the caller) is narrowed here.
func (c *Client) ListByIDPrefix(ctx context.Context, prefix string) ([]Container, error) {
	all, err := c.list(ctx, make(client.Filters).Add("id", prefix), 0)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, ct := range all {
		if strings.HasPrefix(ct.ID, prefix) {
			out = append(out, ct)
		}
	}
	return out, nil
}

// list streams GET /containers/json?all=1 (and limit, when > 0) through
// the list filter's reader, keeping only the ID, primary name and labels:
// decoding 10,000 summaries into the SDK's structs would allocate about 60
// MB that the process then keeps. The path is unversioned, so the engine
// answers in its own (newest) version. An element too large to hold is
// left out, hence hidden.
func (c *Client) list(ctx context.Context, f client.Filters, limit int) ([]Container, error) {
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
	resp, err := c.get(ctx, "/containers/json?"+q.Encode(), http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("container list: %w", err)
	}
	src, err := PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("container list: %w", err)
	}
	defer src.Close()
	var out []Container
	counts, err := rewrite.EachContainer(src, func(id, name string, labels iter.Seq2[string, string]) {
		ct := Container{ID: id, Name: name}
		for k, v := range labels {
			if ct.Labels == nil {
				ct.Labels = make(map[string]string)
			}
			ct.Labels[k] = v
		}
		out = append(out, ct)
	})
	if err != nil {
		return nil, fmt.Errorf("container list: %w", err)
	}
	if counts.Oversized > 0 {
		c.logger.Warn("containers left out: their list entries are larger than the proxy holds",
			"count", counts.Oversized, "max_bytes", rewrite.MaxListElement)
	}
	return out, nil
}

// Inspect resolves ref the way the engine does (full ID, name, unique ID
// prefix) among all containers, reporting ErrNotFound and ErrAmbiguous for
// those answers.
func (c *Client) Inspect(ctx context.Context, ref string) (Container, error) {
	res, err := c.sdk.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err),
		// Podman, while it removes the container: 500 "container <ID>
		// does not exist in database: no such container".
		err != nil && strings.Contains(err.Error(), "does not exist in database: no such container"):
		return Container{}, ErrNotFound
	case err != nil && strings.Contains(strings.ToLower(err.Error()), "multiple ids found with provided prefix"),
		// Podman: 404 "more than one result for container ID <ref>".
		err != nil && strings.Contains(err.Error(), "more than one result for container ID"):
		// 400 on current engines; 500 "Multiple IDs found..." up to 23.0.
		return Container{}, ErrAmbiguous
	case err != nil:
		return Container{}, err
	}
	ct := Container{ID: res.Container.ID, Name: res.Container.Name}
	if res.Container.Config != nil {
		ct.Labels = res.Container.Config.Labels
	}
	return ct, nil
}

// Summary is a container as /info counts and prune need it.
type Summary struct {
	ID      string `json:"Id"`
	Names   []string
	Labels  map[string]string
	State   string
	ImageID string
	Created int64
	SizeRw  int64
}

// Name is the summary's primary name.
func (s Summary) Name() string { return PrimaryName(s.Names) }

// Summaries streams every container's summary (with its writable layer's
// size when withSize), one element at a time, each bounded like a list
// element.
func (c *Client) Summaries(ctx context.Context, withSize bool) ([]Summary, error) {
	path := "/containers/json?all=1"
	if withSize {
		path += "&size=1"
	}
	resp, err := c.get(ctx, path, http.StatusOK)
	if err != nil {
		return nil, err
	}
	src, err := PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	defer src.Close()
	budget := &budgetReader{r: src, left: rewrite.MaxListElement}
	dec := json.NewDecoder(budget)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("container list: not a JSON array: %v", err)
	}
	var out []Summary
	for dec.More() {
		budget.left = rewrite.MaxListElement
		var s Summary
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("container list: %w", err)
		}
		out = append(out, s)
	}
	budget.left = rewrite.MaxListElement
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("container list: %w", err)
	}
	return out, nil
}

// budgetReader fails a read once more than left bytes are read since the
// last reset: one summary is never held past the bound.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("container list: an element is larger than the proxy holds")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// RemoveContainer deletes a container (force: even a running one; volumes
// are kept) and reports whether it went.
func (c *Client) RemoveContainer(ctx context.Context, id string, force bool) bool {
	path := "/containers/" + url.PathEscape(id)
	if force {
		path += "?force=1"
	}
	resp, err := c.do(ctx, http.MethodDelete, path, http.StatusNoContent)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
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
