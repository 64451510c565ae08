package workflow

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// Preflight decides, without any call, what the ack of a command says. It
// returns a new request ID when there is work to do (the ack then says
// WorkingMessage(requestID)), or else the whole answer.
func (w *Workflow) Preflight(cmd Command) (requestID string, answer slacktext.Message) {
	switch p := parseCommand(cmd.Text, w.isAccount); {
	case reasonTooLong(typedReason(p.reason)):
		return "", reasonTooLongMessage()
	case p.kind == commandHelp:
		return "", w.withAccountsHelp(helpMessage(w.cfg.Slack.Command))
	case p.kind == commandBadMention:
		return "", mentionHelpMessage(w.cfg.Slack.Command)
	}
	if m, down := w.storeDownAnswer(); down {
		return "", m // nothing that could not be recorded is started
	}
	return request.NewID(), slacktext.Message{}
}

// HandleCommand works on one acked slash command.
func (w *Workflow) HandleCommand(ctx context.Context, cmd Command, requestID string) {
	defer w.releaseCommand(ctx, requestID) // handled, however it ends (replicas.go)
	w.busy.add(requestID)                  // worked on here until it returns
	defer w.busy.done(requestID)
	log := w.log.With(slog.String(keyRequest, requestID), slog.String(keyUser, truncate(cmd.UserID, 32)),
		slog.String(keyTeam, truncate(cmd.TeamID, 32)))
	if cmd.Command != w.cfg.Slack.Command {
		log.Warn("ignored a command the bot does not serve", slog.String("command", truncate(cmd.Command, 40)))
		return
	}
	p := parseCommand(cmd.Text, w.isAccount)
	if cmd.parsed != nil {
		p = *cmd.parsed // from the reason modal or the Home tab: never parsed
	} else {
		p.reason = typedReason(p.reason)
	}
	kind, target := p.kind, p.target
	if !config.IsSlackUserID(cmd.UserID) {
		w.refuse(ctx, log, requestID, cmd.UserID, RefusedBadID, "")
		return
	}
	if cmd.TeamID != w.self.TeamID || cmd.EnterpriseID != w.self.EnterpriseID {
		w.refuse(ctx, log, requestID, cmd.UserID, RefusedForeignTeam, "")
		return
	}
	if kind == commandOther && target != cmd.UserID {
		if reason := w.checkPerson(ctx, cmd.TeamID, cmd.EnterpriseID, cmd.UserID); reason != "" {
			w.refuse(ctx, log, requestID, cmd.UserID, reason, "")
			return
		}
		w.handleOther(ctx, log, cmd, requestID, p)
		return
	}

	w.startSelf(ctx, log, cmd, requestID, p)
}

// startSelf is a person's request for their own password, in the account
// they named, or in their only one; listed in several and naming none,
// they get a button per account (offerAccounts), and the click comes back
// here with the account named.
func (w *Workflow) startSelf(ctx context.Context, log *slog.Logger, cmd Command, requestID string, p parsedCommand) {
	account := p.account
	if account == "" {
		names := w.accountsListed(cmd.UserID)
		if len(names) > 1 {
			w.offerAccounts(ctx, log, cmd, requestID, p, names)
			return
		}
		if len(names) == 1 {
			account = names[0]
		}
	}
	user, listed := w.listingOf(cmd.UserID, account)
	if !listed {
		// An account they are not listed in reads as not being listed.
		w.decline(ctx, log.With(slog.String(keyAccount, account)), request.AuditEvent{RequestID: requestID, Account: account, Actor: cmd.UserID, Target: cmd.UserID,
			Outcome: string(RefusedNotListed)}, cmd.UserID, refusedMessage())
		return
	}
	log = log.With(slog.String(keyIAMUser, user.IAMUser), slog.String(keyAccount, account))
	if reasonTooLong(p.reason) {
		w.tellEphemeral(ctx, log, cmd.UserID, reasonTooLongMessage())
		return
	}
	p.account = account // the modal's answer comes back with the account chosen
	if p.reason == "" && w.needsApproval(user) && w.needsReason(account) &&
		w.checkPerson(ctx, cmd.TeamID, cmd.EnterpriseID, cmd.UserID) == "" {
		// Asked before the IAM look-ups: the trigger lasts 3 seconds. Only
		// full members are asked, so the modal tells nobody else that they
		// are listed; the gate runs in full once the reason is given.
		w.askReason(ctx, log, cmd, requestID, p)
		return
	}
	req := request.Request{
		ID: requestID, Token: request.NewToken(), EnvelopeID: cmd.EnvelopeID, TeamID: cmd.TeamID,
		SlackUser: cmd.UserID, IAMUser: user.IAMUser, RequestedBy: cmd.UserID, State: request.Approved,
		Reason: p.reason, Account: account,
	}
	acct, o := w.mayProceed(ctx, req)
	if o != "" {
		m := failureMessage(o, requestID)
		if o.refusal() {
			m = refusalMessage(o) // the same words for every refusal
		}
		w.refuseAtCreation(ctx, log, req, o, cmd.UserID, m)
		return
	}
	noMFA := w.cfg.Reset.RequireMFA && acct.MFADevices == 0

	switch {
	case noMFA && !w.approvalFor(account).Enabled():
		w.decline(ctx, log, request.AuditEvent{RequestID: requestID, Account: account, Actor: cmd.UserID, Target: cmd.UserID,
			IAMUser: user.IAMUser, Outcome: string(OutcomeNoMFA)}, cmd.UserID, noMFAMessage(w.iamText(user.IAMUser, account)))
		return
	case noMFA, w.needsApproval(user):
		// Without MFA the Slack account alone would be the key to the AWS
		// account, so an approver must vouch even for people who need none.
		req.State = request.Pending
		if p.reason == "" && w.needsReason(account) {
			w.askReason(ctx, log, cmd, requestID, p)
			return
		}
	}
	req, ok := w.create(ctx, log, req)
	if !ok {
		return
	}
	if req.State == request.Pending {
		w.requestApproval(ctx, log, req, noMFA)
		return
	}
	// The gate ran a moment ago, with nothing waited for since: the reset
	// needs no second look-up.
	w.runReset(ctx, req, request.Approved, gateChecked)
}

// handleOther is "/aws-reset @someone": an approver starts a reset of a
// listed person's password. The person gets a button; the password goes to
// them alone, never the approver.
func (w *Workflow) handleOther(ctx context.Context, log *slog.Logger, cmd Command, requestID string, p parsedCommand) {
	target := p.target
	admin := cmd.UserID
	log = log.With(slog.String("target", target))
	ok, err := w.isApprover(ctx, admin)
	if err != nil {
		log.Error("could not tell whether the caller is an approver", slog.Any(keyError, err))
	}
	if !ok {
		w.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: admin, Target: target, Outcome: string(RefusedNotApprover)},
			admin, notApproverMessage())
		return
	}
	account := p.account
	names := w.accountsListed(target)
	_, inOwn := w.listingOf(target, "")
	switch {
	case account != "" || inOwn:
		// Named, or the bot's own account as before accounts existed.
	case len(names) == 1:
		account = names[0]
	case len(names) > 1:
		// The approver names the account: buttons for them would be a
		// choice made for someone else.
		log.Info("asked the approver which AWS account")
		w.tellEphemeral(ctx, log, admin, whichAccountMessage(w.cfg.Slack.Command, target, names))
		return
	}
	user, listed := w.listingOf(target, account)
	if !listed {
		w.decline(ctx, log, request.AuditEvent{RequestID: requestID, Account: account, Actor: admin, Target: target,
			Outcome: string(RefusedNotListed)}, admin, targetRefusedMessage(target))
		return
	}
	log = log.With(slog.String(keyAccount, account))
	if ok, err := w.isApproverIn(ctx, admin, account); err != nil || !ok {
		// An approver of another account only (aws.accounts[i].approval).
		w.decline(ctx, log, request.AuditEvent{RequestID: requestID, Account: account, Actor: admin, Target: target,
			Outcome: string(RefusedNotApprover)}, admin, notApproverMessage())
		return
	}
	now := w.now()
	candidate := request.Request{
		ID: requestID, Token: request.NewToken(), EnvelopeID: cmd.EnvelopeID, TeamID: w.self.TeamID,
		SlackUser: target, IAMUser: user.IAMUser, RequestedBy: admin, State: request.Approved, Reason: p.reason, Account: account,
		DecidedBy: admin, DecidedAt: now, ExpiresAt: now.Add(w.approvalFor(account).Timeout.D()),
	}
	// An approver vouches for the person, so no MFA rule here; everything
	// else in the gate holds.
	if _, o := w.mayProceed(ctx, candidate); o != "" {
		w.refuseAtCreation(ctx, log, candidate, o, admin, targetRefusedMessage(target))
		return
	}
	req, ok := w.create(ctx, log.With(slog.String(keyIAMUser, user.IAMUser)), candidate)
	if !ok {
		return
	}
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionApproved, Actor: admin,
		Target: target, IAMUser: user.IAMUser, Outcome: string(OutcomeAdminInitiated)})
	w.tellEphemeral(ctx, log, admin, adminStartedMessage(target, w.iamText(user.IAMUser, account), req.ID))
	// The person may not be looking at Slack: they get a button, and the
	// reset happens when they press it.
	w.offerPassword(ctx, log, req)
}

// needsApproval applies the per-person override to the setting of the
// person's account.
func (w *Workflow) needsApproval(u config.User) bool {
	enabled := w.approvalFor(u.Account).Enabled()
	if u.Approval != nil {
		return *u.Approval && enabled
	}
	return enabled
}

// create records a new request and its audit row. It answers false, having
// told the person why, when the request must go no further.
func (w *Workflow) create(ctx context.Context, log *slog.Logger, req request.Request) (request.Request, bool) {
	now := w.now()
	req.CreatedAt, req.UpdatedAt = now, now
	if req.State == request.Pending {
		req.ExpiresAt = now.Add(w.approvalFor(req.Account).Timeout.D())
	}
	existing, err := w.holdThenCreate(ctx, req)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		log.Info("ignored a redelivered command", slog.String("envelope_id", truncate(req.EnvelopeID, 64)))
		return req, false
	case errors.Is(err, store.ErrCooldown):
		next := existing.UpdatedAt.Add(w.cfg.Reset.Cooldown.D()) // UpdatedAt: when it was delivered
		w.decline(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Actor: req.RequestedBy, Target: req.SlackUser,
			IAMUser: req.IAMUser, Outcome: string(OutcomeCooldown)}, req.RequestedBy, cooldownMessage(next))
		return req, false
	case errors.Is(err, store.ErrActiveRequest):
		log.Info("request refused: one already in progress", slog.String("active_request", existing.ID))
		w.countIn(req.Account, OutcomeActive)
		m := activeRequestMessage(existing.ID)
		if req.RequestedBy != req.SlackUser {
			m = targetActiveMessage(req.SlackUser, existing.ID)
		}
		w.tellEphemeral(ctx, log, req.RequestedBy, m)
		return req, false
	case err != nil:
		// No record, no reset.
		log.Error("could not record the request; nothing reset", slog.Any(keyError, err))
		w.countIn(req.Account, OutcomeInternal)
		w.tellEphemeral(ctx, log, req.RequestedBy, failureMessage(OutcomeInternal, req.ID))
		return req, false
	}
	if err := w.store.AppendAudit(ctx, request.AuditEvent{Time: now, RequestID: req.ID, Account: req.Account, Action: request.ActionRequested,
		Actor: req.RequestedBy, Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(req.State), Reason: req.Reason}); err != nil {
		log.Error("could not write the audit trail; nothing reset", slog.Any(keyError, err))
		w.fail(ctx, log, req, req.State, OutcomeInternal)
		return req, false
	}
	log.Info("request created", slog.String("state", string(req.State)), slog.String("requested_by", req.RequestedBy))
	return req, true
}

// cooldownFor is the cooldown a new request is held to: the person's own
// requests only; an approver acting for someone vouches for the timing.
func (w *Workflow) cooldownFor(req request.Request) time.Duration {
	if req.RequestedBy != req.SlackUser {
		return 0
	}
	return w.cfg.Reset.Cooldown.D()
}

// refuseAtCreation ends a request the gate stopped before it was
// recorded: a refusal, or a failure to read the IAM user. tell hears m.
func (w *Workflow) refuseAtCreation(ctx context.Context, log *slog.Logger, req request.Request, o Outcome, tell string, m slacktext.Message) {
	e := request.AuditEvent{RequestID: req.ID, Account: req.Account, Actor: req.RequestedBy, Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(o)}
	if o.refusal() {
		if o == RefusedBadID {
			tell = "" // nobody to answer
		}
		w.decline(ctx, log, e, tell, m)
		return
	}
	log.Warn("could not check the IAM user; nothing reset", slog.String(keyOutcome, string(o)))
	w.countIn(req.Account, o)
	e.Action = request.ActionFailed
	w.audit(ctx, log, e)
	w.tellEphemeral(ctx, log, tell, m)
}

// refuse tells the person, in the same words whatever the reason, that the
// bot will not reset a password for them.
func (w *Workflow) refuse(ctx context.Context, log *slog.Logger, requestID, userID string, reason Outcome, iamUser string) {
	msg := refusalMessage(reason)
	tell := userID
	if reason == RefusedBadID {
		tell = "" // nobody to answer
	}
	w.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: userID, Target: userID, IAMUser: iamUser,
		Outcome: string(reason)}, tell, msg)
}

// decline ends a request before anything changed: one log line, the
// metric, the audit row, and the words for whoever asked (tell; "" for
// nobody).
func (w *Workflow) decline(ctx context.Context, log *slog.Logger, e request.AuditEvent, tell string, m slacktext.Message) {
	log.Info("request refused", slog.String(keyOutcome, e.Outcome))
	w.countIn(e.Account, Outcome(e.Outcome))
	e.Action = request.ActionRefused
	w.audit(ctx, log, e)
	if tell != "" {
		w.tellEphemeral(ctx, log, tell, m)
	}
}
