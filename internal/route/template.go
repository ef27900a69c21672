package route

import (
	"fmt"
	"strings"
)

// varKind is the pattern of a template variable, as gorilla/mux reads it.
type varKind uint8

const (
	segment  varKind = iota // {id}: [^/]+
	anything                // {name:.*}: possibly empty, may contain '/', not '\n'
	nonEmpty                // {id:.+}: at least one byte, may contain '/', not '\n'
)

// part is a literal run or a variable of a template.
type part struct {
	literal string
	isVar   bool
	kind    varKind
}

// template is a compiled mux template. Matching is hand-written rather than
// done with regexp, for speed on the hot path, and is equivalent to the regexp
// mux builds for every template of the engine: compile refuses templates where
// greedy matching would need backtracking.
type template struct {
	parts []part
}

func compile(t string) (template, error) {
	var parts []part
	rest := t
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			parts = append(parts, part{literal: rest})
			break
		}
		if open > 0 {
			parts = append(parts, part{literal: rest[:open]})
		}
		end := strings.IndexByte(rest, '}')
		if end < open {
			return template{}, fmt.Errorf("template %q: unbalanced braces", t)
		}
		v := part{isVar: true}
		switch _, pattern, _ := strings.Cut(rest[open+1:end], ":"); pattern {
		case "":
			v.kind = segment
		case ".*":
			v.kind = anything
		case ".+":
			v.kind = nonEmpty
		default:
			return template{}, fmt.Errorf("template %q: unsupported variable pattern %q", t, pattern)
		}
		parts = append(parts, v)
		rest = rest[end+1:]
	}
	for i, p := range parts {
		if !p.isVar {
			continue
		}
		next := i + 1
		switch {
		case p.kind != segment && next < len(parts) && next != len(parts)-1:
			return template{}, fmt.Errorf("template %q: a greedy variable must be followed by at most a literal suffix", t)
		case p.kind == segment && next < len(parts) && !strings.HasPrefix(parts[next].literal, "/"):
			return template{}, fmt.Errorf("template %q: a segment variable must be followed by '/' or the end", t)
		case next < len(parts) && parts[next].isVar:
			return template{}, fmt.Errorf("template %q: adjacent variables", t)
		}
	}
	return template{parts: parts}, nil
}

// match reports whether path matches and, if so, the byte span of the first
// variable in path (start == end == -1 when the template has none).
func (t *template) match(path string) (ok bool, start, end int) {
	start, end = -1, -1
	pos := 0
	for i, p := range t.parts {
		if !p.isVar {
			if !strings.HasPrefix(path[pos:], p.literal) {
				return false, -1, -1
			}
			pos += len(p.literal)
			continue
		}
		var vEnd int
		switch p.kind {
		case segment:
			slash := strings.IndexByte(path[pos:], '/')
			if slash < 0 {
				vEnd = len(path)
			} else {
				vEnd = pos + slash
			}
			if vEnd == pos {
				return false, -1, -1
			}
		default: // greedy: everything up to the literal suffix, if any
			suffix := ""
			if i+1 < len(t.parts) {
				suffix = t.parts[i+1].literal
			}
			if len(path)-pos < len(suffix) || !strings.HasSuffix(path, suffix) {
				return false, -1, -1
			}
			vEnd = len(path) - len(suffix)
			if p.kind == nonEmpty && vEnd == pos {
				return false, -1, -1
			}
			// mux compiles {name:.*} to a Go regexp, where '.' does not match
			// a newline: such a path matches no route at the engine.
			if strings.IndexByte(path[pos:vEnd], '\n') >= 0 {
				return false, -1, -1
			}
		}
		if start < 0 {
			start, end = pos, vEnd
		}
		pos = vEnd
	}
	return pos == len(path), start, end
}
