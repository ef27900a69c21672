package rewrite

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

// The services and tasks of testdata/swarm (see its README.txt).
const (
	svcVis   = "q4dushpsf9rj0pflpvjtbosrw"
	svcHid   = "n5da6o755h2rd063pdb6fepxk"
	ctrVisUp = "0e8fd35f66f6f2cc1f5c265443b6f1cdc8f236b530db3e346284d3add2247fa8"
	ctrHid   = "a2181fcc411f58dbf93f9a0ad0cf3a21e9d12d606fdd69cfb2982f7427f5cffa"
)

// homepageService keeps services with a Spec.Labels key containing "homepage".
func homepageService(_ string, labels map[string]string) bool {
	for k := range labels {
		if strings.Contains(k, "homepage") {
			return true
		}
	}
	return false
}

// envSecrets are the environment values of the swarm capture.
var envSecrets = []string{"SECRET=s", "API_KEY", "topsecret", "EXTRA=1", "TZ=UTC"}

func TestServiceListFixtures(t *testing.T) {
	for _, file := range []string{"services", "services-status"} {
		for _, scrub := range []bool{false, true} {
			name := file
			if scrub {
				name += "-scrubbed"
			}
			t.Run(name, func(t *testing.T) {
				in := httpBody(t, "swarm/"+file+".http")
				got, counts, err := ServiceList(in, homepageService, scrub)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "swarm-"+name+".json", got)
				if counts != (Counts{Kept: 1, Total: 2}) {
					t.Errorf("counts %+v, want 1 of 2", counts)
				}
				svcs := decode[[]struct {
					ID   string
					Spec struct{ Name string }
				}](t, got)
				if len(svcs) != 1 || svcs[0].ID != svcVis || svcs[0].Spec.Name != "svc-vis" {
					t.Errorf("services %+v, want only svc-vis", svcs)
				}
				for _, secret := range envSecrets {
					if has := bytes.Contains(got, []byte(secret)); has == scrub && secret != "API_KEY" && secret != "topsecret" {
						t.Errorf("scrub=%v: output contains %q: %v", scrub, secret, has)
					}
				}
				if bytes.Contains(got, []byte("topsecret")) {
					t.Error("hidden service's env in the output")
				}
			})
		}
	}
	in := httpBody(t, "swarm/services.http")
	got, counts, err := ServiceList(in, nil, false)
	if err != nil || !sameSlice(in, got) || counts != (Counts{Kept: 2, Total: 2}) {
		t.Errorf("nil keepService: changed body or counts %+v (err %v)", counts, err)
	}
}

func TestServiceInspectFixtures(t *testing.T) {
	tests := []struct {
		file, name string
		labels     map[string]string
	}{
		{file: "service-inspect-visible", name: "svc-vis", labels: map[string]string{"homepage.x": "1"}},
		{file: "service-inspect-byname", name: "svc-vis", labels: map[string]string{"homepage.x": "1"}},
		{file: "service-inspect-hidden", name: "svc-hid", labels: map[string]string{"private": "yes"}},
	}
	for _, tt := range tests {
		in := httpBody(t, "swarm/"+tt.file+".http")
		name, labels, out, err := ServiceInspect(in, true)
		if err != nil {
			t.Fatal(err)
		}
		if name != tt.name || !maps.Equal(labels, tt.labels) {
			t.Errorf("%s: name %q labels %v, want %q %v", tt.file, name, labels, tt.name, tt.labels)
		}
		checkGolden(t, "swarm-"+tt.file+"-scrubbed.json", out)
		for _, secret := range envSecrets {
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("%s: scrubbed output contains %q", tt.file, secret)
			}
		}
		_, _, raw, err := ServiceInspect(in, false)
		if err != nil || !sameSlice(in, raw) {
			t.Errorf("%s: unscrubbed output differs (err %v)", tt.file, err)
		}
	}
	_, _, out, err := ServiceInspect(httpBody(t, "swarm/service-inspect-missing.http"), true)
	if err != nil || !bytes.Contains(out, []byte("not found")) {
		t.Errorf("error body: %s, %v", out, err)
	}
}

func TestTaskFixtures(t *testing.T) {
	keep := func(service, ctr string) bool { return service == svcVis }
	for _, file := range []string{"tasks", "tasks-filter-service"} {
		in := httpBody(t, "swarm/"+file+".http")
		got, counts, err := TaskList(in, keep, true)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "swarm-"+file+"-scrubbed.json", got)
		tasks := decode[[]struct{ ServiceID string }](t, got)
		if len(tasks) != 2 || counts.Kept != 2 || tasks[0].ServiceID != svcVis || tasks[1].ServiceID != svcVis {
			t.Errorf("%s: tasks %+v counts %+v, want svc-vis's two", file, tasks, counts)
		}
		for _, secret := range envSecrets {
			if bytes.Contains(got, []byte(secret)) {
				t.Errorf("%s: scrubbed output contains %q", file, secret)
			}
		}
	}
	for file, want := range map[string][2]string{
		"task-inspect-visible": {svcVis, ctrVisUp},
		"task-inspect-hidden":  {svcHid, ctrHid},
	} {
		in := httpBody(t, "swarm/"+file+".http")
		service, ctr, out, err := TaskInspect(in, true)
		if err != nil || service != want[0] || ctr != want[1] {
			t.Errorf("%s: %q %q %v, want %q", file, service, ctr, err, want)
		}
		if bytes.Contains(out, []byte("SECRET")) || bytes.Contains(out, []byte("API_KEY")) {
			t.Errorf("%s: env survived", file)
		}
	}
}

func TestSwarm(t *testing.T) {
	keepVis := func(name string, labels map[string]string) bool { return name == "vis" && labels["k"] == "" }
	tests := []struct{ name, in, want string }{
		{name: "case and merge", in: `[{"spec":{"NAME":"vis","Labels":{"k":"1"},"labels":{"k":null}}},{"Spec":{"Name":"vis","Labels":{"k":"1"}}}]`,
			want: `[{"spec":{"NAME":"vis","Labels":{"k":"1"},"labels":{"k":null}}}]`},
		{name: "labels reset", in: `[{"Spec":{"Name":"vis","Labels":{"k":"1"},"Labels":null}}]`, want: `[{"Spec":{"Name":"vis","Labels":{"k":"1"},"Labels":null}}]`},
		{name: "env scrub", in: `[{"Spec":{"Name":"vis","TaskTemplate":{"ContainerSpec":{"Env":["A=1"],"env":null}}},"PreviousSpec":{"TaskTemplate":{"ContainerSpec":{"Env":["A=0"]}}}}]`,
			want: `[{"Spec":{"Name":"vis","TaskTemplate":{"ContainerSpec":{"Env":[],"env":[]}}},"PreviousSpec":{"TaskTemplate":{"ContainerSpec":{"Env":[]}}}}]`},
		{name: "no spec", in: `[{"ID":"x"},{"Spec":null}]`, want: `[]`},
	}
	for _, tt := range tests {
		got, _, err := ServiceList([]byte(tt.in), keepVis, true)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", tt.name, got, err, tt.want)
		}
	}
	got, counts, err := TaskList([]byte(`[{"ServiceID":"s","Status":{"ContainerStatus":{"ContainerID":"c"}}},{"ServiceID":"s","Status":{"State":"pending"}},{"ServiceID":"t"}]`),
		func(s, c string) bool { return s == "s" && c == "" }, false)
	if err != nil || string(got) != `[{"ServiceID":"s","Status":{"State":"pending"}}]` || counts != (Counts{Kept: 1, Total: 3}) {
		t.Errorf("TaskList = %s %+v %v", got, counts, err)
	}
	for _, in := range []string{``, `{}`, `[1]`, `[{"Spec":[]}]`, `[{"Spec":{"Name":1}}]`, `[{"Spec":{"Labels":[]}}]`, `[{"Spec":{"Labels":{"a":1}}}]`, `[{"Spec":{"Name":"vis","TaskTemplate":1}}]`} {
		got, _, err := ServiceList([]byte(in), keepVis, true)
		mustMalformed(t, in, got, err)
	}
	for _, in := range []string{``, `[]`, `{"Spec":{"Name":[]}}`, `{"Spec":{"Labels":{"a":[]}}}`, `{"PreviousSpec":{"TaskTemplate":[]}}`, `{} x`} {
		_, _, got, err := ServiceInspect([]byte(in), true)
		mustMalformed(t, in, got, err)
	}
	for _, in := range []string{``, `[]`, `{"ServiceID":1}`, `{"Status":[]}`, `{"Status":{"ContainerStatus":{"ContainerID":[]}}}`, `{"Spec":{"ContainerSpec":3}}`} {
		_, _, got, err := TaskInspect([]byte(in), true)
		mustMalformed(t, in, got, err)
	}
}
