package reminder

import (
	"fmt"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// One Reminder per AWS account (Options.Account): its users, and how its
// messages name the account.

// usersIn are the users of the account called name.
func usersIn(users []config.User, name string) []config.User {
	var out []config.User
	for _, u := range users {
		if u.Account == name {
			out = append(out, u)
		}
	}
	return out
}

// iamText names the IAM user in a message, with its account's name and ID
// when it is in one of aws.accounts.
func (r *Reminder) iamText(iamUser string) string {
	if r.opts.Account == "" {
		return slacktext.Code(iamUser)
	}
	return fmt.Sprintf("%s in AWS account %s (%s)", slacktext.Code(iamUser), slacktext.Code(r.opts.Account), slacktext.Escape(r.opts.AccountID))
}

// iamPlain is iamText for the notification text.
func (r *Reminder) iamPlain(iamUser string) string {
	if r.opts.Account == "" {
		return slacktext.Escape(iamUser)
	}
	return slacktext.Escape(fmt.Sprintf("%s in AWS account %s (%s)", iamUser, r.opts.Account, r.opts.AccountID))
}
