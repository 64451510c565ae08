// Command demo runs the real bot against the in-process fake Slack and
// fake IAM the tests use, plays a self-service reset and an approved one
// through, and prints what Slack and IAM saw, in the order it happened. It
// needs no tokens, credentials or network:
//
//	go run ./bot/demo
//	go run ./bot/demo -v   # with the bot's own log lines
//
// It is a program of its own so that the fakes are never linked into the
// bot's binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// errUsage means the command line was wrong and the usage was printed.
var errUsage = errors.New("usage")

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: go run ./bot/demo [-v]\n\n"+
			"Runs the real bot against in-process fakes of Slack and IAM and prints a\n"+
			"self-service reset and an approved one, step by step. No tokens, AWS\n"+
			"credentials or network needed; passwords are masked.\n\nflags:\n")
		fs.PrintDefaults()
	}
	verbose := fs.Bool("v", false, "also print the bot's own log lines, each after the calls that caused it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return demo(ctx, *verbose, stdout)
}
