package proxy

import (
	"net/http"
	"testing"
)

func TestResolveSwarmAmongVisibleObjects(t *testing.T) {
	objects := []swarmObject{
		{ID: "abc111", Name: "web", visible: true},
		{ID: "abc222", Name: "secret", visible: false},
		{ID: "abd333", Name: "abc111x", visible: true},
		{ID: "ff0000", Name: "abd", visible: false}, // a hidden name that is a visible ID prefix
		{ID: "ab0044", Name: "api", visible: true},
	}
	for _, tc := range []struct {
		ref, wantID string
		status      int
		message     string
	}{
		{"abc111", "abc111", 0, ""},
		{"web", "abc111", 0, ""},
		{"abc", "abc111", 0, ""}, // shared with a hidden ID only: unique
		{"abd", "abd333", 0, ""}, // the hidden name does not win
		{"ab", "", http.StatusBadRequest, "service ab is ambiguous (3 matches found)"},
		{"secret", "", http.StatusNotFound, "service secret not found"},
		{"abc222", "", http.StatusNotFound, "service abc222 not found"},
		{"ff", "", http.StatusNotFound, "service ff not found"},
		{"WEB", "", http.StatusNotFound, "service WEB not found"},
		{"", "", http.StatusNotFound, "service  not found"},
	} {
		d := resolveSwarm(objects, tc.ref, "service")
		if d.ID != tc.wantID || d.status != tc.status || d.message != tc.message {
			t.Errorf("resolveSwarm(%q) = %+v, want ID %q status %d %q", tc.ref, d, tc.wantID, tc.status, tc.message)
		}
	}
}
