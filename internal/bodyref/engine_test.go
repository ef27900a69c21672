package bodyref

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// engineAPI sends raw request bodies to the test engine's unix socket: the
// SDK cannot send malformed or duplicated-key JSON.
type engineAPI struct {
	t      *testing.T
	client *http.Client
}

func newEngineAPI(t *testing.T) (*enginetest.Engine, *engineAPI) {
	e := enginetest.Require(t)
	sock := e.SocketPath(t)
	return e, &engineAPI{t: t, client: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}}
}

// do sends body (with Content-Type application/json when non-empty) and
// returns the status and the engine's error message or created ID.
func (a *engineAPI) do(method, path string, body []byte) (status int, message, id string) {
	a.t.Helper()
	req, err := http.NewRequest(method, "http://engine"+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var msg struct {
		Message string `json:"message"`
		ID      string `json:"Id"`
	}
	_ = json.Unmarshal(data, &msg)
	return resp.StatusCode, msg.Message, msg.ID
}

// lookedUp returns the container ref an engine error message says it failed
// to find, if any.
func lookedUp(message string) (string, bool) {
	for _, prefix := range []string{"No such container: ", "ultiple IDs found with provided prefix: "} {
		if i := strings.LastIndex(message, prefix); i >= 0 {
			return message[i+len(prefix):], true
		}
	}
	if i := strings.LastIndex(message, "invalid name or ID supplied: "); i >= 0 {
		ref, err := strconv.Unquote(message[i+len("invalid name or ID supplied: "):])
		return ref, err == nil
	}
	return "", false
}

// createBodies returns the table and seed-corpus bodies, with image
// placeholders replaced by the test image so that the engine gets as far as
// resolving container refs.
func createBodies(t *testing.T, image string) map[string][]byte {
	t.Helper()
	bodies := map[string][]byte{}
	for _, tc := range createCases {
		bodies["case "+tc.name] = []byte(tc.body)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzContainerCreate", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body, ok := corpusBytes(data)
		if !ok {
			t.Fatalf("%s is not a []byte corpus file", f)
		}
		bodies["corpus "+filepath.Base(f)] = body
	}
	for name, body := range bodies {
		b := bytes.ReplaceAll(body, []byte(`"Image":"x"`), []byte(`"Image":"`+image+`"`))
		b = bytes.ReplaceAll(b, []byte(`"Image":"app"`), []byte(`"Image":"`+image+`"`))
		if trimmed := bytes.TrimSpace(b); len(trimmed) > 2 && trimmed[0] == '{' && !bytes.Contains(b, []byte(image)) {
			b = append([]byte(`{"Image":"`+image+`",`), trimmed[1:]...)
		}
		bodies[name] = b
	}
	return bodies
}

// corpusBytes decodes a one-value `go test fuzz v1` file holding []byte.
func corpusBytes(data []byte) ([]byte, bool) {
	_, rest, ok := strings.Cut(string(data), "\n")
	rest = strings.TrimSpace(rest)
	if !ok || !strings.HasPrefix(rest, "[]byte(") || !strings.HasSuffix(rest, ")") {
		return nil, false
	}
	s, err := strconv.Unquote(rest[len("[]byte(") : len(rest)-1])
	return []byte(s), err == nil
}

// TestEngineResolvesOnlyReportedRefs sends every create body of the tests
// and the seed corpus to a real engine and checks that whenever the engine
// says it looked for a container, that ref was reported: the property the
// proxy relies on. (The engine stops at its first failed lookup, so this
// cannot show that every reported ref is looked up; the table tests record
// those cases.)
func TestEngineResolvesOnlyReportedRefs(t *testing.T) {
	e, api := newEngineAPI(t)
	image := e.TestImage(t)
	for name, body := range createBodies(t, image) {
		t.Run(name, func(t *testing.T) {
			info, err := ContainerCreate(body)
			status, message, id := api.do(http.MethodPost, "/containers/create", body)
			if id != "" {
				t.Cleanup(func() { api.do(http.MethodDelete, "/containers/"+id+"?force=1", nil) })
			}
			t.Logf("engine: %d %s", status, message)
			if err != nil && status < 400 {
				t.Errorf("ContainerCreate(%q) error = %v; engine answered %d %s", body, err, status, message)
			}
			ref, ok := lookedUp(message)
			if !ok {
				return
			}
			for _, r := range info.Refs {
				if r.Ref == ref {
					return
				}
			}
			t.Errorf("engine looked up %q for %q (%d %s); ContainerCreate reported %+v, %v", ref, body, status, message, info.Refs, err)
		})
	}
}

func TestEngineNetworkBodies(t *testing.T) {
	_, api := newEngineAPI(t)
	network := enginetest.UniqueName(t, "bodyref")
	status, message, _ := api.do(http.MethodPost, "/networks/create", []byte(`{"Name":"`+network+`"}`))
	if status != http.StatusCreated {
		t.Fatalf("create network: %d %s", status, message)
	}
	t.Cleanup(func() { api.do(http.MethodDelete, "/networks/"+network, nil) })
	missing := enginetest.UniqueName(t, "missing")
	bodies := []string{
		``, `null`, `{}`,
		`{"Container":"` + missing + `"}`,
		`{"CONTAINER":"` + missing + `"} x`,
		`{"Container":"` + missing + `","Force":true}`,
		`{"Container":"` + missing + `","EndpointConfig":{"Links":["` + missing + `x:a"]}}`,
	}
	for _, action := range []string{"connect", "disconnect"} {
		for _, body := range bodies {
			t.Run(action+" "+body, func(t *testing.T) {
				var ref Ref
				var err error
				if action == "connect" {
					ref, _, err = NetworkConnect([]byte(body))
				} else {
					ref, _, err = NetworkDisconnect([]byte(body))
				}
				status, message, _ := api.do(http.MethodPost, "/networks/"+network+"/"+action, []byte(body))
				t.Logf("engine: %d %s", status, message)
				if err != nil {
					t.Fatalf("%s(%q) error = %v", action, body, err)
				}
				if looked, ok := lookedUp(message); ok && looked != ref.Ref {
					t.Errorf("engine looked up %q for %q (%d %s); %s reported %q", looked, body, status, message, action, ref.Ref)
				}
			})
		}
	}
}
