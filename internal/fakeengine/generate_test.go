package fakeengine

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// TestGenerateKeepsTheBenchmarkBytes: the benchmarks' figures are compared
// across versions, so the generated answers keep their bytes.
func TestGenerateKeepsTheBenchmarkBytes(t *testing.T) {
	sum := func(b []byte) string { return fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)) }
	w := Generate(t, 1000)
	for _, c := range []struct{ name, got, want string }{
		{"list of 1000", sum(w.List()), "891787 d998f00e055e5bffb8b9c714cfa851584e324303577e029aeb3a31747e9f3862"},
		{"inspect 0", sum(w.inspect(0)), "3956 0af9b3c49b170d7fe907b0992b9d3ca12c261d49b71883b484fcd58d681773ab"},
		{"inspect 1", sum(w.inspect(1)), "3918 c4e777fb76966804973541fba111fac371796494ffb32d421ab19ed1a85635ed"},
		{"inspect 500", sum(w.inspect(500)), "3961 fa5a84e69f362cbcf4011156d6af0b9ae7bba9478b9d8893a1172ce90b33ad94"},
		{"list of 10000", sum(Generate(t, 10000).List()), "8932837 a6ca6a42bb54f3cde115ccc349200bebc33716f981051159142cf38e583fe3ef"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	if got, want := string(w.ListOf(func(Container) bool { return true })), string(w.List()); got != want {
		t.Error("ListOf(everything) differs from List()")
	}
}
