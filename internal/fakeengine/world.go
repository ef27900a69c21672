package fakeengine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Container is one container of a fake engine.
type Container struct {
	ID     string
	Name   string // with its leading slash: "/web"
	Labels map[string]string
	Env    []string
	State  string // "" is running
}

// ID returns a stable, random-looking 64-hex container ID derived from seed.
func ID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:])
}

func (c Container) running() bool { return c.State == "" || c.State == "running" }

// Element is c's container list element as a generic engine writes it,
// with extra (`,"Key":value`) added inside the object.
func Element(c Container, extra string) string {
	n, _ := json.Marshal([]string{c.Name})
	l, _ := json.Marshal(c.Labels)
	state := c.State
	if state == "" {
		state = "running"
	}
	return `{"Id":"` + c.ID + `","Names":` + string(n) + `,"Image":"fake:latest","Labels":` + string(l) + `,"State":"` + state + `"` + extra + `}`
}

// List is the engine's container list answer made of these elements.
func List(elems ...string) string { return "[" + strings.Join(elems, ",") + "]\n" }

// World is what a fake engine holds: its containers in the engine's list
// order (newest first) and its answers about them, computed once so that
// serving them costs the engine nothing. It is safe for concurrent use.
type World struct {
	cs      []Container
	byRef   map[string]int // full ID and name -> index in cs
	all     []byte         // the list answer with every container
	elems   [][]byte       // each container's list element, a part of all
	inspect func(i int) []byte
}

// NewWorld holds cs, in that list order, with generic answers: the list
// elements of [Element] and an inspect answer with Id, Name and Config
// (Env, Labels, Image).
func NewWorld(cs ...Container) *World {
	list := newListBuilder(0, len(cs))
	docs := make([][]byte, len(cs))
	for i, c := range cs {
		list.add(Element(c, ""))
		docs[i] = encode(map[string]any{
			"Id":     c.ID,
			"Name":   c.Name,
			"Config": map[string]any{"Env": c.Env, "Labels": c.Labels, "Image": "fake:latest"},
		})
	}
	all, elems := list.done()
	return newWorld(cs, all, elems, func(i int) []byte { return docs[i] })
}

// listBuilder builds a list answer element by element, remembering where
// each one lies in it.
type listBuilder struct {
	all   []byte
	spans [][2]int
}

func newListBuilder(size, n int) *listBuilder {
	return &listBuilder{all: append(make([]byte, 0, size+2), '['), spans: make([][2]int, 0, n)}
}

func (b *listBuilder) add(el string) {
	if len(b.spans) > 0 {
		b.all = append(b.all, ',')
	}
	b.spans = append(b.spans, [2]int{len(b.all), len(b.all) + len(el)})
	b.all = append(b.all, el...)
}

// done returns the list answer and each element as the part of it that
// holds it.
func (b *listBuilder) done() (all []byte, elems [][]byte) {
	b.all = append(b.all, "]\n"...)
	for _, s := range b.spans {
		elems = append(elems, b.all[s[0]:s[1]:s[1]])
	}
	return b.all, elems
}

// newWorld indexes cs; all is their list answer and elems their elements,
// parts of it.
func newWorld(cs []Container, all []byte, elems [][]byte, inspect func(i int) []byte) *World {
	w := &World{cs: cs, byRef: make(map[string]int, 2*len(cs)), all: all, elems: elems, inspect: inspect}
	for i, c := range cs {
		w.byRef[c.ID] = i
		w.byRef[c.Name] = i
	}
	return w
}

// Containers returns the containers, newest first.
func (w *World) Containers() []Container { return slices.Clone(w.cs) }

// Container returns the container named name (with or without its slash),
// failing the test when there is none.
func (w *World) Container(tb testing.TB, name string) Container {
	tb.Helper()
	i, ok := w.byRef["/"+strings.TrimPrefix(name, "/")]
	if !ok {
		tb.Fatalf("fakeengine: no container %s", name)
	}
	return w.cs[i]
}

// List returns the list answer with every container (GET
// /containers/json?all=1), the engine's own bytes: do not modify them.
func (w *World) List() []byte { return w.all }

// ListOf returns the list answer with only the containers keep keeps: what
// a proxy showing only those answers.
func (w *World) ListOf(keep func(Container) bool) []byte {
	var sel [][]byte
	for i, c := range w.cs {
		if keep(c) {
			sel = append(sel, w.elems[i])
		}
	}
	return joinList(sel)
}

func joinList(elems [][]byte) []byte {
	return append(append([]byte{'['}, bytes.Join(elems, []byte{','})...), "]\n"...)
}

// listQuery is what the engine reads of a list request.
type listQuery struct {
	all     bool
	limited bool // a limit was given: the index asks for the newest containers
	limit   int
	ids     []*regexp.Regexp // the id filter: any matches anywhere in the ID
}

// parseListQuery reads all, limit and filters as the engine does: the first
// value of each, url.ParseQuery's errors, and a limit that is not an
// integer refused. It reads the raw query itself, so that a plain one
// costs no allocation: the benchmarks count the fake's allocations with
// the proxy's.
func parseListQuery(raw string) (listQuery, error) {
	var q listQuery
	var all, limit, filters string
	var seenAll, seenLimit, seenFilters bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(pair, ";") {
			return q, errors.New("invalid semicolon separator in query")
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return q, err
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return q, err
		}
		switch {
		case k == "all" && !seenAll:
			all, seenAll = v, true
		case k == "limit" && !seenLimit:
			limit, seenLimit = v, true
		case k == "filters" && !seenFilters:
			filters, seenFilters = v, true
		}
	}
	switch strings.ToLower(strings.TrimSpace(all)) {
	case "", "0", "no", "false", "none":
	default:
		q.all = true
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil {
			return q, err
		}
		q.limited, q.limit = true, n
	}
	if filters != "" {
		var err error
		if q.ids, err = parseIDFilter(filters); err != nil {
			return q, err
		}
	}
	return q, nil
}

// parseIDFilter reads a filters argument, of which the fake knows id.
func parseIDFilter(s string) ([]*regexp.Regexp, error) {
	var filters map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &filters); err != nil {
		return nil, fmt.Errorf("invalid filter: %w", err)
	}
	var ids []*regexp.Regexp
	for key, raw := range filters {
		if key != "id" {
			return nil, fmt.Errorf("fakeengine: filter %q not supported", key)
		}
		// Both encodings: ["a","b"] and the older {"a":true}.
		var values []string
		var set map[string]bool
		if json.Unmarshal(raw, &values) != nil {
			if err := json.Unmarshal(raw, &set); err != nil {
				return nil, fmt.Errorf("invalid filter: %w", err)
			}
			for v := range set {
				values = append(values, v)
			}
		}
		for _, v := range values {
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, err
			}
			ids = append(ids, re)
		}
	}
	return ids, nil
}

// list is the answer to a list query: filters, then limit.
func (w *World) list(q listQuery) []byte {
	if q.all && q.limit <= 0 && len(q.ids) == 0 {
		return w.all
	}
	var sel [][]byte
	for i, c := range w.cs {
		if q.limit > 0 && len(sel) == q.limit {
			break
		}
		if !q.all && !c.running() || len(q.ids) > 0 && !slices.ContainsFunc(q.ids, func(re *regexp.Regexp) bool { return re.MatchString(c.ID) }) {
			continue
		}
		sel = append(sel, w.elems[i])
	}
	if len(sel) == len(w.cs) {
		return w.all
	}
	return joinList(sel)
}

// resolve finds ref as the engine does: full ID, then name (with or without
// its slash), then unique ID prefix. n is the number of containers found:
// 0 (none), 1 (container i) or more (an ambiguous prefix).
func (w *World) resolve(ref string) (i, n int) {
	if i, ok := w.byRef[ref]; ok && !strings.HasPrefix(ref, "/") {
		return i, 1
	}
	if i, ok := w.byRef["/"+strings.TrimPrefix(ref, "/")]; ok {
		return i, 1
	}
	if ref == "" {
		return 0, 0
	}
	for j, c := range w.cs {
		if strings.HasPrefix(c.ID, ref) {
			i, n = j, n+1
		}
	}
	return i, n
}

// encode is encoding/json without HTML escaping, plus the engine's newline.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.Bytes()
}
