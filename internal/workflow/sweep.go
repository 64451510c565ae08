package workflow

import (
	"context"
	"log/slog"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// sweepUnused overwrites temporary passwords nobody signed in with in
// time, so a password glimpsed on a screen does not stay valid. It looks
// only at each IAM user's latest delivery (an older one's password is
// already replaced, and the newer one must not be undone), only when IAM
// says the password was not used since that delivery, and claims each
// check in the store in the same statement that checks it is still the
// latest, so a delivery racing the sweep, or another replica, wins.
func (w *Workflow) sweepUnused(ctx context.Context) {
	window := w.cfg.Reset.ExpireUnusedAfter.D()
	now := w.now()
	candidates, err := w.store.UnusedCandidates(ctx, now.Add(-window))
	if err != nil {
		w.log.Error("could not list delivered requests", slog.Any(keyError, err))
		return
	}
	for _, req := range candidates {
		deliveredAt := req.UpdatedAt
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser), slog.String(keyAccount, req.Account))
		first, err := w.store.ClaimUnusedCheck(ctx, req.ID, now)
		if err != nil || !first {
			if err != nil {
				log.Error("could not claim the unused-password check", slog.Any(keyError, err))
			}
			continue
		}
		acct, err := w.resetterFor(req.Account).Inspect(ctx, req.IAMUser)
		if err != nil {
			log.Error("could not read the last sign-in; the temporary password stays", slog.Any(keyError, err))
			continue
		}
		if !acct.PasswordLastUsed.IsZero() && !acct.PasswordLastUsed.Before(deliveredAt) {
			continue // they signed in, and so chose their own password
		}
		if err := w.resetterFor(req.Account).Scramble(ctx, req.IAMUser); err != nil {
			log.Error("could not overwrite the unused temporary password", slog.Any(keyError, err))
			continue
		}
		log.Info("unused temporary password overwritten", slog.String(keyOutcome, string(OutcomeUnusedScrambled)))
		w.countIn(req.Account, OutcomeUnusedScrambled)
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Account: req.Account, Action: request.ActionScrambled, Target: req.SlackUser,
			IAMUser: req.IAMUser, Outcome: string(OutcomeUnusedScrambled)})
		w.tellDM(ctx, log, req.SlackUser, unusedScrambledMessage(w.iamText(req.IAMUser, req.Account), req.ID, window))
	}
}

// Sweep runs the periodic work: expire undecided requests and unclaimed
// offers, overwrite unused temporary passwords, and end what dead
// replicas left. Of several replicas, the holder of the sweep lease does
// it (see replicas.go).
func (w *Workflow) Sweep(ctx context.Context) {
	w.resumeLetGo(ctx) // this replica's own, whoever holds the lease
	if !w.claim(ctx, leaseSweep) {
		return
	}
	defer w.resumeLeftBehind(ctx)
	w.sweepExpired(ctx)
	w.sweepReminders(ctx)
	if w.cfg.Reset.ExpireUnusedAfter > 0 {
		w.sweepUnused(ctx)
	}
}
