package workflow

import (
	"fmt"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// All the words a person sees live in this file, so they read as one voice.
// Every piece of outside text passes through package slacktext.

func helpMessage(command string) slacktext.Message {
	c := slacktext.Escape(command)
	return slacktext.Plain(fmt.Sprintf("*%[1]s* resets your AWS console password.\n"+
		"• `%[1]s`: get a new temporary password, sent to you alone in a direct message from me. AWS asks you to choose your own at the next sign-in.\n"+
		"• `%[1]s @someone`: (approvers only) reset a listed person's password; it goes to them, never to you.\n"+
		"• `%[1]s help`: this text.", c))
}

// WorkingMessage is the ack of a command that has work to do.
//
// It is text alone, no blocks: every command's ack carries it, and in a
// burst the acks' size is what the bot's ack latency pays for.
func WorkingMessage(requestID string) slacktext.Message {
	return slacktext.Message{Text: fmt.Sprintf("Working on it. I'll answer in a direct message from me. (request %s)", requestID)}
}

// passwordMessage carries the password. The password is only in the
// blocks: the fallback text is what notifications and previews show.
//
// iam, here and below, is the IAM user as iamText names it: with its
// account, and already safe for Slack.
func passwordMessage(iam string, secret password.Secret, consoleURL, requestID string) slacktext.Message {
	text := fmt.Sprintf("Your new temporary AWS console password for IAM user %s is ready. Only you can see it.", iam)
	body := fmt.Sprintf("Your new temporary AWS console password for IAM user %s:\n\n%s\n\n"+
		"Sign in at <%s|%s>. AWS will ask you to choose a new password straight away.",
		iam, "`"+secret.Reveal()+"`", slacktext.Escape(consoleURL), slacktext.Escape(consoleURL))
	return slacktext.NewMessage(text,
		slacktext.Section(body),
		slacktext.Context(fmt.Sprintf("Only you can see this message, and it is gone when Slack reloads: copy the password now. Request %s.", requestID)),
	)
}

// resetNotice is the persistent note that a reset happened, so a reset
// done from a hijacked Slack session cannot stay hidden from its owner.
func resetNotice(iam, requestID string, at time.Time, by string) slacktext.Message {
	who := ""
	if by != "" {
		who = fmt.Sprintf(" at the request of %s", slacktext.Mention(by))
	}
	return slacktext.Plain(fmt.Sprintf(":key: The AWS console password of IAM user %s was reset %s%s (request %s). "+
		"The temporary password was shown to you alone.\nIf this wasn't you, tell your security team now.",
		iam, slacktext.Date(at), who, requestID))
}

func refusedMessage() slacktext.Message { return slacktext.Plain(refusedWords) }

// refusalMessage is what a refused person reads: the same words whatever
// the reason, but for a protected IAM user, which its owner may know of.
func refusalMessage(o Outcome) slacktext.Message {
	if o == RefusedProtected {
		return protectedMessage()
	}
	return refusedMessage()
}

func mentionHelpMessage(command string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("To reset someone else's password, mention them so Slack links the name: `%s @name`.", slacktext.Escape(command)))
}

func notApproverMessage() slacktext.Message { return slacktext.Plain(outcomeWords[RefusedNotApprover]) }

func targetRefusedMessage(target string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("I can't reset an AWS password for %s.", slacktext.Mention(target)))
}

func protectedMessage() slacktext.Message { return slacktext.Plain(outcomeWords[RefusedProtected]) }

func cooldownMessage(next time.Time) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Your password was reset a short while ago. You can ask again %s.", slacktext.Date(next)))
}

func activeRequestMessage(id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("You already have a reset request in progress (request %s). I'll tell you when it's done.", id))
}

func targetActiveMessage(target, id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("%s already has a reset request in progress (request %s), so I did not start another.", slacktext.Mention(target), id))
}

func waitingMessage(id string, expires time.Time) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Your request needs an approver's OK. I've asked them, and I'll tell you here when one decides (request %s; it expires %s).", id, slacktext.Date(expires)))
}

func deniedMessage(id, by string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("%s denied your password reset request (request %s). Nothing was changed.", slacktext.Mention(by), id))
}

func expiredMessage(id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Nobody decided on your password reset request in time, so it expired (request %s). Nothing was changed; run the command again if you still need it.", id))
}

func dryRunMessage(iam, id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Dry run: IAM user %s has a console password, and I would now reset it and send you a temporary one. Nothing was changed (request %s).", iam, id))
}

func adminStartedMessage(target, iam, id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("OK: I've sent %s a button to reset the console password of IAM user %s. The password goes to them alone, when they ask for it (request %s).", slacktext.Mention(target), iam, id))
}

// outcomeWords is the one mapping from an outcome to what a person reads
// about it. Every outcome has words (a test holds it to that). Refusals
// all read the same, so a refusal never says whether an IAM user exists;
// the rest say no more than the person may know of their own account.
var outcomeWords = map[Outcome]string{
	RefusedForeignTeam: refusedWords, RefusedBadID: refusedWords, RefusedLookup: refusedWords, RefusedBot: refusedWords,
	RefusedGuest: refusedWords, RefusedDeactivated: refusedWords, RefusedNotListed: refusedWords,
	RefusedProtected:   "This AWS account is protected: the bot does not reset it. Ask your AWS administrators.",
	RefusedNotApprover: "Only approvers can reset someone else's password.",

	OutcomeDelivered:      "Your new temporary password was shown to you alone.",
	OutcomeCooldown:       "Your password was reset a short while ago; please wait before asking again.",
	OutcomeActive:         "A reset request is already in progress; I'll tell you when it's done.",
	OutcomeNoUser:         "Your listed IAM user does not exist in AWS, so nothing was changed. Ask your AWS administrators to fix the bot's allowlist.",
	OutcomeNoLoginProfile: "Your IAM user has no console password to reset, so nothing was changed. Ask your AWS administrators to give you console access.",
	OutcomeAccessDenied:   "I'm not allowed to reset this password in AWS. Please contact your AWS administrators; I've logged the details for them.",
	OutcomePolicy:         "AWS rejected the new password under the account's password policy. Please contact your AWS administrators.",
	OutcomeTimeout:        "AWS did not answer in time, so nothing was changed. Please try again in a few minutes.",
	OutcomeNoAnswer: "AWS did not confirm the reset: your password may have changed, and nobody knows the new one. " +
		"Please run the command again to get a new one, or ask your AWS administrators.",
	OutcomeDeliveryFailed: "I reset your password but could not show it to you, so nobody knows it. Please run the command again.",
	OutcomeSlackFailed:    "I could not reach you or the approvers in Slack, so nothing was changed. Please try again in a few minutes.",
	OutcomeDryRun:         "This was a dry run: nothing was changed.",
	OutcomeInterrupted:    "Your reset was interrupted (the bot restarted, or lost its database for a while); press the button I send you when you're ready to sign in.",
	OutcomeInterruptedShown: "The bot stopped while it was showing you your new temporary password. If you saw it, sign in with it; " +
		"if not, run the command again for a new one.",
	OutcomeNoMFA:           "Your IAM user has no MFA device, so I can't reset its password from Slack alone. Ask your AWS administrators.",
	OutcomeUnusedScrambled: "The temporary password was not used in time, so I replaced it with a random one nobody knows.",
	OutcomeInternal:        internalWords,
	OutcomeDenied:          "An approver denied the request. Nothing was changed.",
	OutcomeExpired:         "Nobody decided on the request in time, so it expired. Nothing was changed.",
	OutcomeUnclaimed:       "The approved reset expired before you asked for the password. Nothing was changed.",
	OutcomeAdminInitiated:  "An approver started a reset of your password; it is shown to you alone when you ask for it.",
	OutcomePasswordSet:     "Your password was reset.",
	OutcomeNotAllowed:      "Only approvers can decide on password reset requests. Nothing was changed.",
	OutcomeNotOwner:        "This button is for someone else. Nothing was changed.",
	OutcomeRemapped:        refusedWords,
	OutcomeApproverGone:    "The approval of this request no longer stands, so nothing was changed. Run the command again if you still need a new password.",
	OutcomeUnreachable:     "I can't reach that AWS account right now, so nothing was changed. Please try again later; if it keeps happening, tell your AWS administrators (I've logged the details for them).",
}

const (
	refusedWords  = "Sorry, I can't reset an AWS password for you. If you think you should be able to, ask your AWS administrators to add you."
	internalWords = "Something went wrong and your password was not reset. Please try again in a few minutes, or contact your AWS administrators."
)

// failureMessage tells the person how their request ended.
func failureMessage(o Outcome, id string) slacktext.Message {
	s, ok := outcomeWords[o]
	if !ok {
		s = internalWords
	}
	return slacktext.Plain(fmt.Sprintf("%s (request %s)", s, id))
}

// storeDownMessage answers a command while the bot cannot reach its
// database: nothing is started that could not be recorded.
func storeDownMessage() slacktext.Message {
	return slacktext.Plain("I can't record requests right now, so I haven't started one. Nothing was changed. Please try again in a few minutes.")
}

// leaseLostMessage answers a reset this replica may not start: its
// heartbeats have not reached the database lately (see leaseLeft).
func leaseLostMessage(id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("I can't reach my database right now, so I haven't reset anything (request %s). "+
		"Nothing was changed. Please try again in a minute.", id))
}

// lostCommandMessage tells someone whose command a replica acked and then
// died before working on: nothing was started, so they may simply ask again.
func lostCommandMessage(id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Your password reset request (request %s) was interrupted before anything was done: "+
		"the copy of the bot working on it stopped. Nothing was changed. Run the command again if you still need it.", id))
}

func noMFAMessage(iam string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("IAM user %s has no MFA device, so I can't reset its password from Slack alone: "+
		"whoever controls your Slack account would then control your AWS account. "+
		"Ask your AWS administrators to reset it, or to help you set up MFA, then try again.", iam))
}

func unusedScrambledMessage(iam, requestID string, after time.Duration) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("The temporary password for IAM user %s (request %s) was not used to sign in within %s, "+
		"so I replaced it with a random one nobody knows. Nothing else changed. Run the command again when you're ready to sign in.",
		iam, requestID, after))
}

// passwordOfferMessage tells the owner an approver said yes, with the
// button that resets and shows the password.
func passwordOfferMessage(req request.Request, iam string) slacktext.Message {
	text := fmt.Sprintf("%s approved resetting the AWS console password of IAM user %s (request %s).",
		slacktext.Mention(req.DecidedBy), iam, req.ID)
	if req.RequestedBy != req.SlackUser {
		text = fmt.Sprintf("%s started a reset of the AWS console password of IAM user %s for you (request %s).",
			slacktext.Mention(req.RequestedBy), iam, req.ID)
	}
	body := text + fmt.Sprintf("\nWhen you're ready to sign in, press the button: I'll reset the password then and show the new one to you alone. "+
		"The offer expires %s. If you didn't ask for this, tell your security team.", slacktext.Date(req.ExpiresAt))
	return slacktext.NewMessage(text, slacktext.Section(body), slacktext.Actions(blockReveal,
		slacktext.Button{ActionID: actionReveal, Value: req.Token, Label: "Show my new password", Style: "primary"}))
}

// interruptedOfferMessage is the lasting note, after a restart, for a
// request whose reset was cut short: the reset happens only when its owner
// presses the button, so nothing is set while they may be away.
func interruptedOfferMessage(req request.Request, iam string) slacktext.Message {
	text := fmt.Sprintf("Your reset of the AWS console password of IAM user %s was interrupted: the bot restarted, or lost its database for a while (request %s).",
		iam, req.ID)
	body := text + fmt.Sprintf("\nYour password may or may not have changed. When you're ready to sign in, press the button: "+
		"I'll reset the password then and show the new one to you alone. The offer expires %s. "+
		"If you didn't ask for this, tell your security team.", slacktext.Date(req.ExpiresAt))
	return slacktext.NewMessage(text, slacktext.Section(body), slacktext.Actions(blockReveal,
		slacktext.Button{ActionID: actionReveal, Value: req.Token, Label: "Show my new password", Style: "primary"}))
}

// passwordClaimedMessage replaces the offer once used.
func passwordClaimedMessage(req request.Request, iam string, at time.Time) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Request %s for IAM user %s: you asked for the password %s. See below.", req.ID, iam, slacktext.Date(at)))
}

func unclaimedMessage(id string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("The approved password reset (request %s) expired before you asked for the password. Nothing was changed; run the command again if you still need it.", id))
}

// approvalMessage is what approvers see while a request waits.
func approvalMessage(req request.Request, iam string, noMFA bool) slacktext.Message {
	text := fmt.Sprintf("%s asks to reset the AWS console password of IAM user %s (request %s).",
		slacktext.Mention(req.SlackUser), iam, req.ID)
	body := fmt.Sprintf("*Password reset request* %s\n%s asks to reset the AWS console password of IAM user %s.\nAsked %s; expires %s.",
		req.ID, slacktext.Mention(req.SlackUser), iam, slacktext.Date(req.CreatedAt), slacktext.Date(req.ExpiresAt))
	if noMFA {
		body += "\n:warning: This IAM user has *no MFA device*: approve only if you have confirmed who is asking, outside Slack."
	}
	return slacktext.NewMessage(text, slacktext.Section(body), slacktext.Actions(blockDecision,
		slacktext.Button{ActionID: actionApprove, Value: req.Token, Label: "Approve", Style: "primary"},
		slacktext.Button{ActionID: actionDeny, Value: req.Token, Label: "Deny", Style: "danger"}))
}

// decidedMessage replaces the approval message once decided: no buttons.
func decidedMessage(req request.Request, iam string) slacktext.Message {
	body := fmt.Sprintf("*Password reset request* %s\n%s asked to reset the AWS console password of IAM user %s.",
		req.ID, slacktext.Mention(req.SlackUser), iam)
	var outcome string
	switch req.State {
	case request.Denied:
		outcome = fmt.Sprintf(":no_entry: Denied by %s %s.", slacktext.Mention(req.DecidedBy), slacktext.Date(req.DecidedAt))
	case request.Expired:
		outcome = fmt.Sprintf(":hourglass: Expired %s: nobody decided in time.", slacktext.Date(req.UpdatedAt))
	case request.Failed:
		outcome = ":warning: Could not be handled; nothing was reset."
	default:
		outcome = fmt.Sprintf(":white_check_mark: Approved by %s %s.", slacktext.Mention(req.DecidedBy), slacktext.Date(req.DecidedAt))
	}
	return slacktext.NewMessage(fmt.Sprintf("Request %s: %s", req.ID, outcome), slacktext.Section(body), slacktext.Context(outcome))
}
