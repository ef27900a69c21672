package route

import (
	"fmt"
	"slices"
	"strings"
)

// The table compiled once at start-up: compiled[i] is Table[i]'s template,
// bySegment lists the table indexes whose template starts with a given literal
// first segment (in table order) and wildcard those starting with a variable.
// Read-only after init.
var (
	compiled  []template
	bySegment map[string][]int
	wildcard  []int
)

func init() {
	compiled = make([]template, len(Table))
	bySegment = make(map[string][]int)
	for i, spec := range Table {
		t, err := compile(spec.Template)
		if err != nil {
			panic(fmt.Sprintf("route table entry %d: %v", i, err)) // a programming error, caught by every test run
		}
		compiled[i] = t
		first := t.parts[0]
		if first.isVar || first.literal == "/" {
			wildcard = append(wildcard, i)
			continue
		}
		if len(t.parts) > 1 && !strings.Contains(strings.TrimPrefix(first.literal, "/"), "/") {
			panic(fmt.Sprintf("route table entry %d: a variable inside the first segment defeats the segment index", i))
		}
		seg := firstSegment(first.literal)
		bySegment[seg] = append(bySegment[seg], i)
	}
	// Merge the wildcard entries into every segment list, keeping table order,
	// so lookup walks one list in the engine's registration order.
	for seg, list := range bySegment {
		list = append(list, wildcard...)
		slices.Sort(list)
		bySegment[seg] = list
	}
}

// candidates returns the table indexes that may match p, in table order.
func candidates(p string) []int {
	if list, ok := bySegment[firstSegment(p)]; ok {
		return list
	}
	return wildcard
}

// firstSegment returns "containers" for "/containers/x/json" and for
// "/containers". A literal that ends inside its first segment ("/_ping") gives
// the whole segment.
func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}
