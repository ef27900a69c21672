package proxy

import (
	"errors"
	"io"
	"net/http"
)

// filterAnswer replaces an upstream answer's body with run's output. run reads
// the upstream body (decoded from gzip if need be) and writes the filtered
// body; it must never write bytes it has not validated.
//
// The first maxBuffered bytes of output are held back: when the whole answer
// fits, it goes out with an exact Content-Length and any fault becomes a
// clean 502 (the caller's ModifyResponse error). Past that the answer streams
// so memory stays bounded at any size, and a fault discovered later aborts the
// connection: the client sees a broken answer, never a complete wrong one.
func filterAnswer(resp *http.Response, maxBuffered int, run func(dst io.Writer, src io.Reader) error) error {
	src, err := plainBody(resp)
	if err != nil {
		resp.Body.Close()
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		defer src.Close()
		pw.CloseWithError(run(pw, src))
	}()

	buf := make([]byte, 0, 32<<10)
	for len(buf) < maxBuffered {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := pr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			setBody(resp, buf)
			return nil
		}
		if err != nil {
			pr.CloseWithError(err)
			return errors.Join(errBadUpstreamAnswer, err)
		}
	}
	// Too big to hold: stream the rest.
	resp.Body = &streamedBody{Reader: io.MultiReader(&sliceReader{b: buf}, pr), pipe: pr}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return nil
}

// streamedBody is a filtered answer still being produced; closing it stops
// the filter (its next write fails), which then closes the upstream body.
type streamedBody struct {
	io.Reader
	pipe *io.PipeReader
}

func (b *streamedBody) Close() error { return b.pipe.Close() }

// sliceReader reads a byte slice once (bytes.Reader without the extras).
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
