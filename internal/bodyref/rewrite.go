package bodyref

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// Checking the references of a body is not enough: the engine resolves each
// one again, by full ID, then exact name, then unique ID prefix, among ALL
// containers. A hidden container named like a visible container's ID prefix
// is what it picks for a ref the proxy resolved, among visible containers,
// to that visible container. So the proxy forwards every reference the
// engine resolves as the full ID it decided on.
//
// The rewrite replaces whole JSON string literals and nothing else, so every
// other byte of the body reaches the engine as the client wrote it. It
// touches every literal the engine could decode into a reference field
// (repeated keys and keys in other letter cases included), then decodes the
// result exactly as the engine will and checks that each reference is now
// the decided ID: a literal it missed could not slip through.

// ErrRewrite reports a body whose references could not be rewritten
// faithfully; the request must not be forwarded.
var ErrRewrite = errors.New("bodyref: cannot rewrite the body's container references")

// RewriteCreate returns a POST /containers/create body (or an Engine 20.10
// start body, API < 1.24) with every reference the engine resolves replaced
// by ids[ref.Ref], the full ID the proxy decided on, keeping the value's
// other parts: "db:ro" becomes "<id>:ro", "container:db" "container:<id>",
// and a link "db" or "db:alias" "<id>:db" or "<id>:alias" (the alias the
// engine would derive, so the new container sees the same name). Endpoint
// links are DNS aliases the engine never resolves as containers and stay as
// they are. actsOn says which references the upstream engine resolves at
// all (an engine since 27 ignores top-level HostConfig fields, one since 24
// a PidMode other than "container:"); nil: all. Those it ignores are left
// as written. Every ref of ContainerCreate(body) with a non-empty Ref that
// the engine acts on, other than an endpoint link, must have an entry in
// ids.
func RewriteCreate(body []byte, ids map[string]string, actsOn func(Ref) bool) ([]byte, error) {
	before, err := ContainerCreate(body)
	if err != nil {
		return nil, err
	}
	if actsOn == nil {
		actsOn = func(Ref) bool { return true }
	}
	r := rewriter{body: body, ids: ids, actsOn: actsOn}
	if err := r.createBody(); err != nil {
		return nil, err
	}
	out := r.apply()
	after, err := ContainerCreate(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRewrite, err)
	}
	if err := checkRewritten(before, after, ids, actsOn); err != nil {
		return nil, err
	}
	return out, nil
}

// RewriteNetworkContainer returns a network connect (connect true) or
// disconnect body with its Container replaced by id, every other byte kept.
func RewriteNetworkContainer(body []byte, connect bool, id string) ([]byte, error) {
	decode := func(b []byte) (Ref, []Ref, error) {
		if connect {
			return NetworkConnect(b)
		}
		ref, _, err := NetworkDisconnect(b)
		return ref, nil, err
	}
	before, links, err := decode(body)
	if err != nil {
		return nil, err
	}
	if before.Ref == "" {
		return body, nil // names no container; the engine refuses it
	}
	r := rewriter{body: body, ids: map[string]string{before.Ref: id}, actsOn: func(Ref) bool { return true }}
	err = r.eachMember(r.start(), func(key []byte, vs, ve int) error {
		if jsonscan.KeyEqualFold(key, "Container") {
			r.literal(vs, ve, NetworkContainer, false)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRewrite, err)
	}
	out := r.apply()
	after, afterLinks, err := decode(out)
	if err != nil || after.Ref != id || !slices.Equal(links, afterLinks) {
		return nil, fmt.Errorf("%w: the rewritten body decodes differently", ErrRewrite)
	}
	return out, nil
}

// checkRewritten compares the references of a body before and after the
// rewrite, as the engine decodes them.
func checkRewritten(before, after CreateInfo, ids map[string]string, actsOn func(Ref) bool) error {
	if len(before.Refs) != len(after.Refs) || before.Image != after.Image || !maps.Equal(before.Labels, after.Labels) {
		return fmt.Errorf("%w: the rewritten body decodes differently", ErrRewrite)
	}
	for i, b := range before.Refs {
		a := after.Refs[i]
		want := b
		if b.Ref != "" && b.Kind != EndpointLink && actsOn(b) {
			id, ok := ids[b.Ref]
			if !ok {
				return fmt.Errorf("%w: no decision for %s %q", ErrRewrite, b.Kind, b.Ref)
			}
			want.Ref, want.Raw = id, rewriteValue(b.Kind, b.Raw, id)
		}
		if a != want {
			return fmt.Errorf("%w: %s %q decodes as %q after the rewrite, want %q", ErrRewrite, b.Kind, b.Raw, a.Raw, want.Raw)
		}
	}
	return nil
}

// rewriteValue is value with the container it names replaced by id.
func rewriteValue(kind Kind, value, id string) string {
	switch kind {
	case VolumesFrom:
		return id + value[len(volumesFromRef(value)):]
	case Link:
		return id + ":" + linkAlias(value)
	case NetworkMode, IpcMode, PidMode:
		i := strings.IndexByte(value, ':')
		return value[:i+1] + id
	case NetworkContainer:
		return id
	}
	return value
}

// linkAlias returns the alias the legacy link parser derives from a valid
// "<name>[:<alias>]" (daemon/pkg/opts/opts.go ParseLink): the whole value
// without a colon; with a leading slash on the name ("/db:/web/db", the
// form inspect shows), the last element of the alias path.
func linkAlias(value string) string {
	name, alias, found := strings.Cut(value, ":")
	switch {
	case !found:
		return value
	case strings.HasPrefix(name, "/"):
		_, last := path.Split(alias)
		return last
	}
	return alias
}

// rewriter collects the literal replacements of one body.
type rewriter struct {
	body   []byte
	ids    map[string]string
	actsOn func(Ref) bool
	edits  []edit
}

type edit struct {
	start, end int
	text       []byte
}

// start is the offset of the body's first JSON value.
func (r *rewriter) start() int { return jsonscan.SkipSpace(r.body, 0) }

// eachMember walks the object at i; values that are not objects are skipped.
func (r *rewriter) eachMember(i int, fn func(key []byte, vs, ve int) error) error {
	if i >= len(r.body) || r.body[i] != '{' {
		return nil // null, or a type the engine rejects while decoding
	}
	_, err := jsonscan.ObjectMembers(r.body, i, 0, fn)
	return err
}

// createBody walks a create body: the HostConfig objects, and the
// HostConfig fields older engines read at the top level.
func (r *rewriter) createBody() error {
	err := r.eachMember(r.start(), func(key []byte, vs, ve int) error {
		if jsonscan.KeyEqualFold(key, "HostConfig") {
			return r.eachMember(vs, func(key []byte, vs, ve int) error {
				r.hostField(key, vs, ve, false)
				return nil
			})
		}
		r.hostField(key, vs, ve, true)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRewrite, err)
	}
	return nil
}

// hostField rewrites one HostConfig member (at the top level of the body
// when top) if it names containers.
func (r *rewriter) hostField(key []byte, vs, ve int, top bool) {
	switch {
	case jsonscan.KeyEqualFold(key, "VolumesFrom"):
		r.elements(vs, VolumesFrom, top)
	case jsonscan.KeyEqualFold(key, "Links"):
		r.elements(vs, Link, top)
	case jsonscan.KeyEqualFold(key, "NetworkMode"):
		r.literal(vs, ve, NetworkMode, top)
	case jsonscan.KeyEqualFold(key, "PidMode"):
		r.literal(vs, ve, PidMode, top)
	case jsonscan.KeyEqualFold(key, "IpcMode"):
		r.literal(vs, ve, IpcMode, top)
	}
}

// elements rewrites the string elements of the array at vs.
func (r *rewriter) elements(vs int, kind Kind, top bool) {
	if r.body[vs] != '[' {
		return
	}
	_, _ = jsonscan.ArrayElems(r.body, vs, 1, func(es, ee int) error {
		r.literal(es, ee, kind, top)
		return nil
	})
}

// literal replaces the string literal body[vs:ve] when it names a container
// the proxy decided on and the engine acts on.
func (r *rewriter) literal(vs, ve int, kind Kind, top bool) {
	if r.body[vs] != '"' {
		return
	}
	var value string
	if json.Unmarshal(r.body[vs:ve], &value) != nil {
		return
	}
	ref := refOf(kind, value)
	id, ok := r.ids[ref]
	if ref == "" || !ok || !r.actsOn(Ref{Kind: kind, Ref: ref, Raw: value, TopLevel: top}) {
		return
	}
	text, _ := json.Marshal(rewriteValue(kind, value, id))
	r.edits = append(r.edits, edit{vs, ve, text})
}

// refOf is the container a value of this kind names, "" for none.
func refOf(kind Kind, value string) string {
	switch kind {
	case VolumesFrom:
		return volumesFromRef(value)
	case Link:
		return linkRef(value)
	case NetworkMode, IpcMode:
		ref, _ := ContainerMode(value)
		return ref
	case PidMode:
		ref, _ := pidModeRef(value)
		return ref
	case NetworkContainer:
		return value
	}
	return ""
}

// apply returns the body with the edits made (they never overlap: each is
// one literal, found once, in order).
func (r *rewriter) apply() []byte {
	if len(r.edits) == 0 {
		return r.body
	}
	out := make([]byte, 0, len(r.body)+64*len(r.edits))
	prev := 0
	for _, e := range r.edits {
		out = append(out, r.body[prev:e.start]...)
		out = append(out, e.text...)
		prev = e.end
	}
	return append(out, r.body[prev:]...)
}
