package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// How requests end, for metrics, logs, the audit trail and failureMessage.
const (
	outcomeDelivered       = "delivered"
	outcomeCooldown        = "cooldown"
	outcomeActive          = "already_active"
	outcomeNoLoginProfile  = "no_login_profile"
	outcomeAccessDenied    = "access_denied"
	outcomePolicy          = "policy_violation"
	outcomeTimeout         = "timeout"
	outcomeDeliveryFailed  = "delivery_failed"
	outcomeSlackFailed     = "slack_unreachable"
	outcomeDryRun          = "dry_run"
	outcomeInterrupted     = "interrupted"
	outcomeNoMFA           = "no_mfa"
	outcomeNoUser          = "no_iam_user"
	outcomeUnusedScrambled = "unused_password_overwritten"
	outcomeInternal        = "internal_error"
)

// outcomeOf maps a reset error to an outcome, by type, never by text.
func outcomeOf(err error) string {
	switch {
	case errors.Is(err, reset.ErrNoLoginProfile):
		return outcomeNoLoginProfile
	case errors.Is(err, reset.ErrNoSuchUser):
		return outcomeNoUser
	case errors.Is(err, reset.ErrAccessDenied):
		return outcomeAccessDenied
	case errors.Is(err, reset.ErrPolicyViolation):
		return outcomePolicy
	case errors.Is(err, context.DeadlineExceeded):
		return outcomeTimeout
	}
	return outcomeInternal
}

// runReset takes an approved request (or one left resetting by a crash)
// through the reset and the delivery. The state moves to Resetting before
// IAM is called, so a crash after the IAM call is found and resumed at the
// next start with a fresh password: nobody is left with a password that no
// one has seen.
func (b *Bot) runReset(ctx context.Context, req request.Request, from request.State) {
	log := b.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
	moved, err := b.store.Move(ctx, req.ID, []request.State{from}, request.Resetting, b.now(), nil)
	if errors.Is(err, store.ErrConflict) {
		log.Info("request already taken further elsewhere", slog.String("state", string(moved.State)))
		return
	}
	if err != nil {
		log.Error("could not record the reset; nothing reset", slog.Any(keyError, err))
		b.metrics.Reset(outcomeInternal)
		b.tellDM(ctx, log, req.SlackUser, failureMessage(outcomeInternal, req.ID))
		return
	}
	req = moved

	// Reach the person before touching AWS: a password nobody can be shown
	// must not be set.
	dm, err := b.openDM(ctx, req.SlackUser)
	if err != nil {
		log.Error("could not open a DM with the person; nothing reset", slog.Any(keyError, err))
		b.fail(ctx, log, req, request.Resetting, outcomeSlackFailed)
		return
	}

	if b.cfg.Reset.DryRun {
		if err := b.resetter.Check(ctx, req.IAMUser); err != nil {
			b.failReset(ctx, log, req, err)
			return
		}
		b.postEphemeral(ctx, log, dm, req.SlackUser, dryRunMessage(req.IAMUser, req.ID))
		b.fail(ctx, log, req, request.Resetting, outcomeDryRun)
		return
	}

	secret, err := b.resetter.Reset(ctx, req.IAMUser)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// Shutdown cut the IAM call short: whether IAM took the new password
		// is unknown. Leave the request resetting; the next start resumes it
		// with a fresh password.
		log.Warn("stopped mid-reset; the next start resumes this request")
		return
	}
	// From here on IAM may hold a new password: finish, deliver or record
	// the failure, even if the request's deadline has just passed.
	ctx, cancel := finishing(ctx)
	defer cancel()
	if err != nil {
		b.failReset(ctx, log, req, err)
		return
	}
	b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionReset, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: "password_set"})

	msg := passwordMessage(req.IAMUser, secret, b.opts.ConsoleURL, req.ID)
	if _, err := b.api.PostEphemeralContext(ctx, dm, req.SlackUser,
		msg.Options()...); err != nil {
		log.Error("could not deliver the password; nobody has seen it", slog.Any(keyError, err))
		b.fail(ctx, log, req, request.Resetting, outcomeDeliveryFailed)
		b.tellDM(ctx, log, req.SlackUser, failureMessage(outcomeDeliveryFailed, req.ID))
		return
	}

	now := b.now()
	if _, err := b.store.Move(ctx, req.ID, []request.State{request.Resetting}, request.Delivered, now,
		func(r *request.Request) { r.Outcome = outcomeDelivered }); err != nil {
		// The person has the password; only the record lags. At the next
		// start this request resumes and sends a fresh one, which is safe.
		log.Error("password delivered but the store did not record it", slog.Any(keyError, err))
	}
	b.metrics.Reset(outcomeDelivered)
	b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionDelivered, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: outcomeDelivered})
	log.Info("password reset and delivered", slog.String(keyOutcome, outcomeDelivered))

	by := ""
	if req.RequestedBy != req.SlackUser {
		by = req.RequestedBy
	}
	b.postMessage(ctx, log, dm, resetNotice(req.IAMUser, req.ID, now, by))
	b.mirrorAudit(ctx, log, fmt.Sprintf("%s: console password of %s reset for %s%s; delivered.",
		req.ID, slacktext.Code(req.IAMUser), slacktext.Mention(req.SlackUser), byText(by)))
}

func byText(by string) string {
	if by == "" {
		return ""
	}
	return " by " + slacktext.Mention(by)
}

// failReset ends a request whose IAM call failed; nothing was changed in
// AWS, or the change is unknown to everyone.
func (b *Bot) failReset(ctx context.Context, log *slog.Logger, req request.Request, err error) {
	ctx, cancel := finishing(ctx)
	defer cancel()
	outcome := outcomeOf(err)
	if outcome == outcomeAccessDenied {
		log.Error("AWS denied the bot's IAM call: grant iam:UpdateLoginProfile on this user to the bot's identity (see `bot policy`)",
			slog.Any(keyError, err))
	} else {
		log.Warn("reset failed", slog.String(keyOutcome, outcome), slog.Any(keyError, err))
	}
	b.fail(ctx, log, req, request.Resetting, outcome)
	b.tellDM(ctx, log, req.SlackUser, failureMessage(outcome, req.ID))
}

// fail moves a request to Failed and records why.
func (b *Bot) fail(ctx context.Context, log *slog.Logger, req request.Request, from request.State, outcome string) {
	ctx, cancel := finishing(ctx)
	defer cancel()
	if _, err := b.store.Move(ctx, req.ID, []request.State{from}, request.Failed, b.now(),
		func(r *request.Request) { r.Outcome = outcome }); err != nil {
		log.Error("could not record the failure", slog.Any(keyError, err))
	}
	b.metrics.Reset(outcome)
	b.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionFailed, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: outcome})
	b.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s failed: %s.", req.ID, slacktext.Code(req.IAMUser), slacktext.Mention(req.SlackUser), outcome))
}

// finishTimeout bounds the steps after a request's deadline: recording
// how it ended and telling the person. It outlasts a Retry-After of a
// per-minute Slack tier (up to a minute) and the paced queue behind it, so
// a password already set in IAM still reaches its owner under throttling.
const finishTimeout = 3 * time.Minute

// finishing returns a context for those steps: not cancelled with ctx, so a
// request that ran out of time still records its end and says so.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
}

// resume finishes what a previous run left. A request caught resetting
// gets a fresh password, so nobody is left with one nobody saw. An approved
// request whose owner has a button to press keeps waiting for the click; one
// that was about to be reset when the run stopped is ended, and its owner
// told, because they may no longer be looking at Slack.
func (b *Bot) resume(ctx context.Context) {
	reqs, err := b.store.RequestsInState(ctx, request.Resetting)
	if err != nil {
		b.log.Error("could not list requests to resume", slog.Any(keyError, err))
	}
	for _, req := range reqs {
		b.log.Info("resuming a request left resetting by the previous run", slog.String(keyRequest, req.ID))
		b.goWork(ctx, func(ctx context.Context) { b.runReset(ctx, req, request.Resetting) })
	}
	approved, err := b.store.RequestsInState(ctx, request.Approved)
	if err != nil {
		b.log.Error("could not list approved requests", slog.Any(keyError, err))
	}
	for _, req := range approved {
		if req.DecidedBy != "" {
			continue // offered to its owner; the button still works
		}
		log := b.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser))
		b.goWork(ctx, func(ctx context.Context) {
			b.fail(ctx, log, req, request.Approved, outcomeInterrupted)
			b.tellDM(ctx, log, req.SlackUser, failureMessage(outcomeInterrupted, req.ID))
		})
	}
}

// audit appends to the audit trail. A failure is logged: the request row
// itself already records what happened.
func (b *Bot) audit(ctx context.Context, log *slog.Logger, e request.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	if err := b.store.AppendAudit(ctx, e); err != nil {
		log.Error("could not append to the audit trail", slog.String("action", e.Action), slog.Any(keyError, err))
	}
}

// mirrorAudit posts an outcome to the audit channel, if one is set.
func (b *Bot) mirrorAudit(ctx context.Context, log *slog.Logger, text string) {
	if b.cfg.Audit.Channel == "" {
		return
	}
	b.postMessage(ctx, log, b.cfg.Audit.Channel, slacktext.Plain(text))
}
