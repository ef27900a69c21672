package rewrite

import (
	"strconv"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// The usage objects of /system/df (API 1.52+) are Go structs whose
// numbers are all omitempty: the engine leaves out a figure that is 0.
// To read as the smaller engine would write them, a figure that becomes 0
// is removed and one that becomes non-zero is added, at its place in the
// struct's (alphabetical) field order.

// usageObject is a usage object (ContainerUsage, ImageUsage, VolumeUsage)
// being rewritten: its members, which of them go, and the numbers to add.
type usageObject struct {
	open int // offset of its '{'
	ms   []member
	drop []bool
	adds []string // `"Name":value` members to insert, in name order
}

// newUsageObject opens the usage object in member m; nil for null.
func newUsageObject(b []byte, m member, depth int) (*usageObject, error) {
	if isNull(b, m.vs) {
		return nil, nil
	}
	if b[m.vs] != '{' {
		return nil, shape("system df", "%q is not an object", m.key)
	}
	ms, _, err := objectMembers(b, m.vs, depth)
	if err != nil {
		return nil, scanErr("system df", err)
	}
	return &usageObject{open: m.vs, ms: ms, drop: make([]bool, len(ms))}, nil
}

// get returns the value of the number name (the last member binding to
// it, as encoding/json keeps), 0 when absent (omitempty).
func (u *usageObject) get(b []byte, name string) (int64, error) {
	var n int64
	for _, m := range u.ms {
		if jsonscan.KeyEqualFold(m.key, name) {
			if err := setInt(b, m, &n); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// set gives the number name the value n the way the engine's omitempty
// field would show it: members binding to name are replaced, or dropped
// when n is 0; without one, a non-zero n is added. Names must be set in
// alphabetical order.
func (u *usageObject) set(e *editor, name string, n int64) error {
	found := false
	for k, m := range u.ms {
		if !jsonscan.KeyEqualFold(m.key, name) {
			continue
		}
		found = true
		if _, ok := jsonInt(e.body, m.vs, m.ve); !ok && !isNull(e.body, m.vs) {
			return shape("system df", "%q is not an integer", name)
		}
		if n == 0 {
			u.drop[k] = true
		} else {
			replaceInts(e, []member{m}, n)
		}
	}
	if !found && n != 0 {
		u.adds = append(u.adds, strconv.Quote(name)+":"+strconv.FormatInt(n, 10))
	}
	return nil
}

// requireZero fails with ErrNoContainerList if one of the numbers is set.
func (u *usageObject) requireZero(b []byte, names ...string) error {
	for _, name := range names {
		n, err := u.get(b, name)
		if err != nil {
			return err
		}
		if n != 0 {
			return ErrNoContainerList
		}
	}
	return nil
}

// finish adds u's edits: the dropped members go, and the added numbers
// are inserted before the first kept member whose key sorts after them
// (the engine's members are in alphabetical order), or after the last.
func (u *usageObject) finish(e *editor) error {
	items := make([]span, len(u.ms))
	var kept []member
	for k, m := range u.ms {
		items[k] = m.span()
		if !u.drop[k] {
			kept = append(kept, m)
		}
	}
	e.dropItems(items, u.drop)
	if len(u.adds) == 0 {
		return nil
	}
	if len(kept) == 0 {
		at := u.open + 1
		if len(u.ms) > 0 {
			at = u.ms[0].ks
		}
		e.replace(at, at, strings.Join(u.adds, ","))
		return nil
	}
	var before []string
	next := 0
	for _, m := range kept {
		key, _ := jsonscan.Unquote(m.key)
		for next < len(u.adds) && addName(u.adds[next]) < key {
			before = append(before, u.adds[next])
			next++
		}
		if len(before) > 0 {
			e.replace(m.ks, m.ks, strings.Join(before, ",")+",")
			before = before[:0]
		}
	}
	if next < len(u.adds) {
		last := kept[len(kept)-1]
		e.replace(last.ve, last.ve, ","+strings.Join(u.adds[next:], ","))
	}
	return nil
}

// addName returns the name of an added `"Name":value` member.
func addName(add string) string {
	name, _ := strconv.Unquote(add[:strings.IndexByte(add, ':')])
	return name
}

// replaceInts gives every member in ms the value n where it differs.
func replaceInts(e *editor, ms []member, n int64) {
	text := strconv.FormatInt(n, 10)
	for _, m := range ms {
		if string(e.body[m.vs:m.ve]) != text {
			e.replace(m.vs, m.ve, text)
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
