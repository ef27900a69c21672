package proxy

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
)

// An exec instance belongs to a container: /exec/{id}/json, /start and
// /resize are decided by that container's visibility. An exec of a hidden
// container answers exactly like an exec that does not exist.

// serveExec decides an exec route by the exec's container.
func (p *Proxy) serveExec(x *exchange) {
	ctx := x.r.Context()
	containerID, err := p.execContainer(x, x.rt.Ref)
	if err != nil {
		x.lookupFailed(err)
		return
	}
	visible := false
	var d index.Decision
	if containerID != "" {
		if d, err = p.index.Resolve(ctx, containerID); err != nil {
			x.lookupFailed(err)
			return
		}
		visible = d.Outcome == index.Found && d.ID == containerID
	}
	if !visible {
		x.audit.reason = "exec of no visible container"
		if p.headers.podman() {
			x.failPodmanMissingExec(x.rt.Ref)
			return
		}
		x.fail(http.StatusNotFound, "No such exec instance: "+x.rt.Ref)
		return
	}
	x.audit.decision, x.audit.containerID, x.audit.containerName = decisionAllow, d.ID, d.Name
	x.forward(forward{path: x.rt.Path, rawQuery: x.r.URL.RawQuery})
}

// execContainer returns the full ID of the container an exec instance belongs
// to, "" when there is no such exec. Exec IDs are exact 64-hex IDs (the
// engine resolves no prefixes or names for them), so anything else is
// unknown without asking. Answers are remembered: an exec never changes
// container.
func (p *Proxy) execContainer(x *exchange, execID string) (string, error) {
	if len(execID) != 64 || !isLowerHex(execID) {
		return "", nil
	}
	if cid, ok := p.execs.Get(execID); ok {
		return cid, nil
	}
	cid, found, err := p.up.ExecContainer(x.r.Context(), execID)
	if err != nil || !found {
		return "", err
	}
	p.execs.Add(execID, cid)
	return cid, nil
}

// learnExec records the exec instance a visible container's exec create
// answer names, so its start needs no lookup.
func (p *Proxy) learnExec(resp *http.Response, containerID string) error {
	if resp.StatusCode != http.StatusCreated {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	resp.Body.Close()
	if err != nil {
		return err
	}
	var created struct{ Id string }
	if json.Unmarshal(body, &created) == nil && len(created.Id) == 64 {
		p.execs.Add(created.Id, containerID)
	}
	setBody(resp, body)
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}
