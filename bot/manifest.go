package main

import (
	"context"
	"io"

	"github.com/aws-reset-bot/aws-reset-bot/internal/manifest"
)

// manifestCommand prints the Slack app manifest for the configuration. It
// reads only the config file: no tokens, no network.
func manifestCommand(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, path := newFlags("manifest", stderr)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	out, err := manifest.Build(cfg).YAML()
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
