// Command testapp is the entrypoint (/app) of the containers that engine tests
// run. There is no registry and no base image here, so everything a test wants
// to do inside a container (exec, attach, logs, exit codes) has to be a
// subcommand of this one static binary rather than a shell command.
//
// Usage:
//
//	/app                 print "tick N" every 200ms until SIGTERM/SIGINT, then exit 0
//	/app echo ARGS...    print ARGS joined by spaces
//	/app env             print the environment, one VAR=value per line
//	/app sleep SECONDS   sleep (fractions allowed), exit 0 early on SIGTERM/SIGINT
//	/app cat             copy stdin to stdout until EOF
//	/app exit CODE       exit with CODE
//	/app stderr ARGS...  print ARGS joined by spaces to stderr
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		return tick()
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "tick":
		return tick()
	case "echo":
		fmt.Println(strings.Join(rest, " "))
	case "stderr":
		fmt.Fprintln(os.Stderr, strings.Join(rest, " "))
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "sleep":
		if len(rest) != 1 {
			return usage("sleep SECONDS")
		}
		secs, err := strconv.ParseFloat(rest[0], 64)
		if err != nil || secs < 0 {
			return usage("sleep SECONDS")
		}
		stop := stopSignals()
		select {
		case <-time.After(time.Duration(secs * float64(time.Second))):
		case <-stop:
		}
	case "cat":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "cat:", err)
			return 1
		}
	case "exit":
		if len(rest) != 1 {
			return usage("exit CODE")
		}
		code, err := strconv.Atoi(rest[0])
		if err != nil {
			return usage("exit CODE")
		}
		return code
	default:
		return usage("[tick|echo ARGS...|stderr ARGS...|env|sleep SECONDS|cat|exit CODE]")
	}
	return 0
}

// tick keeps the container alive and gives `logs -f` a steady stream; it
// exits 0 on SIGTERM so `docker stop` returns immediately instead of waiting
// for the kill timeout.
func tick() int {
	stop := stopSignals()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for n := 1; ; n++ {
		fmt.Printf("tick %d\n", n)
		select {
		case <-t.C:
		case <-stop:
			return 0
		}
	}
}

// stopSignals matters because a process running as PID 1 in a container
// ignores SIGTERM unless it installs a handler.
func stopSignals() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	return c
}

func usage(s string) int {
	fmt.Fprintln(os.Stderr, "usage: /app "+s)
	return 2
}
