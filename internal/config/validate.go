package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// FieldError is one problem with one field.
type FieldError struct {
	Path string // e.g. "users[3].slack_user"
	Line int    // where the setting, or the section around it, is in the file; 0 = not there
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

var (
	// Slack user IDs start with U, or W for Enterprise Grid org users.
	slackUserID  = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)
	userGroupID  = regexp.MustCompile(`^S[A-Z0-9]{6,}$`)
	channelID    = regexp.MustCompile(`^[CG][A-Z0-9]{6,}$`)
	iamUserName  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`) // IAM's own rule for user names
	iamPath      = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	awsRegion    = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d+$`) // eusc-de-east-1 too
	slashCommand = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)
	timeOfDay    = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)$`)
)

// maxReminderDays bounds reminders.days_before: a year ahead is already
// longer than any sensible password lifetime.
const maxReminderDays = 365

// IsSlackUserID reports whether s looks like a Slack user ID.
func IsSlackUserID(s string) bool { return slackUserID.MatchString(s) }

// IsUserGroupID reports whether s looks like a Slack user-group ID.
func IsUserGroupID(s string) bool { return userGroupID.MatchString(s) }

// IsIAMUserName reports whether s is a valid IAM user name.
func IsIAMUserName(s string) bool { return iamUserName.MatchString(s) }

// Validate checks the whole configuration and returns every problem at
// once, joined; each is a *FieldError, with its line when the
// configuration came from a file. A setting the file had but that could
// not be decoded is not checked again: [Parse] reported it.
func (c *Config) Validate() error {
	var v validator

	v.check(c.Slack.APIURL != "", "slack.api_url", "is required")
	if c.Slack.APIURL != "" {
		u, err := url.Parse(c.Slack.APIURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			v.add("slack.api_url", "%q is not an http(s) URL", c.Slack.APIURL)
		case !strings.HasSuffix(c.Slack.APIURL, "/"):
			v.add("slack.api_url", "%q must end with \"/\"", c.Slack.APIURL)
		}
	}
	v.check(slashCommand.MatchString(c.Slack.Command), "slack.command",
		fmt.Sprintf("%q is not a slash command (want e.g. \"/aws-reset\")", c.Slack.Command))

	if c.AWS.Region != "" {
		v.check(awsRegion.MatchString(c.AWS.Region), "aws.region", fmt.Sprintf("%q is not an AWS region", c.AWS.Region))
	}
	if c.AWS.ConsoleURL != "" {
		u, err := url.Parse(c.AWS.ConsoleURL)
		v.check(err == nil && u.Scheme == "https" && u.Host != "", "aws.console_url",
			fmt.Sprintf("%q is not an https URL", c.AWS.ConsoleURL))
	}
	v.check(c.AWS.MaxCallsPerSecond >= 0, "aws.max_calls_per_second", "must not be negative")
	v.positive("aws.call_timeout", c.AWS.CallTimeout)

	v.check(c.Reset.PasswordLength >= 20 && c.Reset.PasswordLength <= 128, "reset.password_length",
		fmt.Sprintf("%d is outside 20..128", c.Reset.PasswordLength))
	v.check(c.Reset.Concurrency >= 1 && c.Reset.Concurrency <= 256, "reset.concurrency",
		fmt.Sprintf("%d is outside 1..256", c.Reset.Concurrency))
	v.positive("reset.deadline", c.Reset.Deadline)
	v.check(c.Reset.Cooldown >= 0, "reset.cooldown", "must not be negative")
	if c.Reset.ExpireUnusedAfter != 0 {
		v.check(c.Reset.ExpireUnusedAfter.D() >= time.Minute, "reset.expire_unused_after",
			"must be at least 1m (or 0 for off): people need time to sign in")
	}
	for i, p := range c.Reset.Protected {
		path := fmt.Sprintf("reset.protected[%d]", i)
		if strings.HasPrefix(p, "/") {
			v.check(iamPath.MatchString(p), path, fmt.Sprintf("%q is not an IAM path (want e.g. \"/admin/\")", p))
		} else {
			v.check(IsIAMUserName(p), path, fmt.Sprintf("%q is neither an IAM user name nor a path", p))
		}
	}

	validateApproval(&v, "approval", c.Approval)

	v.check(c.Store.Path != "" || c.Store.PostgresURL != "", "store.path", "is required")
	v.check(c.Store.ReplicaTimeout.D() >= time.Second, "store.replica_timeout", "must be at least 1s")
	if c.Store.PostgresURL != "" {
		if err := checkPostgresURL(c.Store.PostgresURL, false); err != nil {
			v.add("store.postgres_url", "%v", err)
		}
	}
	if c.Audit.Channel != "" {
		v.check(channelID.MatchString(c.Audit.Channel), "audit.channel",
			fmt.Sprintf("%q is not a channel ID", c.Audit.Channel))
	}
	v.check(c.Log.Format == "text" || c.Log.Format == "json", "log.format",
		fmt.Sprintf("%q is not text or json", c.Log.Format))
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}

	c.Reminders.validate(&v)

	v.check(len(c.Users) > 0, "users", "the allowlist is empty: nobody could reset a password")
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		switch {
		case u.SlackUser == "":
			v.add(path+".slack_user", "is required")
		case !IsSlackUserID(u.SlackUser):
			v.add(path+".slack_user", "%q is not a Slack user ID (want e.g. \"U012AB3CD\"; names change, IDs do not)", u.SlackUser)
		}
		switch {
		case u.IAMUser == "":
			v.add(path+".iam_user", "is required")
		case !IsIAMUserName(u.IAMUser):
			v.add(path+".iam_user", "%q is not a valid IAM user name (1-64 of letters, digits and +=,.@_-)", u.IAMUser)
		}
		if u.Approval != nil && *u.Approval && !c.ApprovalFor(u.Account).Enabled() {
			v.add(path+".approval", "requires approval but approval.channel is not set (for its account)")
		}
	}
	// Duplicates are per account: the same person may be listed once in
	// each, and IAM user names repeat across accounts.
	c.validateAccounts(&v)
	return errors.Join(c.src.locate(v.errs)...)
}

// locate gives each problem the line of its setting, and drops those about
// settings that failed to decode.
func (s *source) locate(errs []error) []error {
	out := errs[:0:0]
	for _, err := range errs {
		var fe *FieldError
		if errors.As(err, &fe) {
			if s.decodedBadly(fe.Path) {
				continue
			}
			if fe.Line == 0 {
				fe.Line = s.line(fe.Path)
			}
		}
		out = append(out, err)
	}
	return out
}

// validate checks the reminders section. It runs whether or not reminders
// are enabled, so a mistake is caught before someone turns them on.
func (r Reminders) validate(v *validator) {
	if r.Enabled && len(r.DaysBefore) == 0 {
		v.add("reminders.days_before", "is empty: list at least one number of days (e.g. [14, 3, 1])")
	}
	seen := map[int]int{}
	for i, d := range r.DaysBefore {
		path := fmt.Sprintf("reminders.days_before[%d]", i)
		switch j, dup := seen[d]; {
		case d < 1 || d > maxReminderDays:
			v.add(path, "%d is outside 1..%d", d, maxReminderDays)
		case dup:
			v.add(path, "%d is already listed at reminders.days_before[%d]", d, j)
		default:
			seen[d] = i
		}
	}
	if _, _, ok := r.TimeOfDay(); !ok {
		v.add("reminders.at", "%q is not a time of day (want 24-hour \"HH:MM\", e.g. \"09:00\")", r.At)
	}
	if _, err := r.Location(); err != nil {
		v.add("reminders.time_zone", "%s", err)
	}
}

type validator struct{ errs []error }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) check(ok bool, path, msg string) {
	if !ok {
		v.errs = append(v.errs, &FieldError{Path: path, Msg: msg})
	}
}

func (v *validator) positive(path string, d Duration) {
	v.check(time.Duration(d) > 0, path, "must be a positive duration")
}

// Problems splits an error from Parse, Load or Validate into one line per
// problem, for printing.
func Problems(err error) []string {
	if err == nil {
		return nil
	}
	var lines []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		lines = append(lines, e.Error())
	}
	walk(err)
	return lines
}

// validateApproval checks an approval section: the top level's, or an
// account's as it holds there (path "aws.accounts[i].approval").
func validateApproval(v *validator, path string, a Approval) {
	if a.Channel != "" {
		v.check(channelID.MatchString(a.Channel), path+".channel",
			fmt.Sprintf("%q is not a channel ID (want e.g. \"C0123ABCD\"; names change, IDs do not)", a.Channel))
		v.check(len(a.Approvers) > 0, path+".approvers", "is required when "+path+".channel is set")
	} else if len(a.Approvers) > 0 {
		v.add(path+".approvers", "has no effect without %s.channel", path)
	}
	seenApprover := map[string]bool{}
	for i, ap := range a.Approvers {
		p := fmt.Sprintf("%s.approvers[%d]", path, i)
		v.check(IsSlackUserID(ap) || IsUserGroupID(ap), p,
			fmt.Sprintf("%q is not a Slack user ID (U…/W…) or user-group ID (S…)", ap))
		v.check(!seenApprover[ap], p, fmt.Sprintf("%q is listed twice", ap))
		seenApprover[ap] = true
	}
	v.positive(path+".timeout", a.Timeout)
	validateApprovalKeys(v, path, a)
}

// validateApprovalKeys checks the keys of approval that the top level and
// each account's approval share beyond the channel and approvers.
func validateApprovalKeys(v *validator, path string, a Approval) {
	// 0 is what a Go literal without the field holds: it counts as 1, the
	// default, which asks for more approval, never less.
	v.check(a.MinApprovals >= 0 && a.MinApprovals <= 10, path+".min_approvals",
		fmt.Sprintf("%d is outside 1..10", a.MinApprovals))
	if a.Channel != "" && a.MinApprovals > 1 && !hasGroup(a.Approvers) {
		v.check(a.MinApprovals <= len(a.Approvers), path+".min_approvals",
			fmt.Sprintf("%d is more than the %d approvers listed", a.MinApprovals, len(a.Approvers)))
	}
	v.check(a.RemindAfter >= 0, path+".remind_after", "must not be negative")
	if a.RemindAfter > 0 && a.Timeout > 0 {
		v.check(a.RemindAfter < a.Timeout, path+".remind_after",
			fmt.Sprintf("%s is not before %s.timeout: the request would expire first", a.RemindAfter, path))
	}
}

// hasGroup reports whether approvers lists a user group, whose size is
// known only to Slack.
func hasGroup(approvers []string) bool {
	for _, a := range approvers {
		if IsUserGroupID(a) {
			return true
		}
	}
	return false
}
