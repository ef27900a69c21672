package bodyref

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func ref(k Kind, r, raw string) Ref    { return Ref{Kind: k, Ref: r, Raw: raw} }
func topRef(k Kind, r, raw string) Ref { return Ref{Kind: k, Ref: r, Raw: raw, TopLevel: true} }

// createCases are POST /containers/create bodies. `engine` records what
// Engine 20.10.24 answered to POST /v1.41/containers/create with that body
// (Image "test/app:1" added where the body has a HostConfig, container "db"
// existing, "nonexist*" not) when the case was probed; "source:" marks a
// behaviour read in the moby source instead.
var createCases = []struct {
	name     string
	body     string
	want     []Ref
	wantErr  bool
	trailing bool
	engine   string
}{
	// Framing of the value.
	{name: "empty body", body: ``, wantErr: true, engine: "500 EOF (current engines: 400 invalid JSON: EOF)"},
	{name: "blank body", body: " \r\n\t", wantErr: true, engine: "500 EOF"},
	{name: "null", body: `null`, engine: "400 Config cannot be empty in order to create a container"},
	{name: "empty object", body: `{}`, engine: "400 Config cannot be empty in order to create a container"},
	{name: "array", body: `[]`, wantErr: true, engine: "source: cannot unmarshal array"},
	{name: "string", body: `"container:db"`, wantErr: true, engine: "source: cannot unmarshal string"},
	{name: "number", body: `5`, wantErr: true, engine: "source: cannot unmarshal number"},
	{name: "truncated", body: `{"HostConfig":{"PidMode":"container:h"`, wantErr: true, engine: "source: unexpected EOF"},
	{name: "syntax error", body: `{"HostConfig":{"PidMode":"container:h",}}`, wantErr: true, engine: "source: invalid character"},
	{name: "second value ignored", body: `{"Image":"x"} {"HostConfig":{"PidMode":"container:nonexist"}}`, trailing: true,
		engine: "201 (no lookup; current engines: 400 unexpected content after JSON)"},
	{name: "trailing garbage", body: `{"Image":"x"} x`, trailing: true, engine: "201"},
	{name: "trailing brace passes More", body: `{"Image":"x"}}`, engine: "source: dec.More() is false before '}'"},
	{name: "trailing bracket passes More", body: `{"Image":"x"}]`, engine: "source: dec.More() is false before ']'"},
	{name: "trailing whitespace", body: "{\"Image\":\"x\"} \n", engine: "source: nothing more"},

	// Where HostConfig fields are read.
	{name: "HostConfig fields", body: `{"HostConfig":{"PidMode":"container:a","IpcMode":"container:b","VolumesFrom":["c:ro"],"Links":["d:alias"],"NetworkMode":"container:e"}}`,
		want:   []Ref{ref(IpcMode, "b", "container:b"), ref(PidMode, "a", "container:a"), ref(VolumesFrom, "c", "c:ro"), ref(Link, "d", "d:alias"), ref(NetworkMode, "e", "container:e")},
		engine: "source: engine order is IpcMode, PidMode, then VolumesFrom, Links (20.10)"},
	{name: "lookup order", body: `{"HostConfig":{"PidMode":"container:nonexist1","IpcMode":"container:nonexist2","Links":["nonexist3"],"VolumesFrom":["nonexist4"]}}`,
		want:   []Ref{ref(IpcMode, "nonexist2", "container:nonexist2"), ref(PidMode, "nonexist1", "container:nonexist1"), ref(VolumesFrom, "nonexist4", "nonexist4"), ref(Link, "nonexist3", "nonexist3")},
		engine: "400 No such container: nonexist2; without the modes: nonexist4"},
	{name: "duplicate HostConfig last wins", body: `{"HostConfig":{"PidMode":"container:db"},"HostConfig":{"PidMode":"container:nonexist"}}`,
		want: []Ref{ref(PidMode, "nonexist", "container:nonexist")}, engine: "400 No such container: nonexist"},
	{name: "duplicate HostConfig merges", body: `{"HostConfig":{"VolumesFrom":["db"]},"hostconfig":{"Links":["nonexist2"]}}`,
		want:   []Ref{ref(VolumesFrom, "db", "db"), ref(Link, "nonexist2", "nonexist2")},
		engine: "400 could not get container for nonexist2: No such container: nonexist2"},
	{name: "merged HostConfig keeps earlier field", body: `{"HostConfig":{"VolumesFrom":["db"]},"hostconfig":{"PidMode":"host"}}`,
		want: []Ref{ref(VolumesFrom, "db", "db")}, engine: "201 (mounts db's volumes)"},
	{name: "null string keeps previous value", body: `{"HostConfig":{"PidMode":"container:nonexist"},"HostConfig":{"PidMode":null}}`,
		want: []Ref{ref(PidMode, "nonexist", "container:nonexist")}, engine: "400 No such container: nonexist"},
	{name: "null HostConfig drops it", body: `{"HostConfig":{"PidMode":"container:a"},"HostConfig":null}`, engine: "source: a null pointer field is set to nil"},
	{name: "null element keeps previous element", body: `{"HostConfig":{"Links":["nonexist"]},"HostConfig":{"Links":[null]}}`,
		want: []Ref{ref(Link, "nonexist", "nonexist")}, engine: "400 could not get container for nonexist"},
	{name: "shorter list truncates", body: `{"HostConfig":{"Links":["a","b"]},"HostConfig":{"Links":["c"]}}`,
		want: []Ref{ref(Link, "c", "c")}, engine: "source: encoding/json reuses the slice"},
	{name: "empty list in a repeated HostConfig", body: `{"HostConfig":{"Links":["nonexist"]},"HostConfig":{"VolumesFrom":[]}}`,
		want: []Ref{ref(Link, "nonexist", "nonexist")}, engine: "400 could not get container for nonexist"},
	{name: "lower-case keys", body: `{"hostconfig":{"pidmode":"container:nonexist"}}`,
		want: []Ref{ref(PidMode, "nonexist", "container:nonexist")}, engine: "400 No such container: nonexist"},
	{name: "upper-case key", body: `{"HostConfig":{"VOLUMESFROM":["h"]}}`, want: []Ref{ref(VolumesFrom, "h", "h")}, engine: "source: case-insensitive match"},
	{name: "Kelvin sign escaped", body: `{"HostConfig":{"Lin\u212As":["nonexist"]}}`,
		want: []Ref{ref(Link, "nonexist", "nonexist")}, engine: "400 could not get container for nonexist"},
	{name: "Kelvin sign raw", body: "{\"HostConfig\":{\"Lin\u212as\":[\"nonexist\"]}}",
		want: []Ref{ref(Link, "nonexist", "nonexist")}, engine: "source: same key after unescaping"},
	{name: "long s raw", body: "{\"HostConfig\":{\"Volume\u017ffrom\":[\"nonexist\"]}}",
		want: []Ref{ref(VolumesFrom, "nonexist", "nonexist")}, engine: "400 No such container: nonexist"},
	{name: "escaped value", body: `{"HostConfig":{"PidMode":"\u0063ontainer:h\u0000"}}`,
		want: []Ref{ref(PidMode, "h\x00", "container:h\x00")}, engine: "source: unescaped before use"},
	{name: "invalid UTF-8 replaced", body: "{\"HostConfig\":{\"VolumesFrom\":[\"h\xff\"]}}",
		want: []Ref{ref(VolumesFrom, "h\uFFFD", "h\uFFFD")}, engine: "source: encoding/json replaces invalid bytes"},
	{name: "unknown fields ignored", body: `{"Foo":{"PidMode":"container:h"},"Config":{"HostConfig":{"Links":["h"]}}}`, engine: "source: unknown keys skipped"},
	{name: "Cgroup and UTSMode are not refs", body: `{"HostConfig":{"Cgroup":"container:h","UTSMode":"container:h","UsernsMode":"container:h"}}`,
		engine: "source: Cgroup is unused, UTS/userns have no container form"},

	// Top-level HostConfig fields (Engines up to 26).
	{name: "top-level PidMode", body: `{"Image":"x","PidMode":"container:nonexist"}`,
		want: []Ref{topRef(PidMode, "nonexist", "container:nonexist")}, engine: "400 No such container: nonexist"},
	{name: "top-level upper case", body: `{"Image":"x","PIDMODE":"container:nonexist"}`,
		want: []Ref{topRef(PidMode, "nonexist", "container:nonexist")}, engine: "400 No such container: nonexist"},
	{name: "top-level with HostConfig", body: `{"Image":"x","PidMode":"container:nonexist","HostConfig":{}}`,
		want: []Ref{topRef(PidMode, "nonexist", "container:nonexist")}, engine: "201 (top level ignored; reported anyway)"},
	{name: "top-level with null HostConfig", body: `{"Image":"x","PidMode":"container:nonexist","HostConfig":null}`,
		want: []Ref{topRef(PidMode, "nonexist", "container:nonexist")}, engine: "400 No such container: nonexist"},
	{name: "top-level after HostConfig refs", body: `{"PidMode":"container:a","Links":["b"],"VolumesFrom":["c"],"IpcMode":"container:d","NetworkMode":"container:e","HostConfig":{"PidMode":"container:f"}}`,
		want:   []Ref{ref(PidMode, "f", "container:f"), topRef(IpcMode, "d", "container:d"), topRef(PidMode, "a", "container:a"), topRef(VolumesFrom, "c", "c"), topRef(Link, "b", "b"), topRef(NetworkMode, "e", "container:e")},
		engine: "source: v20.10.24 runconfig/config_unix.go:23-47"},
	{name: "top-level type mismatch is skipped", body: `{"Image":"x","Links":5}`,
		engine: "500 cannot unmarshal number into Go struct field ContainerConfigWrapper.Links (current engines ignore the key)"},
	{name: "top-level partial list", body: `{"Image":"x","Links":["nonexist",5]}`,
		engine: "source: 20.10 rejects the body (as for Links:5), current engines ignore the key"},
	{name: "top-level mismatch drops all top-level refs", body: `{"PidMode":"container:h","VolumesFrom":["h"],"pidmode":{},"HostConfig":{"Links":["l"]}}`,
		want: []Ref{ref(Link, "l", "l")}, engine: "source: 20.10 rejects the body, current engines ignore the keys"},
	{name: "top-level null is no mismatch", body: `{"PidMode":"container:h","PidMode":null,"Links":null}`,
		want: []Ref{topRef(PidMode, "h", "container:h")}, engine: "source: null leaves a string as it was"},

	// Type mismatches every engine rejects.
	{name: "Links not a list", body: `{"HostConfig":{"Links":5}}`, wantErr: true, engine: "500 cannot unmarshal number into Go struct field HostConfig.HostConfig.Links"},
	{name: "Links element not a string", body: `{"HostConfig":{"Links":["nonexist",5]}}`, wantErr: true, engine: "500 cannot unmarshal number into Go struct field HostConfig.HostConfig.Links of type string"},
	{name: "HostConfig not an object", body: `{"HostConfig":"x"}`, wantErr: true, engine: "source: cannot unmarshal string"},
	{name: "PidMode not a string", body: `{"HostConfig":{"PidMode":true}}`, wantErr: true, engine: "source: cannot unmarshal bool"},
	{name: "EndpointsConfig not a map", body: `{"NetworkingConfig":{"EndpointsConfig":[]}}`, wantErr: true, engine: "source: cannot unmarshal array"},
	{name: "Labels value not a string", body: `{"Labels":{"a":1}}`, wantErr: true, engine: "source: cannot unmarshal number"},
	{name: "Image not a string", body: `{"Image":5}`, wantErr: true, engine: "source: cannot unmarshal number"},

	// Value syntax.
	{name: "PidMode Container: is looked up by 20.10", body: `{"HostConfig":{"PidMode":"Container:nonexist"}}`,
		want: []Ref{ref(PidMode, "nonexist", "Container:nonexist")}, engine: "400 No such container: nonexist (201 for Container:db)"},
	{name: "PidMode any prefix is looked up by 20.10", body: `{"HostConfig":{"PidMode":"foo:nonexist"}}`,
		want: []Ref{ref(PidMode, "nonexist", "foo:nonexist")}, engine: "400 No such container: nonexist (also host:, :, \" container:\")"},
	{name: "PidMode ref with colon", body: `{"HostConfig":{"PidMode":"container:nonexist:x"}}`,
		want: []Ref{ref(PidMode, "nonexist:x", "container:nonexist:x")}, engine: "400 No such container: nonexist:x"},
	{name: "PidMode empty ref", body: `{"HostConfig":{"PidMode":"container:"}}`, want: []Ref{ref(PidMode, "", "container:")}, engine: "201"},
	{name: "PidMode host", body: `{"HostConfig":{"PidMode":"host"}}`, engine: "source: not a container"},
	{name: "IpcMode case-sensitive", body: `{"HostConfig":{"IpcMode":"Container:nonexist"}}`, engine: "201 (no lookup; also foo:, host:, \" container:\")"},
	{name: "IpcMode ref with colon", body: `{"HostConfig":{"IpcMode":"container:nonexist:x"}}`,
		want: []Ref{ref(IpcMode, "nonexist:x", "container:nonexist:x")}, engine: "400 No such container: nonexist:x"},
	{name: "IpcMode empty ref", body: `{"HostConfig":{"IpcMode":"container:"}}`, want: []Ref{ref(IpcMode, "", "container:")}, engine: "201"},
	{name: "IpcMode shareable", body: `{"HostConfig":{"IpcMode":"shareable"}}`, engine: "source: not a container"},
	{name: "NetworkMode case-sensitive", body: `{"HostConfig":{"NetworkMode":"Container:nonexist"}}`, engine: "201 (a network name; also foo:x, \" container:x\")"},
	{name: "NetworkMode container", body: `{"HostConfig":{"NetworkMode":"container:nonexist"}}`,
		want: []Ref{ref(NetworkMode, "nonexist", "container:nonexist")}, engine: "201 (looked up at start)"},
	{name: "NetworkMode empty ref", body: `{"HostConfig":{"NetworkMode":"container:"}}`,
		want: []Ref{ref(NetworkMode, "", "container:")}, engine: "400 Invalid network mode: invalid container format container:<name|id>"},
	{name: "NetworkMode bare container", body: `{"HostConfig":{"NetworkMode":"container"}}`, engine: "400 Invalid network mode: invalid container format container:<name|id>"},
	{name: "NetworkMode non-container values", body: `{"HostConfig":{"NetworkMode":"bridge"},"HostConfig":{"NetworkMode":"host"},"HostConfig":{"NetworkMode":"none"},"HostConfig":{"NetworkMode":"my-net"}}`,
		engine: "source: not containers"},
	{name: "Links forms", body: `{"HostConfig":{"Links":["nonexist","a:alias","/b:/x/alias","/c","parent/alias","//d:e"]}}`,
		want:   []Ref{ref(Link, "nonexist", "nonexist"), ref(Link, "a", "a:alias"), ref(Link, "b", "/b:/x/alias"), ref(Link, "/c", "/c"), ref(Link, "parent/alias", "parent/alias"), ref(Link, "/d", "//d:e")},
		engine: "400 could not get container for nonexist (\"/nonexist:/x/alias\" too)"},
	{name: "Links rejected forms", body: `{"HostConfig":{"Links":["a:b:c",":x",""]}}`,
		want:   []Ref{ref(Link, "", "a:b:c"), ref(Link, "", ":x"), ref(Link, "", "")},
		engine: "500 bad format for links: a:b:c / 400 invalid name or ID supplied: \"\" / 500 empty string specified for links"},
	{name: "VolumesFrom forms", body: `{"HostConfig":{"VolumesFrom":["nonexist:ro","nonexist:bogus",":ro","","a:rw:z"]}}`,
		want:   []Ref{ref(VolumesFrom, "nonexist", "nonexist:ro"), ref(VolumesFrom, "nonexist", "nonexist:bogus"), ref(VolumesFrom, "", ":ro"), ref(VolumesFrom, "", ""), ref(VolumesFrom, "a", "a:rw:z")},
		engine: "400 No such container: nonexist / 400 invalid mode: bogus / 400 invalid name or ID supplied / 400 volumes-from specification cannot be an empty string"},

	// NetworkingConfig.
	{name: "endpoint links by network name", body: `{"NetworkingConfig":{"EndpointsConfig":{"b":{"Links":["h2"]},"a":{"Links":["h1:al"]},"c":null,"d":{}}}}`,
		want: []Ref{ref(EndpointLink, "h1", "h1:al"), ref(EndpointLink, "h2", "h2")}, engine: "201 for {\"none\":{\"Links\":[\"nonexist\"]}} (never looked up)"},
	{name: "repeated network key replaces", body: `{"NetworkingConfig":{"EndpointsConfig":{"n":{"Links":["h"]},"n":{"Aliases":["x"]}}}}`,
		engine: "source: a new map element per occurrence"},
	{name: "repeated EndpointsConfig merges", body: `{"NetworkingConfig":{"EndpointsConfig":{"a":{"Links":["h1"]}}},"networkingconfig":{"endpointsconfig":{"b":{"links":["h2"]}}}}`,
		want: []Ref{ref(EndpointLink, "h1", "h1"), ref(EndpointLink, "h2", "h2")}, engine: "source: encoding/json reuses the map"},
}

func TestContainerCreate(t *testing.T) {
	for _, tc := range createCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ContainerCreate([]byte(tc.body))
			if tc.wantErr {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("ContainerCreate(%q) = %+v, %v; want an *Error (engine: %s)", tc.body, got, err, tc.engine)
				}
				return
			}
			if err != nil {
				t.Fatalf("ContainerCreate(%q) error = %v; want refs %+v (engine: %s)", tc.body, err, tc.want, tc.engine)
			}
			if !reflect.DeepEqual(got.Refs, tc.want) {
				t.Errorf("ContainerCreate(%q).Refs =\n\t%+v\nwant\n\t%+v\n(engine: %s)", tc.body, got.Refs, tc.want, tc.engine)
			}
			if got.Trailing != tc.trailing {
				t.Errorf("ContainerCreate(%q).Trailing = %v; want %v", tc.body, got.Trailing, tc.trailing)
			}
		})
	}
}

func TestContainerCreateImageLabels(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		image  string
		labels map[string]string
	}{
		{"absent", `{"HostConfig":{}}`, "", nil},
		{"plain", `{"Image":"app:1","Labels":{"a":"b"}}`, "app:1", map[string]string{"a": "b"}},
		{"repeated Labels merge", `{"Labels":{"a":"b","c":"x"},"labels":{"c":"d"}}`, "", map[string]string{"a": "b", "c": "d"}},
		{"null label value is empty", `{"Labels":{"a":null}}`, "", map[string]string{"a": ""}},
		{"null Labels", `{"Labels":{"a":"b"},"Labels":null}`, "", nil},
		{"null Image keeps previous", `{"image":"app:1","IMAGE":null}`, "app:1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ContainerCreate([]byte(tc.body))
			if err != nil {
				t.Fatalf("ContainerCreate(%q) error = %v", tc.body, err)
			}
			if got.Image != tc.image || !reflect.DeepEqual(got.Labels, tc.labels) {
				t.Errorf("ContainerCreate(%q) = image %q labels %#v; want %q %#v", tc.body, got.Image, got.Labels, tc.image, tc.labels)
			}
		})
	}
}

func TestContainerCreateLimits(t *testing.T) {
	t.Run("empty body is io.EOF", func(t *testing.T) {
		_, err := ContainerCreate(nil)
		if !errors.Is(err, io.EOF) || err.Error() != "invalid JSON: EOF" {
			t.Errorf("ContainerCreate(nil) error = %v; want \"invalid JSON: EOF\" wrapping io.EOF", err)
		}
	})
	t.Run("nesting at the depth limit", func(t *testing.T) {
		// encoding/json accepts 10000 nested values (the engine's Go too).
		deep := `{"Image":"x","Foo":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `,"HostConfig":{"PidMode":"container:h"}}`
		got, err := ContainerCreate([]byte(deep))
		if err != nil || len(got.Refs) != 1 {
			t.Errorf("ContainerCreate(depth 10000) = %+v, %v; want the PidMode ref", got.Refs, err)
		}
	})
	t.Run("nesting beyond the depth limit", func(t *testing.T) {
		deep := `{"Foo":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
		if got, err := ContainerCreate([]byte(deep)); err == nil {
			t.Errorf("ContainerCreate(depth 10001) = %+v; want an error", got)
		}
	})
	t.Run("huge array", func(t *testing.T) {
		const n = 100000
		body := `{"HostConfig":{"VolumesFrom":[` + strings.TrimSuffix(strings.Repeat(`"v:ro",`, n), ",") + `]}}`
		got, err := ContainerCreate([]byte(body))
		if err != nil || len(got.Refs) != n || got.Refs[n-1] != ref(VolumesFrom, "v", "v:ro") {
			t.Errorf("ContainerCreate(%d VolumesFrom) = %d refs, %v; want %d", n, len(got.Refs), err, n)
		}
	})
}
