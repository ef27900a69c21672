package route

import (
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"
)

// muxReference routes a path with regular expressions built from the table
// the way gorilla/mux builds them ("/v{version:[0-9.]+}" prefix, {name} as
// [^/]+, {name:pattern} as pattern, anchored). It is slow and obviously
// faithful; the fuzz target checks the hand-written matcher against it.
type muxReference struct {
	versioned, plain []*regexp.Regexp
}

func newMuxReference() *muxReference {
	ref := &muxReference{}
	for _, s := range Table {
		var b strings.Builder
		rest := s.Template
		for rest != "" {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				b.WriteString(regexp.QuoteMeta(rest))
				break
			}
			b.WriteString(regexp.QuoteMeta(rest[:i]))
			j := strings.IndexByte(rest, '}')
			_, pat, ok := strings.Cut(rest[i+1:j], ":")
			if !ok {
				pat = "[^/]+"
			}
			b.WriteString("(" + pat + ")")
			rest = rest[j+1:]
		}
		ref.plain = append(ref.plain, regexp.MustCompile("^"+b.String()+"$"))
		ref.versioned = append(ref.versioned, regexp.MustCompile(`^/v([0-9.]+)`+b.String()+"$"))
	}
	return ref
}

// route returns the matched table index (-1 for none), the version and the
// first variable.
func (m *muxReference) route(method, p string) (idx int, version, ref string) {
	for i, s := range Table {
		if s.Method != method {
			continue
		}
		if sm := m.versioned[i].FindStringSubmatch(p); sm != nil {
			if len(sm) > 2 {
				ref = sm[2]
			}
			return i, sm[1], ref
		}
		if sm := m.plain[i].FindStringSubmatch(p); sm != nil {
			if len(sm) > 1 {
				ref = sm[1]
			}
			return i, "", ref
		}
	}
	return -1, "", ""
}

// muxClean is the cleaning gorilla/mux applies before routing; a path that it
// changes is redirected, not served.
func muxClean(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ method, target string }{
		{"GET", "/containers/json"},
		{"GET", "/v1.41/containers/web/json"},
		{"GET", "/containers/ok/../hidden/json"},
		{"GET", "//containers/hidden/json"},
		{"GET", "/containers/ok/%2e%2e/hidden/json"},
		{"GET", "/containers/hidden%2Fjson"},
		{"DELETE", "/containers/x/checkpoints/y"},
		{"POST", "/exec/abc/start"},
		{"OPTIONS", "/anything"},
		{"get", "/containers/hidden/json"},
		{"GET", "/v1.41/v1.41/_ping"},
		{"GET", "/networks/a/b"},
	} {
		f.Add(seed.method, seed.target)
	}
	ref := newMuxReference()
	fullID := strings.Repeat("0123456789abcdef", 4)
	f.Fuzz(func(t *testing.T, method, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r, err := Parse(method, u.Path, u.EscapedPath())
		if err != nil {
			return
		}
		// A path and its cleaned form never get different decisions: only
		// paths the engine serves as they are get a decision at all.
		if muxClean(u.Path) != u.Path {
			t.Fatalf("Parse accepted %q, which the engine would redirect to %q", u.Path, muxClean(u.Path))
		}
		// The hand-written matcher routes exactly like the mux regexps.
		idx, version, wantRef := ref.route(method, u.Path)
		gotIdx := -1
		if r.Spec != nil {
			for i := range Table {
				if &Table[i] == r.Spec {
					gotIdx = i
				}
			}
		}
		if gotIdx != idx || idx >= 0 && (r.Version != version || r.Ref != wantRef) {
			t.Fatalf("%s %q: got route %d version %q ref %q; mux routes it to %d version %q ref %q",
				method, u.Path, gotIdx, r.Version, r.Ref, idx, version, wantRef)
		}
		// Rewriting the reference to a full ID keeps the operation, and the
		// rewritten path names exactly that ID.
		if r.Spec != nil && r.hasRef() && (r.Strategy() == Container || r.Strategy() == Exec) {
			rewritten := r.WithRef(fullID)
			r2, err := Parse(method, rewritten, (&url.URL{Path: rewritten}).EscapedPath())
			if err != nil || r2.Spec != r.Spec || r2.Ref != fullID {
				t.Fatalf("%s %q rewritten to %q routes to %s ref %q (err %v), want %s ref %q",
					method, u.Path, rewritten, r2.Name(), r2.Ref, err, r.Name(), fullID)
			}
		}
	})
}
