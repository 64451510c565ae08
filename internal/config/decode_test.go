package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestReadEveryProblem holds the promise of Read: every problem in the
// file, wrong types and broken rules alike, each with its path and line,
// in the order of the file.
func TestReadEveryProblem(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{
			name: "three bad durations",
			file: "reset:\n  cooldown: 10 minutes\n  deadline: soon\napproval:\n  timeout: 600\n" + minimal,
			want: []string{
				`reset.cooldown (line 2): "10 minutes" is not a duration, e.g. "10m", "2h" or "7d"`,
				`reset.deadline (line 3): "soon" is not a duration, e.g. "10m", "2h" or "7d"`,
				`approval.timeout (line 5): 600 has no unit: write e.g. "600s" for seconds or "600m" for minutes`,
			},
		},
		{
			name: "wrong types",
			file: "reset:\n  password_length: twenty\n  concurrency: \"8\"\n  require_mfa: maybe\n  protected: admin\naws:\n  max_calls_per_second: fast\n" + minimal,
			want: []string{
				`reset.password_length (line 2): "twenty" is not a whole number`,
				`reset.concurrency (line 3): "8" is in quotes, which makes it text: want a whole number, without quotes`,
				`reset.require_mfa (line 4): "maybe" is not true or false`,
				`reset.protected (line 5): want a list, e.g. [a, b], not "admin"`,
				`aws.max_calls_per_second (line 7): "fast" is not a number`,
			},
		},
		{
			name: "bad duration and a user without iam_user",
			file: "reset:\n  cooldown: 10 minutes\nusers:\n  - slack_user: U0ALICE01\n",
			want: []string{
				`reset.cooldown (line 2): "10 minutes" is not a duration, e.g. "10m", "2h" or "7d"`,
				`users[0].iam_user (line 4): is required`,
			},
		},
		{
			name: "unknown keys, a section that is not one, a key twice",
			file: "slak:\n  command: /x\nlog: debug\nreset:\n  cooldown: 1m\n  cooldown: 2m\n" + minimal,
			want: []string{
				`slak (line 1): unknown key: did you mean "slack"?`,
				`log (line 3): want a section of keys (key: value), not "debug"`,
				`reset.cooldown (line 6): is set twice (first at line 5)`,
			},
		},
		{
			name: "unknown key far from any",
			file: "reset:\n  colour: blue\n" + minimal,
			want: []string{
				`reset.colour (line 2): unknown key; reset takes concurrency, cooldown, deadline, dry_run, expire_unused_after, password_length, protected, require_mfa`,
			},
		},
		{
			name: "a bad list item is reported once",
			file: "reminders:\n  days_before: [14, soon, 400]\nusers:\n  - U0ALICE01\n  - slack_user: U0BOB0001\n    iam_user: bob\n",
			want: []string{
				`reminders.days_before[1] (line 2): "soon" is not a whole number`,
				`reminders.days_before[2] (line 2): 400 is outside 1..365`,
				`users[0] (line 4): want a section of keys (key: value), not "U0ALICE01"`,
			},
		},
		{
			name: "rules about missing settings come last",
			file: "approval:\n  channel: C0APPROVE1\nreset:\n  deadline: 0s\n" + minimal,
			want: []string{
				`approval.approvers (line 1): is required when approval.channel is set`,
				`reset.deadline (line 4): must be a positive duration`,
			},
		},
		{
			name: "days",
			file: "reset:\n  cooldown: 1d\n  expire_unused_after: 1d12h\n" + minimal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if got := Problems(err); !slices.Equal(got, tt.want) {
				t.Errorf("Read() problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, e := range unwrapAll(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Errorf("problem %v is a %T; want *FieldError", e, e)
				}
			}
		})
	}
}

func TestReadNotAboutASetting(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"syntax": "slack: [\n", "list": "- a\n- b\n", "comments only": "# nothing\n"} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		var fe *FieldError
		if err == nil || errors.As(err, &fe) {
			t.Errorf("Read(%s) = %v; want one error not about a field", name, err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) = %v; want ErrNotExist", err)
	}
}

func TestParseDefaultsSurviveNulls(t *testing.T) {
	cfg := mustParse(t, "reset:\n  password_length:\nslack:\n"+minimal)
	if cfg.Reset.PasswordLength != 20 || cfg.Slack.Command != "/aws-reset" {
		t.Errorf("Parse(empty values) = %d, %q; want the defaults", cfg.Reset.PasswordLength, cfg.Slack.Command)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10m", 10 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"0", 0, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"-1d", -24 * time.Hour, true},
		{"d", 0, false},
		{"1d-1h", 0, false},
		{"1dd", 0, false},
		{"1 d", 0, false},
		{"10 minutes", 0, false},
		{"600", 0, false},
		{"99999999d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrNotDuration) {
			t.Errorf("ParseDuration(%q) error %v is not ErrNotDuration", tt.in, err)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{90 * time.Second, "1m30s"},
		{30 * time.Minute, "30m"},
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "1d"},
		{7 * 24 * time.Hour, "7d"},
		{36 * time.Hour, "36h"},
		{10 * time.Second, "10s"},
	}
	for _, tt := range tests {
		d := Duration(tt.in)
		if got := d.String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q; want %q", tt.in, got, tt.want)
		}
		var back Duration
		if err := back.Set(d.String()); err != nil || back != d {
			t.Errorf("Set(%q) = %v, %v; want %v", d.String(), back, err, tt.in)
		}
	}
}

// TestDecodeOtherKinds: kinds Config lacks today still decode, so a new
// setting of such a type needs no change here.
func TestDecodeOtherKinds(t *testing.T) {
	var v struct {
		Tags  map[string]string `yaml:"tags"`
		Pair  [2]int            `yaml:"pair"`
		Inner struct {
			N int `yaml:"n"`
		} `yaml:"inner"`
	}
	root := func(s string) *yaml.Node {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Content[0]
	}
	d := decoder{src: &source{lines: map[string]int{}, bad: map[string]bool{}}}
	d.decode("", root("tags: {a: b}\npair: [1, 2]\ninner:\n  n: 3\n"), reflect.ValueOf(&v).Elem(), 0)
	if len(d.errs) != 0 || v.Tags["a"] != "b" || v.Pair != [2]int{1, 2} || v.Inner.N != 3 {
		t.Errorf("decode = %+v, %v", v, d.errs)
	}
	d.decode("", root("tags: [a]\n"), reflect.ValueOf(&v).Elem(), 0)
	if got := Problems(errors.Join(d.errs...)); !slices.Equal(got, []string{`tags (line 1): want a section of keys, not a list`}) {
		t.Errorf("decode(tags: [a]) = %q", got)
	}
}

func TestParseAliases(t *testing.T) {
	cfg := mustParse(t, "users:\n  - &base\n    slack_user: U0ALICE01\n    iam_user: alice\n  - <<: *base\n    slack_user: U0BOB0001\n")
	if len(cfg.Users) != 2 || cfg.Users[1].SlackUser != "U0BOB0001" || cfg.Users[1].IAMUser != "alice" {
		t.Errorf("Parse(merge key) users = %+v; want bob with alice's iam_user", cfg.Users)
	}
	tests := []struct{ file, want string }{
		{"x-defaults: &d\n  cooldown: 1h\n" + minimal, `x-defaults (line 1): unknown key; the top level takes`},
		{"users: &u [*u]\n", `users[0] (line 1): want a section of keys (key: value), not a list`},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.file))
		if lines := Problems(err); len(lines) != 1 || !strings.HasPrefix(lines[0], tt.want) {
			t.Errorf("Parse(%q) = %q; want %q…", tt.file, lines, tt.want)
		}
	}
}
