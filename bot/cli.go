package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Exit statuses, as conventional: 2 for a command line that could not be
// understood, 1 for everything that went wrong after.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

var (
	// errReported means the problem was already printed in full.
	errReported = errors.New("reported")
	// errUsage means the command line was wrong and the problem and the
	// usage were printed: exit status 2.
	errUsage = errors.New("usage")
	// errHelp means help was asked for and printed: exit status 0.
	errHelp = errors.New("help printed")
)

// exitCode is the process's exit status for what run returned; it prints
// the error unless it was printed already.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case !errors.Is(err, errReported):
		fmt.Fprintln(stderr, "error:", err)
	}
	return exitFailure
}

// command is one subcommand of bot: what its help says, and its function.
// The flags are the function's own: help is printed from its flag set.
type command struct {
	name    string
	summary string // one line, for the list of commands
	args    string // positional arguments in the synopsis, if any
	about   string // what it does, in a paragraph or two
	env     []envVar
	example string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error
}

// envVar is an environment variable a command reads.
type envVar struct{ name, meaning string }

// The environment of the commands that talk to Slack and AWS.
var (
	tokenEnv = []envVar{
		{"SLACK_APP_TOKEN", "app-level token (xapp-…) with connections:write, for Socket Mode"},
		{"SLACK_APP_TOKEN_FILE", "instead: a file holding it (Docker and Kubernetes secrets)"},
		{"SLACK_BOT_TOKEN", "bot token (xoxb-…)"},
		{"SLACK_BOT_TOKEN_FILE", "instead: a file holding it"},
	}
	awsEnv = []envVar{
		{"AWS_PROFILE, AWS_ACCESS_KEY_ID, …", "AWS credentials, from the SDK's default chain (also web identity and instance or task roles)"},
		{"AWS_REGION", "region to sign with, unless aws.region is set"},
		{"AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_STS", "other IAM and STS endpoints, e.g. VPC endpoints"},
	}
	databaseEnv = []envVar{
		{"DATABASE_URL", "PostgreSQL URL for the store; wins over store.postgres_url"},
		{"DATABASE_URL_FILE", "instead: a file holding it"},
		{"PGPASSWORD, PGPASSFILE", "the database password, which never goes in the file"},
	}
)

// commands lists the subcommands, in the order help shows them. It is a
// function, not a variable, because the commands' functions print help
// from it.
func commands() []command {
	return []command{
		{
			name:    "run",
			summary: "connect to Slack and serve the slash command (--dry-run: no IAM writes)",
			about: "Connect to Slack over Socket Mode and answer the slash command until SIGINT or\n" +
				"SIGTERM; then finish the resets in flight and exit 0. The configuration is\n" +
				"checked first, and every problem in it printed.",
			env:     append(append(append([]envVar{}, tokenEnv...), awsEnv...), databaseEnv...),
			example: "bot run --config /etc/aws-reset-bot/config.yaml",
			run:     runCommand,
		},
		{
			name:    "check",
			summary: "validate the configuration (--live also checks Slack and AWS)",
			about: "Check the configuration: every problem at once, each with its field path and\n" +
				"line, then warnings about what will surprise later. With --live, also ask\n" +
				"Slack and AWS, with the tokens and credentials the bot would run with,\n" +
				"whether it will work, and print a checklist; that only reads. Exits 1 if\n" +
				"anything would fail; warnings alone exit 0.",
			env:     append(append(append([]envVar{}, tokenEnv...), awsEnv...), databaseEnv...),
			example: "bot check --config config.yaml --live",
			run:     checkCommand,
		},
		{
			name:    "manifest",
			summary: "print the Slack app manifest for the configuration",
			about: "Print the Slack app manifest for this configuration (YAML), to paste at\n" +
				"https://api.slack.com/apps → Create New App → From an app manifest. It reads\n" +
				"only the configuration file: no tokens, no network.",
			example: "bot manifest --config config.yaml > manifest.yaml",
			run:     adapt(manifestCommand),
		},
		{
			name:    "policy",
			summary: "print the least-privilege IAM policy for the bot's identity",
			about: "Print the least-privilege IAM policy (JSON) for the role or user the bot runs\n" +
				"as: exactly the listed users, and the account-wide reads it needs. Notes on\n" +
				"what to check go to stderr. It reads only the configuration file: no\n" +
				"credentials, no network. Regenerate it whenever the allowlist changes.",
			example: "bot policy --config config.yaml --account 123456789012 > policy.json",
			run:     adapt(policyCommand),
		},
		{
			name:    "audit",
			summary: "print the audit trail",
			about: "Print the audit trail from the store: every request, refusal, decision,\n" +
				"reset and delivery, oldest first, as a table or as JSON lines. Durations\n" +
				"take s, m, h and d (days), e.g. 90m, 36h, 7d.",
			env:     databaseEnv,
			example: "bot audit --config config.yaml --since 7d --json",
			run:     auditCommand,
		},
		{
			name:    "remind",
			summary: "send the password expiry reminders due now (--dry-run: only show them)",
			about: "Send the password expiry reminders due now, once, as the running bot does\n" +
				"daily at reminders.at, and print what was found and sent. With --dry-run,\n" +
				"show who would get which reminder now, and send and record nothing.",
			env:     append(append(append([]envVar{}, tokenEnv...), awsEnv...), databaseEnv...),
			example: "bot remind --config config.yaml --dry-run",
			run:     remindCommand,
		},
		{
			name:    "version",
			summary: "print the version",
			about: "Print the version: the one stamped at build time, else the module version\n" +
				"and the VCS revision and time that go build recorded.",
			example: "bot version",
			run:     versionCommand,
		},
		{
			name:    "help",
			summary: "print the help of a command, or this list",
			args:    "[COMMAND]",
			about:   "Print what a command does, its flags with their defaults, the environment\nvariables it reads, and an example. Without a command, list the commands.",
			example: "bot help run",
			run:     helpCommand,
		},
	}
}

// adapt fits a command that reads no environment.
func adapt(f func(context.Context, []string, io.Writer, io.Writer) error) func(context.Context, []string, io.Writer, io.Writer, func(string) string) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) error {
		return f(ctx, args, stdout, stderr)
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is the general help: the commands, and where to read more.
func usage() string {
	var b strings.Builder
	b.WriteString("aws-reset-bot: a Slack bot that lets people reset their own AWS IAM console password.\n\n")
	b.WriteString("usage: bot COMMAND [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	b.WriteString("\n'bot help COMMAND' (or 'bot COMMAND --help') shows a command's flags, the\n" +
		"environment variables it reads, and an example.\n" +
		"Exit status: 0 done, 1 failed, 2 the command line was wrong.\n")
	return b.String()
}

// newFlagSet returns a flag set that leaves printing to parseArgs.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr) // for the flag package's own one-line complaints
	fs.Usage = func() {}
	return fs
}

// newFlags returns a command's flag set, with --config.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := newFlagSet(name, stderr)
	path := fs.String("config", "./config.yaml", "the configuration `FILE`")
	return fs, path
}

// parseFlags parses a command's flags the conventional way; the command
// takes no arguments but flags. See parseArgs.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	return parseArgs(fs, args, 0, stdout, stderr)
}

// parseArgs parses a command's flags and up to maxArgs arguments after
// them. -h, -help or --help prints the command's help to stdout and
// returns errHelp (exit 0); an unknown flag, a bad value or a stray
// argument prints the problem and the usage to stderr and returns errUsage
// (exit 2).
func parseArgs(fs *flag.FlagSet, args []string, maxArgs int, stdout, stderr io.Writer) error {
	c, _ := lookup(fs.Name())
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout, c, fs)
		return errHelp
	case err != nil:
		// The flag package printed what was wrong.
		printUsage(stderr, c, fs)
		return errUsage
	case fs.NArg() > maxArgs:
		extra := fs.Arg(maxArgs)
		fmt.Fprintf(stderr, "%s: unexpected argument %q", fs.Name(), extra)
		if strings.HasPrefix(extra, "-") && extra != "-" {
			fmt.Fprint(stderr, " (flags go before the arguments)")
		}
		fmt.Fprintln(stderr)
		printUsage(stderr, c, fs)
		return errUsage
	}
	return nil
}

// synopsis is a command's one-line usage: its flags and arguments.
func synopsis(c command, fs *flag.FlagSet) string {
	parts := []string{"bot", c.name}
	fs.VisitAll(func(f *flag.Flag) {
		if name, _ := flag.UnquoteUsage(f); name != "" {
			parts = append(parts, "[--"+f.Name+" "+name+"]")
		} else {
			parts = append(parts, "[--"+f.Name+"]")
		}
	})
	if c.args != "" {
		parts = append(parts, c.args)
	}
	return strings.Join(parts, " ")
}

// printUsage is what a wrong command line gets: the synopsis and flags.
func printUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n", synopsis(c, fs))
	printFlags(w, fs)
	fmt.Fprintf(w, "'bot help %s' says more.\n", c.name)
}

// printHelp is a command's full help.
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", synopsis(c, fs), c.about)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nflags:\n")
		printFlags(w, fs)
	}
	if len(c.env) > 0 {
		fmt.Fprint(w, "\nenvironment:\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, e := range c.env {
			fmt.Fprintf(tw, "  %s\t%s\n", e.name, e.meaning)
		}
		tw.Flush()
	} else {
		fmt.Fprint(w, "\nenvironment: none read\n")
	}
	fmt.Fprintf(w, "\nexample:\n  %s\n", c.example)
}

// printFlags lists flags with their defaults, spelt with two dashes (the
// flag package takes one or two).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		name, meaning := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if name != "" {
			head += " " + name
		}
		switch f.DefValue {
		case "", "false", "0", "0s":
		default:
			meaning += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", head, meaning)
	})
	tw.Flush()
}

// helpCommand is "bot help [COMMAND]".
func helpCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("help", stderr)
	if err := parseArgs(fs, args, 1, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stdout, usage())
		return nil
	}
	name := fs.Arg(0)
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "help: unknown command %q\n\n%s", name, usage())
		return errUsage
	}
	// Each command prints its own help from its own flags.
	return c.run(ctx, []string{"--help"}, stdout, stderr, getenv)
}
