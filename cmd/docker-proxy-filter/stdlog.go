package main

import (
	"bytes"
	"io"
)

// withoutUpstreamBytes writes standard-logger lines with whatever follows
// "starting with " cut: net/http's transport logs "Unsolicited response
// received on idle HTTP channel starting with %q" with the bytes an
// upstream sent after an answer's end (a malformed or malicious upstream,
// or a proxy in between), and those bytes can describe hidden containers.
type withoutUpstreamBytes struct{ w io.Writer }

func (f withoutUpstreamBytes) Write(p []byte) (int, error) {
	line := p
	if i := bytes.Index(line, []byte("starting with ")); i >= 0 {
		line = append(line[:i:i], "(upstream bytes not logged)\n"...)
	}
	if _, err := f.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}
