// Command bot is aws-reset-bot: a Slack bot that lets people reset their own
// AWS IAM console password. See README.md.
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

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

// errReported means the problem was already printed in full.
var errReported = errors.New("reported")

const usage = `usage: bot COMMAND [flags]

commands:
  demo     watch a reset and an approval against in-process fakes (no credentials needed)
  run      connect to Slack and serve the slash command (--dry-run: no IAM writes)
  check    validate the configuration (--live also checks Slack and AWS)
  audit    print the audit trail
  manifest print the Slack app manifest for the configuration
  policy   print the least-privilege IAM policy for the bot's identity
  remind   send the password expiry reminders due now (--dry-run: only show them)
  version  print the version
`

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errReported
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return runCommand(ctx, args, stdout, stderr, getenv)
	case "check":
		return checkCommand(ctx, args, stdout, stderr, getenv)
	case "audit":
		return auditCommand(ctx, args, stdout, stderr, getenv)
	case "manifest":
		return manifestCommand(ctx, args, stdout, stderr)
	case "policy":
		return policyCommand(ctx, args, stdout, stderr)
	case "remind":
		return remindCommand(ctx, args, stdout, stderr, getenv)
	case "demo":
		return demoCommand(ctx, args, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "aws-reset-bot", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", cmd, usage)
	return errReported
}

// newFlags returns a flag set that prints to stderr and has --config.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "./config.yaml", "configuration file")
	return fs, path
}
