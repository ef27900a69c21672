package rewrite

import (
	"bytes"
	"encoding/json"
	"testing"
)

type infoView struct {
	Containers, ContainersRunning, ContainersPaused, ContainersStopped, Images int
}

// countStates counts the visible containers of a container list as the
// engine's /info does.
func countStates(t *testing.T, list []byte, visible map[string]bool) ContainerCounts {
	var c ContainerCounts
	for _, s := range decode[[]struct {
		ID    string `json:"Id"`
		State string
	}](t, list) {
		if !visible[s.ID] {
			continue
		}
		c.Total++
		switch s.State {
		case "running":
			c.Running++
		case "paused":
			c.Paused++
		default:
			c.Stopped++
		}
	}
	return c
}

func TestInfoFixtures(t *testing.T) {
	for _, dir := range []string{"engine-20.10", "engine-29.7", "private-20.10"} {
		t.Run(dir, func(t *testing.T) {
			in := httpBody(t, dir+"/info.http")
			var list []byte
			if dir == "private-20.10" {
				list = decode[struct{ Containers json.RawMessage }](t, httpBody(t, dir+"/system-df.http")).Containers
			} else {
				list = httpBody(t, dir+"/containers-list-all.http")
			}
			visible, all := homepageIDs(t, list)
			c := countStates(t, list, visible)
			got, err := Info(in, c)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, dir+"-info.json", got)
			v, was := decode[infoView](t, got), decode[infoView](t, in)
			want := infoView{c.Total, c.Running, c.Paused, c.Stopped, was.Images}
			if v != want {
				t.Errorf("info %+v, want %+v", v, want)
			}
			// The whole engine counted gives back the engine's body.
			same, err := Info(in, countStates(t, list, all))
			if err != nil || !sameSlice(in, same) {
				t.Errorf("counting every container changed the body (err %v)", err)
			}
			if n := len(got) - len(in); n > 0 || !bytes.HasSuffix(got, []byte("}\n")) {
				t.Errorf("output grew by %d bytes or lost its newline", n)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	c := ContainerCounts{Total: 12, Running: 0, Paused: 1, Stopped: 11}
	tests := []struct{ name, in, want string }{
		{name: "engine order", in: `{"ID":"x","Containers":5,"ContainersRunning":4,"ContainersPaused":0,"ContainersStopped":1,"Images":3}` + "\n",
			want: `{"ID":"x","Containers":12,"ContainersRunning":0,"ContainersPaused":1,"ContainersStopped":11,"Images":3}` + "\n"},
		{name: "absent stays absent", in: `{"Containers":1}`, want: `{"Containers":12}`},
		{name: "case and duplicates", in: `{"containers":1,"CONTAINERS":2,"containersstopped":3}`, want: `{"containers":12,"CONTAINERS":12,"containersstopped":11}`},
		{name: "null", in: `{"ContainersPaused":null}`, want: `{"ContainersPaused":1}`},
		{name: "nested untouched", in: `{"Swarm":{"Containers":9},"Containers":12}`, want: `{"Swarm":{"Containers":9},"Containers":12}`},
	}
	for _, tt := range tests {
		got, err := Info([]byte(tt.in), c)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: Info = %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	for _, in := range []string{``, `[]`, `{"Containers":"1"}`, `{"ContainersRunning":1.0}`, `{"Containers":1}x`} {
		got, err := Info([]byte(in), c)
		mustMalformed(t, in, got, err)
	}
}
