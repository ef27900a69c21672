package explain

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// homelab is a small but typical world: a compose stack behind Traefik, a
// dashboard, a disabled service and a swarm service with one task.
func homelab(t *testing.T) Report {
	t.Helper()
	containers := []Container{
		{ID: "5f1d0c3a9b2e7d4c1a0b9e8f7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c", Name: "/homepage",
			Labels: map[string]string{"homepage.group": "tools", "homepage.name": "Homepage"}},
		{ID: "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1", Name: "/site-web-1",
			Labels: map[string]string{"com.docker.compose.project": "site", "traefik.enable": "true", "traefik.http.routers.web.rule": "Host(`example.test`)"}},
		{ID: "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2", Name: "/site-db-1",
			Labels: map[string]string{"com.docker.compose.project": "site", "traefik.enable": "false"}},
		{ID: "c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3", Name: "/vault",
			Labels: map[string]string{"secret.tier": "high"}},
		{ID: "d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4", Name: "/api.1.x7k2",
			Labels: map[string]string{ServiceLabel: "svcapi0000000000000000000"}},
	}
	services := []Service{
		{ID: "svcapi0000000000000000000", Name: "api", Labels: map[string]string{"homepage.group": "apps"}},
		{ID: "svcjobs000000000000000000", Name: "jobs"},
	}
	return Build(filters(t, []string{"vaultt"}, "homepage", "traefik"), containers, services)
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := homelab(t).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "homelab.txt", buf.Bytes())
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := homelab(t).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "homelab.json", buf.Bytes())

	// The documented shape, checked apart from the golden file's details.
	var doc struct {
		Containers []map[string]any `json:"containers"`
		Services   []map[string]any `json:"services"`
		Warnings   []map[string]any `json:"warnings"`
		Summary    map[string]int   `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Containers {
		for _, k := range []string{"kind", "id", "name", "visible", "basis", "reason"} {
			if _, ok := c[k]; !ok {
				t.Errorf("container %v has no %q", c["name"], k)
			}
		}
	}
	if got := doc.Summary["containers_visible"] + doc.Summary["containers_hidden"]; got != len(doc.Containers) {
		t.Errorf("summary counts %d containers, the list has %d", got, len(doc.Containers))
	}
}

func TestEmptyReport(t *testing.T) {
	r := Build(filters(t, []string{"web"}), nil, nil)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"containers": []`, `"services": []`, `"labels": []`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("JSON of an empty report lacks %s:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := "filters: CONTAINER_NAMES=web CONTAINER_LABELS=(none)\n\n(no containers)\n\ncontainers: 0 visible, 0 hidden\n\n" +
		"warnings:\n  - CONTAINER_NAMES item \"web\" matches no container or service (a typo, or nothing to show yet?)\n"
	if buf.String() != want {
		t.Errorf("text = %q\nwant   %q", buf.String(), want)
	}
}

// TestTextIsTerminalSafe: names and labels come from whoever created the
// container; they must not break the table or drive the terminal.
func TestTextIsTerminalSafe(t *testing.T) {
	r := Build(filters(t, []string{"evil"}), []Container{{ID: "1", Name: "/evil\x1b[2J\nname\t\u009b"}}, nil)
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\t\u009b") || strings.Contains(out, "\nname") {
		t.Errorf("text output carries control characters:\n%q", out)
	}
	if !strings.Contains(out, "/evil?[2J?name??") {
		t.Errorf("text output lacks the cleaned name:\n%q", out)
	}
}
