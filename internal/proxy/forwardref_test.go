package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
	"github.com/dpf-dev/docker-proxy-filter/internal/match"
)

// prefixTrap is the world of the first outside attack: a hidden container
// NAMED like a prefix of a visible container's ID. The engine resolves a
// name before an ID prefix, so a ref the proxy resolves (among visible
// containers) to the visible one is, forwarded as written, the hidden one.
type prefixTrap struct {
	e       *enginetest.Engine
	key     string
	visible string // full ID; mounts an anonymous volume at /visible-data
	hidden  string // full ID; named prefix; mounts /hidden-data
	prefix  string // visible[:7], the hidden container's name
	proxy   *testProxy
}

func newPrefixTrap(t *testing.T) *prefixTrap {
	t.Helper()
	e := enginetest.Require(t)
	key := enginetest.UniqueName(t, "k")
	ctx := context.Background()
	home := e.Network(t, "") // a user-defined network, so they can join others
	create := func(name string, labels map[string]string, volume string) string {
		labels[enginetest.LabelTest] = t.Name()
		res, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       name,
			Config:     &container.Config{Image: e.TestImage(t), Labels: labels, Volumes: map[string]struct{}{volume: {}}},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(home)},
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		t.Cleanup(func() {
			_, _ = e.Client.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		})
		if _, err := e.Client.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		return res.ID
	}
	w := &prefixTrap{e: e, key: key}
	w.visible = create(key+"-vis", map[string]string{key + ".app": "v"}, "/visible-data")
	w.prefix = w.visible[:7]
	w.hidden = create(w.prefix, map[string]string{key + ".priv": "h"}, "/hidden-data")
	w.proxy = startProxy(t, e.Host, proxyConfig{filters: match.Criteria{Labels: []match.Label{{Key: key + ".app"}}}})
	return w
}

// createThrough creates a container through the proxy and returns the
// engine's own inspect of it.
func (w *prefixTrap) createThrough(t *testing.T, version, name, hostConfig string) container.InspectResponse {
	t.Helper()
	body := `{"Image":"` + w.e.TestImage(t) + `","Labels":{"` + w.key + `.app":"new"},"HostConfig":` + hostConfig + `}`
	got := rawDo(t, w.proxy.Host, "POST", version+"/containers/create?name="+name, strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	if got.Status != http.StatusCreated {
		t.Fatalf("create through the proxy = %d %s", got.Status, got.Body)
	}
	var created struct{ Id string }
	_ = json.Unmarshal([]byte(got.Body), &created)
	t.Cleanup(func() {
		_, _ = w.e.Client.ContainerRemove(context.Background(), created.Id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	return w.e.Inspect(t, created.Id)
}

// mountsFrom reports which of the two containers' volumes c mounts.
func mountsFrom(c container.InspectResponse) (visible, hidden bool) {
	for _, m := range c.Mounts {
		visible = visible || m.Destination == "/visible-data"
		hidden = hidden || m.Destination == "/hidden-data"
	}
	return visible, hidden
}

func TestEngineBodyRefsReachTheEngineAsDecided(t *testing.T) {
	w := newPrefixTrap(t)

	t.Run("volumes-from", func(t *testing.T) {
		c := w.createThrough(t, "", enginetest.UniqueName(t, "vf"), `{"NetworkMode":"none","VolumesFrom":["`+w.prefix+`:ro"]}`)
		if vis, hid := mountsFrom(c); !vis || hid {
			t.Errorf("VolumesFrom %s:ro mounts visible=%v hidden=%v, want the visible container's volume only", w.prefix, vis, hid)
		}
		if want := []string{w.visible + ":ro"}; len(c.HostConfig.VolumesFrom) != 1 || c.HostConfig.VolumesFrom[0] != want[0] {
			t.Errorf("the engine received VolumesFrom %q, want %q", c.HostConfig.VolumesFrom, want)
		}
	})
	t.Run("links keep their alias", func(t *testing.T) {
		name := enginetest.UniqueName(t, "lk")
		c := w.createThrough(t, "", name, `{"NetworkMode":"none","Links":["`+w.prefix+`:db"]}`)
		want := "/" + w.key + "-vis:/" + name + "/db"
		if len(c.HostConfig.Links) != 1 || c.HostConfig.Links[0] != want {
			t.Errorf("Links = %q, want [%q]: linked to the visible container under the alias asked for", c.HostConfig.Links, want)
		}
	})
	t.Run("namespace modes", func(t *testing.T) {
		c := w.createThrough(t, "", enginetest.UniqueName(t, "pid"), `{"NetworkMode":"none","PidMode":"container:`+w.prefix+`","IpcMode":"container:`+w.prefix+`"}`)
		if got := string(c.HostConfig.PidMode); got != "container:"+w.visible {
			t.Errorf("PidMode = %q, want container:<visible ID>", got)
		}
		if got := string(c.HostConfig.IpcMode); got != "container:"+w.visible {
			t.Errorf("IpcMode = %q, want container:<visible ID>", got)
		}
	})
	t.Run("network connect", func(t *testing.T) {
		net := w.e.Network(t, "")
		got := rawDo(t, w.proxy.Host, "POST", "/networks/"+net+"/connect", strings.NewReader(`{"Container":"`+w.prefix+`"}`), http.Header{"Content-Type": {"application/json"}})
		if got.Status != http.StatusOK {
			t.Fatalf("connect = %d %s", got.Status, got.Body)
		}
		n, err := w.e.Client.NetworkInspect(context.Background(), net, client.NetworkInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := n.Network.Containers[w.hidden]; ok {
			t.Error("the hidden container was connected")
		}
		if _, ok := n.Network.Containers[w.visible]; !ok {
			t.Error("the visible container was not connected")
		}
		got = rawDo(t, w.proxy.Host, "POST", "/networks/"+net+"/disconnect", strings.NewReader(`{"Container":"`+w.prefix+`"}`), http.Header{"Content-Type": {"application/json"}})
		if got.Status != http.StatusOK {
			t.Fatalf("disconnect = %d %s", got.Status, got.Body)
		}
	})
	t.Run("start body below API 1.24", func(t *testing.T) {
		if !w.e.ServesAPI(t, "1.23") {
			t.Skip("this engine serves no API version below 1.24, where start takes a body")
		}
		name := enginetest.UniqueName(t, "st")
		body := `{"Image":"` + w.e.TestImage(t) + `","Labels":{"` + w.key + `.app":"new"},"HostConfig":{"NetworkMode":"none"}}`
		got := rawDo(t, w.proxy.Host, "POST", "/v1.23/containers/create?name="+name, strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
		if got.Status != http.StatusCreated {
			t.Fatalf("create = %d %s", got.Status, got.Body)
		}
		t.Cleanup(func() {
			_, _ = w.e.Client.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		})
		got = rawDo(t, w.proxy.Host, "POST", "/v1.23/containers/"+name+"/start", strings.NewReader(`{"VolumesFrom":["`+w.prefix+`"]}`), http.Header{"Content-Type": {"application/json"}})
		if got.Status != http.StatusNoContent {
			t.Fatalf("start with a body = %d %s", got.Status, got.Body)
		}
		if vis, hid := mountsFrom(w.e.Inspect(t, name)); !vis || hid {
			t.Errorf("start body VolumesFrom %s mounts visible=%v hidden=%v, want the visible one only", w.prefix, vis, hid)
		}
	})
	t.Run("a prefix shared with a hidden ID is not ambiguous", func(t *testing.T) {
		// The hidden container's ID and the visible one's may share no
		// prefix; the hidden container's name is the visible ID's prefix,
		// and the path refs go out as full IDs.
		got := rawDo(t, w.proxy.Host, "GET", "/containers/"+w.prefix+"/json", nil, nil)
		if got.Status != http.StatusOK || !strings.Contains(got.Body, w.visible) {
			t.Errorf("inspect %s = %d, want the visible container", w.prefix, got.Status)
		}
	})
}
