package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fuzzEventKeep is a decision that looks at every Event field.
func fuzzEventKeep(ev Event) bool {
	n := len(ev.Type) + len(ev.Action) + len(ev.Actor.ID) + len(ev.Scope) + len(ev.ID) + len(ev.Status) + len(ev.From)
	for k, v := range ev.Actor.Attributes {
		n += len(k) + 2*len(v)
	}
	if ev.Actor.Attributes == nil {
		n++
	}
	return n%3 != 0
}

// refEvent is the Event a Go client decodes with encoding/json.
type refEvent struct {
	Type, Action string
	Actor        struct {
		ID         string
		Attributes map[string]string
	}
	Scope  string `json:"scope"`
	ID     string `json:"id"`
	Status string `json:"status"`
	From   string `json:"from"`
}

// refEvents is Events written with encoding/json: the kept records'
// bytes, and whether the whole input was well-formed.
func refEvents(in []byte) (out []byte, ok bool) {
	i := 0
	for {
		start := i
		j := skipWS(in, i)
		if j == len(in) {
			return append(out, trimSpace(in[start:])...), true
		}
		if in[j] == recordSeparator {
			j = skipWS(in, j+1)
		}
		if j == len(in) || in[j] != '{' {
			return out, false
		}
		dec := json.NewDecoder(bytes.NewReader(in[j:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, false
		}
		var r refEvent
		if err := json.Unmarshal(raw, &r); err != nil {
			return out, false
		}
		k := j + int(dec.InputOffset())
		for k < len(in) && (in[k] == ' ' || in[k] == '\t' || in[k] == '\r') {
			k++
		}
		if k < len(in) && in[k] == '\n' {
			k++
		}
		ev := Event{Type: r.Type, Action: r.Action, Scope: r.Scope, ID: r.ID, Status: r.Status, From: r.From,
			Actor: EventActor{ID: r.Actor.ID, Attributes: r.Actor.Attributes}}
		if fuzzEventKeep(ev) {
			out = append(out, trimSpace(in[start:k])...)
		}
		i = k
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func FuzzEvents(f *testing.F) {
	for _, engine := range engines {
		f.Add(httpBody(f, engine+"/events-json-seq.http"), uint8(200))
	}
	for _, s := range []string{
		legacy29, "\x1e{\"Type\":\"a\"}\n{\"Type\":\"b\"}\r\n", "{\"Actor\":{\"Attributes\":{\"a\":null,\"a\":\"1\"}},\"actor\":{\"ID\":\"x\"}}",
		"{}{} \x1e {}\n\n", "{\"Type\":1}\n", "\x1e", "{\"Actor\":null,\"ACTOR\":{\"attributes\":null}}\n", "{\"\\u0054ype\":\"\\u00e9\"}\n",
		"{\"a\":[" + strings.Repeat("{", 20) + strings.Repeat("}", 20) + "]}\n", " \n\t{\"Type\":\"x\"}\n",
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		var whole, chunked bytes.Buffer
		err := Events(&whole, bytes.NewReader(in), fuzzEventKeep, nil)
		errc := Events(&chunked, &chunkReader{data: in, sizes: []int{int(chunk%16) + 1, int(chunk)}}, fuzzEventKeep, nil)
		if (err == nil) != (errc == nil) || !bytes.Equal(whole.Bytes(), chunked.Bytes()) {
			t.Fatalf("read sizes matter: whole %q (%v), chunked %q (%v)", whole.Bytes(), err, chunked.Bytes(), errc)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		want, ok := refEvents(in)
		if ok != (err == nil) {
			t.Fatalf("Events err = %v, but encoding/json says well-formed = %v", err, ok)
		}
		if !bytes.Equal(whole.Bytes(), want) {
			t.Fatalf("output %q, want %q", whole.Bytes(), want)
		}
	})
}

func FuzzDiskUsage(f *testing.F) {
	for _, dir := range []string{"engine-20.10", "engine-29.7", "private-20.10"} {
		f.Add(httpBody(f, dir+"/system-df.http"), uint8(0))
	}
	a := `{"Id":"a","ImageID":"i1","State":"running","SizeRw":3,"Mounts":[{"Type":"volume","Name":"v1"}]}`
	b := `{"Id":"b","ImageID":"i1","State":"exited","SizeRw":5,"Mounts":[{"Type":"volume","Name":"v1"},{"Name":"v2"}]}`
	for _, s := range []string{
		`{"Containers":[` + a + `,` + b + `],"Images":[{"Id":"i1","Containers":2,"Size":9,"SharedSize":1}],"Volumes":[{"Name":"v1","UsageData":{"RefCount":2,"Size":4}},{"Name":"v2","UsageData":{"RefCount":1,"Size":-1}}]}`,
		`{"ContainerUsage":{"ActiveCount":1,"Items":[` + a + `,` + b + `],"Reclaimable":5,"TotalCount":2,"TotalSize":8},"ImageUsage":{"ActiveCount":1,"Items":[{"Id":"i1","Containers":2,"Size":9,"SharedSize":1}],"TotalCount":1,"TotalSize":9},"VolumeUsage":{"ActiveCount":2,"Items":[{"Name":"v1","UsageData":{"RefCount":2,"Size":4}}],"TotalCount":1,"TotalSize":4}}`,
		`{"Images":[{"Containers":1}]}`, `{"ContainerUsage":{}}`, `{"containers":null,"CONTAINERUSAGE":{"items":[]}}`,
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, mask uint8) {
		keep := func(id string) bool { return id == "" && mask&1 == 0 || id != "" && (id[0]+mask)%2 == 0 }
		out, err := DiskUsage(in, keep)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || out != nil {
				t.Fatalf("DiskUsage = %q, %v; want nil, ErrMalformed", out, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %q", out)
		}
		all, err := DiskUsage(in, func(string) bool { return true })
		if err != nil || !bytes.Equal(all, in) {
			t.Fatalf("keeping every container: %q, %v", all, err)
		}
		if hasDuplicateKeys(in) {
			return // the client view below assumes one member per name
		}
		var before, after dfView
		if json.Unmarshal(in, &before) != nil {
			return // members DiskUsage does not read have other types
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		checkFuzzDiskUsage(t, in, before, after, keep)
	})
}

// checkFuzzDiskUsage checks a client's view of the filtered body.
func checkFuzzDiskUsage(t *testing.T, in []byte, before, after dfView, keep func(string) bool) {
	top := decode[map[string]json.RawMessage](t, in)
	var source []dfCtrView
	known := false
	if u := rawMemberFold(top, "ContainerUsage"); u != nil && string(u) != "null" && rawMemberFold(decode[map[string]json.RawMessage](t, u), "Items") != nil {
		source, known = before.ContainerUsage.Items, true
	} else if rawMemberFold(top, "Containers") != nil {
		source, known = before.Containers, true
	}
	hidden := false
	byImage, byVolume := map[string]int64{}, map[string]int64{}
	var visible []string
	for _, c := range source {
		if !keep(c.ID) {
			hidden = true
			continue
		}
		visible = append(visible, c.ID)
		byImage[c.ImageID]++
		seen := map[string]bool{}
		for _, m := range c.Mounts {
			if m.Name != "" && !seen[m.Name] && (m.Type == "volume" || m.Type == "") {
				seen[m.Name] = true
				byVolume[m.Name]++
			}
		}
	}
	for _, c := range after.Containers {
		if !keep(c.ID) {
			t.Fatalf("hidden container %q in Containers", c.ID)
		}
	}
	if after.ContainerUsage != nil {
		for _, c := range after.ContainerUsage.Items {
			if !keep(c.ID) {
				t.Fatalf("hidden container %q in ContainerUsage.Items", c.ID)
			}
		}
		if hidden && after.ContainerUsage.TotalCount != int64(len(visible)) {
			t.Fatalf("ContainerUsage.TotalCount %d, want %d", after.ContainerUsage.TotalCount, len(visible))
		}
	}
	for i, img := range after.Images {
		was := before.Images[i].Containers
		want := was
		if known && hidden && was >= 0 && rawMemberFold(decode[map[string]json.RawMessage](t, rawElem(t, in, "Images", i)), "Containers") != nil {
			want = byImage[img.ID]
		}
		if img.Containers != want {
			t.Fatalf("image %q: Containers %d, want %d", img.ID, img.Containers, want)
		}
	}
	for i, v := range after.Volumes {
		if v.UsageData == nil || before.Volumes[i].UsageData == nil {
			continue
		}
		was := before.Volumes[i].UsageData.RefCount
		want := was
		if known && hidden && was >= 0 && bytes.Contains(bytes.ToLower(rawElem(t, in, "Volumes", i)), []byte("refcount")) {
			want = byVolume[v.Name]
		}
		if v.UsageData.RefCount != want {
			t.Fatalf("volume %q: RefCount %d, want %d", v.Name, v.UsageData.RefCount, want)
		}
	}
}

// rawMemberFold returns the member of m named name, matched as encoding/json does.
func rawMemberFold(m map[string]json.RawMessage, name string) json.RawMessage {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// rawElem returns element i of the top-level list named list.
func rawElem(t *testing.T, in []byte, list string, i int) json.RawMessage {
	return decode[[]json.RawMessage](t, rawMemberFold(decode[map[string]json.RawMessage](t, in), list))[i]
}

// hasDuplicateKeys reports whether an object anywhere in the JSON value
// b has two keys that encoding/json could bind to the same field.
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		keys   map[string]bool
		object bool
	}
	var stack []frame
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, frame{keys: map[string]bool{}, object: true})
				expectKey = true
				continue
			case '[':
				stack = append(stack, frame{})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				k := strings.ToLower(v)
				if stack[len(stack)-1].keys[k] || !isASCIIString(v) {
					return true
				}
				stack[len(stack)-1].keys[k] = true
				expectKey = false
				continue
			}
		}
		expectKey = len(stack) > 0 && stack[len(stack)-1].object
	}
}

// isASCIIString reports whether s is ASCII (non-ASCII keys can fold onto
// ASCII ones, "ſtate" binds to State).
func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
