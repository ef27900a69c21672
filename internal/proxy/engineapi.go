package proxy

import (
	"strconv"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/bodyref"
)

// Engine releases differ in how they answer and what they read; each
// difference the proxy must follow is named here, once, by what it is. The
// upstream engine is known by its maximum API version (its Api-Version
// header): 20.10 = 1.41, 23 = 1.42, 24 = 1.43, 25 = 1.44, 26 = 1.45,
// 27 = 1.46-1.47, 28 = 1.48-1.51, 29 = 1.52 and later.

// apiVersion is an Engine API version such as "1.41", compared
// numerically as the engine compares it; "" is unknown.
type apiVersion string

// atMost reports whether v is at most major.minor; unknown is not.
func (v apiVersion) atMost(major, minor int) bool {
	a, b, found := strings.Cut(string(v), ".")
	if !found {
		return false
	}
	if i := strings.IndexByte(b, '.'); i >= 0 {
		b = b[:i]
	}
	maj, err1 := strconv.Atoi(a)
	min, err2 := strconv.Atoi(b)
	return err1 == nil && err2 == nil && (maj < major || maj == major && min <= minor)
}

// less reports whether v is older than w, part by part ("1.9" < "1.10").
func (v apiVersion) less(w apiVersion) bool {
	as, bs := strings.Split(string(v), "."), strings.Split(string(w), ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// plainTextErrors: below API 1.24 the engine answers errors in plain text.
// v is the request's version.
func (v apiVersion) plainTextErrors() bool { return v.atMost(1, 23) }

// startBodyIsHostConfig: below API 1.24 the engine applies the body of a
// container start as the container's new HostConfig when it is longer than
// 7 bytes or of unknown length (chunked); a shorter one it ignores. v is
// the request's version.
func (v apiVersion) startBodyIsHostConfig(contentLength int64) bool {
	return v.atMost(1, 23) && (contentLength > 7 || contentLength < 0)
}

// copyRouteRemoved: POST /containers/{id}/copy errors out (an empty 404)
// from API 1.24. v is the request's version; unversioned is the newest.
func (v apiVersion) copyRouteRemoved() bool { return v == "" || !v.atMost(1, 23) }

// engineAPI is the upstream engine's maximum API version, "" until known.
// Until it is known, wording follows the newest engines, and what the
// engine reads in a request follows the widest reading (never fewer
// container references than some engine acts on).
type engineAPI apiVersion

func (e engineAPI) known() bool { return e != "" }

// ambiguousPrefixIsServerError: engines up to 23 answered an ambiguous
// ID prefix with 500 "Multiple IDs found..."; later ones with 400.
func (e engineAPI) ambiguousPrefixIsServerError() bool { return apiVersion(e).atMost(1, 42) }

// invalidFilterCapitalized: engines up to 23 word an unknown filter key
// "Invalid filter 'k'"; from 24 (api/types/filters' invalidFilter) it is
// "invalid filter 'k'".
func (e engineAPI) invalidFilterCapitalized() bool { return apiVersion(e).atMost(1, 42) }

// killErrorCapitalized: engines before 26 word a failed kill "Cannot
// kill container: ...", later ones "cannot kill container: ...".
func (e engineAPI) killErrorCapitalized() bool { return apiVersion(e).atMost(1, 44) }

// missingListFilterIsServerError: Engine 20.10 answers a before/since list
// filter naming no container with 500 "no such container X".
func (e engineAPI) missingListFilterIsServerError() bool { return apiVersion(e).atMost(1, 41) }

// servesContainerCopy: the copy route was removed in Engine 26; an engine
// without it answers "page not found" for any ref.
func (e engineAPI) servesContainerCopy() bool { return !e.known() || apiVersion(e).atMost(1, 44) }

// readsTopLevelHostConfig: engines up to 26 also read HostConfig fields
// at the top level of a create (and old start) body.
func (e engineAPI) readsTopLevelHostConfig() bool { return !e.known() || apiVersion(e).atMost(1, 45) }

// resolvesAnyPidModePrefix: engines up to 23 look up whatever follows the
// first colon of any PidMode ("foo:db"); later ones only "container:".
func (e engineAPI) resolvesAnyPidModePrefix() bool { return !e.known() || apiVersion(e).atMost(1, 42) }

// actsOnRef reports whether the engine resolves a container reference
// found in a create (or old start) body at all: one it ignores is neither
// checked nor rewritten, since the virtual engine would ignore it too.
func (e engineAPI) actsOnRef(r bodyref.Ref) bool {
	switch {
	case r.TopLevel && !e.readsTopLevelHostConfig():
		return false
	case r.Kind == bodyref.PidMode && !strings.HasPrefix(r.Raw, "container:") && !e.resolvesAnyPidModePrefix():
		return false
	}
	return true
}

// imageSourceVersion is an API version at which the engine's image inspect
// still names the container an image was committed from ("Container", left
// out of answers from API 1.45 on, though engines keep it): the engine's
// own when it is at most 1.44, else 1.44 when the engine still serves it.
// ok is false when the engine serves no such version (or is not known).
func imageSourceVersion(max, min apiVersion) (apiVersion, bool) {
	switch {
	case max == "":
		return "", false
	case max.atMost(1, 44):
		return max, true
	case min == "" || !apiVersion("1.44").less(min):
		return "1.44", true
	}
	return "", false
}
