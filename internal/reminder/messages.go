package reminder

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// All the words a reminder says live in this file. They follow the voice
// of package slackbot's messages; outside text passes through slacktext.

// changePasswordURL returns the console page where IAM users change their
// own password, in the partition of the sign-in URL.
//
// Why this page and not the sign-in URL alone: the sign-in URL names the
// account (people rarely know its alias or ID, and the generic sign-in page
// asks for it), but it lands on the console home, not the password form;
// the documented redirect parameters it would take are not part of the
// sign-in URL's contract. So the message gives both: sign in here, then
// change it there. The page is https://console.aws.amazon.com/iam/home#/security_credentials
// in the commercial partition; GovCloud and China have their own console
// hosts, told apart by the sign-in URL's domain, as reset.SignInURL makes it.
// A sign-in URL of another shape (an identity provider's, set in
// aws.console_url) gets the commercial page.
func changePasswordURL(signIn string) string {
	host := "console.aws.amazon.com"
	if u, err := url.Parse(signIn); err == nil {
		switch h := u.Hostname(); {
		case h == "signin.amazonaws-us-gov.com" || strings.HasSuffix(h, ".signin.amazonaws-us-gov.com"):
			host = "console.amazonaws-us-gov.com"
		case h == "signin.amazonaws.cn" || strings.HasSuffix(h, ".signin.amazonaws.cn"):
			host = "console.amazonaws.cn"
		}
	}
	return "https://" + host + "/iam/home#/security_credentials"
}

// inDays says how far off an expiry is, in calendar days.
func inDays(n int) string {
	switch n {
	case 0:
		return "today"
	case 1:
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", n)
}

// message builds the DM for an entry.
func (r *Reminder) message(e Entry, protected bool) slacktext.Message {
	if e.Expired() {
		return r.expiredMessage(e, protected)
	}
	text := fmt.Sprintf("Your AWS console password for IAM user %s expires %s.", r.iamPlain(e.IAMUser), inDays(e.DaysLeft))
	signIn := ""
	if r.signIn != "" {
		signIn = "sign in at " + slacktext.Link(r.signIn, r.signIn) + ", then "
	}
	body := fmt.Sprintf(":hourglass_flowing_sand: Your AWS console password for IAM user %s expires *%s*, on %s.\n"+
		"Change it before then: %sopen %s and choose *Update console password*.",
		r.iamText(e.IAMUser), inDays(e.DaysLeft), slacktext.Date(e.Expires), signIn, slacktext.Link(r.change, "Security credentials"))
	note := fmt.Sprintf("If you miss it, %s here in Slack gets you a new temporary password.", slacktext.Code(r.command))
	if protected {
		note = "If you miss it, ask your AWS administrators: this bot does not reset this account."
	}
	return slacktext.Message{Text: text, Blocks: []slack.Block{slacktext.Section(body), slacktext.Context(note)}}
}

// expiredMessage offers the command; it never resets on its own.
func (r *Reminder) expiredMessage(e Entry, protected bool) slacktext.Message {
	text := fmt.Sprintf("Your AWS console password for IAM user %s has expired.", r.iamPlain(e.IAMUser))
	where := ""
	if r.signIn != "" {
		where = " at " + slacktext.Link(r.signIn, r.signIn)
	}
	next := fmt.Sprintf("If it won't let you in, run %s here in Slack and I'll send you a temporary password.", slacktext.Code(r.command))
	if protected {
		next = "If it won't let you in, ask your AWS administrators: this bot does not reset this account."
	}
	body := fmt.Sprintf(":lock: Your AWS console password for IAM user %s expired on %s.\n"+
		"AWS asks you for a new one when you next sign in%s. %s",
		r.iamText(e.IAMUser), slacktext.Date(e.Expires), where, next)
	return slacktext.Message{Text: text, Blocks: []slack.Block{slacktext.Section(body)}}
}
