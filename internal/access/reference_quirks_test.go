package access

import "testing"

// TestTranscriptionQuirks pins what LinuxServer's proxy does on paths where
// it and the engine part ways, as observed on the real haproxy (2.6) running
// LinuxServer's rendered template. These are the behaviours the package doc
// lists as deliberate differences; TestAdversarialPaths shows what this
// package does with the same paths.
func TestTranscriptionQuirks(t *testing.T) {
	ctr := map[string]string{"CONTAINERS": "1"}
	restarts := map[string]string{"ALLOW_RESTARTS": "1"}
	tests := []struct {
		name   string
		env    map[string]string
		method string
		raw    string
		want   bool
	}{
		{"case-insensitive area", ctr, "GET", "/CONTAINERS/json", true},
		{"case-insensitive version", ctr, "GET", "/V1.41/containers/json", true},
		{"only ASCII folds", ctr, "GET", "/container%C5%BF/json", false},
		{"odd reference escapes the logs rule", ctr, "GET", "/containers/a:b/logs", true},
		{"slashed reference escapes the logs rule", ctr, "GET", "/containers/a/b/logs", true},
		{"odd reference escapes the restart rule", restarts, "POST", "/containers/a:b/restart", false},
		{"a word in a reference is taken for logs", ctr, "GET", "/containers/x/logs/json", false},
		{"a word in a reference is taken for stop", restarts, "DELETE", "/containers/x/stop", true},
		{"dot segments are not cleaned", restarts, "POST", "/containers/x/restart/../json", true},
		{"prefixes are unanchored", restarts, "POST", "/containers/x/restarts", true},
		{"encoded slashes are decoded first", map[string]string{"CONTAINERS": "1", "ALLOW_LOGS": "0"}, "GET", "/containers/x%2Flogs/json", false},
		{"the websocket attach is a GET", ctr, "GET", "/containers/x/attach/ws", true},
		{"any method with POST=1", map[string]string{"CONTAINERS": "1", "POST": "1"}, "PATCH", "/containers/x/json", true},
		{"actions ignore the method", restarts, "GET", "/containers/x/restart", true},
		{"words read as 0", map[string]string{"CONTAINERS": "true"}, "GET", "/containers/json", false},
		{"libpod ping by default", map[string]string{"POST": "1"}, "OPTIONS", "/libpod/_ping", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lsDecide(tt.method, tt.raw, tt.env); got != tt.want {
				t.Errorf("lsDecide(%s %s, %v): got %v, want %v (haproxy's answer)", tt.method, tt.raw, tt.env, got, tt.want)
			}
		})
	}
}
