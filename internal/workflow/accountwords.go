package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// The words of the account choice, beside messages.go's (kept apart so
// the two can change without stepping on each other).

// chooseAccountMessage asks someone listed in several accounts which one.
func chooseAccountMessage(requestID string, buttons []slacktext.Button, expires time.Time) slacktext.Message {
	text := fmt.Sprintf("You're listed in several AWS accounts. Which one's console password should I reset? (request %s)", requestID)
	body := text + fmt.Sprintf("\nThe buttons work for you alone, until %s. Next time you can name it: `/aws-reset ACCOUNT`.", slacktext.Date(expires))
	return slacktext.NewMessage(text, slacktext.Section(body), slacktext.Actions(blockAccount, buttons...))
}

// whichAccountMessage tells an approver to name the account of a person
// listed in several.
func whichAccountMessage(command, target string, names []string) slacktext.Message {
	quoted := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			quoted = append(quoted, slacktext.Code(n))
		}
	}
	return slacktext.Plain(fmt.Sprintf("%s is listed in several AWS accounts (%s). Name the one to reset: `%s @name ACCOUNT`. Nothing was changed.",
		slacktext.Mention(target), strings.Join(quoted, ", "), slacktext.Escape(command)))
}

// withAccountsHelp adds to the help, when aws.accounts is configured, how
// to name an account. It names none: the help is for anyone who asks.
func (w *Workflow) withAccountsHelp(m slacktext.Message) slacktext.Message {
	if len(w.cfg.AWS.Accounts) == 0 {
		return m
	}
	c := slacktext.Escape(w.cfg.Slack.Command)
	return slacktext.Plain(m.Text + fmt.Sprintf("\n• `%[1]s ACCOUNT`: in the AWS account of that name, if you are listed in several; "+
		"`%[1]s` alone offers you a button for each. Approvers: `%[1]s @someone ACCOUNT`.", c))
}
