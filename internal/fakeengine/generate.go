package fakeengine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Generate returns a world of n containers for benchmarks, shaped like
// Engine 20.10's answers: each list element and inspect answer is a
// captured one (engine-20.10, the list's elements in turn) with the
// container's own Id, name and labels in place of the captured ones, so the
// answers have a real engine's sizes and field mix.
//
// Container i is /bench-<i, five digits> with an ID derived from
// "dpf-bench-<i>" and compose labels; the even-numbered ones also carry
// homepage.group and homepage.name (visible under CONTAINER_LABELS=homepage),
// the odd ones private=yes. The list answer is built once; an inspect answer
// is built the first time it is asked for.
func Generate(tb testing.TB, n int) *World {
	tb.Helper()
	fx := LoadFixture(tb, "engine-20.10")
	listBody := fx.answer(tb, "containers-list-all").Body
	inspect := fx.answer(tb, "container-inspect-visible").Body
	var templates []json.RawMessage
	if err := json.Unmarshal(listBody, &templates); err != nil || len(templates) == 0 {
		tb.Fatalf("fakeengine: captured list: %v", err)
	}
	var insp struct{ Id, Name string }
	if err := json.Unmarshal(inspect, &insp); err != nil {
		tb.Fatalf("fakeengine: captured inspect: %v", err)
	}

	cs := make([]Container, 0, n)
	list := newListBuilder(n*1100, n)
	for i := range n {
		c := Container{ID: ID("dpf-bench-" + strconv.Itoa(i)), Name: fmt.Sprintf("/bench-%05d", i), Labels: map[string]string{
			"com.docker.compose.project": fmt.Sprintf("stack%d", i%40),
			"com.docker.compose.service": fmt.Sprintf("svc%d", i),
			"com.docker.compose.version": "2.29.7",
		}}
		if i%2 == 0 {
			c.Labels["homepage.group"] = fmt.Sprintf("group%d", i%7)
			c.Labels["homepage.name"] = fmt.Sprintf("Service %d", i)
		} else {
			c.Labels["private"] = "yes"
		}
		list.add(templateElement(tb, templates[i%len(templates)], c))
		cs = append(cs, c)
	}
	all, elems := list.done()

	var built sync.Map // index -> inspect answer
	return newWorld(cs, all, elems, func(i int) []byte {
		if b, ok := built.Load(i); ok {
			return b.([]byte)
		}
		c := cs[i]
		s := strings.ReplaceAll(string(inspect), insp.Id, c.ID)
		s = strings.Replace(s, `"Name":"`+insp.Name+`"`, `"Name":"`+c.Name+`"`, 1)
		if j := strings.Index(s, `"Labels":{`); j >= 0 {
			k := j + strings.IndexByte(s[j:], '}')
			s = s[:j] + `"Labels":` + labelsJSON(c) + s[k+1:]
		}
		b := []byte(s)
		built.Store(i, b)
		return b
	})
}

// templateElement is a captured list element with c's Id, Names and Labels
// in place of its own.
func templateElement(tb testing.TB, tmpl json.RawMessage, c Container) string {
	tb.Helper()
	var orig struct{ Id string }
	if err := json.Unmarshal(tmpl, &orig); err != nil {
		tb.Fatal(err)
	}
	el := strings.Replace(string(tmpl), `"Id":"`+orig.Id+`"`, `"Id":"`+c.ID+`"`, 1)
	el = replaceSpan(tb, el, `"Names":[`, ']', `"`+c.Name+`"`)
	labels := labelsJSON(c)
	return replaceSpan(tb, el, `"Labels":{`, '}', labels[1:len(labels)-1])
}

// replaceSpan replaces what lies between key and the next end byte.
func replaceSpan(tb testing.TB, s, key string, end byte, with string) string {
	tb.Helper()
	i := strings.Index(s, key)
	if i < 0 {
		tb.Fatalf("fakeengine: captured element has no %s", key)
	}
	i += len(key)
	j := i + strings.IndexByte(s[i:], end)
	return s[:i] + with + s[j:]
}

// labelsJSON is c's labels as an engine writes them (keys sorted).
func labelsJSON(c Container) string {
	b, _ := json.Marshal(c.Labels)
	return string(b)
}
