package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// This file is the one gate for authority. A request keeps what it was
// created with (the owner, the IAM user, who approved it), and may wait for
// an approver, for its owner's click, or across a restart; so every step
// that acts asks again, from the configuration as it is now and from fresh
// look-ups, whether the request may go on (mayProceed), and the answer is
// an Outcome whose words are in messages.go.

// allowedNow is the part of the gate that needs no look-up: the request's
// account is still configured, the owner still listed in it, still mapped
// to this same IAM user there, and that user is not protected by name. At
// start, every waiting request is held to it.
func (w *Workflow) allowedNow(req request.Request) Outcome {
	u, listed := w.listingOf(req.SlackUser, req.Account)
	switch {
	case !listed:
		return RefusedNotListed
	case !strings.EqualFold(u.IAMUser, req.IAMUser):
		return OutcomeRemapped
	case w.isProtected(req.IAMUser):
		return RefusedProtected
	}
	return ""
}

// mayProceed is the whole gate, run at creation, at every approval click,
// before every reset (a reveal click, a self-service request) and on
// resume: allowedNow; the owner still a full member of our workspace
// (users.info, fresh); the IAM user not under a protected path (a fresh
// Inspect); and, for a request an approver let through, that approver
// still an approver and still a member. It returns what Inspect read, for
// the MFA rule. Any error fails closed.
func (w *Workflow) mayProceed(ctx context.Context, req request.Request) (reset.Account, Outcome) {
	ctx = awsclient.WithRequestID(ctx, req.ID) // CloudTrail then names the request
	if o := w.allowedNow(req); o != "" {
		return reset.Account{}, o
	}
	if o := w.checkPerson(ctx, w.self.TeamID, w.self.EnterpriseID, req.SlackUser); o != "" {
		return reset.Account{}, o
	}
	if req.DecidedBy != "" {
		if o := w.checkApprover(ctx, req.DecidedBy, req); o != "" {
			return reset.Account{}, OutcomeApproverGone
		}
	}
	acct, err := w.resetterFor(req.Account).Inspect(ctx, req.IAMUser)
	if err != nil {
		w.noteUnreachable(w.log.With(slog.String(keyRequest, req.ID), slog.String(keyAccount, req.Account)), err)
		return acct, outcomeOf(err)
	}
	if w.isProtectedPath(acct.Path) {
		return acct, RefusedProtected
	}
	return acct, ""
}

// checkApprover answers whether userID may decide on req now: a full
// member of our workspace, an approver (directly or through a user group,
// looked up fresh), and neither the owner nor, for a decision, the one who
// asked.
func (w *Workflow) checkApprover(ctx context.Context, userID string, req request.Request) Outcome {
	if userID == req.SlackUser {
		return OutcomeNotAllowed
	}
	if o := w.checkPerson(ctx, w.self.TeamID, w.self.EnterpriseID, userID); o != "" {
		return o
	}
	ok, err := w.isApproverIn(ctx, userID, req.Account)
	if err != nil || !ok {
		return OutcomeNotAllowed
	}
	return ""
}

// checkPerson decides whether the Slack user may use the bot at all: from
// the bot's own workspace and org, a full member, not a bot, not
// deactivated. It answers "" when they may, else the reason. Any error
// refuses: the bot fails closed.
func (w *Workflow) checkPerson(ctx context.Context, teamID, enterpriseID, userID string) Outcome {
	if !config.IsSlackUserID(userID) {
		return RefusedBadID
	}
	if teamID != w.self.TeamID || enterpriseID != w.self.EnterpriseID {
		return RefusedForeignTeam
	}
	u, err := w.slack.UserInfo(ctx, userID)
	if err != nil || u.ID != userID {
		return RefusedLookup
	}
	switch {
	case u.Deleted:
		return RefusedDeactivated
	case u.Bot:
		return RefusedBot
	case u.Guest:
		return RefusedGuest
	case u.TeamID != w.self.TeamID && (w.self.EnterpriseID == "" || u.EnterpriseID != w.self.EnterpriseID):
		return RefusedForeignTeam
	}
	return ""
}

// isProtected reports whether the IAM user is one the bot must never touch
// by name (case-insensitively, as IAM compares names). Protected paths need
// the user's path from IAM: see isProtectedPath.
func (w *Workflow) isProtected(iamUser string) bool {
	for _, p := range w.cfg.Reset.Protected {
		if !strings.HasPrefix(p, "/") && strings.EqualFold(p, iamUser) {
			return true
		}
	}
	return false
}

// isProtectedPath reports whether an IAM user at path is under one of the
// protected paths.
func (w *Workflow) isProtectedPath(path string) bool {
	for _, p := range w.cfg.Reset.Protected {
		if strings.HasPrefix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// isApprover reports whether the user is an approver of any account's
// requests (the top level's, or an aws.accounts[i].approval's), directly
// or through a user group. An error means no. Deciding on a request asks
// isApproverIn, for its account.
func (w *Workflow) isApprover(ctx context.Context, userID string) (bool, error) {
	var errs []error
	for _, a := range w.cfg.Approvals() {
		ok, err := w.approverOf(ctx, a, userID)
		if ok {
			return true, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return false, errors.Join(errs...)
}

// isApproverIn reports whether the user is an approver of requests in the
// account ("" is the bot's own).
func (w *Workflow) isApproverIn(ctx context.Context, userID, account string) (bool, error) {
	return w.approverOf(ctx, w.approvalFor(account), userID)
}

// approverOf reports whether the user is one of a's approvers.
func (w *Workflow) approverOf(ctx context.Context, a config.Approval, userID string) (bool, error) {
	if !a.Enabled() {
		return false, nil
	}
	for _, ap := range a.Approvers {
		if ap == userID {
			return true, nil
		}
	}
	for _, a := range a.Approvers {
		if !config.IsUserGroupID(a) {
			continue
		}
		// Fresh every time: someone removed from the group loses the
		// standing at once, not when a cache runs out.
		members, err := w.slack.GroupMembers(ctx, a)
		if err != nil {
			return false, fmt.Errorf("list members of user group %s: %w", a, err)
		}
		if slices.Contains(members, userID) {
			return true, nil
		}
	}
	return false, nil
}
