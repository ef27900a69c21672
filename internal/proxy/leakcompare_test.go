package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// compareVisible checks part (c) of the leak test: what the proxy says about
// visible things equals what the engine says, modulo the documented
// filtering (hidden members, counts and envs removed).
func (w *leakWorld) compareVisible(t *testing.T, p *testProxy) {
	t.Helper()
	get := func(host, target string) (int, map[string]any, []any) {
		r := rawDo(t, host, "GET", target, nil, nil)
		var obj map[string]any
		var arr []any
		if strings.HasPrefix(strings.TrimSpace(r.Body), "[") {
			_ = json.Unmarshal([]byte(r.Body), &arr)
		} else {
			_ = json.Unmarshal([]byte(r.Body), &obj)
		}
		return r.Status, obj, arr
	}
	hidden := map[string]bool{}
	for _, c := range w.hidden {
		hidden[c.ID] = true
	}
	visibleLabel := w.key + ".app"
	// Visible: labelled, or a task of the visible service.
	isVisible := func(el any) bool {
		m, _ := el.(map[string]any)
		labels, _ := m["Labels"].(map[string]any)
		_, ok := labels[visibleLabel]
		names, _ := m["Names"].([]any)
		byName := len(names) > 0 && strings.HasPrefix(fmt.Sprint(names[0]), "/"+w.key+"-named-")
		return ok || byName || labels["com.docker.swarm.service.id"] == w.visibleService
	}

	t.Run("container inspect", func(t *testing.T) {
		_, got, _ := get(p.Host, "/containers/"+w.visibleStopped.Name+"/json")
		_, want, _ := get(w.e.Host, "/containers/"+w.visibleStopped.Name+"/json")
		if cfg, ok := want["Config"].(map[string]any); ok {
			cfg["Env"] = []any{} // SCRUB_ENVS
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("inspect through the proxy differs from the engine's (Env aside):\n got %v\nwant %v", got, want)
		}
	})

	t.Run("container list", func(t *testing.T) {
		enginetest.Eventually(t, 10*time.Second, "list equals the engine's, filtered", func() bool {
			_, _, got := get(p.Host, "/containers/json?all=1")
			_, _, all := get(w.e.Host, "/containers/json?all=1")
			var want []any
			for _, el := range all {
				if isVisible(el) {
					// Documented: a hidden container a visible one joins is
					// named "(hidden)".
					hc, _ := el.(map[string]any)["HostConfig"].(map[string]any)
					if mode, _ := hc["NetworkMode"].(string); strings.HasPrefix(mode, "container:") && hidden[strings.TrimPrefix(mode, "container:")] {
						hc["NetworkMode"] = "container:" + hiddenPlaceholder
					}
					want = append(want, el)
				}
			}
			return reflect.DeepEqual(got, want)
		})
	})

	t.Run("network members", func(t *testing.T) {
		_, got, _ := get(p.Host, "/networks/"+w.sharedNet)
		_, want, _ := get(w.e.Host, "/networks/"+w.sharedNet)
		members, _ := want["Containers"].(map[string]any)
		removed := 0.0
		for id := range members {
			if hidden[id] {
				delete(members, id)
				removed++
			}
		}
		// From API 1.52: Status.IPAM.Subnets counts addresses in use, the
		// hidden members' included; the proxy recounts them (one subnet).
		if st, ok := want["Status"].(map[string]any); ok {
			subnets, _ := st["IPAM"].(map[string]any)["Subnets"].(map[string]any)
			for _, sub := range subnets {
				m := sub.(map[string]any)
				m["IPsInUse"] = m["IPsInUse"].(float64) - removed
				m["DynamicIPsAvailable"] = m["DynamicIPsAvailable"].(float64) + removed
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("network inspect through the proxy:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("info counts", func(t *testing.T) {
		_, got, _ := get(p.Host, "/info")
		_, _, list := get(w.e.Host, "/containers/json?all=1")
		counts := map[string]float64{}
		for _, el := range list {
			if !isVisible(el) {
				continue
			}
			counts["Containers"]++
			switch el.(map[string]any)["State"] {
			case "running":
				counts["ContainersRunning"]++
			case "paused":
				counts["ContainersPaused"]++
			default:
				counts["ContainersStopped"]++
			}
		}
		for _, k := range []string{"Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped"} {
			if got[k] != counts[k] {
				t.Errorf("/info %s = %v, want %v visible", k, got[k], counts[k])
			}
		}
	})

	t.Run("swarm services and tasks", func(t *testing.T) {
		_, _, services := get(p.Host, "/services")
		if len(services) != 1 || services[0].(map[string]any)["ID"] != w.visibleService {
			t.Errorf("/services through the proxy = %v, want only the visible service %s", services, w.visibleService)
		}
		_, _, tasks := get(p.Host, "/tasks")
		if len(tasks) == 0 {
			t.Error("/tasks through the proxy is empty; want the visible service's task")
		}
		for _, task := range tasks {
			if task.(map[string]any)["ServiceID"] != w.visibleService {
				t.Errorf("/tasks through the proxy has a task of service %v", task.(map[string]any)["ServiceID"])
			}
		}
		for _, ref := range []string{w.visibleService, w.key + "-vis-svc"} {
			if status, svc, _ := get(p.Host, "/services/"+ref); status != http.StatusOK || svc["ID"] != w.visibleService {
				t.Errorf("inspect of the visible service by %s = %d %v, want 200 and its ID", ref, status, svc["ID"])
			}
		}
	})

	for _, target := range []string{"/version", "/volumes", "/images/json", "/exec/" + w.visibleExec + "/json"} {
		t.Run(target, func(t *testing.T) {
			gs, got, garr := get(p.Host, target)
			ws, want, warr := get(w.e.Host, target)
			if target == "/images/json" {
				// From API 1.51 each image counts the containers using it;
				// the proxy counts the visible ones.
				_, _, list := get(w.e.Host, "/containers/json?all=1")
				for _, img := range warr {
					m := img.(map[string]any)
					if n, ok := m["Containers"].(float64); ok && n >= 0 {
						visible := 0.0
						for _, el := range list {
							if isVisible(el) && el.(map[string]any)["ImageID"] == m["Id"] {
								visible++
							}
						}
						m["Containers"] = visible
					}
				}
			}
			if gs != http.StatusOK || gs != ws || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(garr, warr) {
				t.Errorf("%s through the proxy = %d %v %v, want the engine's %d %v %v", target, gs, got, garr, ws, want, warr)
			}
		})
	}
}
