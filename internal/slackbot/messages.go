package slackbot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// All the words a person sees live in this file, so they read as one voice
// and every piece of outside text passes through escape.

// escape makes text safe inside Slack mrkdwn: it cannot ping @channel,
// mention anyone or forge a link. See Slack's "Escaping text" guidance.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code puts text in a code span; a backtick in it could end the span early,
// so it is replaced (IAM names and our passwords never hold one).
func code(s string) string { return "`" + strings.ReplaceAll(escape(s), "`", "'") + "`" }

// mention renders a Slack user ID as a mention. IDs are checked before they
// get here, but escape anyway: a forged ID must not become markup.
func mention(userID string) string { return "<@" + escape(userID) + ">" }

// when renders t in each reader's own time zone, with a UTC fallback.
func when(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func contextLine(text string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
}

// message is what the bot posts: fallback text for notifications and
// screen readers, and the blocks that are shown.
type message struct {
	text   string
	blocks []slack.Block
}

func plain(text string) message { return message{text: text, blocks: []slack.Block{section(text)}} }

func helpMessage(command string) message {
	c := escape(command)
	return plain(fmt.Sprintf("*%[1]s* resets your AWS console password.\n"+
		"• `%[1]s`: get a new temporary password, sent to you alone in a direct message from me. AWS asks you to choose your own at the next sign-in.\n"+
		"• `%[1]s @someone`: (approvers only) reset a listed person's password; it goes to them, never to you.\n"+
		"• `%[1]s help`: this text.", c))
}

func workingMessage(requestID string) message {
	return plain(fmt.Sprintf("Working on it. I'll answer in a direct message from me. (request %s)", requestID))
}

// passwordMessage carries the password. The password is only in the
// blocks: the fallback text is what notifications and previews show.
func passwordMessage(iamUser string, secret password.Secret, consoleURL, requestID string) message {
	text := fmt.Sprintf("Your new temporary AWS console password for IAM user %s is ready. Only you can see it.", code(iamUser))
	body := fmt.Sprintf("Your new temporary AWS console password for IAM user %s:\n\n%s\n\n"+
		"Sign in at <%s|%s>. AWS will ask you to choose a new password straight away.",
		code(iamUser), "`"+secret.Reveal()+"`", escape(consoleURL), escape(consoleURL))
	return message{text: text, blocks: []slack.Block{
		section(body),
		contextLine(fmt.Sprintf("Only you can see this message, and it is gone when Slack reloads: copy the password now. Request %s.", requestID)),
	}}
}

// resetNotice is the persistent note that a reset happened, so a reset
// done from a hijacked Slack session cannot stay hidden from its owner.
func resetNotice(iamUser, requestID string, at time.Time, by string) message {
	who := ""
	if by != "" {
		who = fmt.Sprintf(" at the request of %s", mention(by))
	}
	return plain(fmt.Sprintf(":key: The AWS console password of IAM user %s was reset %s%s (request %s). "+
		"The temporary password was shown to you alone.\nIf this wasn't you, tell your security team now.",
		code(iamUser), when(at), who, requestID))
}

func refusedMessage() message {
	return plain("Sorry, I can't reset an AWS password for you. If you think you should be able to, ask your AWS administrators to add you.")
}

func mentionHelpMessage(command string) message {
	return plain(fmt.Sprintf("To reset someone else's password, mention them so Slack links the name: `%s @name`.", escape(command)))
}

func notApproverMessage() message {
	return plain("Only approvers can reset someone else's password.")
}

func targetRefusedMessage(target string) message {
	return plain(fmt.Sprintf("I can't reset an AWS password for %s.", mention(target)))
}

func protectedMessage() message {
	return plain("This AWS account is protected: the bot does not reset it. Ask your AWS administrators.")
}

func cooldownMessage(next time.Time) message {
	return plain(fmt.Sprintf("Your password was reset a short while ago. You can ask again %s.", when(next)))
}

func activeRequestMessage(id string) message {
	return plain(fmt.Sprintf("You already have a reset request in progress (request %s). I'll tell you when it's done.", id))
}

func waitingMessage(id string, expires time.Time) message {
	return plain(fmt.Sprintf("Your request needs an approver's OK. I've asked them, and I'll tell you here when one decides (request %s; it expires %s).", id, when(expires)))
}

func deniedMessage(id, by string) message {
	return plain(fmt.Sprintf("%s denied your password reset request (request %s). Nothing was changed.", mention(by), id))
}

func expiredMessage(id string) message {
	return plain(fmt.Sprintf("Nobody decided on your password reset request in time, so it expired (request %s). Nothing was changed; run the command again if you still need it.", id))
}

func dryRunMessage(iamUser, id string) message {
	return plain(fmt.Sprintf("Dry run: IAM user %s has a console password, and I would now reset it and send you a temporary one. Nothing was changed (request %s).", code(iamUser), id))
}

func adminStartedMessage(target, iamUser, id string) message {
	return plain(fmt.Sprintf("OK: I've sent %s a button to reset the console password of IAM user %s. The password goes to them alone, when they ask for it (request %s).", mention(target), code(iamUser), id))
}

// failureMessage is the one mapping from an outcome to what the person
// reads. It never says whether an IAM user exists beyond what the person
// is entitled to know about their own account.
func failureMessage(outcome, id string) message {
	var s string
	switch outcome {
	case outcomeNoUser:
		s = "Your listed IAM user does not exist in AWS, so nothing was changed. Ask your AWS administrators to fix the bot's allowlist."
	case outcomeNoLoginProfile:
		s = "Your IAM user has no console password to reset, so nothing was changed. Ask your AWS administrators to give you console access."
	case outcomeAccessDenied:
		s = "I'm not allowed to reset this password in AWS. Please contact your AWS administrators; I've logged the details for them."
	case outcomePolicy:
		s = "AWS rejected the new password under the account's password policy. Please contact your AWS administrators."
	case outcomeDeliveryFailed:
		s = "I reset your password but could not show it to you, so nobody knows it. Please run the command again."
	case outcomeInterrupted:
		s = "The bot restarted before it could reset your password, so nothing was changed. Please run the command again."
	case outcomeTimeout:
		s = "AWS did not answer in time. Your password may be unchanged; please try again in a few minutes."
	default:
		s = "Something went wrong and your password was not reset. Please try again in a few minutes, or contact your AWS administrators."
	}
	return plain(fmt.Sprintf("%s (request %s)", s, id))
}

func noMFAMessage(iamUser string) message {
	return plain(fmt.Sprintf("IAM user %s has no MFA device, so I can't reset its password from Slack alone: "+
		"whoever controls your Slack account would then control your AWS account. "+
		"Ask your AWS administrators to reset it, or to help you set up MFA, then try again.", code(iamUser)))
}

func unusedScrambledMessage(iamUser, requestID string, after time.Duration) message {
	return plain(fmt.Sprintf("The temporary password for IAM user %s (request %s) was not used to sign in within %s, "+
		"so I replaced it with a random one nobody knows. Nothing else changed. Run the command again when you're ready to sign in.",
		code(iamUser), requestID, after))
}

// passwordOfferMessage tells the owner an approver said yes, with the
// button that resets and shows the password.
func passwordOfferMessage(req request.Request) message {
	text := fmt.Sprintf("%s approved resetting the AWS console password of IAM user %s (request %s).",
		mention(req.DecidedBy), code(req.IAMUser), req.ID)
	if req.RequestedBy != req.SlackUser {
		text = fmt.Sprintf("%s started a reset of the AWS console password of IAM user %s for you (request %s).",
			mention(req.RequestedBy), code(req.IAMUser), req.ID)
	}
	body := text + fmt.Sprintf("\nWhen you're ready to sign in, press the button: I'll reset the password then and show the new one to you alone. "+
		"The offer expires %s. If you didn't ask for this, tell your security team.", when(req.ExpiresAt))
	button := slack.NewButtonBlockElement(actionReveal, req.Token, slack.NewTextBlockObject(slack.PlainTextType, "Show my new password", false, false))
	button.Style = slack.StylePrimary
	return message{text: text, blocks: []slack.Block{section(body), slack.NewActionBlock(blockReveal, button)}}
}

// passwordClaimedMessage replaces the offer once used.
func passwordClaimedMessage(req request.Request, at time.Time) message {
	return plain(fmt.Sprintf("Request %s for IAM user %s: you asked for the password %s. See below.", req.ID, code(req.IAMUser), when(at)))
}

func unclaimedMessage(id string) message {
	return plain(fmt.Sprintf("The approved password reset (request %s) expired before you asked for the password. Nothing was changed; run the command again if you still need it.", id))
}
