package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// loadConfig reads and validates the file, printing every problem.
func loadConfig(path string, stderr io.Writer) (config.Config, error) {
	cfg, err := config.Load(path)
	var decode *config.DecodeError
	switch {
	case err == nil:
		err = cfg.Validate()
	case errors.As(err, &decode):
		// The rest of the file was read: report its problems too.
		err = errors.Join(err, cfg.Validate())
	}
	if err != nil {
		for _, line := range config.Problems(err) {
			fmt.Fprintln(stderr, line)
		}
		return cfg, errReported
	}
	return cfg, nil
}

func checkCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("check", stderr)
	live := fs.Bool("live", false, "also ask Slack and AWS whether the bot will work (reads only; needs the tokens and AWS credentials)")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: OK (%d listed users, approval %s)\n", *path, len(cfg.Users), onOff(cfg.Approval.Enabled()))
	if *live {
		return liveCheck(ctx, cfg, stdout, getenv)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
