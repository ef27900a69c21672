package access

import "strings"

// Allowed lists the switches that are on, in the order of Variables: the
// categories, POST, then the action and container-read switches. Empty for an
// inactive policy, which restricts nothing.
func (p Policy) Allowed() []string {
	if !p.active {
		return nil
	}
	var list []string
	for s := none + 1; s < swCount; s++ {
		if p.on[s] {
			list = append(list, s.String())
		}
	}
	return list
}

// Summary is one line for the start-up log: what the policy lets through.
func (p Policy) Summary() string {
	if !p.active {
		return "inactive (no LinuxServer variable set): READ_ONLY decides writes"
	}
	var cats, actions, reads []string
	for s := none + 1; s < swCount; s++ {
		switch {
		case !p.on[s] || s == swPost:
		case s.isAction():
			actions = append(actions, s.String())
		case s >= swAllowArchive:
			reads = append(reads, s.String())
		default:
			cats = append(cats, s.String())
		}
	}
	writes := "POST=0 (GET and HEAD only)"
	if p.on[swPost] {
		writes = "POST=1 (every method in these categories)"
	}
	return "categories " + orNone(cats) + "; " + writes + "; actions " + orNone(actions) + "; container reads " + orNone(reads)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ",")
}
