package slackbot

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// commandKind is what the slash command's text asks for.
type commandKind int

const (
	commandHelp       commandKind = iota
	commandSelf                   // reset my own password
	commandOther                  // an approver resets someone else's
	commandBadMention             // "@name" typed without Slack linking it
)

// mentionPattern matches a user mention as Slack escapes it in command
// text: <@U123ABC> or <@U123ABC|name>.
var mentionPattern = regexp.MustCompile(`^<@([UW][A-Z0-9]{6,})(\|[^<>]*)?>$`)

// maxCommandText bounds what is parsed; real commands are a few words.
const maxCommandText = 1000

// parseCommand reads the text after the command. Anything it does not
// understand is a request for help, so nothing unexpected resets anything.
func parseCommand(text string) (commandKind, string) {
	if len(text) > maxCommandText {
		return commandHelp, ""
	}
	t := strings.TrimSpace(text)
	switch strings.ToLower(t) {
	case "", "me", "reset":
		return commandSelf, ""
	}
	if m := mentionPattern.FindStringSubmatch(t); m != nil {
		return commandOther, m[1]
	}
	if strings.HasPrefix(t, "@") && !strings.ContainsAny(t, " \t\n") {
		return commandBadMention, ""
	}
	return commandHelp, ""
}

// ackPayload turns a message into an ack payload: Slack shows it to the
// person who typed the command, only to them.
func ackPayload(m slacktext.Message) map[string]any {
	return map[string]any{"response_type": "ephemeral", "text": m.Text, "blocks": m.Blocks}
}

// preflight decides, without any network call, what the ack says. It
// returns a request ID when there is work to do.
func (b *Bot) preflight(cmd slack.SlashCommand) (requestID string, reply any) {
	switch kind, _ := parseCommand(cmd.Text); kind {
	case commandHelp:
		return "", ackPayload(helpMessage(b.cfg.Slack.Command))
	case commandBadMention:
		return "", ackPayload(mentionHelpMessage(b.cfg.Slack.Command))
	}
	id := request.NewID()
	return id, workingAck(id)
}

// handleCommand works on one acked slash command.
func (b *Bot) handleCommand(ctx context.Context, env envelope, requestID string, cmd slack.SlashCommand) {
	log := b.log.With(slog.String(keyRequest, requestID), slog.String(keyUser, truncate(cmd.UserID, 32)),
		slog.String(keyTeam, truncate(cmd.TeamID, 32)))
	if cmd.Command != b.cfg.Slack.Command {
		log.Warn("ignored a command the bot does not serve", slog.String("command", truncate(cmd.Command, 40)))
		return
	}
	kind, target := parseCommand(cmd.Text)
	if reason := b.checkPerson(ctx, cmd.TeamID, cmd.EnterpriseID, cmd.UserID); reason != "" {
		b.refuse(ctx, log, requestID, cmd.UserID, reason, "")
		return
	}
	if kind == commandOther && target != cmd.UserID {
		b.handleOther(ctx, log, env, requestID, cmd.UserID, target)
		return
	}

	user, listed := b.users[cmd.UserID]
	if !listed {
		b.refuse(ctx, log, requestID, cmd.UserID, refusedNotListed, "")
		return
	}
	log = log.With(slog.String(keyIAMUser, user.IAMUser))
	if b.isProtected(user.IAMUser) {
		b.refuse(ctx, log, requestID, cmd.UserID, refusedProtected, user.IAMUser)
		return
	}
	if b.cfg.Reset.Cooldown > 0 {
		last, err := b.store.LastDelivered(ctx, cmd.UserID)
		if err != nil {
			log.Error("read the cooldown from the store", slog.Any(keyError, err))
			b.tellEphemeral(ctx, log, cmd.UserID, failureMessage(outcomeInternal, requestID))
			return
		}
		if next := last.Add(b.cfg.Reset.Cooldown.D()); !last.IsZero() && b.now().Before(next) {
			b.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: cmd.UserID, Target: cmd.UserID,
				IAMUser: user.IAMUser, Outcome: outcomeCooldown}, cmd.UserID, cooldownMessage(next))
			return
		}
	}

	acct, err := b.resetter.Inspect(ctx, user.IAMUser)
	if err != nil {
		outcome := outcomeOf(err)
		log.Warn("could not read the IAM user; nothing reset", slog.String(keyOutcome, outcome), slog.Any(keyError, err))
		b.metrics.Reset(outcome)
		b.audit(ctx, log, request.AuditEvent{RequestID: requestID, Action: request.ActionFailed, Actor: cmd.UserID,
			Target: cmd.UserID, IAMUser: user.IAMUser, Outcome: outcome})
		b.tellEphemeral(ctx, log, cmd.UserID, failureMessage(outcome, requestID))
		return
	}
	if b.isProtectedPath(acct.Path) {
		b.refuse(ctx, log, requestID, cmd.UserID, refusedProtected, user.IAMUser)
		return
	}
	noMFA := b.cfg.Reset.RequireMFA && acct.MFADevices == 0

	req := request.Request{
		ID: requestID, Token: request.NewToken(), EnvelopeID: env.ID, TeamID: cmd.TeamID,
		SlackUser: cmd.UserID, IAMUser: user.IAMUser, RequestedBy: cmd.UserID, State: request.Approved,
	}
	switch {
	case noMFA && !b.cfg.Approval.Enabled():
		b.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: cmd.UserID, Target: cmd.UserID,
			IAMUser: user.IAMUser, Outcome: outcomeNoMFA}, cmd.UserID, noMFAMessage(user.IAMUser))
		return
	case noMFA, b.needsApproval(user):
		// Without MFA the Slack account alone would be the key to the AWS
		// account, so an approver must vouch even for people who need none.
		req.State = request.Pending
	}
	req, ok := b.create(ctx, log, req)
	if !ok {
		return
	}
	if req.State == request.Pending {
		b.requestApproval(ctx, log, req, noMFA)
		return
	}
	b.runReset(ctx, req, request.Approved)
}

// handleOther is "/aws-reset @someone": an approver starts a reset of a
// listed person's password. The person gets a button; the password goes to
// them alone, never the approver.
func (b *Bot) handleOther(ctx context.Context, log *slog.Logger, env envelope, requestID, admin, target string) {
	log = log.With(slog.String("target", target))
	ok, err := b.isApprover(ctx, admin)
	if err != nil {
		log.Error("could not tell whether the caller is an approver", slog.Any(keyError, err))
	}
	if !ok {
		b.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: admin, Target: target, Outcome: "not_approver"},
			admin, notApproverMessage())
		return
	}
	user, listed := b.users[target]
	reason := ""
	switch {
	case !listed:
		reason = refusedNotListed
	case b.isProtected(user.IAMUser):
		reason = refusedProtected
	default:
		reason = b.checkPerson(ctx, b.self.TeamID, b.self.EnterpriseID, target)
	}
	if reason == "" {
		// An approver vouches for the person, so no MFA gate here; the
		// protected paths still hold.
		acct, err := b.resetter.Inspect(ctx, user.IAMUser)
		switch {
		case err != nil:
			log.Warn("could not read the IAM user", slog.Any(keyError, err))
			reason = outcomeOf(err)
		case b.isProtectedPath(acct.Path):
			reason = refusedProtected
		}
	}
	if reason != "" {
		b.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: admin, Target: target, IAMUser: user.IAMUser,
			Outcome: reason}, admin, targetRefusedMessage(target))
		return
	}
	now := b.now()
	req, ok := b.create(ctx, log.With(slog.String(keyIAMUser, user.IAMUser)), request.Request{
		ID: requestID, Token: request.NewToken(), EnvelopeID: env.ID, TeamID: b.self.TeamID,
		SlackUser: target, IAMUser: user.IAMUser, RequestedBy: admin, State: request.Approved,
		DecidedBy: admin, DecidedAt: now, ExpiresAt: now.Add(b.cfg.Approval.Timeout.D()),
	})
	if !ok {
		return
	}
	b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionApproved, Actor: admin,
		Target: target, IAMUser: user.IAMUser, Outcome: "admin_initiated"})
	b.tellEphemeral(ctx, log, admin, adminStartedMessage(target, user.IAMUser, req.ID))
	// The person may not be looking at Slack: they get a button, and the
	// reset happens when they press it.
	b.offerPassword(ctx, log, req)
}

// needsApproval applies the per-person override to the global setting.
func (b *Bot) needsApproval(u config.User) bool {
	if u.Approval != nil {
		return *u.Approval && b.cfg.Approval.Enabled()
	}
	return b.cfg.Approval.Enabled()
}

// create records a new request and its audit row. It answers false, having
// told the person why, when the request must go no further.
func (b *Bot) create(ctx context.Context, log *slog.Logger, req request.Request) (request.Request, bool) {
	now := b.now()
	req.CreatedAt, req.UpdatedAt = now, now
	if req.State == request.Pending {
		req.ExpiresAt = now.Add(b.cfg.Approval.Timeout.D())
	}
	existing, err := b.store.CreateRequest(ctx, req)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		log.Info("ignored a redelivered command", slog.String("envelope_id", truncate(req.EnvelopeID, 64)))
		return req, false
	case errors.Is(err, store.ErrActiveRequest):
		log.Info("request refused: one already in progress", slog.String("active_request", existing.ID))
		b.metrics.Reset(outcomeActive)
		b.tellEphemeral(ctx, log, req.RequestedBy, activeRequestMessage(existing.ID))
		return req, false
	case err != nil:
		// No record, no reset.
		log.Error("could not record the request; nothing reset", slog.Any(keyError, err))
		b.metrics.Reset(outcomeInternal)
		b.tellEphemeral(ctx, log, req.RequestedBy, failureMessage(outcomeInternal, req.ID))
		return req, false
	}
	if err := b.store.AppendAudit(ctx, request.AuditEvent{Time: now, RequestID: req.ID, Action: request.ActionRequested,
		Actor: req.RequestedBy, Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(req.State)}); err != nil {
		log.Error("could not write the audit trail; nothing reset", slog.Any(keyError, err))
		b.fail(ctx, log, req, req.State, outcomeInternal)
		return req, false
	}
	log.Info("request created", slog.String("state", string(req.State)), slog.String("requested_by", req.RequestedBy))
	return req, true
}

// refuse tells the person, in the same words whatever the reason, that the
// bot will not reset a password for them.
func (b *Bot) refuse(ctx context.Context, log *slog.Logger, requestID, userID, reason, iamUser string) {
	msg := refusedMessage()
	if reason == refusedProtected {
		msg = protectedMessage()
	}
	tell := userID
	if reason == refusedBadID {
		tell = "" // nobody to answer
	}
	b.decline(ctx, log, request.AuditEvent{RequestID: requestID, Actor: userID, Target: userID, IAMUser: iamUser,
		Outcome: reason}, tell, msg)
}

// decline ends a request before anything changed: one log line, the
// metric, the audit row, and the words for whoever asked (tell; "" for
// nobody).
func (b *Bot) decline(ctx context.Context, log *slog.Logger, e request.AuditEvent, tell string, m slacktext.Message) {
	log.Info("request refused", slog.String(keyOutcome, e.Outcome))
	b.metrics.Reset(e.Outcome)
	e.Action = request.ActionRefused
	b.audit(ctx, log, e)
	if tell != "" {
		b.tellEphemeral(ctx, log, tell, m)
	}
}
