package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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

// requestApproval posts a pending request to the approvers' channel and
// tells the person it is waiting.
func (w *Workflow) requestApproval(ctx context.Context, log *slog.Logger, req request.Request, noMFA bool) {
	m := w.approvalMessageFor(req, noMFA, nil)
	channel := w.approvalFor(req.Account).Channel
	ts, err := w.slack.Post(ctx, channel, m)
	if err == nil {
		err = w.store.SetApprovalMessage(ctx, req.ID, channel, ts)
	}
	if err != nil {
		log.Error("could not ask the approvers", slog.Any(keyError, err))
		w.fail(ctx, log, req, request.Pending, OutcomeSlackFailed)
		w.tellEphemeral(ctx, log, req.SlackUser, failureMessage(OutcomeSlackFailed, req.ID))
		return
	}
	log.Info("waiting for approval", slog.String("approval_ts", ts))
	w.tellEphemeral(ctx, log, req.SlackUser, waitingMessage(req.ID, req.ExpiresAt))
}

// HandleClick handles a button click. Everything in the payload is
// checked again here: the click's workspace, the clicker's standing and
// role, the fixed IDs, and the token, which is the only link to a request.
func (w *Workflow) HandleClick(ctx context.Context, cb Click) {
	log := w.log.With(slog.String(keyActor, truncate(cb.UserID, 32)), slog.String(keyTeam, truncate(cb.TeamID, 32)))
	if isHomeReset(cb) {
		w.handleHomeReset(ctx, log, cb)
		return
	}
	c, err := parseClick(cb, w.self)
	if err != nil {
		log.Warn("ignored an interaction", slog.String("reason", err.Error()))
		return
	}
	if cb.BlockID == blockAccount {
		w.handleAccountChoice(ctx, log, cb, c)
		return
	}
	req, err := w.store.RequestByToken(ctx, c.token)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("could not read the request", slog.Any(keyError, err))
		} else {
			log.Warn("ignored a click with an unknown token")
		}
		w.replyToClick(ctx, log, cb, slacktext.Plain("This request is not known (any more). Nothing was changed."))
		return
	}
	log = log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser), slog.String(keyAccount, req.Account))
	if c.action == actionReveal {
		w.handleReveal(ctx, log, cb, c, req)
		return
	}
	// The message timestamp is recorded just after posting; a click in
	// that instant is checked by channel alone.
	if !c.home && (c.channelID != w.approvalFor(req.Account).Channel || req.ApprovalTS != "" && c.messageTS != req.ApprovalTS) {
		log.Warn("ignored a click on a message that is not the request's approval message")
		w.replyToClick(ctx, log, cb, slacktext.Plain("This message is out of date. Nothing was changed."))
		return
	}
	clicker := c.userID
	if reason := w.checkPerson(ctx, c.teamID, c.enterpriseID, clicker); reason != "" {
		log.Warn("click refused", slog.String(keyOutcome, string(reason)))
		w.replyToClick(ctx, log, cb, slacktext.Plain("You are not allowed to decide on this request. Nothing was changed."))
		return
	}
	approver, err := w.isApproverIn(ctx, clicker, req.Account)
	if err != nil {
		log.Error("could not tell whether the clicker is an approver", slog.Any(keyError, err))
	}
	if !approver || clicker == req.SlackUser || clicker == req.RequestedBy {
		log.Warn("click refused: not an approver of this request", slog.Bool("approver", approver))
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionRefused, Actor: clicker,
			Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomeNotAllowed)})
		text := "Only approvers can decide on password reset requests. Nothing was changed."
		if approver {
			text = "You can't decide on a request for your own password. Another approver has to. Nothing was changed."
		}
		w.replyToClick(ctx, log, cb, slacktext.Plain(text))
		return
	}

	if c.action == actionApprove {
		// An approval is authority used: the request must still be one the
		// bot may act on, now.
		acct, o := w.mayProceed(ctx, req)
		if o != "" {
			log.Warn("approval refused: the request is no longer allowed", slog.String(keyOutcome, string(o)))
			w.endNoLonger(ctx, log, req, request.Pending, o)
			w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("Request %s can no longer be approved, so it has been ended. Nothing was changed.", req.ID)))
			return
		}
		// Counted per distinct approver; decided when enough have (tally.go).
		w.approve(ctx, log, cb, clicker, req, w.cfg.Reset.RequireMFA && acct.MFADevices == 0)
		return
	}
	w.deny(ctx, log, cb, c, clicker, req)
}

// deny ends a pending request on one eligible approver's Deny: one
// conditional move, so it never wins over an approval already decided.
func (w *Workflow) deny(ctx context.Context, log *slog.Logger, cb Click, c click, clicker string, req request.Request) {
	now := w.now()
	decided, err := w.store.Move(ctx, req.ID, []request.State{request.Pending}, request.Denied, now, func(r *request.Request) {
		r.DecidedBy, r.DecidedAt = clicker, now
	})
	if errors.Is(err, store.ErrConflict) {
		log.Info("click after the decision; nothing changed", slog.String("state", string(decided.State)))
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("This request is already %s. Nothing was changed.", decided.State)))
		return
	}
	if err != nil {
		log.Error("could not record the decision", slog.Any(keyError, err))
		w.replyToClick(ctx, log, cb, slacktext.Plain("I could not record your decision. Nothing was changed; please try again."))
		return
	}
	if decided.ApprovalTS == "" {
		// Clicked before the bot recorded where it posted: the click says.
		decided.ApprovalChannel, decided.ApprovalTS = c.channelID, c.messageTS
	}
	w.metrics.Decision(string(request.Denied))
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionDenied, Actor: clicker,
		Target: req.SlackUser, IAMUser: req.IAMUser})
	log.Info("request decided", slog.String("decision", string(request.Denied)))
	w.updateApprovalMessage(ctx, log, decided)
	w.countIn(req.Account, OutcomeDenied)
	w.tellDM(ctx, log, req.SlackUser, deniedMessage(req.ID, clicker))
	w.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s denied by %s.", req.ID, w.iamText(req.IAMUser, req.Account), slacktext.Mention(req.SlackUser), slacktext.Mention(clicker)))
}

// offerPassword tells the owner an approver said yes, with a button that
// resets and shows the password. Ephemeral messages reach only people
// active in Slack at that moment, and an approval may come while the owner
// is away: so the reset waits for the owner's click, when they are surely
// looking, and the password is made only then.
func (w *Workflow) offerPassword(ctx context.Context, log *slog.Logger, req request.Request) {
	m := passwordOfferMessage(req, w.iamText(req.IAMUser, req.Account))
	dm, err := w.openDM(ctx, req.SlackUser)
	if err == nil {
		_, err = w.slack.Post(ctx, dm, m)
	}
	if err != nil {
		log.Error("could not offer the password to its owner; nothing reset", slog.Any(keyError, err))
		w.fail(ctx, log, req, request.Approved, OutcomeSlackFailed)
		return
	}
	log.Info("approved; waiting for the owner to ask for the password")
}

// handleReveal is the owner's click on "Show my new password".
func (w *Workflow) handleReveal(ctx context.Context, log *slog.Logger, cb Click, c click, req request.Request) {
	if c.userID != req.SlackUser {
		log.Warn("reveal refused: not the owner")
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionRefused, Actor: c.userID,
			Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomeNotOwner)})
		w.replyToClick(ctx, log, cb, slacktext.Plain("This button is for someone else. Nothing was changed."))
		return
	}
	if dm, err := w.openDM(ctx, req.SlackUser); err != nil || dm != c.channelID {
		log.Warn("reveal refused: not clicked in the owner's DM with the bot")
		w.replyToClick(ctx, log, cb, slacktext.Plain("This message is out of date. Nothing was changed."))
		return
	}
	if req.State != request.Approved || !req.ExpiresAt.IsZero() && !w.now().Before(req.ExpiresAt) {
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("This request is already %s. Run the command again if you need a new password.",
			stateWord(req, w.now()))))
		return
	}
	// runReset asks the gate again, as the last thing before IAM.
	if !w.runReset(ctx, req, request.Approved, gateAgain) {
		return // not taken: the offer and its button stand
	}
	m := passwordClaimedMessage(req, w.iamText(req.IAMUser, req.Account), w.now())
	if err := w.slack.Update(ctx, c.channelID, c.messageTS, m); err != nil {
		log.Warn("could not update the offer message", slog.Any(keyError, err))
	}
}

// endNoLonger ends a request the gate stopped: failed, with the outcome
// named in the audit trail, the approval message updated, and the owner
// told in words that reveal nothing.
func (w *Workflow) endNoLonger(ctx context.Context, log *slog.Logger, req request.Request, from request.State, o Outcome) {
	w.fail(ctx, log, req, from, o)
	if latest, err := w.store.Request(ctx, req.ID); err == nil {
		w.updateApprovalMessage(ctx, log, latest)
	}
	w.tellDM(ctx, log, req.SlackUser, failureMessage(o, req.ID))
}

// stateWord says how a request that can no longer be claimed stands.
func stateWord(req request.Request, now time.Time) string {
	if req.State == request.Approved && !req.ExpiresAt.IsZero() && !now.Before(req.ExpiresAt) {
		return string(request.Expired)
	}
	return string(req.State)
}

func (w *Workflow) updateApprovalMessage(ctx context.Context, log *slog.Logger, req request.Request) {
	if req.ApprovalChannel == "" || req.ApprovalTS == "" {
		return
	}
	m := decidedMessage(req, w.iamText(req.IAMUser, req.Account))
	if err := w.slack.Update(ctx, req.ApprovalChannel, req.ApprovalTS, m); err != nil {
		log.Warn("could not update the approval message", slog.Any(keyError, err))
	}
}

// sweepExpired expires pending requests nobody decided on in time, and
// approved ones whose owner never asked for the password.
func (w *Workflow) sweepExpired(ctx context.Context) {
	w.sweepUnclaimed(ctx)
	reqs, err := w.store.ExpiredPending(ctx, w.now())
	if err != nil {
		w.log.Error("could not list expired requests", slog.Any(keyError, err))
		return
	}
	for _, req := range reqs {
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser), slog.String(keyAccount, req.Account))
		expired, err := w.store.Move(ctx, req.ID, []request.State{request.Pending}, request.Expired, w.now(),
			func(r *request.Request) { r.Outcome = string(OutcomeExpired) })
		if errors.Is(err, store.ErrConflict) {
			continue // decided at the last moment
		}
		if err != nil {
			log.Error("could not expire the request", slog.Any(keyError, err))
			continue
		}
		log.Info("request expired")
		w.metrics.Decision(string(request.Expired))
		w.countIn(req.Account, OutcomeExpired)
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionExpired, Target: req.SlackUser, IAMUser: req.IAMUser})
		w.updateApprovalMessage(ctx, log, expired)
		w.tellDM(ctx, log, req.SlackUser, expiredMessage(req.ID))
	}
}

// replyToClick answers the clicker where they clicked, or in their DM
// with the bot when the bot cannot post there.
func (w *Workflow) replyToClick(ctx context.Context, log *slog.Logger, cb Click, m slacktext.Message) {
	if err := w.slack.Ephemeral(ctx, cb.ChannelID, cb.UserID, m); err == nil {
		return
	}
	w.tellEphemeral(ctx, log, cb.UserID, m)
}

// click is a button click that passed every check that needs no lookup.
type click struct {
	action, token                                      string
	userID, teamID, enterpriseID, channelID, messageTS string
	home                                               bool // Approve/Deny on an approver's Home tab
}

// parseClick accepts only what the bot itself sent: our block and action
// IDs, a well-formed token, from our own workspace and org. Everything else
// is an error. (The transport has already refused anything but a
// block_actions payload with exactly one action.)
func parseClick(a Click, self Identity) (click, error) {
	switch {
	case a.BlockID == blockDecision && (a.ActionID == actionApprove || a.ActionID == actionDeny):
	case a.BlockID == blockReveal && a.ActionID == actionReveal:
	case isHomeDecision(a):
	case a.BlockID == blockAccount && validChoiceClick(a.ActionID, a.Value):
		// Its value is a signed choice, verified in handleAccountChoice.
	default:
		return click{}, errors.New("an action the bot never sent")
	}
	if a.BlockID != blockAccount && !request.ValidToken(a.Value) {
		return click{}, errors.New("a malformed token")
	}
	if a.TeamID != self.TeamID || (a.UserTeamID != "" && a.UserTeamID != self.TeamID) || a.EnterpriseID != self.EnterpriseID {
		return click{}, errors.New("a click from another workspace or org")
	}
	if !config.IsSlackUserID(a.UserID) {
		return click{}, errors.New("a malformed user ID")
	}
	return click{action: a.ActionID, token: a.Value, userID: a.UserID, teamID: a.TeamID, enterpriseID: a.EnterpriseID,
		channelID: a.ChannelID, messageTS: a.MessageTS, home: isHomeDecision(a)}, nil
}

// sweepUnclaimed expires approvals whose owner did not ask for the
// password in time.
func (w *Workflow) sweepUnclaimed(ctx context.Context) {
	approved, err := w.store.RequestsInState(ctx, request.Approved)
	if err != nil {
		w.log.Error("could not list approved requests", slog.Any(keyError, err))
		return
	}
	now := w.now()
	for _, req := range approved {
		if req.ExpiresAt.IsZero() || now.Before(req.ExpiresAt) {
			continue
		}
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser), slog.String(keyAccount, req.Account))
		if _, err := w.store.Move(ctx, req.ID, []request.State{request.Approved}, request.Expired, now,
			func(r *request.Request) { r.Outcome = string(OutcomeUnclaimed) }); err != nil {
			if !errors.Is(err, store.ErrConflict) {
				log.Error("could not expire the approved request", slog.Any(keyError, err))
			}
			continue
		}
		log.Info("approved request expired: the owner never asked for the password")
		w.countIn(req.Account, OutcomeUnclaimed)
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionExpired, Target: req.SlackUser,
			IAMUser: req.IAMUser, Outcome: string(OutcomeUnclaimed)})
		w.tellDM(ctx, log, req.SlackUser, unclaimedMessage(req.ID))
	}
}
