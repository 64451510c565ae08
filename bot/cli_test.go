package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestCommandHelp holds every command to a conventional help, however it
// is asked for, printed to stdout with exit status 0.
func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), args, &stdout, &stderr, noEnv)
				if code := exitCode(err, &stderr); code != 0 {
					t.Fatalf("run(%q) exit %d, %v; want 0\nstderr:\n%s", args, code, err, stderr.String())
				}
				out := stdout.String()
				for _, want := range []string{"usage: bot " + c.name, c.about, "\nenvironment", "\nexample:\n  bot " + c.name} {
					if !strings.Contains(out, want) {
						t.Errorf("help lacks %q:\n%s", want, out)
					}
				}
				if stderr.Len() != 0 {
					t.Errorf("stderr = %q; want nothing", stderr.String())
				}
			})
		}
	}
}

// TestCommandHelpContent checks the details of some commands' help: flags
// with their defaults, and the environment variables each reads.
func TestCommandHelpContent(t *testing.T) {
	tests := []struct {
		command string
		want    []string
		wantNot []string
	}{
		{"run", []string{"[--config FILE] [--dry-run]", "--config FILE", "(default ./config.yaml)", "SLACK_APP_TOKEN_FILE", "SLACK_BOT_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_IAM"}, nil},
		{"check", []string{"--live", "SLACK_APP_TOKEN", "AWS_PROFILE"}, nil},
		{"audit", []string{"--since DURATION", "(default 1d)", "--json", "DATABASE_URL"}, []string{"SLACK_"}},
		{"policy", []string{"--account ID", "--partition PARTITION", "aws-iso-b", "aws-eusc", "environment: none read"}, []string{"AWS_PROFILE"}},
		{"manifest", []string{"environment: none read"}, []string{"SLACK_"}},
		{"remind", []string{"--dry-run", "SLACK_BOT_TOKEN"}, nil},
		{"version", []string{"usage: bot version\n"}, []string{"--config"}},
		{"help", []string{"usage: bot help [COMMAND]\n"}, []string{"--config"}},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), []string{"help", tt.command}, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("run(help %s) = %v", tt.command, err)
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("help %s lacks %q:\n%s", tt.command, want, stdout.String())
				}
			}
			for _, not := range tt.wantNot {
				if strings.Contains(stdout.String(), not) {
					t.Errorf("help %s has %q:\n%s", tt.command, not, stdout.String())
				}
			}
		})
	}
}

func TestGeneralHelp(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		toStderr bool
	}{
		{[]string{"help"}, 0, false},
		{[]string{"--help"}, 0, false},
		{[]string{"-h"}, 0, false},
		{nil, 2, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr, noEnv)
			if code := exitCode(err, &stderr); code != tt.wantCode {
				t.Errorf("run(%q) exit %d; want %d", tt.args, code, tt.wantCode)
			}
			out := stdout.String()
			if tt.toStderr {
				out = stderr.String()
			}
			for _, c := range commands() {
				if !strings.Contains(out, "\n  "+c.name+" ") {
					t.Errorf("usage does not list %q:\n%s", c.name, out)
				}
			}
			if !strings.Contains(out, "Exit status: 0 done, 1 failed, 2 the command line was wrong") {
				t.Errorf("usage does not explain the exit status:\n%s", out)
			}
		})
	}
}

// TestCommandLineMistakes: every wrong command line exits 2, says what is
// wrong and shows the usage, on stderr, before touching any file.
func TestCommandLineMistakes(t *testing.T) {
	tests := []struct {
		args []string
		want []string // on stderr
	}{
		{[]string{"run", "--nope"}, []string{"flag provided but not defined: -nope", "usage: bot run [--config FILE] [--dry-run]", "'bot help run' says more"}},
		{[]string{"run", "extra-arg"}, []string{`run: unexpected argument "extra-arg"`, "usage: bot run"}},
		{[]string{"run", "--config", "c.yaml", "stray", "--dry-run"}, []string{`run: unexpected argument "stray"`}},
		{[]string{"check", "--live=maybe"}, []string{"invalid boolean value", "usage: bot check"}},
		{[]string{"check", "config.yaml"}, []string{`check: unexpected argument "config.yaml"`}},
		{[]string{"manifest", "x"}, []string{`manifest: unexpected argument "x"`, "usage: bot manifest"}},
		{[]string{"policy", "--partition", "aws-mars"}, []string{`--partition: "aws-mars" is not an AWS partition (want one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)`}},
		{[]string{"audit", "--since", "1 week"}, []string{`"1 week" is not a duration, e.g. "10m", "2h" or "7d"`, "usage: bot audit"}},
		{[]string{"audit", "--since", "7"}, []string{`7 has no unit`}},
		{[]string{"audit", "--json", "yesterday"}, []string{`audit: unexpected argument "yesterday"`}},
		{[]string{"remind", "now"}, []string{`remind: unexpected argument "now"`, "usage: bot remind"}},
		{[]string{"version", "--short"}, []string{"flag provided but not defined: -short", "usage: bot version"}},
		{[]string{"version", "2"}, []string{`version: unexpected argument "2"`}},
		{[]string{"help", "nope"}, []string{`help: unknown command "nope"`, "usage: bot COMMAND"}},
		{[]string{"help", "run", "check"}, []string{`help: unexpected argument "check"`}},
		{[]string{"bogus"}, []string{`unknown command "bogus"`, "usage: bot COMMAND"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr, noEnv)
			if code := exitCode(err, &stderr); code != 2 {
				t.Errorf("run(%q) exit %d, %v; want 2", tt.args, code, err)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q; want nothing", stdout.String())
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err       error
		code      int
		wantPrint string
	}{
		{nil, 0, ""},
		{errHelp, 0, ""},
		{errUsage, 2, ""},
		{fmt.Errorf("policy: %w", errUsage), 2, ""},
		{errReported, 1, ""},
		{errors.New("load AWS configuration: boom"), 1, "error: load AWS configuration: boom\n"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		if code := exitCode(tt.err, &stderr); code != tt.code || stderr.String() != tt.wantPrint {
			t.Errorf("exitCode(%v) = %d, printed %q; want %d, %q", tt.err, code, stderr.String(), tt.code, tt.wantPrint)
		}
	}
}

func TestVersionString(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "57bc199d3e4fa1b2c3d4e5f60718293a4b5c6d7e"
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped", "1.2.0", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "1.2.0"},
		{"no build info", "dev", nil, "dev"},
		{"go build in a clean checkout", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-01T22:10:00Z", "vcs.modified", "false")},
			"dev (revision 57bc199d3e4f, 2026-12-01T22:10:00Z, go1.26.8)"},
		{"go build with changes", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", rev, "vcs.time", "2026-12-01T22:10:00Z", "vcs.modified", "true")},
			"dev (revision 57bc199d3e4f, 2026-12-01T22:10:00Z, modified, go1.26.8)"},
		{"pseudo-version names the revision", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201221000-57bc199d3e4f+dirty"},
			Settings: vcs("vcs.revision", rev, "vcs.time", "2026-12-01T22:10:00Z", "vcs.modified", "true")},
			"v0.0.0-20261201221000-57bc199d3e4f+dirty (2026-12-01T22:10:00Z, go1.26.8)"},
		{"go install of a release", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0"}},
			"v1.3.0 (go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionString(tt.stamped, tt.info); got != tt.want {
				t.Errorf("versionString(%q, …) = %q; want %q", tt.stamped, got, tt.want)
			}
		})
	}
}

// TestVersionCommand runs the real one: under go test there is build
// information, and no stamp.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr, noEnv); err != nil {
			t.Fatalf("run(%q) = %v", args, err)
		}
		if !regexp.MustCompile(`^aws-reset-bot \S+( \(.*go1\.\d+.*\))?\n$`).MatchString(stdout.String()) {
			t.Errorf("run(%q) printed %q", args, stdout.String())
		}
	}
}
