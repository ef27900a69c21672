package rewrite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dpf-dev/docker-proxy-filter/internal/jsonscan"
)

// Progress streams (image pull, push, load and import, build, plugin pull,
// push and upgrade) are JSON messages, one after another, and so is a
// container wait's answer. When something fails after the answer has
// started, the engine reports it inside the stream: {"error": "...",
// "errorDetail": {"message": "..."}}, or {"Error": {"Message": "..."}} for
// wait. Such a message can name a container the client must not see.

// MaxMessage bounds one message of a progress stream held in memory; a
// longer one ends the stream (build output lines and progress records are
// far smaller).
const MaxMessage = 4 << 20

// ErrMessageTooLarge reports a progress message over MaxMessage.
var ErrMessageTooLarge = errors.New("filter: progress stream message too large")

// ErrorMessages copies a stream of JSON messages from src to dst, passing
// every error message in it ("error", "errorDetail.message",
// "Error.Message", keys matched as encoding/json binds them) through redact.
// Each message goes out in one Write as soon as it is complete, followed by
// flush (if not nil); a message redact leaves unchanged goes out exactly as
// received. Input that is not a sequence of JSON values is a malformed
// stream: what came before it has been written, and the error wraps
// ErrMalformed.
func ErrorMessages(dst io.Writer, src io.Reader, redact func(string) string, flush func()) error {
	buf := make([]byte, 0, 32<<10)
	off := 0
	eof := false
	for {
		// Emit every complete value in buf[off:].
		for {
			i := jsonscan.SkipSpace(buf, off)
			if i == len(buf) {
				break
			}
			end, err := jsonscan.ValueEnd(buf, i)
			if errors.Is(err, jsonscan.ErrIncomplete) && !eof {
				if len(buf)-off > MaxMessage {
					return ErrMessageTooLarge
				}
				break
			}
			if err == nil && eof && end == len(buf) {
				end, err = jsonscan.ValueEndFinal(buf, i)
			}
			if err != nil {
				return malformed("progress message at byte %d: %v", i, err)
			}
			if end == len(buf) && !eof && jsonscan.KindOf(buf[i]) == jsonscan.Number {
				break // a number may go on in the next read
			}
			// The value and the whitespace after it up to its newline.
			j := end
			for j < len(buf) && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r') {
				j++
			}
			if j < len(buf) && buf[j] == '\n' {
				j++
			}
			if _, err := dst.Write(redactMessage(buf[off:j], i-off, redact)); err != nil {
				return fmt.Errorf("filter: writing a progress stream: %w", err)
			}
			if flush != nil {
				flush()
			}
			off = j
		}
		if eof {
			if rest := buf[off:]; len(rest) > 0 {
				if _, err := dst.Write(rest); err != nil {
					return fmt.Errorf("filter: writing a progress stream: %w", err)
				}
			}
			return nil
		}
		// Keep the unfinished value, read more.
		n := copy(buf, buf[off:])
		buf, off = buf[:n], 0
		if cap(buf)-len(buf) < 16<<10 {
			buf = append(make([]byte, 0, 2*cap(buf)+16<<10), buf...)
		}
		m, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		switch {
		case err == io.EOF:
			eof = true
		case err != nil:
			return fmt.Errorf("filter: reading a progress stream: %w", err)
		}
	}
}

// redactMessage returns rec (a message starting at rec[i], with whitespace
// around it) with its error strings passed through redact.
func redactMessage(rec []byte, i int, redact func(string) string) []byte {
	if rec[i] != '{' {
		return rec
	}
	e := editor{body: rec}
	str := func(vs, ve int) {
		s, ok := jsonString(rec, vs, ve)
		if !ok {
			return
		}
		if clean := redact(s); clean != s {
			text, _ := json.Marshal(clean)
			e.replace(vs, ve, string(text))
		}
	}
	messageOf := func(vs int) {
		if rec[vs] != '{' {
			return
		}
		_, _ = jsonscan.ObjectMembers(rec, vs, 1, func(key []byte, vs, ve int) error {
			if jsonscan.KeyEqualFold(key, "message") {
				str(vs, ve)
			}
			return nil
		})
	}
	_, _ = jsonscan.ObjectMembers(rec, i, 0, func(key []byte, vs, ve int) error {
		switch {
		case jsonscan.KeyEqualFold(key, "error"):
			if rec[vs] == '"' {
				str(vs, ve)
			} else {
				messageOf(vs)
			}
		case jsonscan.KeyEqualFold(key, "errorDetail"):
			messageOf(vs)
		}
		return nil
	})
	out, err := e.apply()
	if err != nil {
		return rec
	}
	return out
}
