package reminder

import "time"

// Outcome is what became of one reminder in a run.
type Outcome string

// The outcomes of a reminder.
const (
	// Due: a dry run found the reminder due; nothing was sent or recorded.
	// It may have been sent before (see Entry.DueSince).
	Due Outcome = "due"
	// Sent: recorded and posted.
	Sent Outcome = "sent"
	// AlreadySent: recorded before, by this or another run or replica.
	AlreadySent Outcome = "already sent"
	// Failed: not recorded, not sent; the next run tries again.
	Failed Outcome = "failed"
	// Lost: recorded, but the post failed; at most once, so it is not
	// tried again.
	Lost Outcome = "lost"
	// Skipped: the person cannot be reached (deactivated in Slack).
	Skipped Outcome = "skipped"
)

// Entry is one reminder a run found due.
type Entry struct {
	SlackUser string
	IAMUser   string
	Account   string // aws.accounts[].name; "" for the bot's own
	Expires   time.Time
	// Days is the threshold crossed, in days; 0 for an expired password.
	Days int
	// DaysLeft is the calendar days, in the person's zone, from their
	// daily time to the expiry date; negative once expired.
	DaysLeft int
	// DueSince is the daily time at which this reminder first became due.
	// When it is earlier than the run's, a bot running then has sent it.
	DueSince time.Time
	Zone     *time.Location
	Key      string // the store key that makes it at most once
	Outcome  Outcome
	Err      error // for Failed, Lost and Skipped
}

// Expired reports whether the entry is the notice of an expired password.
func (e Entry) Expired() bool { return e.Days == 0 }

// Report says what one run found and did.
type Report struct {
	At time.Time
	// Source is where the expiry dates came from: SourceCredentialReport,
	// SourceLoginProfiles, or SourcePasswordPolicy when it says passwords
	// never expire.
	Source string
	// NoExpiry is true when the account's passwords never expire: there is
	// nothing to remind anyone of.
	NoExpiry bool
	// ExpiringSoon counts the listed users whose password expires within
	// seven days.
	ExpiringSoon int
	// Reminders are the reminders due at this run, in the order of the
	// allowlist.
	Reminders []Entry
}

// Where expiry dates come from.
const (
	SourceCredentialReport = "credential report"
	SourceLoginProfiles    = "login profiles and password policy"
	SourcePasswordPolicy   = "password policy"
)

// soonWindow is the horizon of Report.ExpiringSoon and its metric.
const soonWindow = 7 * 24 * time.Hour
