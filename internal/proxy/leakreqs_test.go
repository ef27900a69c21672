package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/route"
)

// leakRequest is one request of the differential leak test.
type leakRequest struct {
	method, target string
	header         http.Header
	body           string
	stream         bool // read for a short while only (follow, stats, attach...)
	write          bool // may change engine state: sent after every read
	destroy        bool // may remove or rename visible containers: sent last
	// allowed are secrets this answer may carry: the documented residue of
	// a visible container that joined a hidden one's network namespace,
	// whose own files and processes show the hidden one's hostname.
	allowed []string
}

// leakRequests builds the request set: every route of the table with its
// variables bound to visible, hidden and nonexistent objects, versioned and
// not, plus adversarial requests from the attack catalog and the bodies and
// queries that carry container references.
func (w *leakWorld) leakRequests() []leakRequest {
	const missing = "nonexistent-container-x"
	missingHex := strings.Repeat("ef", 32)
	sacrificial := w.visible[leakHalf-1] // the only visible container writes may destroy
	hiddenRefs := []string{w.hidden[0].Name, w.hidden[2].ID, w.hidden[leakHalf-1].ID[:12], w.hidden[len(w.hidden)-1].Name}

	var reqs []leakRequest
	add := func(r leakRequest) {
		for _, v := range []string{"", "/v1.41"} {
			r2 := r
			r2.target = v + r.target
			reqs = append(reqs, r2)
		}
	}

	for _, spec := range route.Table {
		for _, b := range w.bindings(spec, sacrificial.Name, hiddenRefs, missing, missingHex) {
			target := b
			r := leakRequest{method: spec.Method, target: target, write: spec.Method != "GET" && spec.Method != "HEAD"}
			switch spec.Op {
			case route.OpContainerLogs:
				r.target += "?stdout=1&stderr=1&follow=1&timestamps=1"
				r.stream = true
			case route.OpContainerStats:
				r.stream = true
			case route.OpContainerAttach, route.OpContainerAttachWebsocket:
				r.target += "?stream=1&stdout=1&stderr=1&logs=1"
				r.stream = true
			case route.OpContainerArchive, route.OpContainerArchiveInfo:
				r.target += "?path=/"
			case route.OpPutContainerArchive:
				r.target += "?path=/tmp"
				r.header = http.Header{"Content-Type": {"application/x-tar"}}
				r.body = string(smallTar())
			case route.OpContainerTop:
				r.target += "?ps_args=auxeww"
			case route.OpContainerExec:
				r.header, r.body = jsonHeader, `{"Cmd":["/app","env"],"AttachStdout":true}`
			case route.OpExecStart:
				r.header, r.body = jsonHeader, `{"Detach":false,"Tty":false}`
				r.stream = true
			case route.OpContainerUpdate:
				r.header, r.body = jsonHeader, `{"RestartPolicy":{"Name":"always"}}`
			case route.OpContainerRename:
				r.target += "?name=" + url.QueryEscape(w.key+"-renamed")
			case route.OpContainerStop, route.OpContainerRestart:
				r.target += "?t=1"
			case route.OpContainerWait:
				r.stream = true
			case route.OpSystemEvents:
				r.target += "?since=0&until=" + fmt.Sprint(nowUnix())
			case route.OpContainerExport:
				r.stream = true
			case route.OpServiceLogs, route.OpTaskLogs:
				r.target += "?stdout=1&stderr=1&follow=1"
				r.stream = true
			}
			if strings.Contains(target, w.joined) && ownData[spec.Op] {
				r.allowed = []string{w.hidden[4].ID, w.hidden[4].ID[:12]}
			}
			add(r)
		}
	}

	// References in queries and bodies.
	for _, h := range hiddenRefs {
		qh := url.QueryEscape(h)
		for _, f := range []string{
			`{"before":["` + h + `"]}`, `{"since":{"` + h + `":true}}`, `{"name":["` + h + `"]}`, `{"id":["` + h + `"]}`,
		} {
			add(leakRequest{method: "GET", target: "/containers/json?all=1&filters=" + url.QueryEscape(f)})
		}
		add(leakRequest{method: "GET", target: "/events?since=0&until=" + fmt.Sprint(nowUnix()) + "&filters=" + url.QueryEscape(`{"container":["`+h+`"]}`)})
		add(leakRequest{method: "POST", target: "/commit?container=" + qh + "&repo=leak", write: true})
		for _, body := range []string{
			`{"Image":"IMG","HostConfig":{"PidMode":"container:` + h + `"}}`,
			`{"Image":"IMG","HostConfig":{"IpcMode":"container:` + h + `"}}`,
			`{"Image":"IMG","HostConfig":{"NetworkMode":"container:` + h + `"}}`,
			`{"Image":"IMG","HostConfig":{"VolumesFrom":["` + h + `:ro"]}}`,
			`{"Image":"IMG","HostConfig":{"Links":["` + h + `:db"]}}`,
			`{"Image":"IMG","hostconfig":{"pidmode":"container:` + h + `"}}`,
			`{"Image":"IMG","HostConfig":{"PidMode":"container:ok"},"HostConfig":{"PidMode":"container:` + h + `"}}`,
			`{"Image":"IMG","PidMode":"container:` + h + `"}`,
			`{"Image":"IMG","VolumesFrom":["` + h + `"]}`,
			`{"Image":"IMG","NetworkingConfig":{"EndpointsConfig":{"` + w.sharedNet + `":{"Links":["` + h + `:x"]}}}}`,
		} {
			body = strings.ReplaceAll(body, "IMG", w.image)
			add(leakRequest{method: "POST", target: "/containers/create?name=" + url.QueryEscape(w.key+"-vis-new"), header: jsonHeader, body: body, write: true})
		}
		for _, op := range []string{"connect", "disconnect"} {
			add(leakRequest{method: "POST", target: "/networks/" + w.sharedNet + "/" + op, header: jsonHeader, body: `{"Container":"` + h + `","Force":true}`, write: true})
		}
	}

	// The prefix trap: refs that name visible[1] among visible containers
	// and the trap by name among all; the engine must act on visible[1].
	// Writes also go out at API 1.23 and 1.24 (plain-text errors, the old
	// start body).
	trap := w.prefixTrap.Name
	addOld := func(r leakRequest) {
		add(r)
		for _, v := range []string{"/v1.23", "/v1.24"} {
			r2 := r
			r2.target = v + r.target
			reqs = append(reqs, r2)
		}
	}
	for i, body := range []string{
		`{"Image":"IMG","HostConfig":{"NetworkMode":"none","PidMode":"container:` + trap + `"}}`,
		`{"Image":"IMG","HostConfig":{"NetworkMode":"none","IpcMode":"container:` + trap + `"}}`,
		`{"Image":"IMG","HostConfig":{"NetworkMode":"none","VolumesFrom":["` + trap + `:ro"]}}`,
		`{"Image":"IMG","HostConfig":{"NetworkMode":"none","Links":["` + trap + `:db"]}}`,
		`{"Image":"IMG","VolumesFrom":["` + trap + `"],"NetworkMode":"none"}`,
		`{"Image":"IMG","HostConfig":{"NetworkMode":"container:` + trap + `"}}`,
	} {
		body = strings.ReplaceAll(body, "IMG", w.image)
		body = strings.Replace(body, `{"Image"`, `{"Labels":{"`+w.key+`.app":"trap"},"Image"`, 1)
		// A name of its own for each, so every one is created.
		for _, v := range []string{"", "/v1.23", "/v1.24", "/v1.41"} {
			name := fmt.Sprintf("%s-vis-trap-%d%s", w.key, i, strings.NewReplacer("/", "-", ".", "").Replace(v))
			reqs = append(reqs, leakRequest{method: "POST", target: v + "/containers/create?name=" + name, header: jsonHeader, body: body, write: true})
		}
	}
	for _, op := range []string{"connect", "disconnect"} {
		addOld(leakRequest{method: "POST", target: "/networks/" + w.hiddenNet + "/" + op, header: jsonHeader, body: `{"Container":"` + trap + `"}`, write: true})
	}
	addOld(leakRequest{method: "POST", target: "/containers/" + w.visibleStopped.ID + "/start", header: jsonHeader, body: `{"VolumesFrom":["` + trap + `"]}`, write: true})
	// Name conflicts with hidden containers, at every API version (their
	// names only: a visible container named like a hidden ID would show
	// that string legitimately).
	for _, h := range []string{w.hidden[0].Name, w.hidden[len(w.hidden)-1].Name} {
		addOld(leakRequest{method: "POST", target: "/containers/create?name=" + url.QueryEscape(h), header: jsonHeader,
			body: `{"Image":"` + w.image + `","Labels":{"` + w.key + `.app":"x"},"HostConfig":{"NetworkMode":"none"}}`, write: true})
		addOld(leakRequest{method: "POST", target: "/containers/" + w.visibleStopped.ID + "/rename?name=" + url.QueryEscape(h), write: true})
	}

	// Adversarial paths and methods (attack catalog B).
	h := w.hidden[0].Name
	for _, r := range []leakRequest{
		{method: "GET", target: "/containers/" + w.visible[0].Name + "/../" + h + "/json"},
		{method: "GET", target: "//containers/" + h + "/json"},
		{method: "GET", target: "/containers/" + w.visible[0].Name + "/%2e%2e/" + h + "/json"},
		{method: "GET", target: "/containers/" + h + "%2Fjson"},
		{method: "get", target: "/containers/" + h + "/json"},
		{method: "TRACE", target: "/containers/" + h + "/json"},
		{method: "GET", target: "/containers/" + h + "/json", header: http.Header{"X-Http-Method-Override": {"DELETE"}}},
		{method: "GET", target: "http://docker/containers/" + h + "/json"},
		{method: "POST", target: "/containers/" + h + "/pause?a=/start", write: true},
		{method: "HEAD", target: "/containers/" + h + "/archive?path=/etc/shadow"},
		{method: "GET", target: "/containers/" + h + "%00/json"},
		{method: "GET", target: "/containers/json?filters=" + url.QueryEscape(`{"label":{"`+w.key+`.secretlabel0":true}}`)},
		{method: "GET", target: "/containers/json?all=1&size=1"},
		{method: "GET", target: "/containers/json?all=1&limit=3"},
		{method: "GET", target: "/networks?verbose=true"},
		{method: "GET", target: "/v1.27/networks"},
		{method: "GET", target: "/images/json?manifests=1&shared-size=1"},
		{method: "GET", target: "/system/df?verbose=1"},
		{method: "GET", target: "/tasks?filters=" + url.QueryEscape(`{"service":["`+w.hiddenServiceName+`"]}`)},
		{method: "GET", target: "/services?status=1"},
		{method: "POST", target: "/containers/prune", write: true},
	} {
		add(r)
	}

	// Reads first, then writes, the destructive ones last.
	var reads, writes, destroys []leakRequest
	for _, r := range reqs {
		switch {
		case !r.write:
			reads = append(reads, r)
		case r.method == "DELETE" || strings.Contains(r.target, "/prune") || strings.Contains(r.target, "/kill") || strings.Contains(r.target, "/rename"):
			r.destroy = true
			destroys = append(destroys, r)
		default:
			writes = append(writes, r)
		}
	}
	return append(append(reads, writes...), destroys...)
}

// bindings returns concrete paths for a route template.
func (w *leakWorld) bindings(spec route.Spec, sacrificial string, hiddenRefs []string, missing, missingHex string) []string {
	tpl := spec.Template
	bind := func(values ...string) []string {
		var out []string
		i := strings.IndexByte(tpl, '{')
		j := strings.IndexByte(tpl, '}')
		for _, v := range values {
			p := tpl[:i] + v + tpl[j+1:]
			// A second variable (checkpoint delete) gets a fixed value.
			if k := strings.IndexByte(p, '{'); k >= 0 {
				p = p[:k] + "cp1" + p[strings.IndexByte(p, '}')+1:]
			}
			out = append(out, p)
		}
		return out
	}
	if !strings.Contains(tpl, "{") {
		return []string{tpl}
	}
	switch {
	case spec.Op == route.OpOptions:
		return []string{"/containers/" + hiddenRefs[0] + "/json"}
	case spec.Strategy == route.Container:
		refs := append([]string{w.visible[0].Name, w.visibleStopped.ID, w.joined, missing}, hiddenRefs...)
		if spec.Method != "GET" && spec.Method != "HEAD" {
			refs[0] = sacrificial
		}
		return bind(refs...)
	case spec.Strategy == route.Exec:
		return bind(w.visibleExec, w.hiddenExec, w.hiddenExec[:12], missingHex)
	case strings.HasPrefix(tpl, "/networks/"):
		return bind(w.sharedNet, w.hiddenNet, missing)
	case strings.HasPrefix(tpl, "/services/"):
		return bind(w.visibleService, w.hiddenService, w.hiddenServiceName, w.hiddenService[:10], missing)
	case strings.HasPrefix(tpl, "/tasks/"):
		return bind(w.visibleTask, w.hiddenTask, missing)
	case strings.HasPrefix(tpl, "/nodes/"):
		return bind(w.nodeID)
	case strings.HasPrefix(tpl, "/images/"):
		return bind(w.hiddenImage, w.image, missing)
	case strings.HasPrefix(tpl, "/volumes/"):
		return bind(w.hiddenVolume, missing)
	default:
		return bind(missing)
	}
}

func nowUnix() int64 { return time.Now().Unix() }

// ownData are routes that return a container's own files, output or
// processes: what a container sees of a namespace it shares is its own data.
var ownData = map[route.Op]bool{
	route.OpContainerArchive: true, route.OpContainerArchiveInfo: true, route.OpContainerExport: true,
	route.OpContainerLogs: true, route.OpContainerAttach: true, route.OpContainerAttachWebsocket: true,
	route.OpContainerTop: true, route.OpContainerChanges: true,
}
