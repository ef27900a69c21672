package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/dpf-dev/docker-proxy-filter/internal/rewrite"
	"github.com/dpf-dev/docker-proxy-filter/internal/route"
	"github.com/dpf-dev/docker-proxy-filter/internal/upstream"
)

// hiddenPlaceholder replaces a hidden container's ID or name in an engine
// error message. Some errors are about a conflict with a container the
// client cannot see (a name already taken, a volume in use); the error itself
// cannot be avoided, but it must not say which container.
const hiddenPlaceholder = "(hidden)"

// redactError rewrites an upstream error answer so its message names no
// hidden container: IDs (full or short) and names of indexed hidden
// containers are replaced, in every framing the engine uses for errors: a
// JSON {"message": ...} and, below API 1.24 (and from some handlers), plain
// text. A JSON answer of another shape is redacted as text, which keeps it
// valid JSON ("(hidden)" needs no escaping).
func (p *Proxy) redactError(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	body, err := readErrorBody(resp)
	if err != nil {
		return err
	}
	ctx := resp.Request.Context()
	if namesServices(resp.Request) {
		p.vis.RefreshServices(ctx)
	}
	redact := p.redactor(ctx, echoedWords(resp.Request))
	var msg struct {
		Message *string `json:"message"`
	}
	isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
	if pe, ok := decodePodmanError(body); isJSON && ok {
		// Podman's shape: the cause repeats (part of) the message.
		if cause, message := redact(pe.Cause), redact(pe.Message); cause != pe.Cause || message != pe.Message {
			body = podmanErrorBody(pe.Response, cause, message)
		}
	} else if isJSON && json.Unmarshal(body, &msg) == nil && msg.Message != nil {
		if clean := redact(*msg.Message); clean != *msg.Message {
			body = errorBody(clean)
		}
	} else if clean := redact(string(body)); clean != string(body) {
		body = []byte(clean)
	}
	setBody(resp, body)
	return nil
}

// redactStreamErrors redacts the error messages inside a progress stream
// (pull, push, load, build, plugin) or a wait answer, message by message as
// they arrive. A stream that is not JSON messages ends rather than pass
// bytes the proxy cannot read.
func (p *Proxy) redactStreamErrors(resp *http.Response) error {
	if resp.StatusCode >= 300 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil
	}
	src, err := upstream.PlainBody(resp)
	if err != nil {
		resp.Body.Close()
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		defer src.Close()
		pw.CloseWithError(rewrite.ErrorMessages(pw, src, p.redactor(resp.Request.Context(), echoedWords(resp.Request)), nil))
	}()
	resp.Body = &streamedBody{Reader: pr, pipe: pr}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return nil
}

// namesServices reports whether an error answer to r may name swarm
// services (a name conflict, an object in use by a service).
func namesServices(r *http.Request) bool {
	rt, err := route.Parse(r.Method, r.URL.Path, r.URL.EscapedPath())
	if err != nil || rt.Spec == nil {
		return false
	}
	switch {
	case strings.HasPrefix(rt.Spec.Template, "/services"), strings.HasPrefix(rt.Spec.Template, "/tasks"),
		strings.HasPrefix(rt.Spec.Template, "/networks"), strings.HasPrefix(rt.Spec.Template, "/secrets"),
		strings.HasPrefix(rt.Spec.Template, "/configs"), strings.HasPrefix(rt.Spec.Template, "/nodes"):
		return true
	}
	return false
}

// redactor returns redactMessage for errors of requests under ctx, keeping
// the words in echoed.
func (p *Proxy) redactor(ctx context.Context, echoed map[string]bool) func(string) string {
	return func(msg string) string { return p.redactMessage(ctx, msg, echoed) }
}

// echoedWords are the tokens of the forwarded request's path, query values
// and the string values of a JSON body the proxy read, which an error may
// echo ("No such image: db:latest", "network db not found"). The client
// wrote them (the proxy only writes visible containers' IDs there), so an
// echo tells it nothing; redacting one would tell it that a hidden
// container has that name, which a nonexistent one does not. The name of
// what is created or renamed (the "name" parameter, a body's top-level
// "Name") is the exception: it conflicts with a hidden container's (or
// service's) name, which tells already, and the conflict's message keeps
// saying "(hidden)" as before.
func echoedWords(r *http.Request) map[string]bool {
	if r == nil || r.URL == nil {
		return nil
	}
	words := make(map[string]bool)
	add := func(s string) {
		for i := 0; i < len(s); {
			if !isNameByte(s[i]) {
				i++
				continue
			}
			j := i
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			words[s[i:j]] = true
			i = j
		}
	}
	add(r.URL.Path)
	for k, vs := range r.URL.Query() {
		if k == "name" {
			continue
		}
		for _, v := range vs {
			add(v)
		}
	}
	if data, ok := bufferedBody(r); ok {
		var body any
		if json.Unmarshal(data, &body) == nil {
			if top, ok := body.(map[string]any); ok {
				for k := range top {
					if strings.EqualFold(k, "Name") {
						delete(top, k) // the engine reads keys case-insensitively
					}
				}
			}
			addStrings(body, add)
		}
	}
	return words
}

// addStrings calls add with every string in a decoded JSON value.
func addStrings(v any, add func(string)) {
	switch v := v.(type) {
	case string:
		add(v)
	case []any:
		for _, e := range v {
			addStrings(e, add)
		}
	case map[string]any:
		for _, e := range v {
			addStrings(e, add)
		}
	}
}

// redactMessage replaces every token of msg that is a hidden container's ID
// (12 to 64 hex digits) or name, or a hidden swarm service's name or ID,
// unless it is one of the echoed words. Tokens are runs of the characters
// names and IDs are made of.
func (p *Proxy) redactMessage(ctx context.Context, msg string, echoed map[string]bool) string {
	var b strings.Builder
	changed := false
	i := 0
	for i < len(msg) {
		if !isNameByte(msg[i]) {
			b.WriteByte(msg[i])
			i++
			continue
		}
		j := i
		for j < len(msg) && isNameByte(msg[j]) {
			j++
		}
		tok := msg[i:j]
		// A name can end in '.', and so can a sentence: try both readings.
		word := tok
		hidden := func(w string) bool { return !echoed[w] && !echoed[tok] && p.hidden(ctx, w) }
		for !hidden(word) && strings.HasSuffix(word, ".") {
			word = word[:len(word)-1]
		}
		if hidden(word) {
			b.WriteString(hiddenPlaceholder)
			b.WriteString(tok[len(word):])
			changed = true
		} else {
			b.WriteString(tok)
		}
		i = j
	}
	if !changed {
		return msg
	}
	return b.String()
}

func (p *Proxy) hidden(ctx context.Context, word string) bool {
	return word != "" && (p.index.HiddenID(word) || p.index.HiddenName(word) || p.vis.HiddenService(ctx, word))
}

// isNameByte: container names are [a-zA-Z0-9][a-zA-Z0-9_.-]+ and IDs hex.
// A slash separates tokens, so "/db" and ".../containers/<id>/hostname" are
// checked piece by piece.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}

// A visible container can point at a hidden one: NetworkMode, PidMode or
// IpcMode "container:<id>" in its list entry and inspect answer, and, when
// it shares the hidden container's network namespace, that container's
// hostname (its short ID) and its resolv.conf/hosts paths, which embed the
// full ID. These IDs are replaced as in error messages.

// isHex reports whether c is a lowercase hex digit.
func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// redactHexRuns replaces every run of 12 to 64 hex digits that starts a
// hidden container's ID. It returns b itself when nothing changes.
func (p *Proxy) redactHexRuns(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		if !isHex(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isHex(b[j]) {
			j++
		}
		if n := j - i; n >= 12 && n <= 64 && (i == 0 || !isNameByte(b[i-1]) || b[i-1] == ':') && p.index.HiddenID(string(b[i:j])) {
			out = append(out, b[last:i]...)
			out = append(out, hiddenPlaceholder...)
			last = j
		}
		i = j
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// listElementWriter redacts what a visible container's list element says
// of hidden containers: "container:<ref>" network modes naming one (by ID
// or name) and legacy link aliases "/<hidden linker>/<alias>" in its Names.
// The list filter writes each element whole (possibly after its "[" or
// "," separator), so no reference spans two writes.
// containerSummary rewrites one container summary (an element of GET
// /containers/json, or of the container lists of /system/df) so that it
// names no hidden container: a hidden container it joined (NetworkMode
// container:<id>) and the legacy link alias a hidden linker adds to Names.
// elem must be one complete JSON object; when nothing changes the result
// is elem itself.
func (p *Proxy) containerSummary(elem []byte) []byte {
	out := elem
	if bytes.Contains(out, []byte(`"container:`)) || bytes.Contains(out, []byte(`"Links":["`)) {
		if clean, err := rewrite.RedactInspectRefs(out, p.index.HiddenRef, hiddenPlaceholder); err == nil {
			out = clean
		}
		out = p.redactHexRuns(out)
	}
	return rewrite.DropHiddenAliases(out, p.index.HiddenName)
}

type listElementWriter struct {
	p   *Proxy
	dst interface{ Write([]byte) (int, error) }
}

func (w listElementWriter) Write(b []byte) (int, error) {
	sep, elem := b[:0], b
	if len(b) > 1 && (b[0] == '[' || b[0] == ',') {
		sep, elem = b[:1], b[1:]
	}
	if len(elem) == 0 || elem[0] != '{' {
		return w.dst.Write(b)
	}
	out := w.p.containerSummary(elem)
	if &out[0] == &elem[0] && len(out) == len(elem) {
		return w.dst.Write(b)
	}
	if _, err := w.dst.Write(append(append([]byte{}, sep...), out...)); err != nil {
		return 0, err
	}
	return len(b), nil
}
