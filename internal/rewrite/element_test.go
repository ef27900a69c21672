package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"testing"
)

// TestContainerListDecisions checks what Keep is given: the primary name
// and labels as a client decoding with encoding/json would see them.
func TestContainerListDecisions(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // Keep calls, one per element, joined by " "
	}{
		{name: "engine shape", in: `[{"Id":"1","Names":["/web"],"Labels":{"b":"2","a":"1"}}]`, want: `/web{a=1,b=2}`},
		{name: "link aliases", in: `[{"Names":["/parent/alias","/db","/x/y"]}]`, want: `/db{}`},
		{name: "only aliases", in: `[{"Names":["/p/a","/p/b"]}]`, want: `/p/a{}`},
		{name: "no slash", in: `[{"Names":["web"]}]`, want: `web{}`},
		{name: "empty entry", in: `[{"Names":["/p/a",""]}]`, want: `{}`},
		{name: "names empty", in: `[{"Names":[]}]`, want: `{}`},
		{name: "names null", in: `[{"Names":null}]`, want: `{}`},
		{name: "names missing", in: `[{"Id":"x"}]`, want: `{}`},
		{name: "escaped slash", in: `[{"Names":["\/web"]}]`, want: `/web{}`},
		{name: "escaped alias", in: `[{"Names":["\u002fp\u002fa","/c"]}]`, want: `/c{}`},
		{name: "unicode escape", in: `[{"Names":["/caf\u00e9"]}]`, want: `/café{}`},
		{name: "invalid utf-8", in: "[{\"Names\":[\"/a\xff\"]}]", want: "/a\uFFFD{}"},
		{name: "lower-case key", in: `[{"names":["/a"],"labels":{"k":"v"}}]`, want: `/a{k=v}`},
		{name: "escaped key", in: `[{"N\u0061mes":["/a"],"L\u0061bels":{"k":"v"}}]`, want: `/a{k=v}`},
		{name: "long s key", in: `[{"Nameſ":["/a"]}]`, want: `/a{}`},
		{name: "near miss keys", in: `[{"Name":["/a"],"Names ":["/b"],"Label":{"k":"v"}}]`, want: `{}`},
		{name: "last names wins", in: `[{"Names":["/a"],"NAMES":["/b"]}]`, want: `/b{}`},
		{name: "last names null", in: `[{"Names":["/a"],"names":null}]`, want: `{}`},
		{name: "last names empty", in: `[{"Names":["/a"],"names":[]}]`, want: `{}`},
		{name: "labels merge", in: `[{"Labels":{"a":"1"},"labels":{"b":"2"}}]`, want: `{a=1,b=2}`},
		{name: "labels null resets", in: `[{"Labels":{"a":"1"},"Labels":null,"Labels":{"b":"2"}}]`, want: `{b=2}`},
		{name: "labels null last", in: `[{"Labels":{"a":"1"},"LABELS":null}]`, want: `{}`},
		{name: "duplicate label", in: `[{"Labels":{"k":"x","k":"y"}}]`, want: `{k=y}`},
		{name: "duplicate across objects", in: `[{"Labels":{"k":"x"},"Labels":{"k":"y"}}]`, want: `{k=y}`},
		{name: "duplicate escaped", in: `[{"Labels":{"k\u0031":"x","k1":"y"}}]`, want: `{k1=y}`},
		{name: "invalid utf-8 keys collide", in: "[{\"Labels\":{\"\xfe\":\"x\",\"\xff\":\"y\"}}]", want: "{\uFFFD=y}"},
		{name: "escaped label", in: `[{"Labels":{"a\"b":"c\nd"}}]`, want: "{a\"b=c\nd}"},
		{name: "labels empty", in: `[{"Labels":{}}]`, want: `{}`},
		{name: "nested names ignored", in: `[{"Config":{"Names":["/x"],"Labels":{"k":"v"}}}]`, want: `{}`},
		{name: "two elements", in: `[{"Names":["/a"]} , {"Names":["/b"],"Labels":{"x":"y"}}]`, want: `/a{} /b{x=y}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			var out bytes.Buffer
			if _, err := ContainerList(&out, strings.NewReader(tt.in), rec.Keep, 0); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.calls, " "); got != tt.want {
				t.Errorf("Keep calls = %q, want %q", got, tt.want)
			}
			// The table is what a client decoding with encoding/json sees.
			var decoded []summary
			if err := json.Unmarshal([]byte(tt.in), &decoded); err != nil {
				t.Fatal(err)
			}
			var client []string
			for _, s := range decoded {
				client = append(client, describe(primary(s.Names), mapSeq(s.Labels)))
			}
			if got := strings.Join(client, " "); got != tt.want {
				t.Errorf("encoding/json sees %q, table says %q", got, tt.want)
			}
		})
	}
}

func TestContainerListManyLabels(t *testing.T) {
	// Above dedupeLinearMax labels the iterator switches to a map; the
	// duplicate key must still appear once, with its last value.
	var b strings.Builder
	b.WriteString(`[{"Names":["/big"],"Labels":{"dup":"first"`)
	for i := range 2 * dedupeLinearMax {
		b.WriteString(`,"k` + strings.Repeat("x", i) + `":"v"`)
	}
	b.WriteString(`,"dup":"last"}}]`)
	var seen []string
	keep := func(_ string, labels iter.Seq2[string, string]) bool {
		for k, v := range labels {
			if k == "dup" {
				seen = append(seen, v)
			}
		}
		return true
	}
	if _, err := ContainerList(&bytes.Buffer{}, strings.NewReader(b.String()), keep, 0); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "last" {
		t.Errorf("dup label values = %v, want [last]", seen)
	}
}

func TestContainerListLabelsAfterKeep(t *testing.T) {
	var saved iter.Seq2[string, string]
	keep := func(_ string, labels iter.Seq2[string, string]) bool {
		saved = labels
		return true
	}
	in := `[{"Names":["/a"],"Labels":{"k":"v"}}]`
	if _, err := ContainerList(&bytes.Buffer{}, strings.NewReader(in), keep, 0); err != nil {
		t.Fatal(err)
	}
	for k, v := range saved {
		t.Errorf("labels iterator used after Keep returned yielded %s=%s", k, v)
	}
}

func TestContainerListOutput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		keep Keep
		want string
	}{
		{name: "empty", in: "[]\n", keep: keepAll, want: "[]\n"},
		{name: "empty no newline", in: "[]", keep: keepAll, want: "[]"},
		{name: "empty spaced", in: " \n[ \t]\r\n \n", keep: keepAll, want: "[]\r\n \n"},
		{name: "none kept", in: `[{"Names":["/a"]}]` + "\n", keep: keepNames(), want: "[]\n"},
		{name: "whitespace dropped", in: "[ {\"Names\":[\"/a\"]} ,\n{\"Names\":[\"/b\"]} ]\n", keep: keepAll, want: `[{"Names":["/a"]},{"Names":["/b"]}]` + "\n"},
		{name: "second kept", in: `[{"Names":["/a"]},{"Names":["/b"]}]`, keep: keepNames("/b"), want: `[{"Names":["/b"]}]`},
		{name: "element bytes kept", in: `[{ "Names" : [ "/a" ] , "X" : 1.50E+3 }]`, keep: keepAll, want: `[{ "Names" : [ "/a" ] , "X" : 1.50E+3 }]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := ContainerList(&out, strings.NewReader(tt.in), tt.keep, 0); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("output = %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestContainerListMalformed(t *testing.T) {
	tests := []struct {
		name, in string
		written  string // what may reach dst before the error
	}{
		{name: "empty", in: ``},
		{name: "blank", in: " \n"},
		{name: "null", in: `null`},
		{name: "object", in: `{}`},
		{name: "string", in: `"[]"`},
		{name: "open", in: `[`},
		{name: "truncated element", in: `[{"Names":["/a"]`},
		{name: "truncated after element", in: `[{"Names":["/a"]}`, written: `[{"Names":["/a"]}`},
		{name: "truncated after comma", in: `[{},`, written: `[{}`},
		{name: "trailing comma", in: `[{},]`, written: `[{}`},
		{name: "missing comma", in: `[{} {}]`, written: `[{}`},
		{name: "number element", in: `[1]`},
		{name: "null element", in: `[null]`},
		{name: "array element", in: `[[]]`},
		{name: "second element bad", in: `[{},"x"]`, written: `[{}`},
		{name: "trailing garbage", in: `[{}] x`, written: `[{}`},
		{name: "second array", in: `[][]`},
		{name: "bad literal", in: `[{"a":tru}]`},
		{name: "raw control char", in: "[{\"a\":\"\x01\"}]"},
		{name: "bad escape", in: `[{"a":"\x"}]`},
		{name: "too deep", in: `[{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}]`},
		{name: "names string", in: `[{"Names":"/a"}]`},
		{name: "names number entry", in: `[{"Names":["/a",1]}]`},
		{name: "names null entry", in: `[{"Names":["/a",null]}]`},
		{name: "names object", in: `[{"Names":{}}]`},
		{name: "earlier names bad", in: `[{"Names":5,"Names":["/a"]}]`},
		{name: "labels array", in: `[{"Labels":[]}]`},
		{name: "labels string", in: `[{"Labels":"a=b"}]`},
		{name: "label number", in: `[{"Labels":{"a":1}}]`},
		{name: "label null", in: `[{"Labels":{"a":null}}]`},
		{name: "case-variant labels bad", in: `[{"labels":{"a":true}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := ContainerList(&out, strings.NewReader(tt.in), keepAll, 0)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if out.String() != tt.written {
				t.Errorf("written before the error = %q, want %q", out.String(), tt.written)
			}
		})
	}
}
