package fakeengine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFixtureWorldIsTheCapturedList: a captured engine's list answer is
// served byte for byte, and its containers are the captured ones.
func TestFixtureWorldIsTheCapturedList(t *testing.T) {
	for _, engine := range []string{"engine-29.7", "engine-20.10"} {
		t.Run(engine, func(t *testing.T) {
			fx := LoadFixture(t, engine)
			w := fx.World(t)
			if got, want := string(w.list(listQuery{all: true})), string(fx.Answer(t, "containers-list-all").Body); got != want {
				t.Errorf("list = %q, want the capture %q", got, want)
			}
			var names []string
			for _, c := range w.Containers() {
				names = append(names, c.Name+":"+c.State)
			}
			if got, want := strings.Join(names, " "), "/net-hid:running /net-vis:running /stopped-c:created /db-b:running /web-a:running"; got != want {
				t.Errorf("containers = %s, want %s", got, want)
			}
			if got, want := string(w.list(listQuery{})), string(w.ListOf(Container.running)); got != want {
				t.Errorf("list without all = %q, want the running containers %q", got, want)
			}
		})
	}
}

func TestWorldResolvesLikeTheEngine(t *testing.T) {
	a := Container{ID: "abc1" + strings.Repeat("0", 60), Name: "/web"}
	b := Container{ID: "abc2" + strings.Repeat("0", 60), Name: "/db"}
	c := Container{ID: "f00d" + strings.Repeat("0", 60), Name: "/abc1"} // named like a's ID prefix
	w := NewWorld(a, b, c)
	for _, tc := range []struct {
		ref  string
		want int // index, -1: none, -2: ambiguous
	}{
		{a.ID, 0}, {"web", 0}, {"/web", 0}, {"abc2", 1}, {"f0", 2},
		{"abc1", 2}, // the name wins over the ID prefix
		{"abc", -2}, {"nope", -1}, {"", -1}, {"//web", -1},
	} {
		i, n := w.resolve(tc.ref)
		got := i
		switch {
		case n == 0:
			got = -1
		case n > 1:
			got = -2
		}
		if got != tc.want {
			t.Errorf("resolve(%q) = %d, want %d", tc.ref, got, tc.want)
		}
	}
}

func TestListQueryReadsAllLimitAndIDLikeTheEngine(t *testing.T) {
	w := NewWorld(
		Container{ID: ID("a"), Name: "/a"},
		Container{ID: ID("b"), Name: "/b", State: "exited"},
		Container{ID: ID("c"), Name: "/c"},
	)
	for _, tc := range []struct {
		query string
		want  string // names, or the error
	}{
		{"all=1", "/a /b /c"},
		{"all=true&limit=2", "/a /b"},
		{"", "/a /c"},
		{"all=0", "/a /c"},
		{"limit=1", "/a"},
		{"all=1&limit=1&limit=x", "/a"},
		{"all=1&limit=0", "/a /b /c"},
		{"all=1&filters=" + url.QueryEscape(`{"id":["^`+ID("b")[:5]+`"]}`), "/b"},
		{"all=1&filters=" + url.QueryEscape(`{"id":{"`+ID("c")[3:9]+`":true}}`), "/c"},
		{"limit=x", `strconv.Atoi: parsing "x": invalid syntax`},
		{"limit=%zz", `invalid URL escape "%zz"`},
		{"lim%69t=1&&all=1", "/a"},
		{"filters=" + url.QueryEscape(`{"label":["x"]}`), `fakeengine: filter "label" not supported`},
	} {
		q, err := parseListQuery(tc.query)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			for _, c := range listNames(t, w.list(q)) {
				got += " " + c
			}
			got = strings.TrimSpace(got)
		}
		if got != tc.want {
			t.Errorf("list %q = %s, want %s", tc.query, got, tc.want)
		}
	}
	// The benchmarks count the fake's allocations with the proxy's.
	if n := testing.AllocsPerRun(100, func() { _, _ = parseListQuery("all=1&limit=8") }); n != 0 {
		t.Errorf("reading a plain list query allocates %v times", n)
	}
}

// listNames returns the names a list answer holds.
func listNames(t *testing.T, body []byte) []string {
	t.Helper()
	var names []string
	for _, part := range strings.Split(strings.Trim(string(body), "[]\n"), `{"Id":`) {
		if _, rest, ok := strings.Cut(part, `"Names":["`); ok {
			name, _, _ := strings.Cut(rest, `"`)
			names = append(names, name)
		}
	}
	return names
}

// client talks to the fake engine over its socket.
func client(t *testing.T, e *Engine) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", strings.TrimPrefix(e.Host, "unix://"))
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// do sends one request and reads the whole answer.
func do(c *http.Client, method, target string, header http.Header) (*http.Response, string, error) {
	req, _ := http.NewRequest(method, "http://docker"+target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestEngineAnswers(t *testing.T) {
	web := Container{ID: "aa" + strings.Repeat("1", 62), Name: "/web", Labels: map[string]string{"app": "web"}}
	db := Container{ID: "aa" + strings.Repeat("2", 62), Name: "/db"}
	old := New(t, Options{World: NewWorld(web, db)})
	current := New(t, Options{API: "1.47", Header: http.Header{"Swarm": {"active"}}, World: NewWorld(web, db), RefuseEvents: true, NoRequestLog: true, Swarm: &Swarm{
		Services: []Service{{ID: "s1", Name: "svc"}},
		Tasks:    []Task{{ID: "t1", Name: "svc.1", ServiceID: "s1", ContainerID: web.ID}},
	}})
	for _, tc := range []struct {
		e              *Engine
		method, target string
		status         int
		body           string // "" for any
		apiVersion     string
	}{
		{old, "HEAD", "/_ping", 200, "", "1.41"},
		{old, "GET", "/v1.41/_ping", 200, "OK", "1.41"},
		{old, "GET", "/version", 200, `{"ApiVersion":"1.41","Version":"fake"}` + "\n", "1.41"},
		{old, "GET", "/containers/web/json", 200, "", "1.41"},
		{old, "GET", "/containers/nope/json", 404, `{"message":"No such container: nope"}` + "\n", "1.41"},
		{old, "GET", "/containers/aa/json", 500, `{"message":"Multiple IDs found with provided prefix: aa"}` + "\n", "1.41"},
		{current, "GET", "/containers/aa/json", 400, `{"message":"multiple IDs found with provided prefix: aa"}` + "\n", "1.47"},
		{old, "GET", "/services", 503, "", "1.41"},
		{current, "GET", "/services", 200, `[{"ID":"s1","Spec":{"Name":"svc","Labels":null}}]` + "\n", "1.47"},
		{current, "GET", "/tasks", 200, `[{"ID":"t1","Annotations":{"Name":"svc.1"},"ServiceID":"s1","Status":{"ContainerStatus":{"ContainerID":"` + web.ID + `"}}}]` + "\n", "1.47"},
		{current, "GET", "/events", 403, "", "1.47"},
		{old, "GET", "/info", 404, `{"message":"page not found"}` + "\n", ""},
	} {
		resp, body, err := do(client(t, tc.e), tc.method, tc.target, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.target, err)
		}
		if resp.StatusCode != tc.status || tc.body != "" && body != tc.body {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.target, resp.StatusCode, body, tc.status, tc.body)
		}
		if v := resp.Header.Get("Api-Version"); v != tc.apiVersion {
			t.Errorf("%s %s: Api-Version %q, want %q", tc.method, tc.target, v, tc.apiVersion)
		}
		if v := resp.Header.Get("Swarm"); (tc.e == current) != (v == "active") {
			t.Errorf("%s %s: Swarm header %q", tc.method, tc.target, v)
		}
	}
	if got := old.Inspects(); got != 3 {
		t.Errorf("Inspects() = %d, want 3", got)
	}
	if n, m := len(old.Requests()), len(current.Requests()); n != 8 || m != 0 {
		t.Errorf("requests logged = %d and %d (NoRequestLog), want 8 and 0", n, m)
	}
}

// TestEngineCases: a marked request gets its case, bytes past the end of
// an answer included, and an events stream is the test's to write.
func TestEngineCases(t *testing.T) {
	e := New(t, Options{Cases: map[string]Case{
		"trailing": Answer{Body: []byte("{}\n"), Trailing: []byte("EXTRA")}.Serve,
		"stream":   EventStream,
	}})
	conn, err := net.Dial("unix", strings.TrimPrefix(e.Host, "unix://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /version HTTP/1.1\r\nHost: docker\r\n%s: trailing\r\n\r\n", CaseHeader)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	extra := make([]byte, 5)
	if _, err := io.ReadFull(br, extra); err != nil || string(body) != "{}\n" || string(extra) != "EXTRA" {
		t.Errorf("answer = %q then %q (%v), want {} then EXTRA", body, extra, err)
	}

	done := make(chan string)
	c := client(t, e)
	go func() {
		_, body, _ := do(c, "GET", "/events", http.Header{CaseHeader: {"stream"}})
		done <- body
	}()
	s := e.Stream(t)
	if s.Case != "stream" {
		t.Errorf("stream case = %q", s.Case)
	}
	s.Send([]byte(`{"t":` + StampMark + "}\n"))
	s.End()
	if got := <-done; !strings.HasPrefix(got, `{"t":`) || strings.Contains(got, StampMark) {
		t.Errorf("stream = %q, want the record stamped", got)
	}
	if r := e.Requests(); len(r) != 2 || r[0].Case != "trailing" || r[1].Path != "/events" {
		t.Errorf("requests = %+v", r)
	}
}
