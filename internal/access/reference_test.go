package access

import (
	"net/url"
	"regexp"
)

// This file transcribes LinuxServer's docker-socket-proxy (root/templates/
// haproxy.cfg and the ENV defaults of its Dockerfile, read in 2026-12) rule
// by rule, regexes and order included, as the model Decide is checked
// against. Nothing here is copied from it: the rules are restated in Go.

// lsDefaults are the switch defaults of LinuxServer's Dockerfile.
var lsDefaults = map[string]string{
	"ALLOW_ARCHIVE": "0", "ALLOW_CHANGES": "0", "ALLOW_EXPORT": "0", "ALLOW_LOGS": "0",
	"ALLOW_PAUSE": "0", "ALLOW_RESTARTS": "0", "ALLOW_STOP": "0", "ALLOW_START": "0",
	"ALLOW_TOP": "0", "ALLOW_UNPAUSE": "0",
	"AUTH": "0", "BUILD": "0", "COMMIT": "0", "CONFIGS": "0", "CONTAINERS": "0", "DISTRIBUTION": "0",
	"EVENTS": "1", "EXEC": "0", "IMAGES": "0", "INFO": "0", "NETWORKS": "0", "NODES": "0", "PING": "1",
	"PLUGINS": "0", "POST": "0", "SECRETS": "0", "SERVICES": "0", "SESSION": "0", "SWARM": "0",
	"SYSTEM": "0", "TASKS": "0", "VERSION": "1", "VOLUMES": "0",
	"LIBPOD_ALLOW_PAUSE": "0", "LIBPOD_ALLOW_POD_PAUSE": "0", "LIBPOD_ALLOW_POD_RESTARTS": "0",
	"LIBPOD_ALLOW_POD_START": "0", "LIBPOD_ALLOW_POD_STOP": "0", "LIBPOD_ALLOW_POD_UNPAUSE": "0",
	"LIBPOD_ALLOW_RESTARTS": "0", "LIBPOD_ALLOW_START": "0", "LIBPOD_ALLOW_STOP": "0",
	"LIBPOD_ALLOW_UNPAUSE": "0", "LIBPOD_CONTAINERS": "0", "LIBPOD_EVENTS": "0", "LIBPOD_EXEC": "0",
	"LIBPOD_GENERATE": "0", "LIBPOD_IMAGES": "0", "LIBPOD_INFO": "0", "LIBPOD_MANIFESTS": "0",
	"LIBPOD_NETWORKS": "0", "LIBPOD_PING": "1", "LIBPOD_PLAY": "0", "LIBPOD_PODS": "0",
	"LIBPOD_SECRETS": "0", "LIBPOD_SYSTEM": "0", "LIBPOD_VERSION": "1", "LIBPOD_VOLUMES": "0",
}

// lsRule is one "http-request allow|deny" line.
type lsRule struct {
	allow bool
	// path is the regex on path,url_dec (nil: no path condition).
	path *regexp.Regexp
	// env is the switch of the condition; unless negates it ("!allow_logs").
	env    string
	unless bool
	// methodRule is the "deny unless METH_GET || POST" line.
	methodRule bool
}

// lsRe compiles a rule's regex. Every rule has "-i", which in haproxy folds
// ASCII letters only (Go's (?i) would also fold "ſ" into "s"), so lsDecide
// lowers the path's ASCII letters instead and the lower-case regexes are
// compiled as they are.
func lsRe(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }

// lsRules are haproxy.cfg's frontend rules in order.
var lsRules = func() []lsRule {
	const ver = `^(/v[\d\.]+)?`
	const ctr = ver + `(/libpod)?/(containers|pods)/[a-zA-Z0-9_.-]+/`
	var rules []lsRule
	for _, r := range []struct{ word, env string }{
		{"(archive)", "ALLOW_ARCHIVE"}, {"(change)", "ALLOW_CHANGES"}, {"(export)", "ALLOW_EXPORT"},
		{"(logs)", "ALLOW_LOGS"}, {"(top)", "ALLOW_TOP"},
	} {
		rules = append(rules, lsRule{allow: false, path: lsRe(ctr + r.word), env: r.env, unless: true})
	}
	for _, r := range []struct{ word, env string }{
		{"((stop)|(restart)|(kill))", "ALLOW_RESTARTS"}, {"start", "ALLOW_START"}, {"stop", "ALLOW_STOP"},
		{"pause", "ALLOW_PAUSE"}, {"unpause", "ALLOW_UNPAUSE"},
	} {
		rules = append(rules, lsRule{allow: true, path: lsRe(ctr + r.word), env: r.env})
	}
	for _, kind := range []struct{ seg, prefix string }{{"containers", "LIBPOD_ALLOW_"}, {"pods", "LIBPOD_ALLOW_POD_"}} {
		base := ver + `/libpod/` + kind.seg + `/[a-zA-Z0-9_.-]+/`
		for _, r := range []struct{ word, env string }{
			{"((stop)|(restart)|(kill))", "RESTARTS"}, {"start", "START"}, {"stop", "STOP"},
			{"pause", "PAUSE"}, {"unpause", "UNPAUSE"},
		} {
			rules = append(rules, lsRule{allow: true, path: lsRe(base + r.word), env: kind.prefix + r.env})
		}
	}
	rules = append(rules, lsRule{methodRule: true})
	for _, r := range []struct{ seg, env string }{
		{"auth", "AUTH"}, {"build", "BUILD"}, {"commit", "COMMIT"}, {"configs", "CONFIGS"},
		{"containers", "CONTAINERS"}, {"distribution", "DISTRIBUTION"}, {"events", "EVENTS"},
		{"exec", "EXEC"}, {"grpc", "GRPC"}, {"images", "IMAGES"}, {"info", "INFO"},
		{"networks", "NETWORKS"}, {"nodes", "NODES"}, {"_ping", "PING"}, {"plugins", "PLUGINS"},
		{"secrets", "SECRETS"}, {"services", "SERVICES"}, {"session", "SESSION"}, {"swarm", "SWARM"},
		{"system", "SYSTEM"}, {"tasks", "TASKS"}, {"version", "VERSION"}, {"volumes", "VOLUMES"},
	} {
		rules = append(rules, lsRule{allow: true, path: lsRe(ver + "/" + r.seg), env: r.env})
	}
	for _, r := range []struct{ seg, env string }{
		{"containers", "CONTAINERS"}, {"events", "EVENTS"}, {"exec", "EXEC"}, {"generate", "GENERATE"},
		{"images", "IMAGES"}, {"info", "INFO"}, {"manifests", "MANIFESTS"}, {"networks", "NETWORKS"},
		{"_ping", "PING"}, {"play", "PLAY"}, {"pods", "PODS"}, {"secrets", "SECRETS"},
		{"system", "SYSTEM"}, {"version", "VERSION"}, {"volumes", "VOLUMES"},
	} {
		rules = append(rules, lsRule{allow: true, path: lsRe(ver + "/libpod/" + r.seg), env: "LIBPOD_" + r.env})
	}
	return rules // followed by a final "http-request deny"
}()

// lsBool is haproxy's "-m bool" on env(): the string is cast to an integer
// the way read_int64 reads it (an optional sign, then digits up to the first
// non-digit; no leading space), and non-zero is true. An empty or unset
// variable is false.
func lsBool(v string) bool {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		if v[i] != '0' {
			return true
		}
	}
	return false
}

// lsDecide is LinuxServer's decision for a request: rawPath is the path as
// sent (escaped), env the container's environment on top of the Dockerfile's.
func lsDecide(method, rawPath string, env map[string]string) bool {
	return lsApply(method, lsMatch(rawPath), env)
}

// lsMatch returns which rules' path regexes match rawPath (path,url_dec, -i).
// It does not depend on the environment, so the differential test computes
// it once per path.
func lsMatch(rawPath string) []bool {
	matched := make([]bool, len(lsRules))
	decoded, err := url.PathUnescape(rawPath) // path,url_dec
	if err != nil {
		return matched // a failed conversion matches no regex
	}
	decoded = asciiLower(decoded) // -i
	for i, r := range lsRules {
		matched[i] = r.path != nil && r.path.MatchString(decoded)
	}
	return matched
}

// lsApply runs the rules in order on a request whose path matched the rules
// marked in matched.
func lsApply(method string, matched []bool, env map[string]string) bool {
	on := func(name string) bool {
		v, ok := env[name]
		if !ok {
			v = lsDefaults[name]
		}
		return lsBool(v)
	}
	for i, r := range lsRules {
		if r.methodRule {
			if !(method == "GET" || method == "HEAD") && !on("POST") { // METH_GET is GET or HEAD
				return false
			}
			continue
		}
		if matched[i] && on(r.env) != r.unless {
			return r.allow
		}
	}
	return false // the final "http-request deny"
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
