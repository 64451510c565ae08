package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ExamplePlaceholders are the Slack user IDs config.example.yaml shows: a
// copy that still lists them names nobody in the workspace.
var ExamplePlaceholders = []string{"U012AB3CD", "U045EF6GH"}

// Warnings returns what `check` points out though the bot can run with it,
// each a [*FieldError]: the example's placeholder user IDs left in, and a
// reset.protected that covers every listed user, so nobody could reset.
func (c *Config) Warnings() []error {
	var v validator
	for i, u := range c.Users {
		for _, p := range ExamplePlaceholders {
			if u.SlackUser == p {
				v.add(fmt.Sprintf("users[%d].slack_user", i),
					"%q is the placeholder from config.example.yaml: put the person's member ID here (profile ⋮ → Copy member ID)", p)
			}
		}
	}
	if len(c.Users) > 0 && len(c.Reset.Protected) > 0 {
		all := true
		for _, u := range c.Users {
			all = all && c.Reset.protectsByName(u.IAMUser)
		}
		if all {
			v.add("reset.protected", "covers every listed user, so nobody can reset a password")
		}
	}
	if !c.Approval.Enabled() {
		for _, k := range []struct {
			key string
			set bool
		}{{"min_approvals", c.Approval.MinApprovals > 1}, {"require_reason", c.Approval.RequireReason}, {"remind_after", c.Approval.RemindAfter > 0}} {
			if k.set {
				v.add("approval."+k.key, "has no effect without approval.channel")
			}
		}
	}
	return c.src.locate(v.errs)
}

// protectsByName reports whether protected covers the IAM user whatever
// its path: by its name (as IAM compares names, case-insensitively), or
// the root path "/", under which every user is.
func (r Reset) protectsByName(iamUser string) bool {
	for _, p := range r.Protected {
		if p == "/" || (!strings.HasPrefix(p, "/") && strings.EqualFold(p, iamUser)) {
			return true
		}
	}
	return false
}

// CheckStore reports, as a [*FieldError] on store.path, a store the bot
// could not create or write: its directory missing (the bot does not
// create one), not a directory, or not writable (SQLite writes its -wal
// and -shm files beside the database), or the path a directory or a file
// the bot may not write. It changes nothing: the probe file it creates to
// test the directory is removed at once.
func (c *Config) CheckStore() error {
	path := c.Store.Path
	if path == "" {
		return nil // Validate reports it
	}
	fail := func(format string, args ...any) error {
		return &FieldError{Path: "store.path", Line: c.src.line("store.path"), Msg: fmt.Sprintf(format, args...)}
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("directory %s does not exist: create it, writable by the bot's user (the bot does not create it)", dir)
	case err != nil:
		return fail("directory %s cannot be read: %v", dir, err)
	case !fi.IsDir():
		return fail("%s is not a directory", dir)
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fail("%s is a directory: name the database file in it, e.g. %s", path, filepath.Join(path, "aws-reset.db"))
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fail("%s is not writable by this user: %v", path, errors.Unwrap(err))
		}
		f.Close()
	}
	probe, err := os.CreateTemp(dir, ".aws-reset-check-*")
	if err != nil {
		return fail("directory %s is not writable by this user: %v", dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}
