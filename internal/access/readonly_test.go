package access

import (
	"strings"
	"testing"
)

func TestCombineReadOnly(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		readOnlySet bool
		readOnly    bool
		want        bool
		wantProblem string // prefix of the one problem expected, "" for none
	}{
		{"inactive, READ_ONLY default", nil, false, true, true, ""},
		{"inactive, READ_ONLY=false", nil, true, false, false, ""},
		{"inactive, READ_ONLY=true", nil, true, true, true, ""},

		{"active read-only block, READ_ONLY unset", map[string]string{"CONTAINERS": "1", "POST": "0"}, false, true, false, ""},
		{"active POST=1 block, READ_ONLY unset", map[string]string{"CONTAINERS": "1", "POST": "1"}, false, true, false, ""},
		{"active action block, READ_ONLY unset", map[string]string{"CONTAINERS": "1", "ALLOW_RESTARTS": "1"}, false, true, false, ""},

		{"READ_ONLY=true agrees with POST=0", map[string]string{"CONTAINERS": "1", "POST": "0"}, true, true, true, ""},
		{"READ_ONLY=true agrees with read switches", map[string]string{"CONTAINERS": "1", "ALLOW_LOGS": "1", "ALLOW_ARCHIVE": "1"}, true, true, true, ""},
		{"READ_ONLY=true contradicts POST=1", map[string]string{"CONTAINERS": "1", "POST": "1"}, true, true, true,
			"READ_ONLY=true forbids every write, but POST=1 allows writes: remove READ_ONLY (LinuxServer's variables then decide alone) or set POST to 0"},
		{"READ_ONLY=true contradicts actions", map[string]string{"CONTAINERS": "1", "ALLOW_START": "1", "ALLOW_RESTARTS": "yes"}, true, true, true,
			"READ_ONLY=true forbids every write, but ALLOW_START=1, ALLOW_RESTARTS=1 allow writes: remove READ_ONLY (LinuxServer's variables then decide alone) or set ALLOW_START and ALLOW_RESTARTS to 0"},
		{"READ_ONLY=false agrees with POST=1", map[string]string{"CONTAINERS": "1", "POST": "1"}, true, false, false, ""},
		{"READ_ONLY=false agrees with an action", map[string]string{"CONTAINERS": "1", "ALLOW_PAUSE": "1"}, true, false, false, ""},
		{"READ_ONLY=false contradicts POST=0", map[string]string{"CONTAINERS": "1", "POST": "0"}, true, false, true,
			"READ_ONLY=false asks for writes, but POST=0 and no ALLOW_START"},
		{"READ_ONLY=false contradicts the default POST", map[string]string{"CONTAINERS": "1"}, true, false, true,
			"READ_ONLY=false asks for writes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(t, tt.env)
			got, problems := CombineReadOnly(p, tt.readOnlySet, tt.readOnly)
			if got != tt.want {
				t.Errorf("CombineReadOnly: got READ_ONLY %v, want %v", got, tt.want)
			}
			switch {
			case tt.wantProblem == "" && len(problems) > 0:
				t.Errorf("CombineReadOnly: got problems %v, want none", problems)
			case tt.wantProblem != "" && (len(problems) != 1 || !strings.HasPrefix(problems[0].Error(), tt.wantProblem)):
				t.Errorf("CombineReadOnly: got problems %v, want one starting %q", problems, tt.wantProblem)
			}
		})
	}
}

// TestCombinedReadOnlyAgreesWithPolicy: whenever READ_ONLY=true is accepted
// with an active policy, the policy itself lets no write through, so neither
// setting is silently ignored.
func TestCombinedReadOnlyAgreesWithPolicy(t *testing.T) {
	ss := routedSamples(t)
	for _, w := range worlds() {
		p := policy(t, w.env)
		eff, problems := CombineReadOnly(p, true, true)
		if len(problems) > 0 || !eff {
			continue
		}
		for _, s := range ss {
			rt := s.rt
			write := s.method != "GET" && s.method != "HEAD"
			if v := p.Decide(s.method, &rt); write && v.Allow {
				t.Errorf("%s: READ_ONLY=true accepted, but the policy allows the write %s %s (%s)", w.name, s.method, s.path, v.Message)
			}
		}
	}
}
