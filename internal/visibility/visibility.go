// Package visibility owns the one rule that decides what a client of the
// proxy may see: which containers, swarm services and tasks are visible.
// The index, every decision of the handler and every answer rewriter ask it,
// and nothing else calls the name and label matcher, so they always agree.
//
// A container is visible when its primary name matches CONTAINER_NAMES or
// one of its labels matches CONTAINER_LABELS (match.Criteria), or when it is
// a task of a visible swarm service: service labels are not copied onto task
// containers, so a service chosen by label would otherwise show no
// containers at all. A service is visible by its own name or Spec.Labels.
// With no criteria everything is visible.
package visibility

import (
	"context"
	"iter"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// ServiceLabel is the label the engine puts on every swarm task container.
const ServiceLabel = "com.docker.swarm.service.id"

// ServiceLister lists the upstream's swarm services (*upstream.Client is
// one); swarm is false on an engine that is not a swarm manager.
type ServiceLister interface {
	Services(ctx context.Context) (services []upstream.Service, swarm bool, err error)
}

// serviceCacheTTL bounds how stale a service's visibility may be.
const serviceCacheTTL = 2 * time.Second

// lookupTimeout bounds one refresh of the service cache.
const lookupTimeout = 10 * time.Second

// Rule is the visibility rule. It is safe for concurrent use.
type Rule struct {
	criteria *match.Criteria
	services ServiceLister // nil: an upstream without swarm services

	mu      sync.Mutex
	visible map[string]bool    // service ID -> visible
	hidden  []upstream.Service // the hidden ones, for redaction
	fetched time.Time
}

// New returns the rule for these criteria; services come from lister (nil
// only for tests of containers alone: then no service is visible).
func New(criteria *match.Criteria, lister ServiceLister) *Rule {
	if criteria == nil {
		criteria = &match.Criteria{}
	}
	return &Rule{criteria: criteria, services: lister}
}

// Criteria are the configured criteria. The index reads them to know
// whether a create event's attributes are enough to decide a container.
func (v *Rule) Criteria() *match.Criteria { return v.criteria }

// Container reports whether a container with this primary name and these
// labels is visible.
func (v *Rule) Container(name string, labels map[string]string) bool {
	return v.ContainerSeq(name, maps.All(labels))
}

// ContainerSeq is Container for labels given as a sequence (the list
// rewriter's form).
func (v *Rule) ContainerSeq(name string, labels iter.Seq2[string, string]) bool {
	return v.ByName(name) || v.byLabels(labels)
}

// ByName reports whether a container is visible by its primary name alone
// (or because there are no criteria). A rename changes only this part.
func (v *Rule) ByName(name string) bool {
	return v.criteria.Empty() || v.criteria.MatchName(name)
}

// ByLabels reports whether a container is visible by its labels alone: a
// label criterion matches, it is a task of a visible service, or there are
// no criteria. Labels never change, so neither does this part.
func (v *Rule) ByLabels(labels map[string]string) bool {
	return v.byLabels(maps.All(labels))
}

func (v *Rule) byLabels(labels iter.Seq2[string, string]) bool {
	if v.criteria.Empty() {
		return true
	}
	if labels == nil {
		return false
	}
	if v.services == nil {
		return v.criteria.MatchLabels(labels)
	}
	// One pass: the labels are decoded on the fly by the list rewriter.
	service := ""
	for k, val := range labels {
		if v.criteria.MatchLabel(k, val) {
			return true
		}
		if k == ServiceLabel {
			service = val
		}
	}
	return service != "" && v.ServiceID(context.Background(), service)
}

// Service reports whether a service with this name and Spec.Labels is
// visible. Its name is matched like a container's, with a leading slash.
func (v *Rule) Service(name string, labels map[string]string) bool {
	return v.criteria.MatchMap("/"+name, labels)
}

// ServiceID reports whether the service with this ID is visible, from a
// cache of the upstream's services refreshed every few seconds (and at once
// for an ID it does not know). Unknown services are not visible.
func (v *Rule) ServiceID(ctx context.Context, id string) bool {
	if id == "" || v.services == nil {
		return false
	}
	if v.criteria.Empty() {
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

// Task reports whether a task is visible: its service is, or its container
// is by itself (containerVisible; its ID is "" before it has one).
func (v *Rule) Task(ctx context.Context, serviceID, containerID string, containerVisible func(id string) bool) bool {
	return v.ServiceID(ctx, serviceID) || containerID != "" && containerVisible(containerID)
}

func (v *Rule) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	services, _, err := v.services.Services(ctx)
	if err != nil {
		return // keep what is known; unknown IDs stay invisible
	}
	next := make(map[string]bool, len(services))
	var hidden []upstream.Service
	for _, s := range services {
		next[s.ID] = v.Service(s.Name, s.Labels)
		if !next[s.ID] {
			hidden = append(hidden, upstream.Service{ID: s.ID, Name: s.Name})
		}
	}
	v.mu.Lock()
	v.visible, v.hidden, v.fetched = next, hidden, time.Now()
	v.mu.Unlock()
}

// RefreshServices asks the upstream for its services now, before an error
// about services (which may name one created a moment ago) is redacted.
func (v *Rule) RefreshServices(ctx context.Context) {
	if v.services != nil && !v.criteria.Empty() {
		v.refresh(ctx)
	}
}

// HiddenService reports whether word is the name of a hidden swarm service,
// or at least 12 characters of its ID (the short ID), so that an error
// message quoting it can be redacted. The cache is refreshed when stale.
func (v *Rule) HiddenService(ctx context.Context, word string) bool {
	if v.services == nil || v.criteria.Empty() || word == "" {
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
