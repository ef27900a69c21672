// Command printversion prints version.Get() and exits; TestBuiltBinary builds
// it with and without -ldflags -X. It lives under testdata so that ./...
// patterns skip it.
package main

import (
	"fmt"

	"github.com/dpf-dev/docker-proxy-filter/internal/version"
)

func main() { fmt.Println(version.Get()) }
