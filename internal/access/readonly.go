package access

import (
	"fmt"
	"strings"
)

// CombineReadOnly decides how the policy and READ_ONLY (this project's
// "only GET and HEAD pass", default true) work together, and returns the
// READ_ONLY the proxy should enforce. readOnlySet says whether READ_ONLY was
// set explicitly (non-empty); readOnly is its value, or its default.
//
// The rule:
//   - policy inactive: READ_ONLY alone decides, as before;
//   - policy active, READ_ONLY not set: the policy alone decides (the
//     returned READ_ONLY is false, so that a LinuxServer block with POST=1 or
//     ALLOW_RESTARTS=1 works as it did, and denials name the LinuxServer
//     variable to set);
//   - policy active, READ_ONLY set: both must say the same thing about
//     writes. The policy allows writes when POST=1 or an action switch
//     (ALLOW_START, ALLOW_STOP, ALLOW_RESTARTS, ALLOW_PAUSE, ALLOW_UNPAUSE) is
//     on. READ_ONLY=true with such a switch, or READ_ONLY=false with none, is a
//     contradiction: one of the two settings would be silently ignored.
//
// On a problem the returned READ_ONLY is true: fail closed, though the
// loader exits anyway.
func CombineReadOnly(p Policy, readOnlySet, readOnly bool) (effective bool, problems []error) {
	if !p.active {
		return readOnly, nil
	}
	if !readOnlySet {
		return false, nil
	}
	writers := p.writeSwitches()
	switch {
	case readOnly && len(writers) > 0:
		verb := "allows"
		if len(writers) > 1 {
			verb = "allow"
		}
		return true, []error{fmt.Errorf("READ_ONLY=true forbids every write, but %s %s writes: remove READ_ONLY (LinuxServer's variables then decide alone) or set %s to 0",
			strings.Join(writers, ", "), verb, orList(writers))}
	case !readOnly && len(writers) == 0:
		return true, []error{fmt.Errorf("READ_ONLY=false asks for writes, but POST=0 and no ALLOW_START, ALLOW_STOP, ALLOW_RESTARTS, ALLOW_PAUSE or ALLOW_UNPAUSE is on, so none would pass: set POST=1 or an ALLOW_* switch, or remove READ_ONLY")}
	}
	return readOnly, nil
}

// writeSwitches lists the switches that are on and let some write through,
// as "POST=1".
func (p Policy) writeSwitches() []string {
	var list []string
	for s := none + 1; s < swCount; s++ {
		if p.on[s] && (s == swPost || s.isAction()) {
			list = append(list, s.String()+"=1")
		}
	}
	return list
}

func orList(list []string) string {
	names := make([]string, len(list))
	for i, s := range list {
		names[i], _, _ = strings.Cut(s, "=")
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
