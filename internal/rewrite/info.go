package rewrite

import (
	"strconv"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// ContainerCounts are the container figures of GET /info, counted over the
// visible containers the way the engine counts all of them: state
// "running" is Running, "paused" is Paused, and every other state
// (created, restarting, exited, removing, dead) is Stopped; Total is the
// sum.
type ContainerCounts struct {
	Total, Running, Paused, Stopped int
}

// Info returns the GET /info body with the values of "Containers",
// "ContainersRunning", "ContainersPaused" and "ContainersStopped" replaced
// by c's. Only those four numbers are re-encoded; a member that is absent
// stays absent.
//
// Other figures still describe the whole engine: "Images" (images are not
// hidden), and "NGoroutines", "NFd" and "NEventsListener", which grow with
// running containers, attached streams and event subscribers. They are
// left as sent.
//
// A body that is not one JSON object, or where one of the four members is
// not an integer (or null), gives an error wrapping ErrMalformed. When nothing
// changes the result is body itself.
func Info(body []byte, c ContainerCounts) ([]byte, error) {
	ms, err := topMembers(body)
	if err != nil {
		return nil, scanErr("info", err)
	}
	fields := [...]struct {
		name string
		n    int
	}{
		{"Containers", c.Total},
		{"ContainersRunning", c.Running},
		{"ContainersPaused", c.Paused},
		{"ContainersStopped", c.Stopped},
	}
	e := &editor{body: body}
	for _, m := range ms {
		for _, f := range fields {
			if !jsonscan.KeyEqualFold(m.key, f.name) {
				continue
			}
			old, ok := jsonInt(body, m.vs, m.ve)
			if !ok && !isNull(body, m.vs) {
				return nil, shape("info", "%q is not an integer", f.name)
			}
			if !ok || old != int64(f.n) {
				e.replace(m.vs, m.ve, strconv.Itoa(f.n))
			}
		}
	}
	return e.apply()
}
