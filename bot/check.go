package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// loadConfig reads and validates the file, printing every problem.
func loadConfig(path string, stderr io.Writer) (config.Config, error) {
	cfg, err := config.Read(path)
	switch {
	case err == nil:
		return cfg, nil
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "configuration file %s does not exist: copy config.example.yaml there and edit it, or pass --config FILE\n", path)
		return cfg, errReported
	case !errors.As(err, new(*config.FieldError)):
		// Not about a setting (not YAML, say): one line, naming the file.
		fmt.Fprintln(stderr, err)
		return cfg, errReported
	}
	printProblems(stderr, path, config.Problems(err))
	return cfg, errReported
}

// printProblems lists a file's problems under its name.
func printProblems(w io.Writer, path string, problems []string) {
	if len(problems) == 1 {
		fmt.Fprintf(w, "%s: 1 problem:\n", path)
	} else {
		fmt.Fprintf(w, "%s: %d problems:\n", path, len(problems))
	}
	for _, line := range problems {
		fmt.Fprintln(w, "  "+line)
	}
}

func checkCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("check", stderr)
	live := fs.Bool("live", false, "also ask Slack and AWS whether the bot will work (reads only; needs the tokens and AWS credentials)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	// Problems the bot would meet only when it first writes its store.
	failed := false
	if err := cfg.CheckStore(); err != nil {
		printProblems(stderr, *path, config.Problems(err))
		failed = true
	}
	warnings := cfg.Warnings()
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if !failed {
		note := ""
		switch n := len(warnings); {
		case n == 1:
			note = ", 1 warning"
		case n > 1:
			note = fmt.Sprintf(", %d warnings", n)
		}
		approval := onOff(cfg.Approval.Enabled())
		if n := len(cfg.AWS.Accounts); n > 0 {
			// Each account may turn approval on or off for itself.
			on := 0
			for _, a := range cfg.AWS.Accounts {
				if cfg.ApprovalFor(a.Name).Enabled() {
					on++
				}
			}
			approval += fmt.Sprintf("; %d AWS accounts, approval on in %d", n, on)
		}
		fmt.Fprintf(stdout, "%s: OK (%d listed users, approval %s%s)\n", *path, len(cfg.Users), approval, note)
	}
	if *live {
		if err := liveCheck(ctx, cfg, stdout, getenv); err != nil {
			return err
		}
	}
	if failed {
		return errReported
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
