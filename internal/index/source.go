package index

import (
	"context"

	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// Source is the index's view of the upstream engine; *upstream.Client is
// the production one.
type Source interface {
	// List returns every container, running or not.
	List(ctx context.Context) ([]upstream.Container, error)
	// ListByIDPrefix returns every container whose ID starts with prefix.
	ListByIDPrefix(ctx context.Context, prefix string) ([]upstream.Container, error)
	// Newest returns the n most recently created containers, running or
	// not.
	Newest(ctx context.Context, n int) ([]upstream.Container, error)
	// Inspect resolves ref the way the engine does (full ID, name, unique ID
	// prefix) among ALL containers. It returns upstream.ErrNotFound or upstream.ErrAmbiguous for
	// those engine answers.
	Inspect(ctx context.Context, ref string) (upstream.Container, error)
	// Events streams create, rename and destroy events, replaying those still
	// in the engine's buffer first, until ctx ends or the stream fails. The
	// error channel receives exactly one error when the stream ends.
	Events(ctx context.Context) (<-chan upstream.Event, <-chan error)
}
