package listen

import (
	"os"
	"os/user"
	"strconv"
	"testing"
)

func TestParseMode(t *testing.T) {
	good := map[string]os.FileMode{"0660": 0o660, "660": 0o660, " 0o600 ": 0o600, "0777": 0o777, "0620": 0o620, "0002": 0o002}
	for in, want := range good {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %o, %v; want %o", in, got, err, want)
		}
	}
	for _, in := range []string{"", "rw-rw----", "u+rw", "0680", "01660", "4755", "-660", "+660", "0o", "0x1b0", "0444", "0"} {
		if got, err := ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) = %o, want an error", in, got)
		}
	}
}

func TestLookupGroup(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "65532": 65532, " 999 ": 999} {
		if got, err := LookupGroup(in); err != nil || got != want {
			t.Errorf("LookupGroup(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "+5", "1abc", "no-such-group-dpf-7c1f", "99999999999"} {
		if got, err := LookupGroup(in); err == nil {
			t.Errorf("LookupGroup(%q) = %d, want an error", in, got)
		}
	}
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Skipf("this process's group has no name here: %v", err)
	}
	if got, err := LookupGroup(g.Name); err != nil || got != os.Getgid() {
		t.Errorf("LookupGroup(%q) = %d, %v; want %d", g.Name, got, err, os.Getgid())
	}
}
