package rewrite

import (
	"strings"
	"testing"
)

func TestRedactInspectRefs(t *testing.T) {
	hidden := func(ref string) bool {
		return ref == "secret-db" || ref == "/secret-db" || strings.HasPrefix("abcdef0123456789", ref) && len(ref) >= 4
	}
	in := `{"Id":"x","HostConfig":{"VolumesFrom":["secret-db:ro","web"],"Links":["/secret-db:/app/db","/web:/app/web"],"PidMode":"container:secret-db","IpcMode":"container:abcdef","NetworkMode":"container:web"},"Name":"/app"}`
	want := `{"Id":"x","HostConfig":{"VolumesFrom":["(hidden):ro","web"],"Links":["(hidden):/app/db","/web:/app/web"],"PidMode":"container:(hidden)","IpcMode":"container:(hidden)","NetworkMode":"container:web"},"Name":"/app"}`
	got, err := RedactInspectRefs([]byte(in), hidden, "(hidden)")
	if err != nil || string(got) != want {
		t.Errorf("RedactInspectRefs =\n\t%s, %v\nwant\n\t%s", got, err, want)
	}
	// --link on a user network: the endpoint's Links, not HostConfig's.
	in = `{"HostConfig":{"Links":null},"NetworkSettings":{"Networks":{"net1":{"Links":["secret-db:db","web:w"],"Aliases":["secret-db"]},"net2":{"Links":null}}}}`
	want = `{"HostConfig":{"Links":null},"NetworkSettings":{"Networks":{"net1":{"Links":["(hidden):db","web:w"],"Aliases":["secret-db"]},"net2":{"Links":null}}}}`
	if got, err := RedactInspectRefs([]byte(in), hidden, "(hidden)"); err != nil || string(got) != want {
		t.Errorf("endpoint links: RedactInspectRefs =\n\t%s, %v\nwant\n\t%s", got, err, want)
	}
	plain := `{"HostConfig":{"VolumesFrom":null,"NetworkMode":"none"}}`
	if got, _ := RedactInspectRefs([]byte(plain), hidden, "(hidden)"); string(got) != plain {
		t.Errorf("nothing to redact: got %s", got)
	}
	if _, err := RedactInspectRefs([]byte(`{"HostConfig":`), hidden, "(hidden)"); err == nil {
		t.Error("a truncated answer was accepted")
	}
}

func TestDropHiddenAliases(t *testing.T) {
	hidden := func(name string) bool { return name == "/secret" }
	for in, want := range map[string]string{
		`{"Id":"a","Names":["/web","/secret/web-alias","/app/web"],"Labels":{"a":"b","c":"d"}}`: `{"Id":"a","Names":["/web","/app/web"],"Labels":{"a":"b","c":"d"}}`,
		`{"Id":"a","Names":["/web"],"Labels":{"a":"b","c":"d"}}`:                                `{"Id":"a","Names":["/web"],"Labels":{"a":"b","c":"d"}}`,
		`{"Id":"a","Names":["/secret/x","/web"]}`:                                               `{"Id":"a","Names":["/web"]}`,
	} {
		if got := DropHiddenAliases([]byte(in), hidden); string(got) != want {
			t.Errorf("DropHiddenAliases(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestInspectName(t *testing.T) {
	for in, want := range map[string]string{
		`{"Id":"x","Name":"/web","Config":{"Labels":{"a":"1"}}}`: "/web",
		`{"Name":"/a","name":"/b"}`:                              "/b", // encoding/json: the last one wins
		`{"Id":"x","Config":"odd"}`:                              "",
		`{"Name":null}`:                                          "",
	} {
		if got, err := InspectName([]byte(in)); err != nil || got != want {
			t.Errorf("InspectName(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`{"Name":1}`, `{"Name":"/a"`, `[]`} {
		if _, err := InspectName([]byte(bad)); err == nil {
			t.Errorf("InspectName(%s) accepted", bad)
		}
	}
}
