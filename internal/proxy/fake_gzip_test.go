package proxy

// A socket proxy between the proxy and the engine may gzip answers, which
// an engine never does (FAKE engine, see fakeengine_test.go).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dpf-dev/docker-proxy-filter/internal/fakeengine"
)

// TestFakeEngineGzipAnswersAreFiltered: a socket proxy in between may gzip
// answers; lists are filtered and inspect scrubbed all the same (catalog 41).
func TestFakeEngineGzipAnswersAreFiltered(t *testing.T) {
	list := fakeengine.List(
		fakeengine.Element(fakeDB, `,"Secret":"`+fakeMarker+`"`),
		fakeengine.Element(fakeWeb, ""),
		fakeengine.Element(fakeTools, `,"Note":"\u00e9"`),
	)
	wantList := fakeengine.List(
		fakeengine.Element(fakeWeb, ""),
		fakeengine.Element(fakeTools, `,"Note":"\u00e9"`),
	)
	inspect := `{"Id":"` + fakeWeb.ID + `","Name":"/fake-web","Config":{"Hostname":"h","Env":["SECRET=` + fakeMarker + `"],"Labels":{"fake.app":"web"}},"HostConfig":{"Env":"kept"}}` + "\n"
	wantInspect := `{"Id":"` + fakeWeb.ID + `","Name":"/fake-web","Config":{"Hostname":"h","Env":[],"Labels":{"fake.app":"web"}},"HostConfig":{"Env":"kept"}}` + "\n"

	cases := []struct {
		name, target string
		answer       fakeengine.Answer
		scrub        bool
		want         string
		wantEncoding string // Content-Encoding of the proxy's answer
	}{
		{"list gzip", "/containers/json?all=1", fakeengine.Answer{Encoding: "gzip", Body: fakeengine.Gzip([]byte(list))}, false, wantList, ""},
		{"list gzip chunked", "/containers/json?all=1", fakeengine.Answer{Encoding: "gzip", Chunked: true, Body: fakeengine.Gzip([]byte(list))}, false, wantList, ""},
		{"list x-gzip", "/containers/json", fakeengine.Answer{Encoding: "x-gzip", Body: fakeengine.Gzip([]byte(list))}, false, wantList, ""},
		{"list GZIP upper case", "/containers/json", fakeengine.Answer{Encoding: "GZIP", Body: fakeengine.Gzip([]byte(list))}, false, wantList, ""},
		{"list identity", "/containers/json", fakeengine.Answer{Encoding: "identity", Body: []byte(list)}, false, wantList, "identity"},
		{"inspect gzip scrubbed", "/containers/fake-web/json", fakeengine.Answer{Encoding: "gzip", Body: fakeengine.Gzip([]byte(inspect))}, true, wantInspect, ""},
		{"inspect gzip chunked scrubbed", "/containers/fake-web/json", fakeengine.Answer{Encoding: "gzip", Chunked: true, Body: fakeengine.Gzip([]byte(inspect))}, true, wantInspect, ""},
		// Without SCRUB_ENVS the answer is still read (hidden IDs a visible
		// container names are replaced), so it is decoded too; its JSON is
		// unchanged.
		{"inspect gzip unscrubbed is decoded unchanged", "/containers/fake-web/json", fakeengine.Answer{Encoding: "gzip", Body: fakeengine.Gzip([]byte(inspect))}, false, inspect, ""},
	}
	for _, scrub := range []bool{false, true} {
		fcases := map[string]fakeengine.Case{}
		for _, c := range cases {
			fcases[c.name] = c.answer.Serve
		}
		f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
		p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters(), scrubEnvs: scrub})
		for _, c := range cases {
			if c.scrub != scrub && strings.HasPrefix(c.name, "inspect") {
				continue
			}
			t.Run(fmt.Sprintf("%s/scrub=%v", c.name, scrub), func(t *testing.T) {
				got := fakeDo(t, p, "GET", c.target, c.name)
				if got.Status != http.StatusOK || got.ReadErr != nil || string(got.Body) != c.want {
					t.Errorf("answer = %d (read error %v) %q, want 200 %q", got.Status, got.ReadErr, fakeShort(got.Body), fakeShort([]byte(c.want)))
				}
				if ce := got.Header.Get("Content-Encoding"); ce != c.wantEncoding {
					t.Errorf("Content-Encoding = %q, want %q", ce, c.wantEncoding)
				}
				if cl := got.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got.Body)) {
					t.Errorf("Content-Length = %s, body has %d bytes", cl, len(got.Body))
				}
			})
		}
	}
}

// TestFakeEngineGzipErrorAnswersAreRewritten: the proxy rewrites engine error
// answers (a removed container's full ID back to the client's ref; a hidden
// container's name and ID out of a conflict message). A socket proxy that
// gzips answers must not get them past those rewrites: the client decodes
// the gzip and would read the engine's raw message.
func TestFakeEngineGzipErrorAnswersAreRewritten(t *testing.T) {
	conflict := `{"message":"Error when allocating new name: Conflict. The container name \"/fake-db\" is already in use by container \"` + fakeDB.ID + `\". You have to remove (or rename) that container to be able to reuse that name."}` + "\n"
	gone := `{"message":"No such container: ` + fakeWeb.ID + `"}` + "\n"
	type row struct {
		name, method, target string
		answer               fakeengine.Answer
		status               int
		check                func(t *testing.T, msg string)
	}
	var rows []row
	for _, enc := range []string{"", "gzip"} {
		wrap := func(status int, s string) fakeengine.Answer {
			if enc == "" {
				return fakeengine.Answer{Status: status, Body: []byte(s)}
			}
			return fakeengine.Answer{Status: status, Body: fakeengine.Gzip([]byte(s)), Encoding: enc}
		}
		suffix := " (plain)"
		if enc != "" {
			suffix = " (" + enc + ")"
		}
		rows = append(rows,
			row{"rename onto a hidden container's name" + suffix, "POST", "/containers/fake-web/rename?name=fake-db", wrap(http.StatusConflict, conflict), http.StatusConflict,
				func(t *testing.T, msg string) {
					if strings.Contains(msg, fakeDB.ID[:12]) || strings.Contains(msg, "fake-db") {
						t.Errorf("conflict message %q names the hidden container (%s, %s)", msg, fakeDB.Name, fakeDB.ID[:12])
					}
				}},
			row{"inspect of a container removed meanwhile" + suffix, "GET", "/containers/fake-web/json", wrap(http.StatusNotFound, gone), http.StatusNotFound,
				func(t *testing.T, msg string) {
					if want := "No such container: fake-web"; msg != want {
						t.Errorf("message = %q, want %q (the ref the client asked for)", msg, want)
					}
				}},
		)
	}
	fcases := map[string]fakeengine.Case{}
	for _, r := range rows {
		fcases[r.name] = r.answer.Serve
	}
	f := newFakeEngine(t, fakeengine.Options{Cases: fcases})
	p := startProxy(t, f.Host, proxyConfig{filters: fakeFilters()})
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got := fakeDo(t, p, r.method, r.target, r.name)
			if got.Status != r.status {
				t.Fatalf("answer = %d %q, want %d", got.Status, got.Body, r.status)
			}
			var msg struct{ Message string }
			body := fakeDecoded(t, got)
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatalf("answer %q is not an engine error: %v", body, err)
			}
			r.check(t, msg.Message)
			if cl := got.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got.Body)) {
				t.Errorf("Content-Length = %s, body has %d bytes", cl, len(got.Body))
			}
		})
	}
}
