package workflow

import (
	"context"
	"errors"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// Outcome is how a request, or a step of one, ended. It is the metric
// label (awsreset_resets_total{outcome}), the audit row's outcome and the
// log line's; the words a person reads for it are in messages.go
// (outcomeWords). The set is closed: every value is listed in outcomes.
type Outcome string

// Refusals: the person may not use the bot for this. Everyone refused
// reads the same words, so a refusal says nothing about whether an IAM
// user exists.
const (
	RefusedForeignTeam Outcome = "foreign_team"
	RefusedBadID       Outcome = "bad_user_id"
	RefusedLookup      Outcome = "user_lookup_failed"
	RefusedBot         Outcome = "bot"
	RefusedGuest       Outcome = "guest"
	RefusedDeactivated Outcome = "deactivated"
	RefusedNotListed   Outcome = "not_listed"
	RefusedProtected   Outcome = "protected"
	RefusedNotApprover Outcome = "not_approver"
)

// Ends of a request, and of the steps around it.
const (
	OutcomeDelivered      Outcome = "delivered"
	OutcomeCooldown       Outcome = "cooldown"
	OutcomeActive         Outcome = "already_active"
	OutcomeNoLoginProfile Outcome = "no_login_profile"
	OutcomeAccessDenied   Outcome = "access_denied"
	OutcomePolicy         Outcome = "policy_violation"
	OutcomeTimeout        Outcome = "timeout"   // a look-up timed out: nothing was changed
	OutcomeNoAnswer       Outcome = "no_answer" // the reset itself: IAM may have set the password
	OutcomeDeliveryFailed Outcome = "delivery_failed"
	OutcomeSlackFailed    Outcome = "slack_unreachable"
	OutcomeDryRun         Outcome = "dry_run"
	OutcomeInterrupted    Outcome = "interrupted"
	// The bot stopped while the new password was being shown: the owner
	// may have it.
	OutcomeInterruptedShown Outcome = "interrupted_while_shown"
	OutcomeNoMFA            Outcome = "no_mfa"
	OutcomeNoUser           Outcome = "no_iam_user"
	OutcomeUnusedScrambled  Outcome = "unused_password_overwritten"
	OutcomeInternal         Outcome = "internal_error"
	OutcomeDenied           Outcome = "denied"
	OutcomeExpired          Outcome = "expired"
	OutcomeUnclaimed        Outcome = "unclaimed"
	OutcomeAdminInitiated   Outcome = "admin_initiated"
	OutcomePasswordSet      Outcome = "password_set"
	OutcomeNotAllowed       Outcome = "not_allowed_to_decide"
	OutcomeNotOwner         Outcome = "not_owner"
	OutcomeRemapped         Outcome = "mapping_changed"            // the owner is now listed for another IAM user
	OutcomeApproverGone     Outcome = "approver_no_longer_allowed" // who approved it may no longer approve
	OutcomeUnreachable      Outcome = "account_unreachable"        // the account's role could not be assumed
)

// outcomes lists every Outcome, so tests can hold each to a label and
// words.
var outcomes = []Outcome{
	RefusedForeignTeam, RefusedBadID, RefusedLookup, RefusedBot, RefusedGuest, RefusedDeactivated,
	RefusedNotListed, RefusedProtected, RefusedNotApprover,
	OutcomeDelivered, OutcomeCooldown, OutcomeActive, OutcomeNoLoginProfile, OutcomeAccessDenied, OutcomePolicy,
	OutcomeTimeout, OutcomeNoAnswer, OutcomeDeliveryFailed, OutcomeSlackFailed, OutcomeDryRun, OutcomeInterrupted, OutcomeInterruptedShown, OutcomeNoMFA,
	OutcomeNoUser, OutcomeUnusedScrambled, OutcomeInternal, OutcomeDenied, OutcomeExpired, OutcomeUnclaimed,
	OutcomeAdminInitiated, OutcomePasswordSet, OutcomeNotAllowed, OutcomeNotOwner, OutcomeRemapped, OutcomeApproverGone,
	OutcomeUnreachable,
}

// refusal reports whether o says who may not do what (as opposed to
// something that went wrong).
func (o Outcome) refusal() bool {
	switch o {
	case RefusedForeignTeam, RefusedBadID, RefusedLookup, RefusedBot, RefusedGuest, RefusedDeactivated,
		RefusedNotListed, RefusedProtected, RefusedNotApprover, OutcomeRemapped, OutcomeApproverGone, OutcomeNotAllowed:
		return true
	}
	return false
}

// Outcomes returns every outcome, for metrics and tests.
func Outcomes() []Outcome { return append([]Outcome(nil), outcomes...) }

// outcomeOf maps a reset error to an outcome, by type, never by text.
func outcomeOf(err error) Outcome {
	if _, ok := errors.AsType[*awsclient.AssumeRoleError](err); ok {
		// First: STS's AccessDenied for the role is not IAM's for the call.
		return OutcomeUnreachable
	}
	switch {
	case errors.Is(err, reset.ErrNoLoginProfile):
		return OutcomeNoLoginProfile
	case errors.Is(err, reset.ErrNoSuchUser):
		return OutcomeNoUser
	case errors.Is(err, reset.ErrAccessDenied):
		return OutcomeAccessDenied
	case errors.Is(err, reset.ErrPolicyViolation):
		return OutcomePolicy
	case errors.Is(err, reset.ErrNoAnswer): // before the deadline: it may be the reset's
		return OutcomeNoAnswer
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	}
	return OutcomeInternal
}
