package fakeengine

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"testing"
)

// captures are the answers of real engines, one directory per engine, one
// NAME.http per answer: status line, headers and the body, stored de-chunked
// (see each directory's README.txt for the containers at capture time).
//
//go:embed testdata
var captures embed.FS

// Fixture is one real engine's captured answers.
type Fixture struct {
	Engine string // its directory: "engine-29.7"
	API    string // its Api-Version

	answers map[string]Answer // by NAME
}

// LoadFixture reads the captures of engine ("engine-29.7", "engine-20.10").
func LoadFixture(tb testing.TB, engine string) *Fixture {
	tb.Helper()
	dir := path.Join("testdata", engine)
	entries, err := captures.ReadDir(dir)
	if err != nil {
		tb.Fatalf("fakeengine: no captures of %s: %v", engine, err)
	}
	f := &Fixture{Engine: engine, answers: map[string]Answer{}}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".http")
		if !ok {
			continue
		}
		raw, err := fs.ReadFile(captures, path.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		a, err := parseCapture(raw)
		if err != nil {
			tb.Fatalf("fakeengine: %s/%s: %v", engine, e.Name(), err)
		}
		f.answers[name] = a
	}
	f.API = f.answer(tb, "ping-head").Header.Get("Api-Version")
	return f
}

// parseCapture reads one captured answer.
func parseCapture(raw []byte) (Answer, error) {
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		return Answer{}, errors.New("no blank line after the headers")
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head, "\r\n\r\n"...))))
	line, err := tp.ReadLine()
	if err != nil {
		return Answer{}, err
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return Answer{}, fmt.Errorf("status line %q", line)
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil {
		return Answer{}, fmt.Errorf("status line %q", line)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return Answer{}, err
	}
	h := http.Header(mh)
	a := Answer{Status: status, Header: h, Body: body, Chunked: h.Get("Transfer-Encoding") == "chunked"}
	h.Del("Transfer-Encoding")
	return a, nil
}

// Answer returns the captured answer NAME (a file name without .http),
// failing the test when there is none. It is the test's own copy.
func (f *Fixture) Answer(tb testing.TB, name string) Answer {
	tb.Helper()
	a := f.answer(tb, name)
	a.Header = a.Header.Clone()
	return a
}

func (f *Fixture) answer(tb testing.TB, name string) Answer {
	tb.Helper()
	f.require(tb, name)
	return f.answers[name]
}

// require fails the test unless every named capture is there.
func (f *Fixture) require(tb testing.TB, names ...string) {
	tb.Helper()
	for _, name := range names {
		if _, ok := f.answers[name]; !ok {
			tb.Fatalf("fakeengine: %s has no capture %s", f.Engine, name)
		}
	}
}

// WithIDs returns the fixture with container IDs rewritten in every
// answer, old to new (of the same length), to craft shared ID prefixes.
func (f *Fixture) WithIDs(tb testing.TB, ids map[string]string) *Fixture {
	tb.Helper()
	g := &Fixture{Engine: f.Engine, API: f.API, answers: maps.Clone(f.answers)}
	for name, a := range g.answers {
		for old, new := range ids {
			if len(old) != len(new) {
				tb.Fatalf("fakeengine: ID rewrite %s -> %s changes the length", old, new)
			}
			a.Body = bytes.ReplaceAll(a.Body, []byte(old), []byte(new))
		}
		g.answers[name] = a
	}
	return g
}

// engineHeader is the headers the captured engine puts on its answers.
func (f *Fixture) engineHeader() http.Header {
	v := f.answers["version"].Header
	h := http.Header{}
	for _, k := range []string{"Api-Version", "Docker-Experimental", "Ostype", "Server"} {
		if x := v.Get(k); x != "" {
			h.Set(k, x)
		}
	}
	return h
}

// eventsHeader is the head of the captured engine's events answer in the
// framing accept asks for (json-seq, jsonl) where it was captured.
func (f *Fixture) eventsHeader(accept string) http.Header {
	a := f.answers["events-default"]
	for _, mt := range []string{"json-seq", "jsonl"} {
		if b, ok := f.answers["events-"+mt]; ok && strings.Contains(accept, "application/"+mt) {
			a = b
		}
	}
	return a.Header
}

// World returns the captured containers, with the captured list as their
// list answer and the captured inspect answers (container-inspect-visible,
// container-inspect-hidden) for the containers they describe; the others
// get a minimal inspect answer with their ID, name and labels.
func (f *Fixture) World(tb testing.TB) *World {
	tb.Helper()
	all := f.answer(tb, "containers-list-all").Body
	var els []json.RawMessage
	if err := json.Unmarshal(all, &els); err != nil {
		tb.Fatalf("fakeengine: %s list: %v", f.Engine, err)
	}
	var cs []Container
	var elems [][]byte
	rest := all
	for _, el := range els {
		var c struct {
			Id     string
			Names  []string
			Labels map[string]string
			State  string
		}
		if err := json.Unmarshal(el, &c); err != nil {
			tb.Fatal(err)
		}
		cs = append(cs, Container{ID: c.Id, Name: primaryName(c.Names), Labels: c.Labels, State: c.State})
		i := bytes.Index(rest, el) // the element as a part of the list, byte for byte
		elems = append(elems, rest[i:i+len(el):i+len(el)])
		rest = rest[i+len(el):]
	}
	captured := map[string][]byte{}
	for _, name := range []string{"container-inspect-visible", "container-inspect-hidden"} {
		if a, ok := f.answers[name]; ok {
			var doc struct{ Id string }
			if err := json.Unmarshal(a.Body, &doc); err != nil {
				tb.Fatalf("fakeengine: %s/%s: %v", f.Engine, name, err)
			}
			captured[doc.Id] = a.Body
		}
	}
	docs := make([][]byte, len(cs))
	for i, c := range cs {
		if docs[i] = captured[c.ID]; docs[i] == nil {
			docs[i] = encode(map[string]any{"Id": c.ID, "Name": c.Name, "Config": map[string]any{"Env": []string{}, "Labels": c.Labels}})
		}
	}
	return newWorld(cs, all, elems, func(i int) []byte { return docs[i] })
}

// primaryName picks a container's own name from the engine's Names, which
// also carry legacy link aliases ("/parent/alias").
func primaryName(names []string) string {
	for _, n := range names {
		if strings.Count(n, "/") == 1 && strings.HasPrefix(n, "/") {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
