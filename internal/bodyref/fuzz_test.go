package bodyref

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// decodedStrings returns every string (keys included, duplicates included)
// in the first JSON value of body, after unescaping, as encoding/json's
// tokenizer sees them.
func decodedStrings(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	strs := map[string]bool{}
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("Token() on a body that decoded: %v", err)
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			strs[v] = true
		}
		if depth == 0 {
			return strs
		}
	}
}

func compareRefs(a, b Ref) int {
	return cmp.Or(
		cmp.Compare(a.Kind, b.Kind),
		strings.Compare(a.Raw, b.Raw),
		strings.Compare(a.Ref, b.Ref),
		cmp.Compare(boolInt(a.TopLevel), boolInt(b.TopLevel)),
	)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortedRefs(refs []Ref) []Ref {
	return slices.SortedFunc(slices.Values(refs), compareRefs)
}

func FuzzContainerCreate(f *testing.F) {
	for _, tc := range createCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ContainerCreate(body)
		want, image, labels, wantErr, err20 := oracleCreate(body)

		// An error here must be an error in every engine version.
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("ContainerCreate(%q) error = %v; current engine's decode error = %v", body, err, wantErr)
		}
		if wantErr != nil && err20 == nil {
			t.Fatalf("oracle: Engine 20.10's layout accepts %q that the current one rejects (%v)", body, wantErr)
		}
		if err != nil {
			return
		}

		// Every ref is a string of the body, and Ref is part of Raw. The one
		// exception is a null list element, which decodes to "" (and "" names
		// no container).
		strs := decodedStrings(t, body)
		for _, r := range got.Refs {
			if !strs[r.Raw] && (r.Raw != "" || r.Ref != "") {
				t.Fatalf("ContainerCreate(%q) reported %+v; Raw is not a string of the body", body, r)
			}
			if !strings.Contains(r.Raw, r.Ref) {
				t.Fatalf("ContainerCreate(%q) reported %+v; Ref is not part of Raw", body, r)
			}
		}

		// The same refs as the engines' own layouts.
		if g, w := sortedRefs(got.Refs), sortedRefs(want); !slices.Equal(g, w) {
			t.Fatalf("ContainerCreate(%q).Refs =\n\t%+v\noracle:\n\t%+v", body, g, w)
		}
		if got.Image != image || !maps.Equal(got.Labels, labels) || (got.Labels == nil) != (labels == nil) {
			t.Fatalf("ContainerCreate(%q) = image %q labels %#v; oracle %q %#v", body, got.Image, got.Labels, image, labels)
		}

		// Both oracle layouts agree on the "HostConfig" key.
		if err20 == nil {
			w, _ := decode29(body)
			w20, _ := decode20(body)
			var a, b []Ref
			if hc := w.HostConfig; hc != nil {
				a = oracleHostRefs(hc.PidMode, hc.IpcMode, hc.NetworkMode, hc.VolumesFrom, hc.Links, false)
			}
			if hc := w20.InnerHostConfig; hc != nil {
				b = oracleHostRefs(hc.PidMode, hc.IpcMode, hc.NetworkMode, hc.VolumesFrom, hc.Links, false)
			}
			if !slices.Equal(a, b) {
				t.Fatalf("oracle: HostConfig of %q decodes to %+v in 29.7 and %+v in 20.10", body, a, b)
			}
		}
	})
}

// connect29 is the current engine's connect request
// (daemon/server/networkbackend/network.go:7-10) with the full
// EndpointSettings, decoded as httputils.ReadJSON does (Content-Length 0
// is the zero request).
type connect29 struct {
	Container      string
	EndpointConfig *EndpointSettings29 `json:",omitempty"`
}

type disconnect29 struct {
	Container string
	Force     bool
}

func readJSON29(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	return json.NewDecoder(bytes.NewReader(body)).Decode(v)
}

func FuzzNetworkBodies(f *testing.F) {
	for _, s := range []string{``, ` `, `null`, `{}`, `{"Container":"db"}`, `{"container":"db","FORCE":true} x`,
		`{"Container":"db","EndpointConfig":{"Links":["h:a","/g:/db/b"]},"endpointconfig":{"aliases":["x"]}}`,
		`{"Container":"db","EndpointConfig":{"Links":["h"]},"EndpointConfig":null}`, `{"Container":5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ref, links, err := NetworkConnect(body)
		var c connect29
		wantErr := readJSON29(body, &c)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("NetworkConnect(%q) error = %v; engine's = %v", body, err, wantErr)
		}
		if err == nil {
			var want []Ref
			if c.EndpointConfig != nil {
				for _, v := range c.EndpointConfig.Links {
					want = append(want, Ref{Kind: EndpointLink, Ref: oracleLink(v), Raw: v})
				}
			}
			if ref.Ref != c.Container || ref.Raw != c.Container || ref.Kind != NetworkContainer || !slices.Equal(links, want) {
				t.Fatalf("NetworkConnect(%q) = %+v, %+v; engine has %q, %+v", body, ref, links, c.Container, want)
			}
		}

		ref, force, err := NetworkDisconnect(body)
		var d disconnect29
		wantErr = readJSON29(body, &d)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("NetworkDisconnect(%q) error = %v; engine's = %v", body, err, wantErr)
		}
		if err == nil && (ref.Ref != d.Container || force != d.Force) {
			t.Fatalf("NetworkDisconnect(%q) = %+v, %v; engine has %q, %v", body, ref, force, d.Container, d.Force)
		}
	})
}
