// Command bot is aws-reset-bot: a Slack bot that lets people reset their own
// AWS IAM console password. See README.md, or run "bot help".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// run is main without the process: tests call it. Its error decides the
// exit status (see exitCode): help asked for is not an error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return errUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", name, usage())
		return errUsage
	}
	err := c.run(ctx, args, stdout, stderr, getenv)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}
