package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestScrubInspectEnvGolden(t *testing.T) {
	for _, engine := range engines {
		files, err := filepath.Glob(filepath.Join("testdata", engine, "container-inspect-*.http"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no inspect fixtures for %s: %v", engine, err)
		}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".http")
			t.Run(engine+"/"+name, func(t *testing.T) {
				in := httpBody(t, engine+"/"+filepath.Base(f))
				got, err := ScrubInspectEnv(in)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, engine+"-"+name+".json", got)
				checkScrubbed(t, in, got)
			})
		}
	}
}

// checkScrubbed checks that out is in with Config.Env emptied and nothing
// else changed, as seen by encoding/json, and that no secret survived.
func checkScrubbed(t *testing.T, in, out []byte) {
	t.Helper()
	var before, after map[string]any
	if err := json.Unmarshal(in, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatalf("scrubbed body is not JSON: %v", err)
	}
	if cfg, ok := before["Config"].(map[string]any); ok {
		if _, hasEnv := cfg["Env"]; hasEnv {
			cfg["Env"] = []any{}
		}
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("scrub changed more than Config.Env:\nin:  %s\nout: %s", in, out)
	}
	for _, secret := range []string{"hunter2", "s3cret", "topsecret"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("scrubbed body still contains %q", secret)
		}
	}
	if !bytes.HasSuffix(out, []byte("}\n")) && bytes.HasSuffix(in, []byte("}\n")) {
		t.Errorf("trailing newline lost")
	}
}

func TestScrubInspectEnv(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "engine shape", in: `{"Id":"x","Config":{"Hostname":"h","Env":["A=1","B=2"],"Cmd":null}}` + "\n", want: `{"Id":"x","Config":{"Hostname":"h","Env":[],"Cmd":null}}` + "\n"},
		{name: "env null", in: `{"Config":{"Env":null}}`, want: `{"Config":{"Env":[]}}`},
		{name: "env string", in: `{"Config":{"Env":"A=1"}}`, want: `{"Config":{"Env":[]}}`},
		{name: "env object", in: `{"Config":{"Env":{"A":"1"}}}`, want: `{"Config":{"Env":[]}}`},
		{name: "env spaced", in: `{ "Config" : { "Env" : [ "A=1" ] , "X" : 1 } }`, want: `{ "Config" : { "Env" : [] , "X" : 1 } }`},
		{name: "env case", in: `{"config":{"ENV":["A=1"],"env":["B=2"]}}`, want: `{"config":{"ENV":[],"env":[]}}`},
		{name: "env escaped key", in: `{"C\u006fnfig":{"\u0045nv":["A=1"]}}`, want: `{"C\u006fnfig":{"\u0045nv":[]}}`},
		{name: "two configs", in: `{"Config":{"Env":["A=1"]},"CONFIG":{"Env":["B=2"]}}`, want: `{"Config":{"Env":[]},"CONFIG":{"Env":[]}}`},
		{name: "config null", in: `{"Config":null}` + "\n", want: `{"Config":null}` + "\n"},
		{name: "config missing", in: `{"Id":"x","Env":["A=1"]}`, want: `{"Id":"x","Env":["A=1"]}`},
		{name: "config string", in: `{"Config":"Env"}`, want: `{"Config":"Env"}`},
		{name: "env missing", in: `{"Config":{"Cmd":["x"]}}`, want: `{"Config":{"Cmd":["x"]}}`},
		{name: "env already empty", in: `{"Config":{"Env":[]}}`, want: `{"Config":{"Env":[]}}`},
		{name: "nested env untouched", in: `{"HostConfig":{"Env":["A=1"]},"Config":{"X":{"Env":["B=2"]}}}`, want: `{"HostConfig":{"Env":["A=1"]},"Config":{"X":{"Env":["B=2"]}}}`},
		{name: "near-miss keys", in: `{"Configs":{"Env":["A=1"]},"Config":{"Envs":["B=2"]}}`, want: `{"Configs":{"Env":["A=1"]},"Config":{"Envs":["B=2"]}}`},
		{name: "empty object", in: `{}`, want: `{}`},
		{name: "crlf tail", in: "{\"Config\":{\"Env\":[\"A=1\"]}}\r\n", want: "{\"Config\":{\"Env\":[]}}\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ScrubInspectEnv([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ScrubInspectEnv(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestScrubInspectEnvUnchangedIsSame(t *testing.T) {
	in := []byte(`{"Config":null}`)
	got, err := ScrubInspectEnv(in)
	if err != nil || &got[0] != &in[0] {
		t.Errorf("unchanged body was copied (err %v)", err)
	}
}

func TestScrubInspectEnvMalformed(t *testing.T) {
	for _, in := range []string{
		``, ` `, `null`, `[]`, `"x"`, `{`, `{"Config":{"Env":[]}`, `{"Config":{"Env":[}}`,
		`{} {}`, `{}x`, `{"a":1,}`, "{\"Config\":{\"Env\":[\"\x00\"]}}", `{"Config":{"Env":["A=1"]}`,
		`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ScrubInspectEnv([]byte(in))
			if !errors.Is(err, ErrMalformed) || got != nil {
				t.Errorf("ScrubInspectEnv(%q) = %q, %v; want nil, ErrMalformed", in, got, err)
			}
		})
	}
}
