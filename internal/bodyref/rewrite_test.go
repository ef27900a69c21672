package bodyref

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fullID is a stable 64-hex ID standing for "the container the proxy
// decided ref names".
func fullID(ref string) string {
	sum := sha256.Sum256([]byte("decided:" + ref))
	return hex.EncodeToString(sum[:])
}

// decideAll maps every ref the engine resolves in body to fullID(ref).
func decideAll(t testing.TB, body []byte) map[string]string {
	t.Helper()
	info, err := ContainerCreate(body)
	if err != nil {
		t.Fatalf("ContainerCreate(%q): %v", body, err)
	}
	ids := map[string]string{}
	for _, r := range info.Refs {
		if r.Ref != "" && r.Kind != EndpointLink {
			ids[r.Ref] = fullID(r.Ref)
		}
	}
	return ids
}

func TestRewriteCreateForwardsTheDecidedIDs(t *testing.T) {
	db, web := fullID("db"), fullID("1572e9f")
	for _, tc := range []struct{ name, body, want string }{
		{"volumes-from keeps its mode",
			`{"Image":"x","HostConfig":{"VolumesFrom":["db:ro","1572e9f"]}}`,
			`{"Image":"x","HostConfig":{"VolumesFrom":["` + db + `:ro","` + web + `"]}}`},
		{"links keep the alias the engine would derive",
			`{"HostConfig":{"Links":["db:alias","1572e9f","/db:/web/other"]}}`,
			`{"HostConfig":{"Links":["` + db + `:alias","` + web + `:1572e9f","` + db + `:other"]}}`},
		{"modes",
			`{"HostConfig":{"NetworkMode":"container:db","PidMode":"container:1572e9f","IpcMode":"container:db"}}`,
			`{"HostConfig":{"NetworkMode":"container:` + db + `","PidMode":"container:` + web + `","IpcMode":"container:` + db + `"}}`},
		{"keys in other cases and escapes bind like the engine's",
			`{"hostconfig":{"volumesfrom":["d\u0062"],"Lin\u212As":["db"]}}`,
			`{"hostconfig":{"volumesfrom":["` + db + `"],"Lin\u212As":["` + db + `:db"]}}`},
		{"repeated HostConfig objects merge: both are rewritten",
			`{"HostConfig":{"VolumesFrom":["db"]},"HostConfig":{"PidMode":"container:1572e9f"}}`,
			`{"HostConfig":{"VolumesFrom":["` + db + `"]},"HostConfig":{"PidMode":"container:` + web + `"}}`},
		{"top-level fields of engines up to 26",
			`{"Image":"x","VolumesFrom":["db"],"NetworkMode":"container:1572e9f"}`,
			`{"Image":"x","VolumesFrom":["` + db + `"],"NetworkMode":"container:` + web + `"}`},
		{"endpoint links and other bytes stay as written",
			`{ "Image" : "x", "Env":["A=db"], "HostConfig" : { "Binds":["db:/db"], "VolumesFrom" : [ "db" ] }, "NetworkingConfig":{"EndpointsConfig":{"n":{"Links":["db:x"]}}}}  `,
			`{ "Image" : "x", "Env":["A=db"], "HostConfig" : { "Binds":["db:/db"], "VolumesFrom" : [ "` + db + `" ] }, "NetworkingConfig":{"EndpointsConfig":{"n":{"Links":["db:x"]}}}}  `},
		{"values naming no container stay",
			`{"HostConfig":{"NetworkMode":"host","PidMode":"","Links":["a:b:c"],"VolumesFrom":[":ro"]}}`,
			`{"HostConfig":{"NetworkMode":"host","PidMode":"","Links":["a:b:c"],"VolumesFrom":[":ro"]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RewriteCreate([]byte(tc.body), decideAll(t, []byte(tc.body)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("RewriteCreate =\n\t%s\nwant\n\t%s", got, tc.want)
			}
		})
	}
}

func TestRewriteCreateNeedsADecisionForEveryRef(t *testing.T) {
	body := []byte(`{"HostConfig":{"VolumesFrom":["db","other"]}}`)
	_, err := RewriteCreate(body, map[string]string{"db": fullID("db")}, nil)
	if !errors.Is(err, ErrRewrite) {
		t.Errorf("RewriteCreate without a decision for every ref = %v, want ErrRewrite", err)
	}
}

func TestRewriteCreateLeavesWhatTheEngineIgnores(t *testing.T) {
	db := fullID("db")
	body := `{"Image":"x","VolumesFrom":["db"],"HostConfig":{"VolumesFrom":["db"],"PidMode":"foo:db"}}`
	// An engine since 27 reads no top-level HostConfig field, one since 24
	// no PidMode but "container:".
	current := func(r Ref) bool { return !r.TopLevel && (r.Kind != PidMode || strings.HasPrefix(r.Raw, "container:")) }
	got, err := RewriteCreate([]byte(body), map[string]string{"db": db}, current)
	want := `{"Image":"x","VolumesFrom":["db"],"HostConfig":{"VolumesFrom":["` + db + `"],"PidMode":"foo:db"}}`
	if err != nil || string(got) != want {
		t.Errorf("RewriteCreate = %s, %v; want %s", got, err, want)
	}
}

func TestRewriteNetworkContainer(t *testing.T) {
	id := fullID("db")
	for _, tc := range []struct {
		connect    bool
		body, want string
	}{
		{true, `{"Container":"db","EndpointConfig":{"Links":["db:x"]}}`, `{"Container":"` + id + `","EndpointConfig":{"Links":["db:x"]}}`},
		{false, `{"container":"d\u0062","Force":true}`, `{"container":"` + id + `","Force":true}`},
		{false, `{"Container":"x","CONTAINER":"db"}`, `{"Container":"x","CONTAINER":"` + id + `"}`},
	} {
		got, err := RewriteNetworkContainer([]byte(tc.body), tc.connect, id)
		if err != nil || string(got) != tc.want {
			t.Errorf("RewriteNetworkContainer(%s) = %s, %v; want %s", tc.body, got, err, tc.want)
		}
	}
}

// blankRefFields zeroes the fields that name containers, so what is left
// must decode identically before and after a rewrite.
func blankRefFields29(w *CreateRequest29) {
	if hc := w.HostConfig; hc != nil {
		hc.NetworkMode, hc.PidMode, hc.IpcMode, hc.VolumesFrom, hc.Links = "", "", "", nil, nil
	}
}

func blankRefFields20(w *Wrapper20) {
	for _, hc := range []*HostConfig20{w.InnerHostConfig, w.HostConfig20} {
		if hc != nil {
			hc.NetworkMode, hc.PidMode, hc.IpcMode, hc.VolumesFrom, hc.Links = "", "", "", nil, nil
		}
	}
}

// FuzzRewriteCreate: for any body, the rewrite either fails closed or
// yields a body that both engine layouts decode exactly as the original,
// except that every reference they resolve is the decided full ID.
func FuzzRewriteCreate(f *testing.F) {
	for _, tc := range createCases {
		f.Add([]byte(tc.body))
	}
	f.Add([]byte(`{"HostConfig":{"VolumesFrom":["db:ro"],"Links":["/db:/x/y","db"]},"VolumesFrom":["db"],"hostConfig":null,"HostConfig":{"PidMode":"foo:db"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := ContainerCreate(body)
		if err != nil {
			return
		}
		ids := decideAll(t, body)
		out, err := RewriteCreate(body, ids, nil)
		if err != nil {
			t.Fatalf("RewriteCreate(%q) = %v; every ref had a decision", body, err)
		}
		// The oracle sees the decided IDs where the original had refs.
		wantRefs, image, labels, _, _ := oracleCreate(body)
		for i, r := range wantRefs {
			if r.Ref != "" && r.Kind != EndpointLink {
				wantRefs[i].Ref, wantRefs[i].Raw = ids[r.Ref], rewriteValue(r.Kind, r.Raw, ids[r.Ref])
			}
		}
		gotRefs, gotImage, gotLabels, err, _ := oracleCreate(out)
		if err != nil || gotImage != image || !reflect.DeepEqual(gotLabels, labels) {
			t.Fatalf("oracle decodes the rewrite of %q (%q) differently: %v", body, out, err)
		}
		if g, w := sortedRefs(gotRefs), sortedRefs(wantRefs); !slices.Equal(g, w) {
			t.Fatalf("oracle refs of the rewrite of %q =\n\t%+v\nwant\n\t%+v", body, g, w)
		}
		// Everything else decodes identically in both layouts.
		a, errA := decode29(body)
		b, errB := decode29(out)
		blankRefFields29(&a)
		blankRefFields29(&b)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("29.7 layout decodes %q and its rewrite %q differently", body, out)
		}
		c, errC := decode20(body)
		d, errD := decode20(out)
		blankRefFields20(&c)
		blankRefFields20(&d)
		if (errC == nil) != (errD == nil) || !reflect.DeepEqual(c, d) {
			t.Fatalf("20.10 layout decodes %q and its rewrite %q differently", body, out)
		}
		// Only reference literals changed.
		if len(info.Refs) == 0 && string(out) != string(body) {
			t.Fatalf("a body without refs was changed: %q -> %q", body, out)
		}
	})
}
