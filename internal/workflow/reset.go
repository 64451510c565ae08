package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// gateDone says whether the gate (mayProceed) ran just before runReset,
// with nothing waited for since.
type gateDone bool

const (
	gateAgain   gateDone = false
	gateChecked gateDone = true
)

// runReset takes an approved request through the reset and the delivery.
// The state moves to Resetting before IAM is called, so a crash after the
// IAM call is found at the next start and offered to its owner again (see
// resume): nobody is left with a password that no one has seen. Before the
// password is shown the request is marked (outcome password_set), so a
// crash while it is on its way ends the request instead: its owner may
// have that password, and an offer would overwrite it.
//
// It reports false when it left the request as it was, for a later try
// (this replica's lease was short): an offer the owner clicked still
// stands.
func (w *Workflow) runReset(ctx context.Context, req request.Request, from request.State, gate gateDone) (taken bool) {
	log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser),
		slog.String(keyAccount, req.Account))
	ctx = awsclient.WithRequestID(ctx, req.ID) // CloudTrail then names the request
	resetter := w.resetterFor(req.Account)
	if w.leaseShort() {
		// Not taken into work: another replica may take the same click,
		// and an offer standing stays as it is (a request just created is
		// offered again by the sweep).
		log.Warn("this replica's heartbeats have not reached the store lately; not starting a reset", slog.Duration("lease_left", w.leaseLeft()))
		w.tellDM(ctx, log, req.SlackUser, leaseLostMessage(req.ID))
		return false
	}
	w.busy.add(req.ID) // before it is held: a sweep never takes it for let go
	defer w.busy.done(req.ID)
	moved, err := w.holdThenReset(ctx, req.ID, from)
	if errors.Is(err, store.ErrConflict) {
		log.Info("request already taken further elsewhere", slog.String("state", string(moved.State)))
		return true
	}
	if err != nil {
		log.Error("could not record the reset; nothing reset", slog.Any(keyError, err))
		w.countIn(req.Account, OutcomeInternal)
		w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeInternal, req.ID))
		return true
	}
	req = moved

	// Reach the person before touching AWS: a password nobody can be shown
	// must not be set.
	dm, err := w.openDM(ctx, req.SlackUser)
	if err != nil {
		log.Error("could not open a DM with the person; nothing reset", slog.Any(keyError, err))
		w.fail(ctx, log, req, request.Resetting, OutcomeSlackFailed)
		return true
	}

	if !gate {
		// The last thing before IAM: ask the gate again, now.
		acct, o := w.mayProceed(ctx, req)
		if o == "" && req.DecidedBy == "" && w.cfg.Reset.RequireMFA && acct.MFADevices == 0 {
			o = OutcomeNoMFA // self-service, and the MFA device is gone since
		}
		if o != "" {
			log.Warn("no longer allowed; nothing reset", slog.String(keyOutcome, string(o)))
			w.fail(ctx, log, req, request.Resetting, o)
			w.tellDM(ctx, log, req.SlackUser, failureMessage(o, req.ID))
			return true
		}
	}

	if w.cfg.Reset.DryRun {
		if err := resetter.Check(ctx, req.IAMUser); err != nil {
			w.failReset(ctx, log, req, err)
			return true
		}
		w.postEphemeral(ctx, log, dm, req.SlackUser, dryRunMessage(w.iamText(req.IAMUser, req.Account), req.ID))
		w.fail(ctx, log, req, request.Resetting, OutcomeDryRun)
		return true
	}

	// IAM acts only while the other replicas still count this one alive:
	// after that, one of them may offer the request again, and its owner
	// take a password from there that this call would overwrite.
	lease := w.leaseLeft()
	if w.leaseShort() {
		log.Warn("this replica's heartbeats have not reached the store lately; nothing reset, and the request is offered to its owner again",
			slog.Duration("lease_left", lease))
		w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeInterrupted, req.ID))
		return true // the next sweep here (resumeLetGo), or another replica, offers it
	}
	iamCtx, cancelIAM := context.WithTimeout(ctx, lease)
	secret, err := resetter.Reset(iamCtx, req.IAMUser)
	leaseOut := errors.Is(iamCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancelIAM()
	if err != nil && (errors.Is(ctx.Err(), context.Canceled) || leaseOut) {
		// Shutdown, or the end of this replica's lease, cut the IAM call
		// short: whether IAM took the new password is unknown. Leave the
		// request resetting; it is offered to its owner again (at the
		// next start, or by the sweep).
		log.Warn("stopped mid-reset; this request is offered to its owner again", slog.Bool("lease_ended", leaseOut))
		return true
	}
	// From here on IAM may hold a new password: finish, deliver or record
	// the failure, even if the request's deadline has just passed.
	ctx, cancel := finishing(ctx)
	defer cancel()
	if err != nil {
		w.failReset(ctx, log, req, err)
		return true
	}
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionReset, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomePasswordSet)})

	// Mark the request before its password is shown, only if this replica
	// still holds it: once marked, nobody offers it again (its owner may
	// have the password); if another replica offered it again meanwhile,
	// the password is not shown, and the offer stands.
	if _, err := w.moveHeld(ctx, req.ID, request.Resetting, request.Resetting, func(r request.Request) bool { return r.Outcome == "" },
		func(r *request.Request) { r.Outcome = string(OutcomePasswordSet) }); err != nil {
		if errors.Is(err, store.ErrConflict) {
			log.Warn("another replica took this request over while its reset was under way; its password is not shown, the new offer stands",
				slog.Any(keyError, err))
			return true
		}
		log.Error("could not record that the password is being shown; it is not shown, and the request is offered to its owner again",
			slog.Any(keyError, err))
		w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeInterrupted, req.ID))
		return true
	}

	msg := passwordMessage(w.iamText(req.IAMUser, req.Account), secret, w.consoleFor(req.Account), req.ID)
	if err := w.slack.Ephemeral(ctx, dm, req.SlackUser, msg); err != nil {
		log.Error("could not deliver the password; nobody has seen it", slog.Any(keyError, err))
		w.fail(ctx, log, req, request.Resetting, OutcomeDeliveryFailed)
		w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeDeliveryFailed, req.ID))
		return true
	}

	now := w.now()
	if _, err := w.moveHeld(ctx, req.ID, request.Resetting, request.Delivered, nil,
		func(r *request.Request) { r.Outcome = string(OutcomeDelivered) }); err != nil {
		// The person has the password; only the record lags. The request
		// is marked as being shown, so it is ended (at the next start, or
		// the next sweep) with words saying so, never offered again.
		log.Error("password delivered but the store did not record it", slog.Any(keyError, err))
	}
	w.countIn(req.Account, OutcomeDelivered)
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionDelivered, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomeDelivered)})
	log.Info("password reset and delivered", slog.String(keyOutcome, string(OutcomeDelivered)))

	by := ""
	if req.RequestedBy != req.SlackUser {
		by = req.RequestedBy
	}
	w.postMessage(ctx, log, dm, resetNotice(w.iamText(req.IAMUser, req.Account), req.ID, now, by))
	w.mirrorAudit(ctx, log, fmt.Sprintf("%s: console password of %s reset for %s%s; delivered.%s",
		req.ID, w.iamText(req.IAMUser, req.Account), slacktext.Mention(req.SlackUser), byText(by), reasonText(req.Reason)))
	return true
}

func byText(by string) string {
	if by == "" {
		return ""
	}
	return " by " + slacktext.Mention(by)
}

// reasonText is the requester's reason, if they gave one, as the
// approvers see it (reasonLine): typed text, so nothing in it acts.
func reasonText(reason string) string {
	if reason == "" {
		return ""
	}
	return " " + reasonLine(reason)
}

// failReset ends a request whose IAM call failed; nothing was changed in
// AWS, or the change is unknown to everyone.
func (w *Workflow) failReset(ctx context.Context, log *slog.Logger, req request.Request, err error) {
	ctx, cancel := finishing(ctx)
	defer cancel()
	outcome := outcomeOf(err)
	w.noteUnreachable(log, err)
	if outcome == OutcomeUnreachable {
		// Logged with the role and STS's code just above.
	} else if outcome == OutcomeAccessDenied {
		log.Error("AWS denied the bot's IAM call: grant iam:UpdateLoginProfile on this user to the bot's identity (see `bot policy`)",
			slog.Any(keyError, err))
	} else {
		log.Warn("reset failed", slog.String(keyOutcome, string(outcome)), slog.Any(keyError, err))
	}
	w.fail(ctx, log, req, request.Resetting, outcome)
	w.tellDM(ctx, log, req.SlackUser, failureMessage(outcome, req.ID))
}

// fail moves a request to Failed and records why. From resetting, the
// move is made only by the request's holder (see moveHeld).
func (w *Workflow) fail(ctx context.Context, log *slog.Logger, req request.Request, from request.State, outcome Outcome) {
	ctx, cancel := finishing(ctx)
	defer cancel()
	setOutcome := func(r *request.Request) { r.Outcome = string(outcome) }
	var err error
	if from == request.Resetting {
		_, err = w.moveHeld(ctx, req.ID, from, request.Failed, nil, setOutcome)
	} else {
		_, err = w.store.Move(ctx, req.ID, []request.State{from}, request.Failed, w.now(), setOutcome)
	}
	if errors.Is(err, store.ErrConflict) {
		log.Warn("another replica took this request over; its end is theirs to record", slog.Any(keyError, err))
		return
	}
	if err != nil {
		log.Error("could not record the failure", slog.Any(keyError, err))
	}
	w.countIn(req.Account, outcome)
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionFailed, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(outcome)})
	w.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s failed: %s.", req.ID, w.iamText(req.IAMUser, req.Account), slacktext.Mention(req.SlackUser), outcome))
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

// resume takes up what a previous run left, and never resets on its own:
// the owner may be away and miss an ephemeral password, and may have chosen
// a password of their own since (the previous run may have shown them one
// before it stopped). Requests the configuration no longer allows are
// ended. A request caught resetting, or approved before its reset began, is
// offered to its owner again in a lasting DM with the "Show my new
// password" button; the reset happens on their click, after the gate.
// Standing offers and pending approvals keep waiting.
func (w *Workflow) resume(ctx context.Context) []func(context.Context) {
	var jobs []func(context.Context)
	left, ok := w.leftToResume(ctx)
	if !ok {
		return nil // another replica resumes; the sweep's leftover job covers the rest
	}
	for _, state := range request.ActiveStates() {
		reqs, err := w.store.RequestsInState(ctx, state)
		if err != nil {
			w.log.Error("could not list the requests a previous run left", slog.String("state", string(state)), slog.Any(keyError, err))
			continue
		}
		for _, req := range reqs {
			if !left(req) {
				continue // a live replica is working on it
			}
			log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser), slog.String(keyAccount, req.Account))
			if beingShown(req) {
				jobs = append(jobs, func(ctx context.Context) { w.endShown(ctx, log, req) })
				continue
			}
			if o := w.allowedNow(req); o != "" {
				log.Info("ending a request the configuration no longer allows", slog.String(keyOutcome, string(o)))
				jobs = append(jobs, func(ctx context.Context) { w.endNoLonger(ctx, log, req, req.State, o) })
				continue
			}
			if state == request.Resetting || state == request.Approved && req.ExpiresAt.IsZero() {
				log.Info("offering an interrupted reset to its owner again", slog.String("state", string(state)))
				jobs = append(jobs, func(ctx context.Context) { w.reoffer(ctx, log, req) })
			}
		}
	}
	return jobs
}

// reoffer moves an interrupted request to approved, with an offer that
// expires like an approval's, and sends its owner the button.
func (w *Workflow) reoffer(ctx context.Context, log *slog.Logger, req request.Request) {
	now := w.now()
	// Only a request still in work (resetting, or approved with no offer
	// yet), checked in the move's own transaction: two replicas that both
	// saw it left behind make one offer between them.
	offered, err := w.store.MoveIf(ctx, req.ID, []request.State{req.State}, request.Approved, now, offerable, func(r *request.Request) {
		r.ExpiresAt = now.Add(w.approvalFor(req.Account).Timeout.D())
	})
	if errors.Is(err, store.ErrConflict) {
		return // taken further elsewhere
	}
	if err != nil {
		log.Error("could not record the new offer; the request stays as it was", slog.Any(keyError, err))
		return
	}
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionOffered, Target: req.SlackUser,
		IAMUser: req.IAMUser, Outcome: string(OutcomeInterrupted)})
	dm, err := w.openDM(ctx, req.SlackUser)
	if err == nil {
		_, err = w.slack.Post(ctx, dm, interruptedOfferMessage(offered, w.iamText(offered.IAMUser, offered.Account)))
	}
	if err != nil {
		log.Error("could not offer the interrupted reset to its owner", slog.Any(keyError, err))
		w.fail(ctx, log, offered, request.Approved, OutcomeSlackFailed)
	}
}

// endShown ends a request whose password was set and on its way to its
// owner when its replica stopped: the owner may have it, so it is not
// offered again (a reset on that offer would overwrite it). They are told
// so, and may run the command again.
func (w *Workflow) endShown(ctx context.Context, log *slog.Logger, req request.Request) {
	if _, err := w.store.MoveIf(ctx, req.ID, []request.State{request.Resetting}, request.Failed, w.now(), beingShown,
		func(r *request.Request) { r.Outcome = string(OutcomeInterruptedShown) }); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			log.Error("could not end a request interrupted while its password was shown", slog.Any(keyError, err))
		}
		return // ended elsewhere, or the next sweep tries again
	}
	log.Info("ended a request interrupted while its password was being shown; not offered again", slog.String(keyOutcome, string(OutcomeInterruptedShown)))
	w.countIn(req.Account, OutcomeInterruptedShown)
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionFailed, Actor: req.RequestedBy,
		Target: req.SlackUser, IAMUser: req.IAMUser, Outcome: string(OutcomeInterruptedShown)})
	w.tellDM(ctx, log, req.SlackUser, failureMessage(OutcomeInterruptedShown, req.ID))
	w.mirrorAudit(ctx, log, fmt.Sprintf("%s: reset of %s for %s was interrupted while its password was being shown.", req.ID,
		w.iamText(req.IAMUser, req.Account), slacktext.Mention(req.SlackUser)))
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
	w.homeChanged(ctx, log, e)
}

// mirrorAudit posts an outcome to the audit channel, if one is set.
func (w *Workflow) mirrorAudit(ctx context.Context, log *slog.Logger, text string) {
	if w.cfg.Audit.Channel == "" {
		return
	}
	w.postMessage(ctx, log, w.cfg.Audit.Channel, slacktext.Plain(text))
}
