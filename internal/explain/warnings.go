package explain

import (
	"strconv"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// Warning is a filter that probably does not do what its author meant.
type Warning struct {
	Code     string `json:"code"` // a Warn constant, stable for scripts
	Variable string `json:"variable,omitempty"`
	Item     string `json:"item,omitempty"`
	Message  string `json:"message"`
}

// Warning codes.
const (
	// WarnNoFilters: nothing is configured, so every container is visible.
	WarnNoFilters = "no_filters"
	// WarnFalsyValue: an item without a value matches a label whose value
	// says "no" (traefik matches traefik.enable=false).
	WarnFalsyValue = "falsy_value"
	// WarnShortItem: an item of one character (or "/") matches almost
	// every name or key.
	WarnShortItem = "short_item"
	// WarnBroadItem: an item matches more than half of the containers.
	WarnBroadItem = "broad_item"
	// WarnUnusedItem: an item matches no container and no service.
	WarnUnusedItem = "unused_item"
)

// broadMinContainers is the population below which "more than half" says
// nothing: with three containers, two is not a surprise.
const broadMinContainers = 4

// maxListed bounds the names a warning spells out.
const maxListed = 5

// warnings looks for surprising filters, item by item in configured order.
func warnings(f *match.Criteria, containers, services []Entry) []Warning {
	out := []Warning{}
	if f.Empty() {
		return append(out, Warning{Code: WarnNoFilters,
			Message: "no " + VarNames + " or " + VarLabels + ": every container is visible"})
	}
	for _, n := range f.Names {
		out = append(out, itemWarnings(VarNames, n, strings.TrimPrefix(n, "/"), containers, services)...)
	}
	for _, l := range f.Labels {
		item := l.String()
		if !l.HasValue || l.Value == "" {
			if w, ok := falsyWarning(item, containers, services); ok {
				out = append(out, w)
			}
		}
		core := l.Key
		if l.HasValue && l.Value != "" {
			core = "" // a value narrows the item: never "short"
		}
		out = append(out, itemWarnings(VarLabels, item, core, containers, services)...)
	}
	return out
}

// itemWarnings checks one item for being too short, too broad or unused.
// core is the part whose length makes an item short ("" to skip).
func itemWarnings(variable, item, core string, containers, services []Entry) []Warning {
	var out []Warning
	nc, ns := matchedBy(variable, item, containers), matchedBy(variable, item, services)
	what := "name"
	if variable == VarLabels {
		what = "label key"
	}
	switch {
	case nc+ns == 0:
		out = append(out, Warning{Code: WarnUnusedItem, Variable: variable, Item: item,
			Message: variable + ` item "` + item + `" matches no container or service (a typo, or nothing to show yet?)`})
	case variable == VarNames && item == "/":
		out = append(out, Warning{Code: WarnShortItem, Variable: variable, Item: item,
			Message: variable + ` item "/" matches every name: every container is visible`})
	case core != "" && len(core) == 1:
		out = append(out, Warning{Code: WarnShortItem, Variable: variable, Item: item,
			Message: variable + ` item "` + item + `" is one character long: it matches every ` + what + ` containing "` + core + `"`})
	case len(containers) >= broadMinContainers && 2*nc > len(containers):
		out = append(out, Warning{Code: WarnBroadItem, Variable: variable, Item: item,
			Message: variable + ` item "` + item + `" matches ` + strconv.Itoa(nc) + " of " + strconv.Itoa(len(containers)) +
				" containers: is it specific enough?"})
	}
	return out
}

// matchedBy counts the entries one item matches by themselves.
func matchedBy(variable, item string, es []Entry) int {
	n := 0
	for _, e := range es {
		for _, m := range e.Matches {
			if m.Variable == variable && m.Item == item {
				n++
				break
			}
		}
	}
	return n
}

// falsyWarning reports visible containers and services that a value-less
// label item matches through a label whose value says "no".
func falsyWarning(item string, containers, services []Entry) (Warning, bool) {
	var names []string
	counts := [2]int{}
	example := ""
	for i, es := range [][]Entry{containers, services} {
		for _, e := range es {
			if !e.Visible {
				continue
			}
			for _, m := range e.Matches {
				if m.Variable == VarLabels && m.Item == item && falsy(m.Value) {
					if example == "" {
						example = m.Key + "=" + m.Value
					}
					names = append(names, e.Name)
					counts[i]++
					break
				}
			}
		}
	}
	if len(names) == 0 {
		return Warning{}, false
	}
	var on []string
	if counts[0] > 0 {
		on = append(on, plural(counts[0], "visible container"))
	}
	if counts[1] > 0 {
		on = append(on, plural(counts[1], "visible service"))
	}
	key, _, _ := strings.Cut(example, "=")
	return Warning{Code: WarnFalsyValue, Variable: VarLabels, Item: item,
		Message: VarLabels + ` item "` + item + `" matches ` + example + " on " + strings.Join(on, " and ") +
			" (" + list(names) + `): an item without a value matches any value; to require one, write "` + key + `=true"`}, true
}

// falsy reports label values that conventionally mean "off".
func falsy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "false", "0", "no", "off", "disabled", "n":
		return true
	}
	return false
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// list joins names, spelling out at most maxListed.
func list(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + " and " + strconv.Itoa(len(names)-maxListed) + " more"
}
