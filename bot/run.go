package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/serve"
)

// runCommand is "bot run": it loads the configuration and the tokens and
// serves until ctx ends.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, path := newFlags("run", stderr)
	dryRun := fs.Bool("dry-run", false, "do everything but the IAM write: check the login profile and say what would happen")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	if *dryRun {
		cfg.Reset.DryRun = true
	}
	secrets, err := loadSecrets(getenv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	return serve.Run(ctx, cfg, secrets, logger, serve.Options{Version: Version})
}

// loadSecrets reads the tokens from the environment, printing every
// problem (never a token).
func loadSecrets(getenv func(string) string, stderr io.Writer) (config.Secrets, error) {
	secrets, err := config.SecretsFromEnv(getenv)
	if err != nil {
		for _, line := range config.Problems(err) {
			fmt.Fprintln(stderr, line)
		}
		return secrets, errReported
	}
	return secrets, nil
}

// newLogger builds the process logger from log.format and log.level.
func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
