package workflow

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
)

// sweepUnused overwrites temporary passwords nobody signed in with in
// time, so a password glimpsed on a screen does not stay valid. Each
// delivered request is checked once, claimed in the store so several
// replicas never do it twice.
func (w *Workflow) sweepUnused(ctx context.Context) {
	window := w.cfg.Reset.ExpireUnusedAfter.D()
	now := w.now()
	delivered, err := w.store.RequestsInState(ctx, request.Delivered)
	if err != nil {
		w.log.Error("could not list delivered requests", slog.Any(keyError, err))
		return
	}
	for _, req := range delivered {
		deliveredAt := req.UpdatedAt
		// Only requests whose window just closed: older ones were checked.
		if now.Before(deliveredAt.Add(window)) || now.After(deliveredAt.Add(window+24*time.Hour)) {
			continue
		}
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser), slog.String(keyIAMUser, req.IAMUser))
		first, err := w.store.ClaimOnce(ctx, "expire-unused/"+req.ID, now)
		if err != nil || !first {
			if err != nil {
				log.Error("could not claim the unused-password check", slog.Any(keyError, err))
			}
			continue
		}
		acct, err := w.resetter.Inspect(ctx, req.IAMUser)
		if err != nil {
			log.Error("could not read the last sign-in; the temporary password stays", slog.Any(keyError, err))
			continue
		}
		if !acct.PasswordLastUsed.Before(deliveredAt) {
			continue // they signed in, and so chose their own password
		}
		if err := w.resetter.Scramble(ctx, req.IAMUser); err != nil {
			log.Error("could not overwrite the unused temporary password", slog.Any(keyError, err))
			continue
		}
		log.Info("unused temporary password overwritten", slog.String(keyOutcome, string(OutcomeUnusedScrambled)))
		w.count(OutcomeUnusedScrambled)
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionScrambled, Target: req.SlackUser,
			IAMUser: req.IAMUser, Outcome: string(OutcomeUnusedScrambled)})
		w.tellDM(ctx, log, req.SlackUser, unusedScrambledMessage(req.IAMUser, req.ID, window))
	}
}

// Sweep runs the periodic work: expire undecided requests and unclaimed
// offers, and overwrite unused temporary passwords.
func (w *Workflow) Sweep(ctx context.Context) {
	w.sweepExpired(ctx)
	if w.cfg.Reset.ExpireUnusedAfter > 0 {
		w.sweepUnused(ctx)
	}
}
