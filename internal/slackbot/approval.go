package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// The only block and action IDs the bot sends. A click that names others
// was not made on a message of ours.
const (
	blockDecision = "aws_reset_decision"
	actionApprove = "aws_reset_approve"
	actionDeny    = "aws_reset_deny"
)

// approvalMessage is what approvers see while a request waits.
func approvalMessage(req request.Request, noMFA bool) message {
	text := fmt.Sprintf("%s asks to reset the AWS console password of IAM user %s (request %s).",
		mention(req.SlackUser), code(req.IAMUser), req.ID)
	body := fmt.Sprintf("*Password reset request* %s\n%s asks to reset the AWS console password of IAM user %s.\nAsked %s; expires %s.",
		req.ID, mention(req.SlackUser), code(req.IAMUser), when(req.CreatedAt), when(req.ExpiresAt))
	if noMFA {
		body += "\n:warning: This IAM user has *no MFA device*: approve only if you have confirmed who is asking, outside Slack."
	}
	approve := slack.NewButtonBlockElement(actionApprove, req.Token, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
	approve.Style = slack.StylePrimary
	deny := slack.NewButtonBlockElement(actionDeny, req.Token, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false))
	deny.Style = slack.StyleDanger
	return message{text: text, blocks: []slack.Block{section(body), slack.NewActionBlock(blockDecision, approve, deny)}}
}

// decidedMessage replaces the approval message once decided: no buttons.
func decidedMessage(req request.Request) message {
	body := fmt.Sprintf("*Password reset request* %s\n%s asked to reset the AWS console password of IAM user %s.",
		req.ID, mention(req.SlackUser), code(req.IAMUser))
	var outcome string
	switch req.State {
	case request.Denied:
		outcome = fmt.Sprintf(":no_entry: Denied by %s %s.", mention(req.DecidedBy), when(req.DecidedAt))
	case request.Expired:
		outcome = fmt.Sprintf(":hourglass: Expired %s: nobody decided in time.", when(req.UpdatedAt))
	case request.Failed:
		outcome = ":warning: Could not be handled; nothing was reset."
	default:
		outcome = fmt.Sprintf(":white_check_mark: Approved by %s %s.", mention(req.DecidedBy), when(req.DecidedAt))
	}
	return message{text: fmt.Sprintf("Request %s: %s", req.ID, outcome), blocks: []slack.Block{section(body), contextLine(outcome)}}
}

// requestApproval posts a pending request to the approvers' channel and
// tells the person it is waiting.
func (b *Bot) requestApproval(ctx context.Context, log *slog.Logger, req request.Request, noMFA bool) {
	m := approvalMessage(req, noMFA)
	channel := b.cfg.Approval.Channel
	_, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(m.text, false), slack.MsgOptionBlocks(m.blocks...))
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
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 {
		log.Warn("ignored an interaction the bot never asked for", slog.String("type", truncate(string(cb.Type), 40)))
		return
	}
	action := cb.ActionCallback.BlockActions[0]
	if action.BlockID != blockDecision || (action.ActionID != actionApprove && action.ActionID != actionDeny) {
		log.Warn("ignored an action the bot never sent", slog.String("action_id", truncate(action.ActionID, 40)))
		return
	}
	if cb.Team.ID != b.self.TeamID || cb.User.TeamID != "" && cb.User.TeamID != b.self.TeamID {
		log.Warn("ignored a click from another workspace")
		return
	}
	req, err := b.store.RequestByToken(ctx, action.Value)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("could not read the request", slog.Any(keyError, err))
		} else {
			log.Warn("ignored a click with an unknown token")
		}
		b.replyToClick(ctx, log, cb, plain("This request is not known (any more). Nothing was changed."))
		return
	}
	log = log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
	// The message timestamp is recorded just after posting; a click in
	// that instant is checked by channel alone.
	if cb.Channel.ID != b.cfg.Approval.Channel || req.ApprovalTS != "" && cb.Container.MessageTs != req.ApprovalTS {
		log.Warn("ignored a click on a message that is not the request's approval message")
		b.replyToClick(ctx, log, cb, plain("This message is out of date. Nothing was changed."))
		return
	}
	clicker := cb.User.ID
	if reason := b.checkPerson(ctx, cb.Team.ID, cb.Team.EnterpriseID, clicker); reason != "" {
		log.Warn("click refused", slog.String(keyOutcome, reason))
		b.replyToClick(ctx, log, cb, plain("You are not allowed to decide on this request. Nothing was changed."))
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
		b.replyToClick(ctx, log, cb, plain(text))
		return
	}

	to, action2 := request.Approved, request.ActionApproved
	if action.ActionID == actionDeny {
		to, action2 = request.Denied, request.ActionDenied
	}
	now := b.now()
	decided, err := b.store.Move(ctx, req.ID, []request.State{request.Pending}, to, now, func(r *request.Request) {
		r.DecidedBy, r.DecidedAt = clicker, now
	})
	if errors.Is(err, store.ErrConflict) {
		log.Info("click after the decision; nothing changed", slog.String("state", string(decided.State)))
		b.replyToClick(ctx, log, cb, plain(fmt.Sprintf("This request is already %s. Nothing was changed.", decided.State)))
		return
	}
	if err != nil {
		log.Error("could not record the decision", slog.Any(keyError, err))
		b.replyToClick(ctx, log, cb, plain("I could not record your decision. Nothing was changed; please try again."))
		return
	}
	if decided.ApprovalTS == "" {
		// Clicked before the bot recorded where it posted: the click says.
		decided.ApprovalChannel, decided.ApprovalTS = cb.Channel.ID, cb.Container.MessageTs
	}
	b.metrics.Decision(string(to))
	b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: action2, Actor: clicker,
		Target: req.SlackUser, IAMUser: req.IAMUser})
	log.Info("request decided", slog.String("decision", string(to)))
	b.updateApprovalMessage(ctx, log, decided)
	if to == request.Denied {
		b.metrics.Reset("denied")
		b.tellDM(ctx, log, req.SlackUser, deniedMessage(req.ID, clicker))
		b.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s denied by %s.", req.ID, code(req.IAMUser), mention(req.SlackUser), mention(clicker)))
		return
	}
	b.runReset(ctx, decided, request.Approved)
}

func (b *Bot) updateApprovalMessage(ctx context.Context, log *slog.Logger, req request.Request) {
	if req.ApprovalChannel == "" || req.ApprovalTS == "" {
		return
	}
	m := decidedMessage(req)
	if _, _, _, err := b.api.UpdateMessageContext(ctx, req.ApprovalChannel, req.ApprovalTS,
		slack.MsgOptionText(m.text, false), slack.MsgOptionBlocks(m.blocks...)); err != nil {
		log.Warn("could not update the approval message", slog.Any(keyError, err))
	}
}

// sweepExpired expires pending requests nobody decided on in time.
func (b *Bot) sweepExpired(ctx context.Context) {
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
func (b *Bot) replyToClick(ctx context.Context, log *slog.Logger, cb slack.InteractionCallback, m message) {
	if _, err := b.api.PostEphemeralContext(ctx, cb.Channel.ID, cb.User.ID,
		slack.MsgOptionText(m.text, false), slack.MsgOptionBlocks(m.blocks...)); err == nil {
		return
	}
	b.tellEphemeral(ctx, log, cb.User.ID, m)
}
