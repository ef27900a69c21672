// Package explain tells a user why each container (and swarm service) is
// visible or hidden through the proxy, and which filters match more, or less,
// than they probably meant.
//
// Substring filters are easy to get wrong: CONTAINER_LABELS=traefik also
// matches traefik.enable=false, CONTAINER_NAMES=a matches most names, a typo
// matches nothing. The `docker-proxy-filter explain` subcommand lists the
// upstream's containers and services once and prints this package's Report,
// so a user sees the proxy's verdicts before pointing a client at it.
//
// The package is pure. It applies the match package's rules itself (the
// verdict is match.Criteria' own answer, and each reason is found by asking
// match about one filter item at a time), so the explanation cannot drift
// from what the proxy decides. Swarm follows the proxy's visibility rule: a
// service is visible by its name or Spec.Labels; a task container is visible
// by itself or as a task of a visible service.
package explain

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// Container is what explaining a container needs; the caller fills it from
// the upstream's container list (Name: the primary name, as
// index.PrimaryName picks it from Names).
type Container struct {
	ID     string
	Name   string // "/web"; a missing leading slash is added
	Labels map[string]string
}

// Service is what explaining a swarm service needs, from the service list.
type Service struct {
	ID     string
	Name   string // Spec.Name, "web"
	Labels map[string]string
}

// ServiceLabel is the label the engine puts on every swarm task container,
// naming its service's ID (the same as index.ServiceLabel).
const ServiceLabel = "com.docker.swarm.service.id"

// Variables the filters come from, as Match.Variable and Warning.Variable.
const (
	VarNames  = "CONTAINER_NAMES"
	VarLabels = "CONTAINER_LABELS"
)

// Kinds of Entry.
const (
	KindContainer = "container"
	KindService   = "service"
)

// Bases of a verdict: Entry.Basis, stable for scripts.
const (
	// BasisNoFilters: no filter is configured, so everything is visible.
	BasisNoFilters = "no_filters"
	// BasisMatch: visible because Matches is not empty.
	BasisMatch = "match"
	// BasisService: a task container visible because its service is.
	BasisService = "service"
	// BasisNoMatch: hidden; no filter matched.
	BasisNoMatch = "no_match"
)

// Match is one filter item matching one name or label.
type Match struct {
	Variable string `json:"variable"` // VarNames or VarLabels
	Item     string `json:"item"`     // the item as configured: "web", "traefik.enable=true"
	// Name is the matched name, with its leading slash, for VarNames.
	Name string `json:"name,omitempty"`
	// Key and Value are the matched label, for VarLabels (an absent value
	// is an empty one).
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// Entry is the verdict on one container or service.
type Entry struct {
	Kind    string  `json:"kind"` // KindContainer or KindService
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Visible bool    `json:"visible"`
	Basis   string  `json:"basis"`  // a Basis constant
	Reason  string  `json:"reason"` // one sentence for a person
	Matches []Match `json:"matches,omitempty"`
	// Service is, for a swarm task container, its service's ID, and
	// ServiceName that service's name when it is listed.
	Service     string `json:"service,omitempty"`
	ServiceName string `json:"service_name,omitempty"`
}

// Summary counts the verdicts.
type Summary struct {
	ContainersVisible int `json:"containers_visible"`
	ContainersHidden  int `json:"containers_hidden"`
	ServicesVisible   int `json:"services_visible"`
	ServicesHidden    int `json:"services_hidden"`
}

// Filters are the configured filters, as the user wrote them.
type Filters struct {
	Names  []string `json:"names"`
	Labels []string `json:"labels"`
}

// Report is the whole explanation. Containers and Services are sorted by
// name, then ID.
type Report struct {
	Filters    Filters   `json:"filters"`
	Containers []Entry   `json:"containers"`
	Services   []Entry   `json:"services"`
	Warnings   []Warning `json:"warnings"`
	Summary    Summary   `json:"summary"`
}

// maxReasonMatches bounds the matches spelled out in a Reason; the rest are
// counted ("and 4 more"). Matches holds them all.
const maxReasonMatches = 3

// Build explains every container and service under f (nil: no filters).
func Build(f *match.Criteria, containers []Container, services []Service) Report {
	if f == nil {
		f = &match.Criteria{}
	}
	r := Report{
		Filters:    Filters{Names: slices.Clone(f.Names), Labels: make([]string, 0, len(f.Labels))},
		Containers: make([]Entry, 0, len(containers)),
		Services:   make([]Entry, 0, len(services)),
	}
	if r.Filters.Names == nil {
		r.Filters.Names = []string{}
	}
	for _, l := range f.Labels {
		r.Filters.Labels = append(r.Filters.Labels, l.String())
	}

	byID := make(map[string]*Entry, len(services))
	for _, s := range services {
		e := judge(f, KindService, s.ID, s.Name, slashed(s.Name), s.Labels)
		r.Services = append(r.Services, e)
	}
	for i := range r.Services {
		byID[r.Services[i].ID] = &r.Services[i]
	}
	for _, c := range containers {
		name := slashed(c.Name)
		e := judge(f, KindContainer, c.ID, name, name, c.Labels)
		if id := c.Labels[ServiceLabel]; id != "" {
			e.Service = id
			svc := byID[id]
			if svc != nil {
				e.ServiceName = svc.Name
			}
			switch {
			case e.Visible:
			case svc != nil && svc.Visible:
				e.Visible, e.Basis = true, BasisService
				e.Reason = `task of visible service "` + svc.Name + `" (` + short(id) + ")"
			case svc != nil:
				e.Reason += `; task of hidden service "` + svc.Name + `"`
			default:
				e.Reason += "; task of service " + short(id) + ", which is not listed"
			}
		}
		r.Containers = append(r.Containers, e)
	}
	sortEntries(r.Containers)
	sortEntries(r.Services)
	for _, e := range r.Containers {
		count(&r.Summary.ContainersVisible, &r.Summary.ContainersHidden, e.Visible)
	}
	for _, e := range r.Services {
		count(&r.Summary.ServicesVisible, &r.Summary.ServicesHidden, e.Visible)
	}
	r.Warnings = warnings(f, r.Containers, r.Services)
	return r
}

// Why gives the verdict of the criteria alone on one container and its
// reason, the sentence the report would show ("no filter matched", ...):
// for the index's debug log of containers that become visible or hidden.
// A task of a visible service is the caller's to recognise.
func Why(f *match.Criteria, name string, labels map[string]string) (visible bool, reason string) {
	name = slashed(name)
	e := judge(f, KindContainer, "", name, name, labels)
	return e.Visible, e.Reason
}

// judge gives the verdict on one object by its own name and labels.
// matchName is the name as the filters see it ("/web").
func judge(f *match.Criteria, kind, id, name, matchName string, labels map[string]string) Entry {
	e := Entry{Kind: kind, ID: id, Name: name}
	if f.Empty() {
		e.Visible, e.Basis = true, BasisNoFilters
		e.Reason = "no filters: every " + kind + " is visible"
		return e
	}
	// The verdict is the match package's; the matches only explain it.
	e.Visible = f.MatchMap(matchName, labels)
	e.Matches = matches(f, matchName, labels)
	if !e.Visible {
		e.Basis, e.Reason = BasisNoMatch, "no filter matched"
		return e
	}
	e.Basis = BasisMatch
	e.Reason = reason(e.Matches)
	return e
}

// reason spells matches out, grouped by item, at most maxReasonMatches
// subjects per item and maxReasonMatches items:
//
//	CONTAINER_LABELS item "homepage" matches labels homepage.group=tools, homepage.name=x
func reason(ms []Match) string {
	var b strings.Builder
	items := 0
	for i := 0; i < len(ms); {
		j := i + 1
		for j < len(ms) && ms[j].Variable == ms[i].Variable && ms[j].Item == ms[i].Item {
			j++
		}
		if items == maxReasonMatches {
			b.WriteString("; and " + strconv.Itoa(countItems(ms[i:])) + " more items")
			break
		}
		if items > 0 {
			b.WriteString("; ")
		}
		items++
		b.WriteString(ms[i].Variable + ` item "` + ms[i].Item + `" matches `)
		if ms[i].Variable == VarNames {
			b.WriteString(`name "` + ms[i].Name + `"`)
		} else {
			if j-i > 1 {
				b.WriteString("labels ")
			} else {
				b.WriteString("label ")
			}
			for k, m := range ms[i:j] {
				if k == maxReasonMatches {
					b.WriteString(" and " + strconv.Itoa(j-i-k) + " more")
					break
				}
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteString(m.Key + "=" + m.Value)
			}
		}
		i = j
	}
	return b.String()
}

// countItems counts the distinct (variable, item) runs in ms.
func countItems(ms []Match) int {
	n := 0
	for i := range ms {
		if i == 0 || ms[i].Variable != ms[i-1].Variable || ms[i].Item != ms[i-1].Item {
			n++
		}
	}
	return n
}

// matches lists every (item, name or label) pair that matches, asking the
// match package about one item at a time; labels in key order.
func matches(f *match.Criteria, name string, labels map[string]string) []Match {
	var out []Match
	for _, n := range f.Names {
		one := match.Criteria{Names: []string{n}}
		if one.MatchName(name) {
			out = append(out, Match{Variable: VarNames, Item: n, Name: name})
		}
	}
	keys := slices.Sorted(maps.Keys(labels))
	for _, l := range f.Labels {
		one := match.Criteria{Labels: []match.Label{l}}
		for _, k := range keys {
			if one.MatchLabel(k, labels[k]) {
				out = append(out, Match{Variable: VarLabels, Item: l.String(), Key: k, Value: labels[k]})
			}
		}
	}
	return out
}

func slashed(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + name
}

// short is an ID as `docker ps` shows it.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func sortEntries(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func count(visible, hidden *int, v bool) {
	if v {
		*visible++
	} else {
		*hidden++
	}
}
