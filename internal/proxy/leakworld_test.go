package proxy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// leakWorld is the differential leak test's scenario on a private engine:
// visible and hidden containers, each hidden one with a distinctive name,
// label and env secret, plus networks, execs, a volume, a committed image
// and swarm services around them.
type leakWorld struct {
	e     *enginetest.Engine
	key   string // visible containers carry label <key>.app
	image string // the test image every container runs

	visible, hidden []enginetest.Container
	visibleStopped  enginetest.Container // a created-only visible container (stable answers)
	joined          string               // a visible container in a hidden one's network namespace
	sharedNet       string               // network with visible and hidden members
	hiddenNet       string               // network with hidden members only
	hiddenExec      string
	visibleExec     string
	hiddenVolume    string // mounted by a hidden container only
	hiddenImage     string // committed from a hidden container
	visibleService  string
	hiddenService   string
	// prefixTrap is a hidden container NAMED like a prefix of
	// visible[1]'s ID: a ref the proxy resolves to visible[1] is, forwarded
	// as written, this one for the engine.
	prefixTrap enginetest.Container
	// namedOnly is visible by its name alone (CONTAINER_NAMES), so a
	// rename can hide it.
	namedOnly         enginetest.Container
	hiddenServiceName string
	visibleTask       string
	hiddenTask        string
	nodeID            string

	// secrets are strings no answer may contain unless the request did.
	secrets []string
}

const leakHalf = 10 // visible and hidden containers each

// newLeakWorld builds the scenario on e (a private engine: it enters swarm
// mode).
func newLeakWorld(t *testing.T, e *enginetest.Engine) *leakWorld {
	t.Helper()
	ctx := context.Background()
	w := &leakWorld{e: e, key: enginetest.UniqueName(t, "k"), image: e.TestImage(t)}
	secret := func(s string) string { w.secrets = append(w.secrets, s); return s }

	w.sharedNet = e.Network(t, "shared-"+w.key)
	// Networks and volumes are not hidden objects (only which containers
	// use them is), so their names are not secrets.
	w.hiddenNet = e.Network(t, "hidnet-"+w.key)
	w.hiddenVolume = "hidvol-" + w.key
	if _, err := e.Client.VolumeCreate(ctx, client.VolumeCreateOptions{Name: w.hiddenVolume}); err != nil {
		t.Fatal(err)
	}

	for i := range leakHalf {
		net := "none"
		if i < 2 {
			net = w.sharedNet
		}
		w.visible = append(w.visible, e.Run(t, enginetest.RunSpec{
			Name:    fmt.Sprintf("%s-vis-%d", w.key, i),
			Labels:  map[string]string{w.key + ".app": fmt.Sprintf("v%d", i)},
			Env:     []string{fmt.Sprintf("VISIBLE_%d=visible-env-%s-%d", i, w.key, i)},
			Network: net,
		}))
	}
	w.visibleStopped = e.Run(t, enginetest.RunSpec{
		Name: w.key + "-vis-created", Labels: map[string]string{w.key + ".app": "created"}, NoStart: true,
	})
	for i := range leakHalf {
		net := "none"
		switch {
		case i < 2:
			net = w.sharedNet
		case i < 4:
			net = w.hiddenNet
		}
		spec := enginetest.RunSpec{
			Name:    secret(fmt.Sprintf("%s-hid-%d-zebra", w.key, i)),
			Labels:  map[string]string{secret(fmt.Sprintf("%s.secretlabel%d", w.key, i)): secret(fmt.Sprintf("labelvalue-%s-%d", w.key, i))},
			Env:     []string{fmt.Sprintf("HIDDEN_%d=%s", i, secret(fmt.Sprintf("envsecret-%s-%d", w.key, i)))},
			Network: net,
			NoStart: i == leakHalf-1, // one created-only hidden container too
		}
		c := e.Run(t, spec)
		w.hidden = append(w.hidden, c)
		secret(c.ID)
		secret(c.ID[:12])
	}

	// Adversarial names: a hidden container named like a prefix of a
	// visible ID, one named like a substring of the visible names (its
	// name appears inside theirs, so only its ID is a secret), and a
	// container visible by name only.
	w.prefixTrap = e.Run(t, enginetest.RunSpec{Name: w.visible[1].ID[:7], Labels: map[string]string{w.key + ".priv": "trap"}})
	w.hidden = append(w.hidden, w.prefixTrap)
	secret(w.prefixTrap.ID)
	secret(w.prefixTrap.ID[:12])
	sub := e.Run(t, enginetest.RunSpec{Name: w.key + "-vis", Labels: map[string]string{w.key + ".priv": "substring"}})
	w.hidden = append(w.hidden, sub)
	secret(sub.ID)
	secret(sub.ID[:12])
	w.namedOnly = e.Run(t, enginetest.RunSpec{Name: w.key + "-named-x"})

	// A hidden container mounting the hidden volume.
	vname := secret(w.key + "-hid-volume-user")
	created, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       vname,
		Config:     &container.Config{Image: e.TestImage(t), Labels: map[string]string{w.key + ".priv": "vol"}},
		HostConfig: &container.HostConfig{NetworkMode: "none", Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: w.hiddenVolume, Target: "/data"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.Client.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := e.Client.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	w.hidden = append(w.hidden, enginetest.Container{ID: created.ID, Name: vname})
	secret(created.ID)
	secret(created.ID[:12])

	// A visible container sharing a hidden one's network namespace: its
	// NetworkMode, hostname and resolv.conf/hosts paths name the hidden one.
	joined, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       w.key + "-vis-joined",
		Config:     &container.Config{Image: w.image, Labels: map[string]string{w.key + ".app": "joined"}},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode("container:" + w.hidden[4].ID)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.Client.ContainerRemove(context.Background(), joined.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := e.Client.ContainerStart(ctx, joined.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	w.joined = joined.ID

	exec := func(id string) string {
		res, err := e.Client.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: []string{"/app", "sleep", "300"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	w.hiddenExec = secret(exec(w.hidden[0].ID))
	w.visibleExec = exec(w.visible[0].ID)

	// An image committed from a hidden container names it (Container,
	// ContainerConfig, Config.Hostname). The image's own config copies the
	// container's labels and env, which are image data any engine shows, so
	// this source container's labels and env are not secrets; its ID is.
	src := e.Run(t, enginetest.RunSpec{Name: secret(w.key + "-hid-commit-src"), Labels: map[string]string{w.key + ".priv": "commit-src"}, Env: []string{"COMMIT_SRC=plain"}})
	w.hidden = append(w.hidden, src)
	secret(src.ID)
	secret(src.ID[:12])
	img, err := e.Client.ContainerCommit(ctx, src.ID, client.ContainerCommitOptions{Reference: "dpf-leak/committed:" + w.key})
	if err != nil {
		t.Fatal(err)
	}
	w.hiddenImage = img.ID
	t.Cleanup(func() {
		_, _ = e.Client.ImageRemove(context.Background(), img.ID, client.ImageRemoveOptions{Force: true})
	})

	w.startSwarm(t, secret)
	return w
}

// startSwarm puts the private engine in swarm mode with one visible and one
// hidden service.
func (w *leakWorld) startSwarm(t *testing.T, secret func(string) string) {
	t.Helper()
	ctx := context.Background()
	w.e.InitSwarm(t)
	w.visibleService = w.e.Service(t, w.key+"-vis-svc", map[string]string{w.key + ".app": "svc"}, "SVC_VISIBLE=visible-svc-env")
	w.hiddenServiceName = secret(w.key + "-hid-svc-quokka")
	w.hiddenService = secret(w.e.Service(t, w.hiddenServiceName,
		map[string]string{secret(w.key + ".svcsecret"): secret("svclabel-" + w.key)},
		"SVC_SECRET="+secret("svcenv-"+w.key)))
	// Wait for both services' task containers to run; the hidden task's
	// container is hidden (its service is), so its ID is a secret too.
	w.e.RunningTasks(t, w.visibleService, w.hiddenService)
	res, err := w.e.Client.TaskList(ctx, client.TaskListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range res.Items {
		w.nodeID = task.NodeID
		if task.ServiceID == w.visibleService {
			w.visibleTask = task.ID
		}
		if task.ServiceID == w.hiddenService {
			w.hiddenTask = secret(task.ID)
			if task.Status.ContainerStatus != nil && task.Status.ContainerStatus.ContainerID != "" {
				secret(task.Status.ContainerStatus.ContainerID)
				secret(task.Status.ContainerStatus.ContainerID[:12])
			}
		}
	}
}

// snapshot is everything about hidden things that must not change.
type snapshot map[string]string

func (w *leakWorld) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{}
	for _, c := range w.hidden {
		in, err := w.e.Client.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			s["container "+c.ID] = "gone: " + err.Error()
			continue
		}
		st := in.Container.State
		nets := make([]string, 0, len(in.Container.NetworkSettings.Networks))
		for name := range in.Container.NetworkSettings.Networks {
			nets = append(nets, name)
		}
		sort.Strings(nets)
		var mounts []string
		for _, m := range in.Container.Mounts {
			if m.Type == mount.TypeVolume {
				mounts = append(mounts, m.Name)
			}
		}
		s["container "+c.ID] = fmt.Sprintf("name=%s status=%s running=%v paused=%v started=%s restarts=%d execs=%d nets=%v mounts=%v",
			in.Container.Name, st.Status, st.Running, st.Paused, st.StartedAt, in.Container.RestartCount,
			len(in.Container.ExecIDs), nets, mounts)
	}
	if ex, err := w.e.Client.ExecInspect(ctx, w.hiddenExec, client.ExecInspectOptions{}); err == nil {
		s["exec"] = fmt.Sprintf("running=%v pid=%d", ex.Running, ex.PID)
	} else {
		s["exec"] = "gone: " + err.Error()
	}
	for _, name := range []string{w.sharedNet, w.hiddenNet} {
		n, err := w.e.Client.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
		if err != nil {
			s["network "+name] = "gone"
			continue
		}
		var members []string
		for id := range n.Network.Containers {
			members = append(members, id)
		}
		sort.Strings(members)
		s["network "+name] = strings.Join(members, ",")
	}
	if svc, err := w.e.Client.ServiceInspect(ctx, w.hiddenService, client.ServiceInspectOptions{}); err == nil {
		s["service"] = fmt.Sprintf("version=%d name=%s", svc.Service.Version.Index, svc.Service.Spec.Name)
	} else {
		s["service"] = "gone: " + err.Error()
	}
	if _, err := w.e.Client.VolumeInspect(ctx, w.hiddenVolume, client.VolumeInspectOptions{}); err != nil {
		s["volume"] = "gone"
	}
	// Which containers reach a hidden one: its volumes, links and
	// namespaces, as the engine stored them. A request the proxy decided on
	// a visible container must never add one.
	if list, err := w.e.Client.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
		for _, c := range list.Items {
			in, err := w.e.Client.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if err != nil || in.Container.HostConfig == nil {
				continue
			}
			hc := in.Container.HostConfig
			// The container each value names, parsed as the engine does.
			var named []string
			for _, mode := range []string{string(hc.NetworkMode), string(hc.PidMode), string(hc.IpcMode)} {
				if _, ref, ok := strings.Cut(mode, ":"); ok {
					named = append(named, ref)
				}
			}
			for _, v := range hc.VolumesFrom {
				ref, _, _ := strings.Cut(v, ":")
				named = append(named, ref)
			}
			for _, v := range hc.Links { // "/child:/parent/alias"
				ref, _, _ := strings.Cut(v, ":")
				named = append(named, ref)
			}
			for _, ref := range named {
				for _, h := range w.hidden {
					if ref == h.ID || strings.TrimPrefix(ref, "/") == h.Name {
						s[referencePrefix+c.ID[:12]+" -> "+ref] = "present"
					}
				}
			}
		}
	}
	return s
}

// referencePrefix starts the snapshot keys of references to hidden
// containers: one that appears is a request that reached a hidden
// container; one that goes is a visible container removed.
const referencePrefix = "reference from "
