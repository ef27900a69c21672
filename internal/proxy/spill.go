package proxy

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
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
	src, err := upstream.PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		defer src.Close()
		// Batch the filter's many small writes (one per element) into
		// fewer pipe handoffs.
		bw := bufio.NewWriterSize(pw, 32<<10)
		err := run(bw, src)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()

	// Hold back up to maxBuffered bytes in fixed chunks (no regrowth copies).
	var chunks [][]byte
	held := 0
	for held < maxBuffered {
		chunk := make([]byte, 64<<10)
		n, err := io.ReadFull(pr, chunk)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			held += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			resp.Body = io.NopCloser(&chunkReader{chunks: chunks})
			resp.ContentLength = int64(held)
			resp.Header.Set("Content-Length", strconv.Itoa(held))
			resp.Header.Del("Transfer-Encoding")
			resp.TransferEncoding = nil
			return nil
		}
		if err != nil {
			pr.CloseWithError(err)
			return errors.Join(errBadUpstreamAnswer, err)
		}
	}
	// Too big to hold: stream the rest.
	resp.Body = &streamedBody{Reader: io.MultiReader(&chunkReader{chunks: chunks}, pr), pipe: pr}
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

// chunkReader reads a list of byte slices once, in order.
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}
