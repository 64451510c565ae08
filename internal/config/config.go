// Package config reads and checks the bot's configuration: defaults first,
// then the YAML file over them, then validation that reports every problem
// at once with the path of the field at fault. Secrets never live in the
// file: they come from the environment (see [Secrets]).
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of the bot.
type Config struct {
	Slack     Slack     `yaml:"slack"`
	AWS       AWS       `yaml:"aws"`
	Reset     Reset     `yaml:"reset"`
	Approval  Approval  `yaml:"approval"`
	Store     Store     `yaml:"store"`
	Audit     Audit     `yaml:"audit"`
	HTTP      HTTP      `yaml:"http"`
	Log       Log       `yaml:"log"`
	Reminders Reminders `yaml:"reminders"`
	Home      Home      `yaml:"home"`
	Users     []User    `yaml:"users"`

	// src is where each setting was in the file, when it came from one.
	src *source
}

// Slack says how to reach Slack and which command to answer.
type Slack struct {
	APIURL  string `yaml:"api_url"` // must end in "/"; GovSlack and tests point it elsewhere
	Command string `yaml:"command"`
}

// AWS says how to reach IAM. Credentials and endpoints come from the SDK's
// default chain, never from this file.
type AWS struct {
	Region            string   `yaml:"region"`
	ConsoleURL        string   `yaml:"console_url"`          // "" = derived from the account alias or ID
	MaxCallsPerSecond float64  `yaml:"max_calls_per_second"` // 0 = no limit of our own
	CallTimeout       Duration `yaml:"call_timeout"`         // deadline for one IAM call, retries included
	// Accounts are the other AWS accounts the bot resets passwords in,
	// each through a role it assumes. None: only the bot's own account.
	Accounts []Account `yaml:"accounts"`
}

// Reset tunes the reset itself.
type Reset struct {
	PasswordLength int      `yaml:"password_length"` // at least this long, and at least the account policy's minimum
	Concurrency    int      `yaml:"concurrency"`     // resets worked on at once
	Deadline       Duration `yaml:"deadline"`        // one request, start to delivered
	Cooldown       Duration `yaml:"cooldown"`        // 0 = none
	DryRun         bool     `yaml:"dry_run"`         // everything but the IAM write
	// RequireMFA refuses (or, with approvals configured, sends to approval)
	// anyone whose IAM user has no MFA device: without one, the Slack
	// account alone would be the key to the AWS account.
	RequireMFA bool `yaml:"require_mfa"`
	// ExpireUnusedAfter, if set, overwrites a delivered temporary password
	// with an unknown one when it was not used to sign in within this long.
	ExpireUnusedAfter Duration `yaml:"expire_unused_after"`
	// Protected IAM user names or paths (ending in "/") the bot refuses to
	// touch even when listed: break-glass and admin accounts.
	Protected []string `yaml:"protected"`
}

// Approval configures the approvers' channel. No channel: no approval.
type Approval struct {
	Channel   string   `yaml:"channel"`
	Approvers []string `yaml:"approvers"` // user IDs (U…/W…) or user-group IDs (S…)
	Timeout   Duration `yaml:"timeout"`
	// MinApprovals is how many distinct approvers must press Approve
	// (see [Approval.Need]: 0 counts as 1).
	MinApprovals int `yaml:"min_approvals"`
	// RequireReason makes the requester say why (on the command line or
	// in a modal the bot opens).
	RequireReason bool `yaml:"require_reason"`
	// RemindAfter, if set, nudges the approvers once, in the approval
	// message's thread, when a request is still undecided this long after
	// it was asked.
	RemindAfter Duration `yaml:"remind_after"`
}

// Enabled reports whether resets need approval by default.
func (a Approval) Enabled() bool { return a.Channel != "" }

// Store locates the database: the embedded SQLite file at Path, or
// PostgreSQL when PostgresURL (or the environment's DATABASE_URL, see
// [DatabaseURLFromEnv]) is set.
type Store struct {
	Path string `yaml:"path"`
	// PostgresURL selects PostgreSQL, for several replicas. It never holds
	// the password: that comes from PGPASSWORD or PGPASSFILE, or the whole
	// URL from DATABASE_URL.
	PostgresURL string `yaml:"postgres_url"`
	// ReplicaTimeout is how long a replica counts as alive after its last
	// heartbeat (sent every third of it): a replica silent for longer is
	// taken for dead, and what it left in work is offered to its owners
	// by another. Also how long the sweep lease lasts unrenewed.
	ReplicaTimeout Duration `yaml:"replica_timeout"`
}

// Audit configures where the audit trail is mirrored.
type Audit struct {
	Channel string `yaml:"channel"` // "" = store only
}

// HTTP configures the health and metrics listener.
type HTTP struct {
	Addr string `yaml:"addr"` // "" = off
}

// Log configures logging.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// Reminders configures the direct messages that warn people before their
// console password expires (see package reminder).
type Reminders struct {
	Enabled bool `yaml:"enabled"`
	// DaysBefore are the thresholds, in days before expiry, at which a
	// reminder is sent: each positive, distinct, at most 365.
	DaysBefore []int `yaml:"days_before"`
	// At is the local time of day ("HH:MM", 24-hour) reminders go out.
	At string `yaml:"at"`
	// TimeZone is an IANA zone name for At; "" = each person's own Slack
	// time zone (users.info), falling back to UTC.
	TimeZone string `yaml:"time_zone"`
}

// TimeOfDay returns At as hours and minutes. It reports false if At is
// not a valid "HH:MM".
func (r Reminders) TimeOfDay() (hour, minute int, ok bool) {
	m := timeOfDay.FindStringSubmatch(r.At)
	if m == nil {
		return 0, 0, false
	}
	hour = int(m[1][0]-'0')*10 + int(m[1][1]-'0')
	minute = int(m[2][0]-'0')*10 + int(m[2][1]-'0')
	return hour, minute, true
}

// Location returns the configured time zone, or nil when TimeZone is
// empty (each person's own zone).
func (r Reminders) Location() (*time.Location, error) {
	if r.TimeZone == "" {
		return nil, nil
	}
	if r.TimeZone == "Local" {
		// The process's zone depends on where it is deployed: refuse it.
		return nil, errors.New(`"Local" is the host's zone, not an IANA zone name`)
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone name (want e.g. \"Europe/Berlin\"): %v", r.TimeZone, err)
	}
	return loc, nil
}

// User is one allowlist entry.
type User struct {
	SlackUser string `yaml:"slack_user"`
	IAMUser   string `yaml:"iam_user"`
	// Account names the aws.accounts entry the IAM user lives in; "" is
	// the bot's own account.
	Account string `yaml:"account"`
	// Approval overrides approval for this person: false lets them reset
	// without one, true requires one. Absent: the global setting.
	Approval *bool `yaml:"approval"`
}

// Default returns the configuration before any file is read.
func Default() Config {
	return Config{
		Slack: Slack{APIURL: "https://slack.com/api/", Command: "/aws-reset"},
		AWS:   AWS{CallTimeout: Duration(30 * time.Second)},
		Reset: Reset{
			PasswordLength: 20,
			Concurrency:    32,
			Deadline:       Duration(2 * time.Minute),
			Cooldown:       Duration(10 * time.Minute),
			RequireMFA:     true,
		},
		Approval: Approval{Timeout: Duration(30 * time.Minute), MinApprovals: 1},
		Home:     Home{Enabled: true},
		Store:    Store{Path: "./aws-reset.db", ReplicaTimeout: Duration(30 * time.Second)},
		Log:      Log{Format: "text", Level: "info"},
		Reminders: Reminders{
			DaysBefore: []int{14, 3, 1},
			At:         "09:00",
		},
	}
}

// Parse reads YAML from r over the defaults. Unknown keys are errors, so a
// typo never silently drops a setting. It returns every decoding problem it
// can find as a [*DecodeError] of [*FieldError]s, each with its path and
// line; a setting that could not be decoded keeps its default. It does not
// validate (see [Config.Validate], and [Read] for both).
func Parse(r io.Reader) (Config, error) {
	cfg := Default()
	data, err := io.ReadAll(r)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return cfg, fmt.Errorf("parse config: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return cfg, errors.New("config is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return cfg, fmt.Errorf("parse config: line %d: want sections of keys (key: value) at the top level, not %s",
			root.Line, describe(root))
	}
	d := decoder{src: &source{lines: map[string]int{}, bad: map[string]bool{}}}
	d.decode("", root, reflect.ValueOf(&cfg).Elem(), 0)
	cfg.src = d.src
	if len(d.errs) > 0 {
		return cfg, &DecodeError{Errs: d.errs}
	}
	return cfg, nil
}

// DecodeError lists keys and values that could not be decoded: unknown
// keys, wrong types, bad durations. The rest of the file was decoded, so
// validating it too shows every problem at once.
type DecodeError struct{ Errs []error }

func (e *DecodeError) Error() string { return errors.Join(e.Errs...).Error() }

// Unwrap returns each problem.
func (e *DecodeError) Unwrap() []error { return e.Errs }

// Load reads and parses the file at path. It does not validate.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Default(), fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
