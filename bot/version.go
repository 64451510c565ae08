package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// versionCommand is "bot version".
func versionCommand(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) error {
	fs := newFlagSet("version", stderr)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, "aws-reset-bot", versionString(Version, info))
	return nil
}

// versionString is the stamped version, or, when none was stamped (go
// build, go run, go install), what the toolchain recorded: the module
// version, and the VCS revision, its time, and whether the tree had
// uncommitted changes.
func versionString(stamped string, info *debug.BuildInfo) string {
	if stamped != "dev" && stamped != "" {
		return stamped
	}
	if info == nil {
		return "dev"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" && !strings.Contains(v, shortRev(rev)) {
		details = append(details, "revision "+shortRev(rev))
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if settings["vcs.modified"] == "true" && !strings.HasSuffix(v, "+dirty") {
		details = append(details, "modified")
	}
	if info.GoVersion != "" {
		details = append(details, info.GoVersion)
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}

// shortRev is the 12 characters of a commit hash that pseudo-versions use.
func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
