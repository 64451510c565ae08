package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// runReset takes an approved request (or one left resetting by a crash)
// through the reset and the delivery. The state moves to Resetting before
// IAM is called, so a crash after the IAM call is found and resumed at the
// next start with a fresh password: nobody is left with a password that no
// one has seen.
func (w *Workflow) runReset(ctx context.Context, req request.Request, from request.State) {
	log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
	moved, err := w.store.Move(ctx, req.ID, []request.State{from}, request.Resetting, w.now(), nil)
	if errors.Is(err, store.ErrConflict) {
		log.Info("request already taken further elsewhere", slog.String("state", string(moved.State)))
		return
	}
	if err != nil {
		log.Error("could not record the reset; nothing reset", slog.Any(keyError, err))
		w.count(OutcomeInternal)
		w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeInternal, req.ID))
		return
	}
	req = moved

	// Reach the person before touching AWS: a password nobody can be shown
	// must not be set.
	dm, err := w.openDM(ctx, req.SlackUser)
	if err != nil {
		log.Error("could not open a DM with the person; nothing reset", slog.Any(keyError, err))
		w.fail(ctx, log, req, request.Resetting, OutcomeSlackFailed)
		return
	}

	if w.cfg.Reset.DryRun {
		if err := w.resetter.Check(ctx, req.IAMUser); err != nil {
			w.failReset(ctx, log, req, err)
			return
		}
		w.postEphemeral(ctx, log, dm, req.SlackUser, dryRunMessage(req.IAMUser, req.ID))
		w.fail(ctx, log, req, request.Resetting, OutcomeDryRun)
		return
	}

	secret, err := w.resetter.Reset(ctx, req.IAMUser)
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
		w.failReset(ctx, log, req, err)
		return
	}
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionReset, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomePasswordSet)})

	msg := passwordMessage(req.IAMUser, secret, w.console, req.ID)
	if err := w.slack.PostEphemeral(ctx, dm, req.SlackUser, msg); err != nil {
		log.Error("could not deliver the password; nobody has seen it", slog.Any(keyError, err))
		w.fail(ctx, log, req, request.Resetting, OutcomeDeliveryFailed)
		w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeDeliveryFailed, req.ID))
		return
	}

	now := w.now()
	if _, err := w.store.Move(ctx, req.ID, []request.State{request.Resetting}, request.Delivered, now,
		func(r *request.Request) { r.Outcome = string(OutcomeDelivered) }); err != nil {
		// The person has the password; only the record lags. At the next
		// start this request resumes and sends a fresh one, which is safe.
		log.Error("password delivered but the store did not record it", slog.Any(keyError, err))
	}
	w.count(OutcomeDelivered)
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionDelivered, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomeDelivered)})
	log.Info("password reset and delivered", slog.String(keyOutcome, string(OutcomeDelivered)))

	by := ""
	if req.RequestedBy != req.SlackUser {
		by = req.RequestedBy
	}
	w.postMessage(ctx, log, dm, resetNotice(req.IAMUser, req.ID, now, by))
	w.mirrorAudit(ctx, log, fmt.Sprintf("%s: console password of %s reset for %s%s; delivered.",
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
func (w *Workflow) failReset(ctx context.Context, log *slog.Logger, req request.Request, err error) {
	ctx, cancel := finishing(ctx)
	defer cancel()
	outcome := outcomeOf(err)
	if outcome == OutcomeAccessDenied {
		log.Error("AWS denied the bot's IAM call: grant iam:UpdateLoginProfile on this user to the bot's identity (see `bot policy`)",
			slog.Any(keyError, err))
	} else {
		log.Warn("reset failed", slog.String(keyOutcome, string(outcome)), slog.Any(keyError, err))
	}
	w.fail(ctx, log, req, request.Resetting, outcome)
	w.tellDM(ctx, log, req.SlackUser, failureMessage(outcome, req.ID))
}

// fail moves a request to Failed and records why.
func (w *Workflow) fail(ctx context.Context, log *slog.Logger, req request.Request, from request.State, outcome Outcome) {
	ctx, cancel := finishing(ctx)
	defer cancel()
	if _, err := w.store.Move(ctx, req.ID, []request.State{from}, request.Failed, w.now(),
		func(r *request.Request) { r.Outcome = string(outcome) }); err != nil {
		log.Error("could not record the failure", slog.Any(keyError, err))
	}
	w.count(outcome)
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionFailed, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(outcome)})
	w.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s failed: %s.", req.ID, slacktext.Code(req.IAMUser), slacktext.Mention(req.SlackUser), outcome))
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
func (w *Workflow) resume(ctx context.Context) []func(context.Context) {
	var jobs []func(context.Context)
	reqs, err := w.store.RequestsInState(ctx, request.Resetting)
	if err != nil {
		w.log.Error("could not list requests to resume", slog.Any(keyError, err))
	}
	for _, req := range reqs {
		w.log.Info("resuming a request left resetting by the previous run", slog.String(keyRequest, req.ID))
		jobs = append(jobs, func(ctx context.Context) { w.runReset(ctx, req, request.Resetting) })
	}
	approved, err := w.store.RequestsInState(ctx, request.Approved)
	if err != nil {
		w.log.Error("could not list approved requests", slog.Any(keyError, err))
	}
	for _, req := range approved {
		if req.DecidedBy != "" {
			continue // offered to its owner; the button still works
		}
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser))
		jobs = append(jobs, func(ctx context.Context) {
			w.fail(ctx, log, req, request.Approved, OutcomeInterrupted)
			w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeInterrupted, req.ID))
		})
	}
	return jobs
}

// audit appends to the audit trail. A failure is logged: the request row
// itself already records what happened.
func (w *Workflow) audit(ctx context.Context, log *slog.Logger, e request.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = w.now()
	}
	if err := w.store.AppendAudit(ctx, e); err != nil {
		log.Error("could not append to the audit trail", slog.String("action", e.Action), slog.Any(keyError, err))
	}
}

// mirrorAudit posts an outcome to the audit channel, if one is set.
func (w *Workflow) mirrorAudit(ctx context.Context, log *slog.Logger, text string) {
	if w.cfg.Audit.Channel == "" {
		return
	}
	w.postMessage(ctx, log, w.cfg.Audit.Channel, slacktext.Plain(text))
}
