package rewrite

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// homepageEvents is the decision a proxy with CONTAINER_LABELS=homepage
// makes: container events by the labels copied into their attributes
// (remembering visible IDs), network and volume events that name a
// container by that container; everything else (prune included) stays.
func homepageEvents() func(Event) bool {
	visible := map[string]bool{}
	return func(ev Event) bool {
		switch ev.Type {
		case "container":
			if ev.Actor.ID == "" {
				return true
			}
			for k := range ev.Actor.Attributes {
				if strings.Contains(k, "homepage") {
					visible[ev.Actor.ID] = true
					return true
				}
			}
			return false
		case "network", "volume":
			if c := ev.Actor.Attributes["container"]; c != "" {
				return visible[c]
			}
		}
		return true
	}
}

// recordingWriter records each Write and each flush.
type recordingWriter struct {
	bytes.Buffer
	log []string
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.log = append(w.log, "w:"+string(p))
	return w.Buffer.Write(p)
}

func (w *recordingWriter) flush() { w.log = append(w.log, "flush") }

func TestEventsGolden(t *testing.T) {
	for _, engine := range engines {
		for _, name := range []string{"events-default", "events-jsonl", "events-json-seq"} {
			t.Run(engine+"/"+name, func(t *testing.T) {
				in := httpBody(t, engine+"/"+name+".http")
				var all bytes.Buffer
				if err := Events(&all, bytes.NewReader(in), nil, nil); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(all.Bytes(), in) {
					t.Errorf("keeping all changed the stream")
				}
				var got recordingWriter
				if err := Events(&got, bytes.NewReader(in), homepageEvents(), got.flush); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, engine+"-"+name+"-homepage.txt", got.Bytes())
				for _, hidden := range []string{"db-b", "net-hid", "com.example.tier", "private"} {
					if bytes.Contains(got.Bytes(), []byte(`"`+hidden+`"`)) {
						t.Errorf("output still mentions %s", hidden)
					}
				}
				// One write per kept record, each followed by a flush.
				for i, entry := range got.log {
					if (i%2 == 1) != (entry == "flush") {
						t.Fatalf("log entry %d = %.40q: writes and flushes do not alternate", i, entry)
					}
				}
				// Same result whatever the read sizes.
				for _, sizes := range [][]int{{1}, {7}, {1, 300, 0, 2, 4096, 13}} {
					var chunked bytes.Buffer
					if err := Events(&chunked, &chunkReader{data: in, sizes: sizes}, homepageEvents(), nil); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(chunked.Bytes(), got.Bytes()) {
						t.Errorf("reads of %v gave a different output", sizes)
					}
				}
			})
		}
	}
}

// legacy29 is how engine 29 writes a container event below API 1.52:
// through a map, so keys are sorted, "id" and "from" are always there and
// timeNano has lost precision to float64.
const legacy29 = `{"Action":"prune","Actor":{"ID":"","Attributes":{"reclaimed":"0"}},"Type":"container","from":"","id":"","scope":"local","status":"prune","time":1795781741,"timeNano":1795781741397171200}` + "\n"

func TestEventsDecode(t *testing.T) {
	tests := []struct {
		name, in string
		want     Event
	}{
		{name: "engine 29 legacy", in: legacy29, want: Event{Type: "container", Action: "prune", Scope: "local", Status: "prune",
			Actor: EventActor{Attributes: map[string]string{"reclaimed": "0"}}}},
		{name: "engine 20.10 legacy", in: `{"status":"start","id":"abc","from":"img","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x"}},"scope":"local","time":1,"timeNano":1}` + "\n",
			want: Event{Type: "container", Action: "start", Scope: "local", ID: "abc", Status: "start", From: "img", Actor: EventActor{ID: "abc", Attributes: map[string]string{"name": "x"}}}},
		{name: "case and escapes", in: `{"type":"network","ACTION":"connect","actor":{"id":"n","attributes":{"container":"c\u0031"}},"Scope":"local"}` + "\n",
			want: Event{Type: "network", Action: "connect", Scope: "local", Actor: EventActor{ID: "n", Attributes: map[string]string{"container": "c1"}}}},
		{name: "html escaped action", in: `{"Type":"container","Action":"exec_create: sh -c a \u0026\u0026 b","Actor":{"ID":"c"}}` + "\n",
			want: Event{Type: "container", Action: "exec_create: sh -c a && b", Actor: EventActor{ID: "c"}}},
		{name: "duplicates merge", in: `{"Type":"a","Type":"b","Type":null,"Actor":{"ID":"1","Attributes":{"k":"1"}},"Actor":{"Attributes":{"j":null}}}` + "\n",
			want: Event{Type: "b", Actor: EventActor{ID: "1", Attributes: map[string]string{"k": "1", "j": ""}}}},
		{name: "attributes reset", in: `{"Actor":{"Attributes":{"k":"1"},"Attributes":null}}` + "\n", want: Event{}},
		{name: "unknown members", in: `{"Type":"x","extra":[1,{"Type":"y"}],"time":"not checked"}` + "\n", want: Event{Type: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Event
			var out bytes.Buffer
			err := Events(&out, strings.NewReader(tt.in), func(ev Event) bool { got = append(got, ev); return true }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d events, want 1", len(got))
			}
			if g, w := describeEvent(got[0]), describeEvent(tt.want); g != w {
				t.Errorf("event = %s, want %s", g, w)
			}
			if out.String() != tt.in {
				t.Errorf("output %q, want the input", out.String())
			}
		})
	}
}

func describeEvent(ev Event) string {
	kv := describe(ev.Actor.ID, mapSeq(ev.Actor.Attributes))
	if ev.Actor.Attributes == nil {
		kv += "(nil)"
	}
	return strings.Join([]string{ev.Type, ev.Action, ev.Scope, ev.ID, ev.Status, ev.From, kv}, "|")
}

func TestEventsFraming(t *testing.T) {
	drop := func(ev Event) bool { return ev.Type != "x" }
	tests := []struct {
		name, in, want string
	}{
		{name: "jsonl", in: "{\"Type\":\"a\"}\n{\"Type\":\"x\"}\n{\"Type\":\"b\"}\n", want: "{\"Type\":\"a\"}\n{\"Type\":\"b\"}\n"},
		{name: "json-seq", in: "\x1e{\"Type\":\"a\"}\n\x1e{\"Type\":\"x\"}\n\x1e{\"Type\":\"b\"}\n", want: "\x1e{\"Type\":\"a\"}\n\x1e{\"Type\":\"b\"}\n"},
		{name: "mixed per record", in: "\x1e{\"Type\":\"a\"}\n{\"Type\":\"x\"}\n\x1e{\"Type\":\"b\"}\n{}\n", want: "\x1e{\"Type\":\"a\"}\n\x1e{\"Type\":\"b\"}\n{}\n"},
		{name: "crlf", in: "{\"Type\":\"a\"}\r\n{\"Type\":\"x\"}\r\n", want: "{\"Type\":\"a\"}\r\n"},
		{name: "blank lines go with the next record", in: "{\"Type\":\"a\"}\n\n{\"Type\":\"x\"}\n\n{}\n", want: "{\"Type\":\"a\"}\n\n{}\n"},
		{name: "no newline at the end", in: "{\"Type\":\"a\"}\n{\"Type\":\"b\"}", want: "{\"Type\":\"a\"}\n{\"Type\":\"b\"}"},
		{name: "concatenated", in: "{\"Type\":\"x\"}{\"Type\":\"a\"} \x1e{}", want: "{\"Type\":\"a\"} \x1e{}"},
		{name: "trailing whitespace kept", in: "{\"Type\":\"x\"}\n \n", want: " \n"},
		{name: "empty", in: "", want: ""},
		{name: "only whitespace", in: "\n\n", want: "\n\n"},
		{name: "nested braces in strings", in: "{\"Type\":\"a\",\"Action\":\"}{\"}\n", want: "{\"Type\":\"a\",\"Action\":\"}{\"}\n"},
	}
	for _, tt := range tests {
		for _, sizes := range [][]int{{1 << 20}, {1}, {2, 1}} {
			var out bytes.Buffer
			if err := Events(&out, &chunkReader{data: []byte(tt.in), sizes: sizes}, drop, nil); err != nil {
				t.Errorf("%s (reads %v): %v", tt.name, sizes, err)
				continue
			}
			if out.String() != tt.want {
				t.Errorf("%s (reads %v) = %q, want %q", tt.name, sizes, out.String(), tt.want)
			}
		}
	}
}

func TestEventsMalformed(t *testing.T) {
	for _, in := range []string{
		`[]` + "\n", `"x"` + "\n", `null`, "{\"Type\":\"a\"}\n{\"Type\":", "{\"Type\":\"a\"}\n\x1e", "\x1e\x1e{}\n",
		`{"Type":1}`, `{"Actor":[]}`, `{"Actor":{"ID":2}}`, `{"Actor":{"Attributes":{"a":1}}}`, `{"Actor":{"Attributes":[]}}`,
		`{"scope":true}`, `{"id":{}}`, "{\"Type\":\"a\"}\nx", `{"a":1,}`, "{\"a\":\"\x01\"}\n", `{}}`,
	} {
		var out bytes.Buffer
		err := Events(&out, strings.NewReader(in), nil, nil)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Events(%q) = %v, want ErrMalformed", in, err)
		}
		// What was written is whole records only.
		if out.Len() > 0 && !strings.HasPrefix(in, out.String()) {
			t.Errorf("Events(%q) wrote %q", in, out.String())
		}
	}
	var out bytes.Buffer
	err := Events(&out, strings.NewReader("{\"Type\":\"a\"}\n{\"Type\":"), nil, nil)
	if out.String() != "{\"Type\":\"a\"}\n" || err == nil {
		t.Errorf("truncated stream: wrote %q, err %v; want the first record and an error", out.String(), err)
	}
}

func TestEventsErrors(t *testing.T) {
	in := httpBody(t, "engine-29.7/events-jsonl.http")
	boom := errors.New("boom")
	src := io.MultiReader(bytes.NewReader(in[:1000]), iotest.ErrReader(boom))
	if err := Events(io.Discard, src, nil, nil); !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Errorf("read error: err = %v, want boom and not ErrMalformed", err)
	}
	if err := Events(failWriter{boom}, bytes.NewReader(in), nil, nil); !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Errorf("write error: err = %v, want boom and not ErrMalformed", err)
	}
	if err := Events(io.Discard, &chunkReader{data: in, sizes: []int{0}}, nil, nil); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("no progress: err = %v, want io.ErrNoProgress", err)
	}
}

// TestEventsNoWait checks that a record goes out while the engine has not
// sent anything after it.
func TestEventsNoWait(t *testing.T) {
	pr, pw := io.Pipe()
	out := make(chan string, 10)
	flushed := &chanWriter{ch: out}
	done := make(chan error, 1)
	go func() { done <- Events(flushed, pr, nil, func() { flushed.flush() }) }()
	steps := []struct{ write, flushed string }{
		{"\x1e", ""},
		{"{\"Type\":\"a\"}\n", "\x1e{\"Type\":\"a\"}\n"},
		{"{\"Type\":\"b\",", ""},
		{"\"Action\":\"c\"}\n", "{\"Type\":\"b\",\"Action\":\"c\"}\n"},
	}
	for _, step := range steps {
		if _, err := pw.Write([]byte(step.write)); err != nil {
			t.Fatal(err)
		}
		if step.flushed == "" {
			continue
		}
		select {
		case got := <-out:
			if got != step.flushed {
				t.Errorf("flushed %q, want %q", got, step.flushed)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q not flushed before more input", step.flushed)
		}
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// chanWriter sends what was written since the last flush on each flush.
type chanWriter struct {
	buf []byte
	ch  chan string
}

func (w *chanWriter) Write(p []byte) (int, error) { w.buf = append(w.buf, p...); return len(p), nil }
func (w *chanWriter) flush()                      { w.ch <- string(w.buf); w.buf = nil }

func TestEventsHugeRecord(t *testing.T) {
	attrs := strings.Repeat(`"k":"`+strings.Repeat("v", 1000)+`",`, 4000)
	rec := `{"Type":"container","Actor":{"ID":"x","Attributes":{` + attrs + `"name":"n"}}}` + "\n"
	in := rec + `{"Type":"network"}` + "\n"
	var out bytes.Buffer
	start := time.Now()
	if err := Events(&out, &chunkReader{data: []byte(in), sizes: []int{4096}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != in {
		t.Error("huge record not passed through intact")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("huge record took %v", d)
	}
}

func TestFilterEventsRemovesTheOldNameOfARename(t *testing.T) {
	in := `{"Type":"container","Action":"rename","Actor":{"ID":"c1","Attributes":{"image":"x","name":"web","oldName":"/secret-db"}},"time":1}` + "\n" +
		`{"Type":"container","Action":"rename","Actor":{"ID":"c2","Attributes":{"oldName":"/secret-db"},"Attributes":{"oldName":"/secret-db","name":"api"}},"time":2}` + "\n" +
		`{"Type":"container","Action":"start","Actor":{"ID":"c3","Attributes":{"name":"web"}},"time":3}` + "\n"
	want := `{"Type":"container","Action":"rename","Actor":{"ID":"c1","Attributes":{"image":"x","name":"web"}},"time":1}` + "\n" +
		`{"Type":"container","Action":"rename","Actor":{"ID":"c2","Attributes":{},"Attributes":{"name":"api"}},"time":2}` + "\n" +
		`{"Type":"container","Action":"start","Actor":{"ID":"c3","Attributes":{"name":"web"}},"time":3}` + "\n"
	var out bytes.Buffer
	err := FilterEvents(&out, iotest.OneByteReader(strings.NewReader(in)), EventOptions{Decide: func(ev Event) Verdict {
		if ev.Action == "rename" {
			return KeepWithoutOldName
		}
		return KeepEvent
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestFilterEventsDropsOversizedEventsUnheld(t *testing.T) {
	huge := `{"Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"x":"` + strings.Repeat(`a\"}{`, MaxEventRecord/4) + `"}}}` + "\n"
	in := `{"Type":"container","Action":"start","Actor":{"ID":"c0"}}` + "\n" + huge +
		`{"Type":"container","Action":"stop","Actor":{"ID":"c2"}}` + "\n"
	var out bytes.Buffer
	oversized := 0
	err := FilterEvents(&out, strings.NewReader(in), EventOptions{Oversize: func() { oversized++ }})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Type":"container","Action":"start","Actor":{"ID":"c0"}}` + "\n" + `{"Type":"container","Action":"stop","Actor":{"ID":"c2"}}` + "\n"
	if out.String() != want || oversized != 1 {
		t.Errorf("got %d bytes (%d oversized), want the two small events only", out.Len(), oversized)
	}
}
