package rewrite

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// A visible container's configuration can name another container: an admin
// created it with --volumes-from secret-db, --link secret-db:db or --pid
// container:secret-db, and a container another one links to carries the
// alias "/<linker>/<alias>" among its Names. When the container named is
// hidden, the name (or ID) is replaced by a placeholder, the rest kept.

// RedactInspectRefs returns a container inspect body (or a container list
// element) with every container reference in HostConfig (VolumesFrom
// "<ref>[:mode]", Links "<ref>:<alias path>", and NetworkMode, PidMode and
// IpcMode "<mode>:<ref>") and in the Links of each network endpoint
// (NetworkSettings.Networks.<net>.Links "<ref>:<alias>", what --link gives
// on a user network) for which hidden(ref) is true replaced by placeholder.
// Members bind as encoding/json binds them. When nothing changes the result
// is body itself.
func RedactInspectRefs(body []byte, hidden func(ref string) bool, placeholder string) ([]byte, error) {
	out, _, err := RedactInspectRefsNamed(body, hidden, placeholder)
	return out, err
}

// RedactInspectRefsNamed is RedactInspectRefs that also returns the body's
// Name (as InspectName reads it) from the same pass over the body.
func RedactInspectRefsNamed(body []byte, hidden func(ref string) bool, placeholder string) (out []byte, name string, err error) {
	e := editor{body: body}
	str := func(vs, ve int, split func(string) (ref, rest string, before bool)) {
		s, ok := jsonString(body, vs, ve)
		if !ok {
			return
		}
		ref, rest, before := split(s)
		if ref == "" || !hidden(ref) {
			return
		}
		v := placeholder + rest
		if before {
			v = rest + placeholder
		}
		text, _ := json.Marshal(v)
		e.replace(vs, ve, string(text))
	}
	refThenRest := func(s string) (string, string, bool) {
		ref, _, _ := strings.Cut(s, ":")
		return ref, s[len(ref):], false
	}
	modeThenRef := func(s string) (string, string, bool) {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return "", "", false
		}
		return s[i+1:], s[:i+1], true
	}
	refs := func(vs, depth int) error { // an array of "<ref>:<alias>"
		if body[vs] != '[' {
			return nil
		}
		_, err := jsonscan.ArrayElems(body, vs, depth, func(es, ee int) error {
			str(es, ee, refThenRest)
			return nil
		})
		return err
	}
	err = jsonscan.ObjectEach(body, func(key []byte, vs, ve int) error {
		if jsonscan.KeyEqualFold(key, "Name") {
			return bindString(body, member{key: key, vs: vs, ve: ve}, &name, "container inspect")
		}
		if jsonscan.KeyEqualFold(key, "NetworkSettings") && body[vs] == '{' {
			return endpointLinks(body, vs, refs)
		}
		if !jsonscan.KeyEqualFold(key, "HostConfig") || body[vs] != '{' {
			return nil
		}
		_, err := jsonscan.ObjectMembers(body, vs, 1, func(key []byte, vs, ve int) error {
			switch {
			case jsonscan.KeyEqualFold(key, "VolumesFrom"), jsonscan.KeyEqualFold(key, "Links"):
				if body[vs] != '[' {
					return nil
				}
				_, err := jsonscan.ArrayElems(body, vs, 2, func(es, ee int) error {
					str(es, ee, refThenRest)
					return nil
				})
				return err
			case jsonscan.KeyEqualFold(key, "NetworkMode"), jsonscan.KeyEqualFold(key, "PidMode"), jsonscan.KeyEqualFold(key, "IpcMode"):
				str(vs, ve, modeThenRef)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", malformed("container inspect: %v", err)
	}
	out, err = e.apply()
	return out, name, err
}

// DropHiddenAliases returns a container list element with the legacy link
// aliases "/<linker>/<alias>" in its Names removed when hiddenName(linker)
// is true ("/linker"): the alias names the container that linked to this
// one. elem must be one complete JSON object; when nothing changes the
// result is elem itself.
func DropHiddenAliases(elem []byte, hiddenName func(name string) bool) []byte {
	// Fast path for the common element: the engine writes "Names" as one
	// array of plain names (no brackets or quotes inside); with one name
	// there is no alias.
	if i := bytes.Index(elem, []byte(`"Names":[`)); i >= 0 {
		if j := bytes.IndexByte(elem[i:], ']'); j >= 0 && !bytes.Contains(elem[i:i+j], []byte(`","`)) {
			return elem
		}
	}
	e := editor{body: elem}
	_ = jsonscan.ObjectEach(elem, func(key []byte, vs, ve int) error {
		if !jsonscan.KeyEqualFold(key, "Names") || elem[vs] != '[' {
			return nil
		}
		var kept [][]byte
		dropped := false
		_, _ = jsonscan.ArrayElems(elem, vs, 1, func(es, ee int) error {
			if s, ok := jsonString(elem, es, ee); ok && strings.Count(s, "/") >= 2 && hiddenName(path.Dir(s)) {
				dropped = true
				return nil
			}
			kept = append(kept, elem[es:ee])
			return nil
		})
		if dropped {
			e.replace(vs, ve, "["+string(bytes.Join(kept, []byte(",")))+"]")
		}
		return nil
	})
	out, err := e.apply()
	if err != nil {
		return elem
	}
	return out
}

// endpointLinks calls refs on the Links array of every network endpoint of
// the NetworkSettings object at body[vs].
func endpointLinks(body []byte, vs int, refs func(vs, depth int) error) error {
	_, err := jsonscan.ObjectMembers(body, vs, 1, func(key []byte, vs, ve int) error {
		if !jsonscan.KeyEqualFold(key, "Networks") || body[vs] != '{' {
			return nil
		}
		_, err := jsonscan.ObjectMembers(body, vs, 2, func(_ []byte, vs, ve int) error {
			if body[vs] != '{' {
				return nil
			}
			_, err := jsonscan.ObjectMembers(body, vs, 3, func(key []byte, vs, ve int) error {
				if jsonscan.KeyEqualFold(key, "Links") {
					return refs(vs, 4)
				}
				return nil
			})
			return err
		})
		return err
	})
	return err
}

// InspectName reads a container inspect answer's Name ("/web"), bound as
// encoding/json binds it (keys case-insensitive, the last duplicate wins);
// "" when it has none. The proxy checks the answer itself, because the
// container may have been renamed between the decision and the engine's
// answer (labels never change, so the name is all that can).
func InspectName(body []byte) (name string, err error) {
	err = jsonscan.ObjectEach(body, func(key []byte, vs, ve int) error {
		if !jsonscan.KeyEqualFold(key, "Name") {
			return nil
		}
		return bindString(body, member{key: key, vs: vs, ve: ve}, &name, "container inspect")
	})
	if err != nil {
		return "", scanErr("container inspect", err)
	}
	return name, nil
}
