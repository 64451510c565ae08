package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// The only block and action IDs the bot sends. A click that names others
// was not made on a message of ours.
const (
	blockDecision = "aws_reset_decision"
	actionApprove = "aws_reset_approve"
	actionDeny    = "aws_reset_deny"
	blockReveal   = "aws_reset_reveal"
	actionReveal  = "aws_reset_reveal"
)

// approvalMessage is what approvers see while a request waits.
func approvalMessage(req request.Request, noMFA bool) slacktext.Message {
	text := fmt.Sprintf("%s asks to reset the AWS console password of IAM user %s (request %s).",
		slacktext.Mention(req.SlackUser), slacktext.Code(req.IAMUser), req.ID)
	body := fmt.Sprintf("*Password reset request* %s\n%s asks to reset the AWS console password of IAM user %s.\nAsked %s; expires %s.",
		req.ID, slacktext.Mention(req.SlackUser), slacktext.Code(req.IAMUser), slacktext.Date(req.CreatedAt), slacktext.Date(req.ExpiresAt))
	if noMFA {
		body += "\n:warning: This IAM user has *no MFA device*: approve only if you have confirmed who is asking, outside Slack."
	}
	approve := slack.NewButtonBlockElement(actionApprove, req.Token, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
	approve.Style = slack.StylePrimary
	deny := slack.NewButtonBlockElement(actionDeny, req.Token, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false))
	deny.Style = slack.StyleDanger
	return slacktext.Message{Text: text, Blocks: []slack.Block{slacktext.Section(body), slack.NewActionBlock(blockDecision, approve, deny)}}
}

// decidedMessage replaces the approval message once decided: no buttons.
func decidedMessage(req request.Request) slacktext.Message {
	body := fmt.Sprintf("*Password reset request* %s\n%s asked to reset the AWS console password of IAM user %s.",
		req.ID, slacktext.Mention(req.SlackUser), slacktext.Code(req.IAMUser))
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
	return slacktext.Message{Text: fmt.Sprintf("Request %s: %s", req.ID, outcome), Blocks: []slack.Block{slacktext.Section(body), slacktext.Context(outcome)}}
}

// requestApproval posts a pending request to the approvers' channel and
// tells the person it is waiting.
func (b *Bot) requestApproval(ctx context.Context, log *slog.Logger, req request.Request, noMFA bool) {
	m := approvalMessage(req, noMFA)
	channel := b.cfg.Approval.Channel
	_, ts, err := b.api.PostMessageContext(ctx, channel, m.Options()...)
	if err == nil {
		err = b.store.SetApprovalMessage(ctx, req.ID, channel, ts)
	}
	if err != nil {
		log.Error("could not ask the approvers", slog.Any(keyError, err))
		b.fail(ctx, log, req, request.Pending, outcomeSlackFailed)
		b.tellEphemeral(ctx, log, req.SlackUser, failureMessage(outcomeSlackFailed, req.ID))
		return
	}
	log.Info("waiting for approval", slog.String("approval_ts", ts))
	b.tellEphemeral(ctx, log, req.SlackUser, waitingMessage(req.ID, req.ExpiresAt))
}

// handleInteraction handles a button click. Everything in the payload is
// checked again here: the click's workspace, the clicker's standing and
// role, the fixed IDs, and the token, which is the only link to a request.
func (b *Bot) handleInteraction(ctx context.Context, cb slack.InteractionCallback) {
	log := b.log.With(slog.String(keyActor, truncate(cb.User.ID, 32)), slog.String(keyTeam, truncate(cb.Team.ID, 32)))
	c, err := parseClick(cb, b.self)
	if err != nil {
		log.Warn("ignored an interaction", slog.String("reason", err.Error()))
		return
	}
	req, err := b.store.RequestByToken(ctx, c.token)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("could not read the request", slog.Any(keyError, err))
		} else {
			log.Warn("ignored a click with an unknown token")
		}
		b.replyToClick(ctx, log, cb, slacktext.Plain("This request is not known (any more). Nothing was changed."))
		return
	}
	log = log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
	if c.action == actionReveal {
		b.handleReveal(ctx, log, cb, c, req)
		return
	}
	// The message timestamp is recorded just after posting; a click in
	// that instant is checked by channel alone.
	if c.channelID != b.cfg.Approval.Channel || req.ApprovalTS != "" && c.messageTS != req.ApprovalTS {
		log.Warn("ignored a click on a message that is not the request's approval message")
		b.replyToClick(ctx, log, cb, slacktext.Plain("This message is out of date. Nothing was changed."))
		return
	}
	clicker := c.userID
	if reason := b.checkPerson(ctx, c.teamID, c.enterpriseID, clicker); reason != "" {
		log.Warn("click refused", slog.String(keyOutcome, reason))
		b.replyToClick(ctx, log, cb, slacktext.Plain("You are not allowed to decide on this request. Nothing was changed."))
		return
	}
	approver, err := b.isApprover(ctx, clicker)
	if err != nil {
		log.Error("could not tell whether the clicker is an approver", slog.Any(keyError, err))
	}
	if !approver || clicker == req.SlackUser || clicker == req.RequestedBy {
		log.Warn("click refused: not an approver of this request", slog.Bool("approver", approver))
		b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionRefused, Actor: clicker,
			Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: "not_allowed_to_decide"})
		text := "Only approvers can decide on password reset requests. Nothing was changed."
		if approver {
			text = "You can't decide on a request for your own password. Another approver has to. Nothing was changed."
		}
		b.replyToClick(ctx, log, cb, slacktext.Plain(text))
		return
	}

	to, action2 := request.Approved, request.ActionApproved
	if c.action == actionDeny {
		to, action2 = request.Denied, request.ActionDenied
	}
	now := b.now()
	decided, err := b.store.Move(ctx, req.ID, []request.State{request.Pending}, to, now, func(r *request.Request) {
		r.DecidedBy, r.DecidedAt = clicker, now
		if to == request.Approved {
			r.ExpiresAt = now.Add(b.cfg.Approval.Timeout.D()) // for the owner to ask for the password
		}
	})
	if errors.Is(err, store.ErrConflict) {
		log.Info("click after the decision; nothing changed", slog.String("state", string(decided.State)))
		b.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("This request is already %s. Nothing was changed.", decided.State)))
		return
	}
	if err != nil {
		log.Error("could not record the decision", slog.Any(keyError, err))
		b.replyToClick(ctx, log, cb, slacktext.Plain("I could not record your decision. Nothing was changed; please try again."))
		return
	}
	if decided.ApprovalTS == "" {
		// Clicked before the bot recorded where it posted: the click says.
		decided.ApprovalChannel, decided.ApprovalTS = c.channelID, c.messageTS
	}
	b.metrics.Decision(string(to))
	b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: action2, Actor: clicker,
		Target: req.SlackUser, IAMUser: req.IAMUser})
	log.Info("request decided", slog.String("decision", string(to)))
	b.updateApprovalMessage(ctx, log, decided)
	if to == request.Denied {
		b.metrics.Reset("denied")
		b.tellDM(ctx, log, req.SlackUser, deniedMessage(req.ID, clicker))
		b.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s denied by %s.", req.ID, slacktext.Code(req.IAMUser), slacktext.Mention(req.SlackUser), slacktext.Mention(clicker)))
		return
	}
	b.offerPassword(ctx, log, decided)
}

// offerPassword tells the owner an approver said yes, with a button that
// resets and shows the password. Ephemeral messages reach only people
// active in Slack at that moment, and an approval may come while the owner
// is away: so the reset waits for the owner's click, when they are surely
// looking, and the password is made only then.
func (b *Bot) offerPassword(ctx context.Context, log *slog.Logger, req request.Request) {
	m := passwordOfferMessage(req)
	dm, err := b.openDM(ctx, req.SlackUser)
	if err == nil {
		_, _, err = b.api.PostMessageContext(ctx, dm, m.Options()...)
	}
	if err != nil {
		log.Error("could not offer the password to its owner; nothing reset", slog.Any(keyError, err))
		b.fail(ctx, log, req, request.Approved, outcomeSlackFailed)
		return
	}
	log.Info("approved; waiting for the owner to ask for the password")
}

// handleReveal is the owner's click on "Show my new password".
func (b *Bot) handleReveal(ctx context.Context, log *slog.Logger, cb slack.InteractionCallback, c click, req request.Request) {
	if c.userID != req.SlackUser {
		log.Warn("reveal refused: not the owner")
		b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionRefused, Actor: c.userID,
			Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: "not_owner"})
		b.replyToClick(ctx, log, cb, slacktext.Plain("This button is for someone else. Nothing was changed."))
		return
	}
	if reason := b.checkPerson(ctx, c.teamID, c.enterpriseID, c.userID); reason != "" {
		log.Warn("reveal refused", slog.String(keyOutcome, reason))
		b.replyToClick(ctx, log, cb, refusedMessage())
		return
	}
	if dm, err := b.openDM(ctx, req.SlackUser); err != nil || dm != c.channelID {
		log.Warn("reveal refused: not clicked in the owner's DM with the bot")
		b.replyToClick(ctx, log, cb, slacktext.Plain("This message is out of date. Nothing was changed."))
		return
	}
	if req.State != request.Approved || !req.ExpiresAt.IsZero() && !b.now().Before(req.ExpiresAt) {
		b.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("This request is already %s. Run the command again if you need a new password.",
			stateWord(req, b.now()))))
		return
	}
	b.runReset(ctx, req, request.Approved)
	m := passwordClaimedMessage(req, b.now())
	if _, _, _, err := b.api.UpdateMessageContext(ctx, c.channelID, c.messageTS,
		m.Options()...); err != nil {
		log.Warn("could not update the offer message", slog.Any(keyError, err))
	}
}

// stateWord says how a request that can no longer be claimed stands.
func stateWord(req request.Request, now time.Time) string {
	if req.State == request.Approved && !req.ExpiresAt.IsZero() && !now.Before(req.ExpiresAt) {
		return string(request.Expired)
	}
	return string(req.State)
}

func (b *Bot) updateApprovalMessage(ctx context.Context, log *slog.Logger, req request.Request) {
	if req.ApprovalChannel == "" || req.ApprovalTS == "" {
		return
	}
	m := decidedMessage(req)
	if _, _, _, err := b.api.UpdateMessageContext(ctx, req.ApprovalChannel, req.ApprovalTS,
		m.Options()...); err != nil {
		log.Warn("could not update the approval message", slog.Any(keyError, err))
	}
}

// sweepExpired expires pending requests nobody decided on in time, and
// approved ones whose owner never asked for the password.
func (b *Bot) sweepExpired(ctx context.Context) {
	b.sweepUnclaimed(ctx)
	reqs, err := b.store.ExpiredPending(ctx, b.now())
	if err != nil {
		b.log.Error("could not list expired requests", slog.Any(keyError, err))
		return
	}
	for _, req := range reqs {
		log := b.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
		expired, err := b.store.Move(ctx, req.ID, []request.State{request.Pending}, request.Expired, b.now(),
			func(r *request.Request) { r.Outcome = "expired" })
		if errors.Is(err, store.ErrConflict) {
			continue // decided at the last moment
		}
		if err != nil {
			log.Error("could not expire the request", slog.Any(keyError, err))
			continue
		}
		log.Info("request expired")
		b.metrics.Decision(string(request.Expired))
		b.metrics.Reset(string(request.Expired))
		b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionExpired, Target: req.SlackUser, IAMUser: req.IAMUser})
		b.updateApprovalMessage(ctx, log, expired)
		b.tellDM(ctx, log, req.SlackUser, expiredMessage(req.ID))
	}
}

// replyToClick answers the clicker where they clicked, or in their DM
// with the bot when the bot cannot post there.
func (b *Bot) replyToClick(ctx context.Context, log *slog.Logger, cb slack.InteractionCallback, m slacktext.Message) {
	if _, err := b.api.PostEphemeralContext(ctx, cb.Channel.ID, cb.User.ID,
		m.Options()...); err == nil {
		return
	}
	b.tellEphemeral(ctx, log, cb.User.ID, m)
}

// click is a button click that passed every check that needs no lookup.
type click struct {
	action, token                                      string
	userID, teamID, enterpriseID, channelID, messageTS string
}

// parseClick accepts only what the bot itself sent: a block_actions
// payload with one action, our block and action IDs, a well-formed token,
// from our own workspace and org. Everything else is an error.
func parseClick(cb slack.InteractionCallback, self identity) (click, error) {
	if cb.Type != slack.InteractionTypeBlockActions {
		return click{}, errors.New("not a block action")
	}
	if len(cb.ActionCallback.BlockActions) != 1 || cb.ActionCallback.BlockActions[0] == nil {
		return click{}, errors.New("not exactly one action")
	}
	a := cb.ActionCallback.BlockActions[0]
	switch {
	case a.BlockID == blockDecision && (a.ActionID == actionApprove || a.ActionID == actionDeny):
	case a.BlockID == blockReveal && a.ActionID == actionReveal:
	default:
		return click{}, errors.New("an action the bot never sent")
	}
	if !request.ValidToken(a.Value) {
		return click{}, errors.New("a malformed token")
	}
	enterprise := cb.Team.EnterpriseID
	if enterprise == "" {
		enterprise = cb.Enterprise.ID
	}
	if cb.Team.ID != self.TeamID || (cb.User.TeamID != "" && cb.User.TeamID != self.TeamID) || enterprise != self.EnterpriseID {
		return click{}, errors.New("a click from another workspace or org")
	}
	if !config.IsSlackUserID(cb.User.ID) {
		return click{}, errors.New("a malformed user ID")
	}
	return click{action: a.ActionID, token: a.Value, userID: cb.User.ID, teamID: cb.Team.ID, enterpriseID: enterprise,
		channelID: cb.Channel.ID, messageTS: cb.Container.MessageTs}, nil
}

// sweepUnclaimed expires approvals whose owner did not ask for the
// password in time.
func (b *Bot) sweepUnclaimed(ctx context.Context) {
	approved, err := b.store.RequestsInState(ctx, request.Approved)
	if err != nil {
		b.log.Error("could not list approved requests", slog.Any(keyError, err))
		return
	}
	now := b.now()
	for _, req := range approved {
		if req.DecidedBy == "" || req.ExpiresAt.IsZero() || now.Before(req.ExpiresAt) {
			continue
		}
		log := b.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
		if _, err := b.store.Move(ctx, req.ID, []request.State{request.Approved}, request.Expired, now,
			func(r *request.Request) { r.Outcome = "unclaimed" }); err != nil {
			if !errors.Is(err, store.ErrConflict) {
				log.Error("could not expire the approved request", slog.Any(keyError, err))
			}
			continue
		}
		log.Info("approved request expired: the owner never asked for the password")
		b.metrics.Reset("unclaimed")
		b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionExpired, Target: req.SlackUser,
			IAMUser: req.IAMUser, Outcome: "unclaimed"})
		b.tellDM(ctx, log, req.SlackUser, unclaimedMessage(req.ID))
	}
}
