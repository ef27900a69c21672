package bodyref

import "testing"

func TestContainerMode(t *testing.T) {
	tests := []struct {
		value string
		ref   string
		ok    bool
	}{
		{"container:db", "db", true},
		{"container:db:x", "db:x", true},
		{"container:", "", true},
		{"container", "", false},
		{"Container:db", "", false},
		{" container:db", "", false},
		{"container :db", "", false},
		{"host", "", false},
		{"bridge", "", false},
		{"", "", false},
		{"my-net", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			ref, ok := ContainerMode(tc.value)
			if ref != tc.ref || ok != tc.ok {
				t.Errorf("ContainerMode(%q) = %q, %v; want %q, %v", tc.value, ref, ok, tc.ref, tc.ok)
			}
		})
	}
}

func TestLinkRef(t *testing.T) {
	tests := []struct{ value, want string }{
		{"db", "db"},
		{"db:alias", "db"},
		{"/db:/web/alias", "db"},
		{"/db", "/db"},
		{"//db:x", "/db"},
		{"parent/alias", "parent/alias"},
		{"db:", "db"},
		{":alias", ""},
		{"/:alias", ""},
		{"a:b:c", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			if got := linkRef(tc.value); got != tc.want {
				t.Errorf("linkRef(%q) = %q; want %q", tc.value, got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{VolumesFrom, "VolumesFrom"},
		{NetworkContainer, "NetworkContainer"},
		{0, "Kind(0)"},
		{200, "Kind(200)"},
	}
	for _, tc := range tests {
		if got := tc.kind.String(); got != tc.want {
			t.Errorf("Kind(%d).String() = %q; want %q", uint8(tc.kind), got, tc.want)
		}
	}
}
