package access

import "testing"

func TestSummary(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "inactive (no LinuxServer variable set): READ_ONLY decides writes"},
		{map[string]string{"CONTAINERS": "1"}, "categories CONTAINERS,EVENTS,PING,VERSION; POST=0 (GET and HEAD only); actions none; container reads none"},
		{map[string]string{"CONTAINERS": "1", "EVENTS": "0", "POST": "1", "ALLOW_RESTARTS": "1", "ALLOW_LOGS": "1", "ALLOW_TOP": "1"},
			"categories CONTAINERS,PING,VERSION; POST=1 (every method in these categories); actions ALLOW_RESTARTS; container reads ALLOW_LOGS,ALLOW_TOP"},
	}
	for _, tt := range tests {
		if got := policy(t, tt.env).Summary(); got != tt.want {
			t.Errorf("Summary() for %v:\n got %q\nwant %q", tt.env, got, tt.want)
		}
	}
}
