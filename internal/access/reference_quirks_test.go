package access

import "testing"

// quirk is one request on which haproxy's raw-path regexes decide other
// than a reading of the routes would suggest, with haproxy's answer.
type quirk struct {
	name   string
	env    map[string]string
	method string
	raw    string
	want   bool
}

var (
	quirkContainers = map[string]string{"CONTAINERS": "1"}
	quirkRestarts   = map[string]string{"ALLOW_RESTARTS": "1"}
)

// quirks were observed on the real haproxy running LinuxServer's template;
// TestTranscriptionMatchesHaproxy sends them to it again when it can run.
var quirks = []quirk{
	{"case-insensitive area", quirkContainers, "GET", "/CONTAINERS/json", true},
	{"case-insensitive version", quirkContainers, "GET", "/V1.41/containers/json", true},
	{"only ASCII folds", quirkContainers, "GET", "/container%C5%BF/json", false},
	{"odd reference escapes the logs rule", quirkContainers, "GET", "/containers/a:b/logs", true},
	{"slashed reference escapes the logs rule", quirkContainers, "GET", "/containers/a/b/logs", true},
	{"odd reference escapes the restart rule", quirkRestarts, "POST", "/containers/a:b/restart", false},
	{"a word in a reference is taken for logs", quirkContainers, "GET", "/containers/x/logs/json", false},
	{"a word in a reference is taken for stop", quirkRestarts, "DELETE", "/containers/x/stop", true},
	{"dot segments are not cleaned", quirkRestarts, "POST", "/containers/x/restart/../json", true},
	{"prefixes are unanchored", quirkRestarts, "POST", "/containers/x/restarts", true},
	{"encoded slashes are decoded first", map[string]string{"CONTAINERS": "1", "ALLOW_LOGS": "0"}, "GET", "/containers/x%2Flogs/json", false},
	{"the websocket attach is a GET", quirkContainers, "GET", "/containers/x/attach/ws", true},
	{"any method with POST=1", map[string]string{"CONTAINERS": "1", "POST": "1"}, "PATCH", "/containers/x/json", true},
	{"actions ignore the method", quirkRestarts, "GET", "/containers/x/restart", true},
	{"words read as 0", map[string]string{"CONTAINERS": "true"}, "GET", "/containers/json", false},
	{"libpod ping by default", map[string]string{"POST": "1"}, "OPTIONS", "/libpod/_ping", true},
}

// TestTranscriptionQuirks pins what LinuxServer's proxy does on paths where
// it and the engine part ways, as observed on the real haproxy (2.6) running
// LinuxServer's rendered template. These are the behaviours the package doc
// lists as deliberate differences; TestAdversarialPaths shows what this
// package does with the same paths.
func TestTranscriptionQuirks(t *testing.T) {
	for _, tt := range quirks {
		t.Run(tt.name, func(t *testing.T) {
			if got := lsDecide(tt.method, tt.raw, tt.env); got != tt.want {
				t.Errorf("lsDecide(%s %s, %v): got %v, want %v (haproxy's answer)", tt.method, tt.raw, tt.env, got, tt.want)
			}
		})
	}
}
