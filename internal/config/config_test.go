package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const minimal = `
users:
  - slack_user: U012AB3CD
    iam_user: jsmith
`

func mustParse(t *testing.T, s string) Config {
	t.Helper()
	cfg, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestParseDefaults(t *testing.T) {
	cfg := mustParse(t, minimal)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	if cfg.Slack.APIURL != "https://slack.com/api/" || cfg.Slack.Command != "/aws-reset" {
		t.Errorf("slack defaults = %+v", cfg.Slack)
	}
	if cfg.Reset.Cooldown.D() != 10*time.Minute || cfg.Approval.Enabled() || !cfg.Reset.RequireMFA {
		t.Errorf("reset/approval defaults = %+v %+v", cfg.Reset, cfg.Approval)
	}
}

func TestParseFull(t *testing.T) {
	cfg := mustParse(t, `
slack:
  api_url: http://127.0.0.1:9/api/
  command: /reset-aws
aws:
  region: eu-west-1
approval:
  channel: C0APPROVALS
  approvers: [U0ADMIN1, S0ADMINS1]
  timeout: 45m
users:
  - slack_user: U012AB3CD
    iam_user: jsmith
    approval: false
`)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	if cfg.Approval.Timeout.D() != 45*time.Minute {
		t.Errorf("approval.timeout = %v; want 45m", cfg.Approval.Timeout.D())
	}
	if a := cfg.Users[0].Approval; a == nil || *a {
		t.Errorf("users[0].approval = %v; want false", a)
	}
}

func TestParseReminders(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Reminders
	}{
		{"defaults", minimal, Reminders{DaysBefore: []int{14, 3, 1}, At: "09:00"}},
		{"list replaces the default, not appended to it", `
reminders:
  enabled: true
  days_before: [7]
  at: "08:30"
  time_zone: Europe/Berlin
` + minimal, Reminders{Enabled: true, DaysBefore: []int{7}, At: "08:30", TimeZone: "Europe/Berlin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.yaml)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate() = %v; want nil", err)
			}
			got := cfg.Reminders
			if got.Enabled != tt.want.Enabled || !slices.Equal(got.DaysBefore, tt.want.DaysBefore) ||
				got.At != tt.want.At || got.TimeZone != tt.want.TimeZone {
				t.Errorf("reminders = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestRemindersTimeOfDay(t *testing.T) {
	tests := []struct {
		at   string
		h, m int
		ok   bool
	}{
		{"09:00", 9, 0, true}, {"00:00", 0, 0, true}, {"23:59", 23, 59, true}, {"18:05", 18, 5, true},
		{"24:00", 0, 0, false}, {"9:00", 0, 0, false}, {"09:60", 0, 0, false}, {"", 0, 0, false}, {"０９:００", 0, 0, false},
	}
	for _, tt := range tests {
		h, m, ok := Reminders{At: tt.at}.TimeOfDay()
		if h != tt.h || m != tt.m || ok != tt.ok {
			t.Errorf("TimeOfDay(%q) = %d, %d, %v; want %d, %d, %v", tt.at, h, m, ok, tt.h, tt.m, tt.ok)
		}
	}
}

func TestRemindersLocation(t *testing.T) {
	if loc, err := (Reminders{}).Location(); loc != nil || err != nil {
		t.Errorf("Location() with no zone = %v, %v; want nil, nil", loc, err)
	}
	loc, err := Reminders{TimeZone: "America/New_York"}.Location()
	if err != nil || loc.String() != "America/New_York" {
		t.Errorf("Location(%q) = %v, %v; want America/New_York", "America/New_York", loc, err)
	}
}

func TestParseRejectsUnknownKeysAll(t *testing.T) {
	_, err := Parse(strings.NewReader(`
slack:
  comand: /x
aws:
  regoin: us-east-1
` + minimal))
	lines := Problems(err)
	if len(lines) != 2 {
		t.Fatalf("Problems = %q; want 2 lines", lines)
	}
	for i, want := range []string{`slack.comand (line 3): unknown key: did you mean "command"?`, `aws.regoin (line 5): unknown key: did you mean "region"?`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q; want it to name %q", i, lines[i], want)
		}
	}
}

func TestParseBadDuration(t *testing.T) {
	_, err := Parse(strings.NewReader("approval:\n  timeout: soon\n" + minimal))
	if err == nil || !strings.Contains(err.Error(), `"soon" is not a duration`) {
		t.Errorf("Parse(timeout: soon) = %v; want a duration error", err)
	}
}

func TestParseEmpty(t *testing.T) {
	if _, err := Parse(strings.NewReader("  \n")); err == nil {
		t.Error("Parse(empty) = nil; want an error")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string // each a problem line (prefix match on the path)
	}{
		{"slack user name instead of ID", func(c *Config) { c.Users[0].SlackUser = "bob" }, []string{"users[0].slack_user"}},
		{"lowercase ID", func(c *Config) { c.Users[0].SlackUser = "u012ab3cd" }, []string{"users[0].slack_user"}},
		{"bad iam name", func(c *Config) { c.Users[0].IAMUser = "j smith" }, []string{"users[0].iam_user"}},
		{"iam name too long", func(c *Config) { c.Users[0].IAMUser = strings.Repeat("a", 65) }, []string{"users[0].iam_user"}},
		{"duplicate slack user", func(c *Config) {
			c.Users = append(c.Users, User{SlackUser: "U012AB3CD", IAMUser: "other"})
		}, []string{"users[1].slack_user"}},
		{"duplicate iam user, other case", func(c *Config) {
			c.Users = append(c.Users, User{SlackUser: "U0OTHER01", IAMUser: "JSmith"})
		}, []string{"users[1].iam_user"}},
		{"empty allowlist", func(c *Config) { c.Users = nil }, []string{"users"}},
		{"api url without slash", func(c *Config) { c.Slack.APIURL = "https://slack.com/api" }, []string{"slack.api_url"}},
		{"api url not a url", func(c *Config) { c.Slack.APIURL = "slack" }, []string{"slack.api_url"}},
		{"command", func(c *Config) { c.Slack.Command = "aws-reset" }, []string{"slack.command"}},
		{"region", func(c *Config) { c.AWS.Region = "Frankfurt" }, []string{"aws.region"}},
		{"ISO region", func(c *Config) { c.AWS.Region = "us-isob-east-1" }, nil},
		{"European Sovereign Cloud region", func(c *Config) { c.AWS.Region = "eusc-de-east-1" }, nil},
		{"console url", func(c *Config) { c.AWS.ConsoleURL = "http://x" }, []string{"aws.console_url"}},
		{"zero deadline", func(c *Config) { c.Reset.Deadline = 0 }, []string{"reset.deadline"}},
		{"expire unused too short", func(c *Config) { c.Reset.ExpireUnusedAfter = Duration(time.Second) }, []string{"reset.expire_unused_after"}},
		{"short password", func(c *Config) { c.Reset.PasswordLength = 12 }, []string{"reset.password_length"}},
		{"protected path", func(c *Config) { c.Reset.Protected = []string{"/admin", "root user"} }, []string{"reset.protected[0]", "reset.protected[1]"}},
		{"approval channel name", func(c *Config) {
			c.Approval.Channel = "#admins"
			c.Approval.Approvers = []string{"U0ADMIN01"}
		}, []string{"approval.channel"}},
		{"approval without approvers", func(c *Config) { c.Approval.Channel = "C0APPROVE1" }, []string{"approval.approvers"}},
		{"approvers without channel", func(c *Config) { c.Approval.Approvers = []string{"U0ADMIN01"} }, []string{"approval.approvers"}},
		{"approver name", func(c *Config) {
			c.Approval.Channel = "C0APPROVE1"
			c.Approval.Approvers = []string{"alice"}
		}, []string{"approval.approvers[0]"}},
		{"per-user approval without channel", func(c *Config) { c.Users[0].Approval = new(true) }, []string{"users[0].approval"}},
		{"log", func(c *Config) { c.Log.Format = "xml"; c.Log.Level = "loud" }, []string{"log.format", "log.level"}},
		{"reminder days out of range", func(c *Config) { c.Reminders.DaysBefore = []int{0, 366, -1, 7} },
			[]string{"reminders.days_before[0]", "reminders.days_before[1]", "reminders.days_before[2]"}},
		{"reminder days twice", func(c *Config) { c.Reminders.DaysBefore = []int{14, 3, 14} }, []string{"reminders.days_before[2]"}},
		{"reminders on without days", func(c *Config) { c.Reminders.Enabled = true; c.Reminders.DaysBefore = nil }, []string{"reminders.days_before"}},
		{"reminders off without days", func(c *Config) { c.Reminders.DaysBefore = []int{} }, nil},
		{"reminder time 12-hour", func(c *Config) { c.Reminders.At = "9am" }, []string{"reminders.at"}},
		{"reminder time one digit", func(c *Config) { c.Reminders.At = "9:00" }, []string{"reminders.at"}},
		{"reminder time 24:00", func(c *Config) { c.Reminders.At = "24:00" }, []string{"reminders.at"}},
		{"reminder time with seconds", func(c *Config) { c.Reminders.At = "09:00:00" }, []string{"reminders.at"}},
		{"reminder zone unknown", func(c *Config) { c.Reminders.TimeZone = "Mars/Olympus_Mons" }, []string{"reminders.time_zone"}},
		{"reminder zone Local", func(c *Config) { c.Reminders.TimeZone = "Local" }, []string{"reminders.time_zone"}},
		{"reminder zone path", func(c *Config) { c.Reminders.TimeZone = "../../etc/passwd" }, []string{"reminders.time_zone"}},
		{"reminder zone and time fine", func(c *Config) {
			c.Reminders.Enabled = true
			c.Reminders.At = "23:59"
			c.Reminders.TimeZone = "Asia/Kolkata"
		}, nil},
		{"every problem at once", func(c *Config) {
			c.Slack.Command = "x"
			c.Users = []User{{SlackUser: "bob"}, {SlackUser: "U0GOOD001", IAMUser: "ok"}}
		}, []string{"slack.command", "users[0].slack_user", "users[0].iam_user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, minimal)
			tt.edit(&cfg)
			lines := Problems(cfg.Validate())
			var paths []string
			for _, e := range unwrapAll(cfg.Validate()) {
				var fe *FieldError
				if errors.As(e, &fe) {
					paths = append(paths, fe.Path)
				}
			}
			if !slices.Equal(paths, tt.want) {
				t.Errorf("Validate() problems = %q; want paths %q", lines, tt.want)
			}
			for _, e := range unwrapAll(cfg.Validate()) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Errorf("problem %v is a %T; want *FieldError", e, e)
				}
			}
		})
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return nil
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || len(cfg.Users) != 1 {
		t.Fatalf("Load(%q) = %+v, %v", path, cfg.Users, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load(missing) = nil; want an error")
	}
}

func TestSecretsFromEnv(t *testing.T) {
	const app, bot = "xapp-1-A1-2-secretapp", "xoxb-1-2-secretbot"
	tokenFile := filepath.Join(t.TempDir(), "bot-token")
	if err := os.WriteFile(tokenFile, []byte(bot+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missingFile := filepath.Join(t.TempDir(), "no-such-token")
	emptyFile := filepath.Join(t.TempDir(), "empty-token")
	quotedFile := filepath.Join(t.TempDir(), "quoted-token")
	for name, body := range map[string]string{emptyFile: "\n", quotedFile: `"` + bot + `"`} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"both", map[string]string{EnvAppToken: app, EnvBotToken: bot}, nil},
		{"from file", map[string]string{EnvAppToken: app, EnvBotToken + "_FILE": tokenFile}, nil},
		{"missing", map[string]string{}, []string{"SLACK_APP_TOKEN is not set", "SLACK_BOT_TOKEN is not set"}},
		{"swapped", map[string]string{EnvAppToken: bot, EnvBotToken: app},
			[]string{"SLACK_APP_TOKEN holds a bot token", "SLACK_BOT_TOKEN holds an app-level token"}},
		{"user token", map[string]string{EnvAppToken: app, EnvBotToken: "xoxp-1-2-3"}, []string{"SLACK_BOT_TOKEN holds a user token"}},
		{"missing file", map[string]string{EnvAppToken + "_FILE": missingFile, EnvBotToken: bot},
			[]string{"SLACK_APP_TOKEN_FILE names " + missingFile + ", which does not exist"}},
		{"empty file", map[string]string{EnvAppToken: app, EnvBotToken + "_FILE": emptyFile},
			[]string{"SLACK_BOT_TOKEN_FILE names " + emptyFile + ", which is empty"}},
		{"quoted", map[string]string{EnvAppToken: `"` + app + `"`, EnvBotToken: "'" + bot + "'"},
			[]string{"SLACK_APP_TOKEN has quotes around it: remove them", "SLACK_BOT_TOKEN has quotes around it: remove them"}},
		{"quoted in a file", map[string]string{EnvAppToken: app, EnvBotToken + "_FILE": quotedFile},
			[]string{"SLACK_BOT_TOKEN_FILE has quotes around it"}},
		{"trailing quote", map[string]string{EnvAppToken: app + `"`, EnvBotToken: bot}, []string{"SLACK_APP_TOKEN has quotes around it"}},
		{"two tokens in one", map[string]string{EnvAppToken: app, EnvBotToken: bot + " " + bot}, []string{"SLACK_BOT_TOKEN has spaces or line breaks in it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := SecretsFromEnv(func(k string) string { return tt.env[k] })
			lines := Problems(err)
			if len(lines) != len(tt.wantErr) {
				t.Fatalf("SecretsFromEnv() problems = %q; want %q", lines, tt.wantErr)
			}
			for i := range lines {
				if !strings.HasPrefix(lines[i], tt.wantErr[i]) {
					t.Errorf("problem %d = %q; want prefix %q", i, lines[i], tt.wantErr[i])
				}
			}
			for _, l := range lines {
				if strings.Contains(l, "secret") {
					t.Errorf("problem %q prints a token", l)
				}
			}
			if err == nil && (s.AppToken != app || s.BotToken != bot) {
				t.Errorf("tokens not read")
			}
			for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
				if strings.Contains(out, "secret") {
					t.Errorf("formatting Secrets printed a token: %q", out)
				}
			}
		})
	}
}
