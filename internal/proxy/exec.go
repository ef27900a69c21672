package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/dpf-dev/docker-proxy-filter/internal/index"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// An exec instance belongs to a container: /exec/{id}/json, /start and
// /resize are decided by that container's visibility. An exec of a hidden
// container answers exactly like an exec that does not exist.

// serveExec decides an exec route by the exec's container.
func (p *Proxy) serveExec(w http.ResponseWriter, r *http.Request, rt *route.Route, a *audit) {
	containerID, err := p.execContainer(r.Context(), rt.Ref)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		a.reason = errUpstreamLookup.Error() + ": " + err.Error()
		p.writeEngineError(w, http.StatusBadGateway, "cannot reach the upstream Docker engine")
		return
	}
	visible := false
	var d index.Decision
	if containerID != "" {
		if d, err = p.index.Resolve(r.Context(), containerID); err != nil {
			a.reason = errUpstreamLookup.Error() + ": " + err.Error()
			p.writeEngineError(w, http.StatusBadGateway, "cannot reach the upstream Docker engine")
			return
		}
		visible = d.Outcome == index.Found && d.ID == containerID
	}
	if !visible {
		a.reason = "exec of no visible container"
		p.writeEngineError(w, http.StatusNotFound, "No such exec instance: "+rt.Ref)
		return
	}
	a.decision, a.containerID, a.containerName = decisionAllow, d.ID, d.Name
	p.forward(w, r, &forward{path: rt.Path, rawQuery: r.URL.RawQuery})
}

// execContainer returns the full ID of the container an exec instance belongs
// to, "" when there is no such exec. Exec IDs are exact 64-hex IDs (the
// engine resolves no prefixes or names for them), so anything else is
// unknown without asking. Answers are remembered: an exec never changes
// container.
func (p *Proxy) execContainer(ctx context.Context, execID string) (string, error) {
	if len(execID) != 64 || !isLowerHex(execID) {
		return "", nil
	}
	if cid, ok := p.execs.Get(execID); ok {
		return cid, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.urlHost+"/exec/"+execID+"/json", nil)
	if err != nil {
		return "", err
	}
	resp, err := p.transport.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	p.headers.observe(resp.Header)
	if resp.StatusCode == http.StatusNotFound {
		_, _ = io.Copy(io.Discard, resp.Body)
		return "", nil
	}
	var ex struct{ ContainerID string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&ex) != nil || ex.ContainerID == "" {
		return "", errBadUpstreamAnswer
	}
	p.execs.Add(execID, ex.ContainerID)
	return ex.ContainerID, nil
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
