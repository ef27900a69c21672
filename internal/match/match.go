// Package match decides whether a container is visible through the proxy.
//
// The rules are those of FoxxMD/docker-proxy-filter, so users can swap images:
// case-sensitive substring matching; a container is visible when its name
// matches any name filter OR one of its labels matches any label filter; no
// filters at all means every container is visible. The package is pure: it
// never talks to the engine and holds no state beyond the parsed filters.
package match

import (
	"iter"
	"maps"
	"strings"
)

// Label is one CONTAINER_LABELS item.
//
// Without a value ("homepage") it matches any label whose key contains Key.
// With a value ("com.foo=bar") it matches a label whose key contains Key AND
// whose value contains Value.
type Label struct {
	Key      string
	Value    string
	HasValue bool
}

// String renders the filter the way it was configured.
func (l Label) String() string {
	if l.HasValue {
		return l.Key + "=" + l.Value
	}
	return l.Key
}

// matches reports whether one container label satisfies the filter.
func (l Label) matches(key, value string) bool {
	if l.Key == "" || !strings.Contains(key, l.Key) {
		return false
	}
	return !l.HasValue || strings.Contains(value, l.Value)
}

// Criteria is the visibility rule. The zero value has no filters and so makes
// every container visible (the "monitor everything, scrub envs" scenario).
type Criteria struct {
	// Names are substrings of the container's primary name, matched against the
	// name as the engine writes it, with its leading slash ("/web-1"), so an
	// item may anchor at the start of the name with "/web".
	Names []string
	// Labels are label filters; see Label.
	Labels []Label
}

// Empty reports whether no filter is configured, i.e. every container is visible.
func (f *Criteria) Empty() bool {
	return len(f.Names) == 0 && len(f.Labels) == 0
}

// Match reports whether a container with this primary name and these labels is
// visible. name may be given with or without its leading slash; labels may be
// nil.
func (f *Criteria) Match(name string, labels iter.Seq2[string, string]) bool {
	if f.Empty() {
		return true
	}
	return f.MatchName(name) || f.MatchLabels(labels)
}

// MatchLabel reports whether one label matches a label filter.
func (f *Criteria) MatchLabel(key, value string) bool {
	for _, lf := range f.Labels {
		if lf.matches(key, value) {
			return true
		}
	}
	return false
}

// MatchLabels reports whether the labels alone match a label filter.
func (f *Criteria) MatchLabels(labels iter.Seq2[string, string]) bool {
	if len(f.Labels) == 0 || labels == nil {
		return false
	}
	for key, value := range labels {
		for _, lf := range f.Labels {
			if lf.matches(key, value) {
				return true
			}
		}
	}
	return false
}

// MatchMap is Match for labels held in a map, as the SDK returns them.
func (f *Criteria) MatchMap(name string, labels map[string]string) bool {
	return f.Match(name, maps.All(labels))
}

// MatchName reports whether the name alone matches a name filter.
func (f *Criteria) MatchName(name string) bool {
	if len(f.Names) == 0 {
		return false
	}
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	for _, n := range f.Names {
		// An empty item would match every name; configuration drops them, and
		// this guard keeps a hand-built Criteria from widening access.
		if n != "" && strings.Contains(name, n) {
			return true
		}
	}
	return false
}

// ParseLabel parses one CONTAINER_LABELS item: "key" or "key=value". The value
// may itself contain "=". ok is false when the key is empty, since such an item
// would match labels of every key.
func ParseLabel(item string) (l Label, ok bool) {
	key, value, hasValue := strings.Cut(item, "=")
	if key == "" {
		return Label{}, false
	}
	return Label{Key: key, Value: value, HasValue: hasValue}, true
}
