package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// ApprovalStore is what counting approvals, the approvers' reminder and
// the Home tab need of the store.
type ApprovalStore interface {
	// Approve counts approver's approval of a pending request, and
	// approves it once need distinct approvers have, in one transaction.
	Approve(ctx context.Context, id, approver string, now time.Time, need int, expiresAt time.Time) (store.Tally, error)
	// Approvals lists who approved a request so far.
	Approvals(ctx context.Context, id string) ([]string, error)
	// ClaimOnce claims a one-time job, for one replica alone to do it.
	ClaimOnce(ctx context.Context, key string, at time.Time) (bool, error)
	// LastReset is the person's latest delivered reset of the IAM user in
	// the AWS account.
	LastReset(ctx context.Context, slackUser, account, iamUser string) (request.Request, error)
}

// approve counts an eligible approver's click on Approve (the gate has
// just let it through). The request is approved when enough distinct
// approvers have pressed it; until then the approval message shows who
// has, and how many are needed.
func (w *Workflow) approve(ctx context.Context, log *slog.Logger, cb Click, clicker string, req request.Request, noMFA bool) {
	a := w.approvalFor(req.Account)
	now := w.now()
	tally, err := w.store.Approve(ctx, req.ID, clicker, now, a.Need(), now.Add(a.Timeout.D()))
	if errors.Is(err, store.ErrConflict) {
		log.Info("click after the decision; nothing changed", slog.String("state", string(tally.Request.State)))
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("This request is already %s. Nothing was changed.", tally.Request.State)))
		return
	}
	if err != nil {
		log.Error("could not record the approval", slog.Any(keyError, err))
		w.replyToClick(ctx, log, cb, slacktext.Plain("I could not record your decision. Nothing was changed; please try again."))
		return
	}
	decided := tally.Request
	if decided.ApprovalTS == "" && cb.View == "" {
		// Clicked before the bot recorded where it posted: the click says.
		decided.ApprovalChannel, decided.ApprovalTS = cb.ChannelID, cb.MessageTS
	}
	if !tally.Counted {
		log.Info("the same approver approved again; counted once")
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("You have already approved request %s; it needs %s.",
			req.ID, moreApprovers(a.Need()-len(tally.Approvers)))))
		return
	}
	if decided.State == request.Pending {
		log.Info("approval counted", slog.Int("approvals", len(tally.Approvers)), slog.Int("needed", a.Need()))
		w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionApproved, Actor: clicker,
			Target: req.SlackUser, IAMUser: req.IAMUser, Account: req.Account, Reason: req.Reason,
			Outcome: fmt.Sprintf("%d_of_%d", len(tally.Approvers), a.Need())})
		w.showProgress(ctx, log, decided, noMFA)
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("Your approval of request %s is counted: %d of %d.",
			req.ID, len(tally.Approvers), a.Need())))
		return
	}
	w.metrics.Decision(string(request.Approved))
	w.audit(ctx, log, request.AuditEvent{RequestID: req.ID, Action: request.ActionApproved, Actor: clicker,
		Target: req.SlackUser, IAMUser: req.IAMUser, Account: req.Account, Reason: req.Reason})
	log.Info("request decided", slog.String("decision", string(request.Approved)), slog.Int("approvals", len(tally.Approvers)))
	w.updateMessage(ctx, log, decided, approvedMessage(decided, w.iamText(decided.IAMUser, decided.Account), tally.Approvers))
	if cb.View != "" {
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("Request %s is approved. Nothing more to do.", req.ID)))
	}
	w.offerPassword(ctx, log, decided)
}

// showProgress updates the approval message with who has approved so far,
// read again just before: a later click may have decided the request
// meanwhile, and its message (without buttons) must not be overwritten by
// an older count.
func (w *Workflow) showProgress(ctx context.Context, log *slog.Logger, req request.Request, noMFA bool) {
	cur, err := w.store.Request(ctx, req.ID)
	if err != nil || cur.State != request.Pending {
		return
	}
	approvers, err := w.store.Approvals(ctx, req.ID)
	if err != nil {
		log.Warn("could not read the approvals", slog.Any(keyError, err))
		return
	}
	cur.ApprovalChannel, cur.ApprovalTS = req.ApprovalChannel, req.ApprovalTS
	w.updateMessage(ctx, log, cur, w.approvalMessageFor(cur, noMFA, approvers))
}

// updateMessage replaces the request's approval message with m.
func (w *Workflow) updateMessage(ctx context.Context, log *slog.Logger, req request.Request, m slacktext.Message) {
	if req.ApprovalChannel == "" || req.ApprovalTS == "" {
		return
	}
	if err := w.slack.Update(ctx, req.ApprovalChannel, req.ApprovalTS, m); err != nil {
		log.Warn("could not update the approval message", slog.Any(keyError, err))
	}
}

// approvalMessageFor is the approval message with the reason and, when
// more than one approver is needed, who has approved so far.
func (w *Workflow) approvalMessageFor(req request.Request, noMFA bool, approvers []string) slacktext.Message {
	m := approvalMessage(req, w.iamText(req.IAMUser, req.Account), noMFA)
	extra := []slacktext.Block{slacktext.Section(reasonLine(req.Reason))}
	if need := w.approvalFor(req.Account).Need(); need > 1 {
		extra = append(extra, slacktext.Context(progressLine(approvers, need)))
	}
	// The buttons stay last.
	n := len(m.Blocks) - 1
	m.Blocks = append(append(append([]slacktext.Block{}, m.Blocks[:n]...), extra...), m.Blocks[n:]...)
	return m
}

// progressLine is "Approved by @a — 1 of 2".
func progressLine(approvers []string, need int) string {
	if len(approvers) == 0 {
		return fmt.Sprintf("Needs %d approvers.", need)
	}
	return fmt.Sprintf("Approved by %s — %d of %d", mentions(approvers), len(approvers), need)
}

func moreApprovers(n int) string {
	if n == 1 {
		return "one more approver"
	}
	return fmt.Sprintf("%d more approvers", n)
}

func mentions(ids []string) string {
	ms := make([]string, len(ids))
	for i, id := range ids {
		ms[i] = slacktext.Mention(id)
	}
	return strings.Join(ms, ", ")
}

// approvedMessage replaces the approval message once approved: who
// approved, no buttons.
func approvedMessage(req request.Request, iam string, approvers []string) slacktext.Message {
	m := decidedMessage(req, iam)
	if len(approvers) > 1 {
		outcome := fmt.Sprintf(":white_check_mark: Approved by %s %s.", mentions(approvers), slacktext.Date(req.DecidedAt))
		m.Text = fmt.Sprintf("Request %s: %s", req.ID, outcome)
		m.Blocks[len(m.Blocks)-1] = slacktext.Context(outcome)
	}
	m.Blocks = append(m.Blocks[:len(m.Blocks)-1:len(m.Blocks)-1], slacktext.Section(reasonLine(req.Reason)), m.Blocks[len(m.Blocks)-1])
	return m
}

// sweepReminders nudges the approvers, once, in the thread of each
// approval message still undecided remind_after after it was asked. The
// nudge is claimed in the store first, so of several replicas one sends it.
func (w *Workflow) sweepReminders(ctx context.Context) {
	pending, err := w.store.RequestsInState(ctx, request.Pending)
	if err != nil {
		w.log.Error("could not list pending requests", slog.Any(keyError, err))
		return
	}
	now := w.now()
	for _, req := range pending {
		a := w.approvalFor(req.Account)
		if a.RemindAfter <= 0 || req.ApprovalTS == "" || now.Before(req.CreatedAt.Add(a.RemindAfter.D())) ||
			!req.ExpiresAt.IsZero() && !now.Before(req.ExpiresAt) {
			continue
		}
		log := w.log.With(slog.String(keyRequest, req.ID), slog.String(keyUser, req.SlackUser))
		first, err := w.store.ClaimOnce(ctx, "approval-reminder/"+req.ID, now)
		if err != nil || !first {
			if err != nil {
				log.Error("could not claim the approvers' reminder", slog.Any(keyError, err))
			}
			continue
		}
		// Decided between the list and the claim: no nudge.
		if cur, err := w.store.Request(ctx, req.ID); err != nil || cur.State != request.Pending {
			continue
		}
		if _, err := w.slack.Reply(ctx, req.ApprovalChannel, req.ApprovalTS, reminderMessage(req, a)); err != nil {
			log.Warn("could not remind the approvers", slog.Any(keyError, err))
			continue
		}
		log.Info("reminded the approvers")
	}
}

// reminderMessage mentions every approver, users and user groups.
func reminderMessage(req request.Request, a config.Approval) slacktext.Message {
	ms := make([]string, 0, len(a.Approvers))
	for _, id := range a.Approvers {
		if config.IsUserGroupID(id) {
			ms = append(ms, slacktext.GroupMention(id))
		} else {
			ms = append(ms, slacktext.Mention(id))
		}
	}
	return slacktext.Plain(fmt.Sprintf("%s: request %s is still waiting for a decision. It expires %s.",
		strings.Join(ms, " "), req.ID, slacktext.Date(req.ExpiresAt)))
}
