package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// privateIDs are the containers of the private-20.10 capture.
var privateIDs = struct{ webA, dbB string }{
	webA: "d12e476fc2030d1e9d62ce3ff0b36d69f0d97a6709d8fd2af449069c32190ed9",
	dbB:  "98bf94b3af9082f883b134364e779daadeecf1cacc63cc1d42362aa421ab0508",
}

func TestImageInspectFixtures(t *testing.T) {
	visible := privateOrEngineVisible(t, "private-20.10")
	imported := httpBody(t, "private-20.10/image-inspect-imported.http")
	zeroConfig := rawMember(t, imported, "ContainerConfig")
	tests := []struct {
		file       string
		scrub      bool
		container  string          // want
		config     json.RawMessage // want ContainerConfig; nil: as sent except Env
		secretGone string
	}{
		{file: "image-inspect-committed-hidden", container: "", config: zeroConfig, secretGone: "s3cret"},
		{file: "image-inspect-committed-hidden", scrub: true, container: "", config: zeroConfig, secretGone: "s3cret"},
		{file: "image-inspect-committed-visible", container: privateIDs.webA},
		{file: "image-inspect-committed-visible", scrub: true, container: privateIDs.webA},
		{file: "image-inspect-imported", scrub: true, container: "", config: zeroConfig},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.scrub {
			name += "-scrubbed"
		}
		t.Run(name, func(t *testing.T) {
			in := httpBody(t, "private-20.10/"+tt.file+".http")
			got, err := ImageInspect(in, (&inSet{ids: visible}).keep, tt.scrub)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "private-20.10-"+name+".json", got)
			if c := decode[struct{ Container string }](t, got).Container; c != tt.container {
				t.Errorf("Container = %q, want %q", c, tt.container)
			}
			cfg := rawMember(t, got, "ContainerConfig")
			if tt.config != nil && !bytes.Equal(cfg, tt.config) {
				t.Errorf("ContainerConfig = %s\nwant %s", cfg, tt.config)
			}
			env := decode[struct{ Env []string }](t, cfg).Env
			if tt.scrub && len(env) > 0 {
				t.Errorf("ContainerConfig.Env = %q after scrubbing", env)
			}
			if tt.secretGone != "" && bytes.Contains(cfg, []byte(tt.secretGone)) {
				t.Errorf("ContainerConfig still holds %s", tt.secretGone)
			}
			// The image's own Config is the image's, and stays.
			if !bytes.Equal(rawMember(t, got, "Config"), rawMember(t, in, "Config")) {
				t.Error("Config changed")
			}
		})
	}
}

// rawMember returns the raw value of a top-level member.
func rawMember(t *testing.T, body []byte, name string) json.RawMessage {
	t.Helper()
	return decode[map[string]json.RawMessage](t, body)[name]
}

func TestImageInspect(t *testing.T) {
	keepA := func(id string) bool { return id == idA }
	tests := []struct {
		name, in, want string
		scrub          bool
	}{
		{name: "hidden source", in: `{"Container":"` + idB + `","ContainerConfig":{"Hostname":"bbbb","Tty":true,"ExposedPorts":{"80/tcp":{}},"Env":["X=1"],"StopTimeout":3,"Image":"i","Labels":{"a":"b"},"Shell":["sh"],"OnBuild":["RUN x"]},"Config":{"Env":["X=1"]}}`,
			want: `{"Container":"","ContainerConfig":{"Hostname":"","Tty":false,"Env":null,"Image":"","Labels":null,"OnBuild":null},"Config":{"Env":["X=1"]}}`},
		{name: "visible source", in: `{"Container":"` + idA + `","ContainerConfig":{"Env":["X=1"]}}`, want: `{"Container":"` + idA + `","ContainerConfig":{"Env":["X=1"]}}`},
		{name: "visible source scrubbed", scrub: true, in: `{"Container":"` + idA + `","ContainerConfig":{"Env":["X=1"],"env":null}}`, want: `{"Container":"` + idA + `","ContainerConfig":{"Env":[],"env":null}}`},
		{name: "engine 29 sorted, containerd", in: `{"Architecture":"amd64","Container":"","ContainerConfig":null,"Id":"sha256:x"}`, want: `{"Architecture":"amd64","Container":"","ContainerConfig":null,"Id":"sha256:x"}`},
		{name: "config before container", in: `{"ContainerConfig":{"User":"u","ArgsEscaped":true},"Container":"` + idB + `"}`, want: `{"ContainerConfig":{"User":""},"Container":""}`},
		{name: "manifests", in: `{"Id":"x","Manifests":[{"ID":"m1","ImageData":{"Platform":{},"Containers":["` + idB + `","` + idA + `"]}},{"ID":"m2","Kind":"attestation","ImageData":null},{"ID":"m3","ImageData":{"Containers":[]}}]}`,
			want: `{"Id":"x","Manifests":[{"ID":"m1","ImageData":{"Platform":{},"Containers":["` + idA + `"]}},{"ID":"m2","Kind":"attestation","ImageData":null},{"ID":"m3","ImageData":{"Containers":[]}}]}`},
	}
	for _, tt := range tests {
		got, err := ImageInspect([]byte(tt.in), keepA, tt.scrub)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", tt.name, got, err, tt.want)
		}
	}
	for _, in := range []string{``, `[]`, `{"Container":1}`, `{"ContainerConfig":[]}`, `{"Manifests":{}}`, `{"Manifests":[{"ImageData":{"Containers":[1]}}]}`, `{"Manifests":[{"ImageData":[]}]}`, `{"Manifests":[1]}`} {
		got, err := ImageInspect([]byte(in), keepA, true)
		mustMalformed(t, in, got, err)
	}
}

func TestImageListFixture(t *testing.T) {
	in := httpBody(t, "private-20.10/images-list.http")
	got, err := ImageList(in, func(string) int { return 99 }, func(string) bool { return false })
	if err != nil || !sameSlice(in, got) {
		t.Errorf("counts of -1 were changed (err %v)", err)
	}
}

func TestImageList(t *testing.T) {
	counts := map[string]int{"sha256:a": 2}
	containersOf := func(id string) int { return counts[id] }
	keepA := func(id string) bool { return id == idA }
	manifests := func(ids ...string) string {
		return `"Manifests":[{"ID":"m","Kind":"image","ImageData":{"Containers":["` + strings.Join(ids, `","`) + `"]}}]`
	}
	tests := []struct{ name, in, want string }{
		{name: "counts", in: `[{"Containers":5,"Id":"sha256:a"},{"Containers":1,"Id":"sha256:b"},{"Containers":-1,"Id":"sha256:c"},{"Containers":0,"Id":"sha256:d"}]` + "\n",
			want: `[{"Containers":2,"Id":"sha256:a"},{"Containers":0,"Id":"sha256:b"},{"Containers":-1,"Id":"sha256:c"},{"Containers":0,"Id":"sha256:d"}]` + "\n"},
		{name: "manifests", in: `[{"Containers":3,"Id":"sha256:a",` + manifests(idB, idA, idC) + `}]`, want: `[{"Containers":2,"Id":"sha256:a",` + manifests(idA) + `}]`},
		{name: "all refs hidden", in: `[{"Id":"sha256:z",` + manifests(idB, idC) + `}]`, want: `[{"Id":"sha256:z","Manifests":[{"ID":"m","Kind":"image","ImageData":{"Containers":[]}}]}]`},
		{name: "empty", in: `[]`, want: `[]`},
		{name: "id after count", in: `[{"Containers":5,"ID":"sha256:a"}]`, want: `[{"Containers":2,"ID":"sha256:a"}]`},
	}
	for _, tt := range tests {
		got, err := ImageList([]byte(tt.in), containersOf, keepA)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", tt.name, got, err, tt.want)
		}
	}
	for _, in := range []string{``, `{}`, `[1]`, `[{"Containers":"1"}]`, `[{"Containers":1.5}]`, `[{"Id":1}]`, `[{"Manifests":[{"ImageData":{"Containers":{}}}]}]`, `[]]`} {
		got, err := ImageList([]byte(in), containersOf, keepA)
		mustMalformed(t, in, got, err)
	}
}

func TestFilterRefs(t *testing.T) {
	keepA := func(id string) bool { return id == idA }
	tests := []struct{ in, want string }{
		{in: `["` + idB + `","` + idA + `","` + idC + `"]`, want: `["` + idA + `"]`},
		{in: `["` + idB + `"]` + "\n", want: `[]` + "\n"},
		{in: ` [ "` + idA + `" , "` + idB + `" ] `, want: ` [ "` + idA + `" ] `},
		{in: `null`, want: `null`},
		{in: `[]`, want: `[]`},
	}
	for _, tt := range tests {
		got, err := filterRefList([]byte(tt.in), keepA)
		if err != nil || string(got) != tt.want {
			t.Errorf("filterRefList(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{``, `nul`, `null x`, `{}`, `[1]`, `["a",]`, `["a"] ["b"]`} {
		got, err := filterRefList([]byte(in), keepA)
		mustMalformed(t, in, got, err)
	}
}
