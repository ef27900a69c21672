package proxy

import (
	"net/http"
	"regexp"

	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// serveImageInspect hides what an image committed from a hidden container
// says of it (its ID, its configuration) and, with SCRUB_ENVS, the
// environment it copied.
func (p *Proxy) serveImageInspect(x *exchange) {
	ctx := x.r.Context()
	keep := func(id string) bool { return p.containerVisible(ctx, id) }
	x.describe(x.r.URL.RawQuery, func(b []byte) ([]byte, error) {
		out, err := rewrite.ImageInspect(b, keep, p.scrubEnvs)
		if err != nil {
			return nil, err
		}
		return p.redactHostnames(out), nil
	})
}

// serveImageExport refuses to export an image committed from a hidden
// container: the tarball's config names that container and carries its
// configuration. Other images are forwarded. The image's source is read at
// an API version whose inspect answer still names it (see
// imageSourceVersion).
func (p *Proxy) serveImageExport(x *exchange) {
	names := x.r.URL.Query()["names"]
	if x.rt.Op() == route.OpImageGet {
		names = append(names, x.rt.Ref)
	}
	version, ok := imageSourceVersion(apiVersion(p.headers.apiVersion()), apiVersion(p.headers.minAPIVersion()))
	if !ok {
		x.audit.reason = "the engine does not say which container an image was committed from"
		x.fail(http.StatusForbidden, "docker-proxy-filter: this engine does not tell which container an image was committed from, so images are not exported")
		return
	}
	for _, name := range names {
		source, _, err := p.up.ImageSource(x.r.Context(), string(version), name)
		if err != nil {
			x.lookupFailed(err)
			return
		}
		if source == "" {
			continue
		}
		if _, visible, ok := p.index.Seen(source); ok && !visible {
			x.audit.reason = "image committed from a hidden container"
			x.fail(http.StatusForbidden, "docker-proxy-filter: image "+name+" was committed from a container this client cannot see; exporting it would reveal that container")
			return
		}
	}
	x.audit.decision = decisionAllow
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery})
}

// hostnameField finds the Hostname a committed image inherits from its
// source container: that container's short ID.
var hostnameField = regexp.MustCompile(`"Hostname":"([0-9a-f]{12})"`)

// redactHostnames blanks a Hostname that is a hidden container's short ID.
func (p *Proxy) redactHostnames(body []byte) []byte {
	return hostnameField.ReplaceAllFunc(body, func(m []byte) []byte {
		if p.index.HiddenID(string(m[len(`"Hostname":"`) : len(m)-1])) {
			return []byte(`"Hostname":""`)
		}
		return m
	})
}
