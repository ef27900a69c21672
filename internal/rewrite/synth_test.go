package rewrite

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// synthElement builds realistic container summaries from the captured
// web-a element of the 29.7 engine, padded with the labels, ports and
// mounts a compose-managed container carries (about 1.9 KB each), with a
// distinct Id and name per index. Every third container has a
// homepage.group label.
type synthElement struct {
	prefix, mid, suffixHome, suffixPlain []byte // around the Id and the name
}

func newSynthElement(tb testing.TB) *synthElement {
	tb.Helper()
	list := httpBody(tb, "engine-29.7/containers-list-all.http")
	start := bytes.Index(list, []byte(`{"Id":"0ede`))
	if start < 0 {
		// Fall back to the last element, whatever its Id.
		start = bytes.LastIndex(list, []byte(`{"Id":"`))
	}
	el := bytes.TrimRight(list[start:], "]\n")
	id := el[7 : 7+64]
	namePos := bytes.Index(el, []byte(`"Names":["`)) + len(`"Names":["`)
	nameEnd := namePos + bytes.IndexByte(el[namePos:], '"')
	rest := el[nameEnd:]
	labels := []byte(`"Labels":{`)
	li := bytes.Index(rest, labels) + len(labels)
	lj := li + bytes.IndexByte(rest[li:], '}')
	compose := `"com.docker.compose.config-hash":"5b3e1f0a8d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f",` +
		`"com.docker.compose.container-number":"1","com.docker.compose.depends_on":"","com.docker.compose.image":"sha256:8859e0e9036a55296da94e8067a0be792e363abbc930c5f83c28858686dd683c",` +
		`"com.docker.compose.oneoff":"False","com.docker.compose.project":"media","com.docker.compose.project.config_files":"/srv/media/compose.yaml",` +
		`"com.docker.compose.project.working_dir":"/srv/media","com.docker.compose.service":"web","com.docker.compose.version":"2.29.7"`
	ports := `"Ports":[{"IP":"0.0.0.0","PrivatePort":8080,"PublicPort":8080,"Type":"tcp"},{"IP":"::","PrivatePort":8080,"PublicPort":8080,"Type":"tcp"}]`
	mounts := `"Mounts":[{"Type":"bind","Source":"/srv/media/config","Destination":"/config","Mode":"rw","RW":true,"Propagation":"rprivate"},` +
		`{"Type":"volume","Name":"media_cache","Source":"/var/lib/docker/volumes/media_cache/_data","Destination":"/cache","Driver":"local","Mode":"z","RW":true,"Propagation":""}]`
	build := func(home bool) []byte {
		var b bytes.Buffer
		b.Write(rest[:li])
		b.WriteString(compose)
		if home {
			b.WriteString(`,"homepage.group":"media","homepage.name":"Web"`)
		}
		b.Write(rest[lj:])
		out := bytes.Replace(b.Bytes(), []byte(`"Ports":[]`), []byte(ports), 1)
		return bytes.Replace(out, []byte(`"Mounts":[]`), []byte(mounts), 1)
	}
	return &synthElement{
		prefix:      append([]byte(nil), el[:7]...),
		mid:         append([]byte(nil), el[7+len(id):namePos]...),
		suffixHome:  build(true),
		suffixPlain: build(false),
	}
}

// appendElement appends element i.
func (s *synthElement) appendElement(dst []byte, i int) []byte {
	dst = append(dst, s.prefix...)
	dst = fmt.Appendf(dst, "%064x", uint64(i)*0x9e3779b97f4a7c15)
	dst = append(dst, s.mid...)
	dst = fmt.Appendf(dst, "/c-%05d", i)
	if i%3 == 0 {
		return append(dst, s.suffixHome...)
	}
	return append(dst, s.suffixPlain...)
}

// list returns the whole n-element list in memory.
func (s *synthElement) list(n int) []byte {
	var b []byte
	r := s.reader(n)
	b, _ = io.ReadAll(r)
	return b
}

// reader streams an n-element list, engine style ("[...]\n"), generating
// elements as they are read so the input never exists in memory at once.
func (s *synthElement) reader(n int) io.Reader {
	return &synthReader{s: s, n: n}
}

type synthReader struct {
	s       *synthElement
	n, next int
	buf     []byte // reused for each element
	pending []byte // unread part of buf
	done    bool
}

func (r *synthReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		switch {
		case r.done:
			return 0, io.EOF
		case r.next == r.n:
			r.buf = r.buf[:0]
			if r.n == 0 {
				r.buf = append(r.buf, '[')
			}
			r.buf = append(r.buf, "]\n"...)
			r.pending = r.buf
			r.done = true
		default:
			sep := byte(',')
			if r.next == 0 {
				sep = '['
			}
			r.buf = r.s.appendElement(append(r.buf[:0], sep), r.next)
			r.pending = r.buf
			r.next++
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}
