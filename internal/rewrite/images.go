package rewrite

import (
	"strconv"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// ImageList rewrites a GET /images/json body so that its container
// figures describe only visible containers:
//   - each image's "Containers" count becomes containersOf(Id) (the caller
//     counts visible containers using the image), unless it is negative:
//     the engine sends -1 when it did not count (API < 1.51, and engine 20.10
//     always), and a count the engine did not make must not appear;
//   - Manifests[].ImageData.Containers (container IDs, listed with
//     manifests=1 on the containerd image store) keeps only the IDs for
//     which keepContainer returns true, as filterRefList does.
//
// A nil containersOf leaves the counts alone, a nil keepContainer keeps
// every ID. Only the changed values are
// re-encoded. A body that is not one JSON array of objects, or whose
// members above have the wrong types, gives an error wrapping
// ErrMalformed. When nothing changes the result is body itself.
func ImageList(body []byte, containersOf func(imageID string) int, keepContainer func(id string) bool) ([]byte, error) {
	els, err := topElems(body)
	if err != nil {
		return nil, scanErr("image list", err)
	}
	e := &editor{body: body}
	for k, el := range els {
		if body[el.start] != '{' {
			return nil, shape("image list", "element %d is not an object", k)
		}
		ms, _, err := objectMembers(body, el.start, 1)
		if err != nil {
			return nil, scanErr("image list", err)
		}
		var id string
		var counts []member
		for _, m := range ms {
			switch {
			case jsonscan.KeyEqualFold(m.key, "Id"):
				err = bindString(body, m, &id, "image list")
			case jsonscan.KeyEqualFold(m.key, "Containers"):
				if _, ok := jsonInt(body, m.vs, m.ve); !ok && !isNull(body, m.vs) {
					err = shape("image list", `"Containers" is not an integer`)
				}
				counts = append(counts, m)
			case jsonscan.KeyEqualFold(m.key, "Manifests"):
				err = filterManifests(e, m, 2, keepContainer)
			}
			if err != nil {
				return nil, err
			}
		}
		if containersOf == nil || len(counts) == 0 {
			continue
		}
		// encoding/json keeps the last member; its sign decides.
		last := counts[len(counts)-1]
		if old, _ := jsonInt(body, last.vs, last.ve); old >= 0 && !isNull(body, last.vs) {
			replaceInts(e, counts, int64(containersOf(id)))
		}
	}
	return e.apply()
}

// ImageInspect rewrites a GET /images/{name}/json body.
//
// Below API 1.45 an image inspect carries "Container", the ID of the
// container a graphdriver-store image was committed from, and
// "ContainerConfig", that container's configuration (environment
// included). When Container names a container for which keepContainer
// returns false, it becomes "" and ContainerConfig becomes what the
// engine sends for an image without a source container (an imported one):
// the same object with every field zero ("" for strings, false, 0, and
// null for lists and maps), without the fields the engine omits when zero
// (ExposedPorts, Healthcheck, ArgsEscaped, NetworkDisabled, MacAddress,
// StopSignal, StopTimeout, Shell). Whether keepContainer should keep the
// ID of a container that no longer exists is the caller's choice: the
// smaller engine would still show it.
//
// With scrubEnvs, a ContainerConfig.Env that is neither null nor [] (the
// source container is visible, or unknown) becomes []; a hidden source's
// Env is null already. Manifests[].ImageData.Containers (manifests=1) is
// filtered as in ImageList.
//
// The image's own "Config" is left alone: it is part of the image (a
// committed image's Config is a copy of its container's, Env and
// Hostname included, and the smaller engine would show it the same).
//
// A body that is not one JSON object, or whose members above have the
// wrong types, gives an error wrapping ErrMalformed. When nothing
// changes the result is body itself.
func ImageInspect(body []byte, keepContainer func(id string) bool, scrubEnvs bool) ([]byte, error) {
	ms, err := topMembers(body)
	if err != nil {
		return nil, scanErr("image inspect", err)
	}
	e := &editor{body: body}
	hide := false
	var configs []member
	for _, m := range ms {
		switch {
		case jsonscan.KeyEqualFold(m.key, "Container"):
			var id string
			if err := bindString(body, m, &id, "image inspect"); err != nil {
				return nil, err
			}
			if id != "" && keepContainer != nil && !keepContainer(id) {
				hide = true
				e.replace(m.vs, m.ve, `""`)
			}
		case jsonscan.KeyEqualFold(m.key, "ContainerConfig"):
			if !isNull(body, m.vs) && body[m.vs] != '{' {
				return nil, shape("image inspect", `"ContainerConfig" is not an object`)
			}
			configs = append(configs, m)
		case jsonscan.KeyEqualFold(m.key, "Manifests"):
			if err := filterManifests(e, m, 1, keepContainer); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range configs {
		if isNull(body, m.vs) {
			continue
		}
		fs, _, err := objectMembers(body, m.vs, 1)
		if err != nil {
			return nil, scanErr("image inspect", err)
		}
		if hide {
			zeroConfig(e, fs)
			continue
		}
		if scrubEnvs {
			for _, f := range fs {
				if jsonscan.KeyEqualFold(f.key, "Env") && !isNull(body, f.vs) && string(body[f.vs:f.ve]) != "[]" {
					e.replace(f.vs, f.ve, "[]")
				}
			}
		}
	}
	return e.apply()
}

// omitEmptyConfig are the container.Config fields the engine leaves out
// when they are zero.
var omitEmptyConfig = []string{
	"ExposedPorts", "Healthcheck", "ArgsEscaped", "NetworkDisabled",
	"MacAddress", "StopSignal", "StopTimeout", "Shell",
}

// zeroConfig gives every member of a container config its zero value.
func zeroConfig(e *editor, fs []member) {
	items := make([]span, len(fs))
	drop := make([]bool, len(fs))
	for k, f := range fs {
		items[k] = f.span()
		for _, name := range omitEmptyConfig {
			if jsonscan.KeyEqualFold(f.key, name) {
				drop[k] = true
			}
		}
		if drop[k] {
			continue
		}
		var zero string
		switch jsonscan.KindOf(e.body[f.vs]) {
		case jsonscan.String:
			zero = `""`
		case jsonscan.Number:
			zero = "0"
		case jsonscan.Bool:
			zero = "false"
		default:
			zero = "null"
		}
		if string(e.body[f.vs:f.ve]) != zero {
			e.replace(f.vs, f.ve, zero)
		}
	}
	e.dropItems(items, drop)
}

// filterManifests filters Manifests[].ImageData.Containers in member m,
// whose value is nested depth deep.
func filterManifests(e *editor, m member, depth int, keep func(string) bool) error {
	b := e.body
	if isNull(b, m.vs) {
		return nil
	}
	if b[m.vs] != '[' {
		return shape("image", `"Manifests" is not an array`)
	}
	els, _, err := arrayElems(b, m.vs, depth)
	if err != nil {
		return scanErr("image", err)
	}
	for _, el := range els {
		if isNull(b, el.start) {
			continue
		}
		if b[el.start] != '{' {
			return shape("image", "a manifest is not an object")
		}
		mm := member{vs: el.start, ve: el.end}
		refs, err := objectPath(b, mm, depth+1, "ImageData")
		if err != nil {
			return err
		}
		for _, r := range refs {
			if jsonscan.KeyEqualFold(r.key, "Containers") {
				if err := filterRefs(e, r.vs, depth+3, keep); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// filterRefList returns list, a JSON array of container IDs (or null), with
// the IDs for which keep returns false removed, byte for byte otherwise.
// It is the helper for the places where the engine lists container IDs
// (an image manifest's ImageData.Containers, the ContainersDeleted of a
// prune report, ...). A nil keep keeps all. Anything else than an array of
// strings or null gives an error wrapping ErrMalformed; when nothing is
// removed the result is list itself.
func filterRefList(list []byte, keep func(id string) bool) ([]byte, error) {
	i := jsonscan.SkipSpace(list, 0)
	if i < len(list) && list[i] == 'n' {
		if !jsonscan.Valid(list) {
			return nil, malformed("container ID list: not JSON")
		}
		return list, nil
	}
	if _, err := topElems(list); err != nil {
		return nil, scanErr("container ID list", err)
	}
	e := &editor{body: list}
	if err := filterRefs(e, i, 0, keep); err != nil {
		return nil, err
	}
	return e.apply()
}

// filterRefs drops the hidden IDs from the array of container IDs at
// b[vs] (null is left alone).
func filterRefs(e *editor, vs, depth int, keep func(string) bool) error {
	b := e.body
	if isNull(b, vs) {
		return nil
	}
	if b[vs] != '[' {
		return shape("container ID list", "not an array")
	}
	els, _, err := arrayElems(b, vs, depth)
	if err != nil {
		return scanErr("container ID list", err)
	}
	drop := make([]bool, len(els))
	for k, el := range els {
		id, ok := jsonString(b, el.start, el.end)
		if !ok {
			return shape("container ID list", "element %d is not a string", k)
		}
		drop[k] = keep != nil && !keep(id)
	}
	e.dropItems(els, drop)
	return nil
}

// bindString binds a string member (null leaves *dst); what names the body
// in errors.
func bindString(b []byte, m member, dst *string, what string) error {
	if isNull(b, m.vs) {
		return nil
	}
	s, ok := jsonString(b, m.vs, m.ve)
	if !ok {
		return shape(what, "%s is not a string", strconv.Quote(string(m.key)))
	}
	*dst = s
	return nil
}
