package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCommand: check lists every problem of the file with its path and
// line, says what will fail later, and warns of what will surprise.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	store := "store:\n  path: " + filepath.Join(dir, "aws-reset.db") + "\n"
	const alice = "users:\n  - slack_user: U0ALICE01\n    iam_user: alice\n"
	tests := []struct {
		name       string
		config     string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{"fine", store + alice, 0, "OK (1 listed users, approval off)\n", nil},
		{"every problem, types included", "reset:\n  cooldown: 10 minutes\n  password_length: twenty\n" + store + "users:\n  - slack_user: U0ALICE01\n", 1, "", []string{
			": 3 problems:\n",
			`  reset.cooldown (line 2): "10 minutes" is not a duration, e.g. "10m", "2h" or "7d"` + "\n",
			`  reset.password_length (line 3): "twenty" is not a whole number` + "\n",
			"  users[0].iam_user (line 7): is required\n",
		}},
		{"store directory missing", "store:\n  path: " + filepath.Join(dir, "nowhere", "aws-reset.db") + "\n" + alice, 1, "", []string{
			": 1 problem:\n", "  store.path (line 2): directory " + filepath.Join(dir, "nowhere") + " does not exist: create it",
		}},
		{"the example's placeholders", store + fixtureUsers, 0, "OK (2 listed users, approval off, 2 warnings)\n", []string{
			`warning: users[0].slack_user (line 5): "U012AB3CD" is the placeholder from config.example.yaml`,
			`warning: users[1].slack_user (line 7): "U045EF6GH" is the placeholder`,
		}},
		{"everyone protected", "reset:\n  protected: [alice]\n" + store + alice, 0, "OK (1 listed users, approval off, 1 warning)\n", []string{
			"warning: reset.protected (line 2): covers every listed user, so nobody can reset a password",
		}},
		{"days", "reset:\n  cooldown: 1d\n  expire_unused_after: 2d\n" + store + alice, 0, "OK (1 listed users, approval off)\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := configFixture(t, tt.config)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"check", "--config", path}, &stdout, &stderr, noEnv)
			if code := exitCode(err, &stderr); code != tt.wantCode {
				t.Errorf("check exit %d; want %d\nstderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if tt.wantStdout == "" && stdout.Len() != 0 || !strings.HasSuffix(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q; want …%q", stdout.String(), tt.wantStdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if len(tt.wantStderr) == 0 && stderr.Len() != 0 {
				t.Errorf("stderr = %q; want nothing", stderr.String())
			}
		})
	}
}

// TestRunListsEveryProblem: run refuses a bad file with the same list, and
// names a token file that is not there without also calling it unset.
func TestRunListsEveryProblem(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := configFixture(t, "reset:\n  cooldown: 10 minutes\n  deadline: soon\nusers:\n  - slack_user: U0ALICE01\n")
	err := run(context.Background(), []string{"run", "--config", path}, &stdout, &stderr, noEnv)
	if code := exitCode(err, &stderr); code != 1 {
		t.Errorf("run exit %d; want 1", code)
	}
	for _, want := range []string{": 3 problems:", "reset.cooldown (line 2)", "reset.deadline (line 3)", "users[0].iam_user (line 5): is required"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}

	stderr.Reset()
	good := configFixture(t, "users:\n  - slack_user: U0ALICE01\n    iam_user: alice\n")
	missing := filepath.Join(t.TempDir(), "app-token")
	env := map[string]string{"SLACK_APP_TOKEN_FILE": missing, "SLACK_BOT_TOKEN": `"xoxb-1-2-notreal"`}
	err = run(context.Background(), []string{"run", "--config", good}, &stdout, &stderr, func(k string) string { return env[k] })
	want := "SLACK_APP_TOKEN_FILE names " + missing + ", which does not exist\n" +
		"SLACK_BOT_TOKEN has quotes around it: remove them (want a bot token (xoxb-…))\n"
	if exitCode(err, &stderr) != 1 || stderr.String() != want {
		t.Errorf("run with a missing token file and a quoted token: stderr =\n%s\nwant:\n%s", stderr.String(), want)
	}
}

// TestMissingConfigFile: the first thing a newcomer may see.
func TestMissingConfigFile(t *testing.T) {
	for _, cmd := range []string{"check", "run", "manifest", "policy", "audit", "remind"} {
		var stdout, stderr bytes.Buffer
		path := filepath.Join(t.TempDir(), "config.yaml")
		err := run(context.Background(), []string{cmd, "--config", path}, &stdout, &stderr, noEnv)
		want := "configuration file " + path + " does not exist: copy config.example.yaml there and edit it, or pass --config FILE\n"
		if exitCode(err, &stderr) != 1 || stderr.String() != want {
			t.Errorf("%s with no config file: stderr = %q; want %q", cmd, stderr.String(), want)
		}
	}
}

// TestConfigNotYAML: one line, naming the file once.
func TestConfigNotYAML(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := configFixture(t, "slack:\n  command: /x\n bad: [\n")
	err := run(context.Background(), []string{"check", "--config", path}, &stdout, &stderr, noEnv)
	if want := path + ": parse config: yaml: line 2: "; exitCode(err, &stderr) != 1 || !strings.HasPrefix(stderr.String(), want) ||
		strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("check of a file that is not YAML: stderr = %q; want one line starting %q", stderr.String(), want)
	}
}
