package index

import (
	"context"
	"iter"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// Swarm services are visible by their own name or Spec.Labels, and a task's
// container is visible when it matches the filters itself OR its service is
// visible: service labels are not copied onto task containers, so a service
// chosen by label would otherwise show no containers at all.

// ServiceLabel is the label the engine puts on every swarm task container.
const ServiceLabel = "com.docker.swarm.service.id"

// Service is what visibility needs to know about a swarm service.
type Service struct {
	ID, Name string
	Labels   map[string]string
}

// ServiceSource lists swarm services; an engine not in swarm mode has none.
type ServiceSource interface {
	Services(ctx context.Context) ([]Service, error)
}

// serviceCacheTTL bounds how stale a service's visibility may be.
const serviceCacheTTL = 2 * time.Second

// Visibility is the one visibility rule, for containers and services; the
// index, the list filter and every rewriter use it so they always agree.
type Visibility struct {
	filters *match.Criteria
	source  ServiceSource // nil: no swarm

	mu      sync.Mutex
	visible map[string]bool // service ID -> visible
	hidden  []Service       // the hidden ones, for redaction
	fetched time.Time
}

// NewVisibility returns the rule for these filters; services come from src
// (nil: an upstream without swarm services, for tests of the index alone).
func NewVisibility(f *match.Criteria, src ServiceSource) *Visibility {
	if f == nil {
		f = &match.Criteria{}
	}
	return &Visibility{filters: f, source: src}
}

// Criteria are the configured filters. The index reads them to know whether
// a create event's attributes are enough to decide a container.
func (v *Visibility) Criteria() *match.Criteria { return v.filters }

// Service reports whether a service with this name and Spec.Labels is
// visible. Its name is matched like a container's, with a leading slash.
func (v *Visibility) Service(name string, labels map[string]string) bool {
	return v.filters.MatchMap("/"+name, labels)
}

// ServiceID reports whether the service with this ID is visible, from a
// cache of the upstream's services refreshed every few seconds (and at once
// for an ID it does not know). Unknown services are not visible.
func (v *Visibility) ServiceID(ctx context.Context, id string) bool {
	if id == "" || v.source == nil {
		return false
	}
	if v.filters.Empty() {
		return true
	}
	v.mu.Lock()
	vis, known := v.visible[id]
	stale := time.Since(v.fetched) > serviceCacheTTL
	v.mu.Unlock()
	if known && !stale {
		return vis
	}
	v.refresh(ctx)
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.visible[id]
}

func (v *Visibility) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	services, err := v.source.Services(ctx)
	if err != nil {
		return // keep what is known; unknown IDs stay invisible
	}
	next := make(map[string]bool, len(services))
	var hidden []Service
	for _, s := range services {
		next[s.ID] = v.Service(s.Name, s.Labels)
		if !next[s.ID] {
			hidden = append(hidden, Service{ID: s.ID, Name: s.Name})
		}
	}
	v.mu.Lock()
	v.visible, v.hidden, v.fetched = next, hidden, time.Now()
	v.mu.Unlock()
}

// RefreshServices asks the upstream for its services now, before an error
// about services (which may name one created a moment ago) is redacted.
func (v *Visibility) RefreshServices(ctx context.Context) {
	if v.source != nil && !v.filters.Empty() {
		v.refresh(ctx)
	}
}

// HiddenService reports whether word is the name of a hidden swarm service,
// or at least 12 characters of its ID (the short ID), so that an error
// message quoting it can be redacted. The cache is refreshed when stale.
func (v *Visibility) HiddenService(ctx context.Context, word string) bool {
	if v.source == nil || v.filters.Empty() || word == "" {
		return false
	}
	v.mu.Lock()
	stale := time.Since(v.fetched) > serviceCacheTTL
	v.mu.Unlock()
	if stale {
		v.refresh(ctx)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.hidden {
		if s.Name == word || len(word) >= 12 && strings.HasPrefix(s.ID, word) {
			return true
		}
	}
	return false
}

// Container reports whether a container with this primary name and these
// labels is visible: by the filters, or as a task of a visible service.
func (v *Visibility) Container(name string, labels map[string]string) bool {
	return v.ContainerSeq(name, maps.All(labels))
}

// ByName reports whether a container is visible by its primary name alone
// (or because there are no filters). A rename changes only this part.
func (v *Visibility) ByName(name string) bool {
	return v.filters.Empty() || v.filters.MatchName(name)
}

// ByLabels reports whether a container is visible by its labels alone: a
// label filter matches, it is a task of a visible service, or there are no
// filters. Labels never change, so neither does this part.
func (v *Visibility) ByLabels(labels map[string]string) bool {
	return v.byLabels(maps.All(labels))
}

// ContainerSeq is Container for labels given as a sequence (the list
// filter's form).
func (v *Visibility) ContainerSeq(name string, labels iter.Seq2[string, string]) bool {
	return v.ByName(name) || v.byLabels(labels)
}

func (v *Visibility) byLabels(labels iter.Seq2[string, string]) bool {
	if v.filters.Empty() {
		return true
	}
	if labels == nil {
		return false
	}
	if v.source == nil {
		return v.filters.MatchLabels(labels)
	}
	// One pass: the labels are decoded on the fly by the list filter.
	service := ""
	for k, val := range labels {
		if v.filters.MatchLabel(k, val) {
			return true
		}
		if k == ServiceLabel {
			service = val
		}
	}
	return service != "" && v.ServiceID(context.Background(), service)
}
