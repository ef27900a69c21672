// Command docker-proxy-filter is a Docker Engine API proxy that shows a
// client only the containers it needs, chosen by name and label, with env
// secrets scrubbed. See the README and `docker-proxy-filter -h`.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// net/http logs through the standard logger, and one of its lines
	// quotes the bytes an upstream sent past the end of an answer, which
	// can be anything the engine holds: keep them out.
	log.SetOutput(withoutUpstreamBytes{os.Stderr})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first SIGTERM or SIGINT starts the drain; a second one, the
	// default action again, ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "docker-proxy-filter:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage and configuration errors, 1 otherwise.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
