package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// logSIGHUP catches SIGHUP, whose default action would kill the process
// (a closed terminal, a `docker kill -s HUP` sent out of habit), and logs
// it instead: configuration is read once, at start. It lives in run, not
// main, because only run has the logger. The returned func stops it.
func logSIGHUP(logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				logger.Warn("SIGHUP ignored: configuration is read at start; restart to apply changes")
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
