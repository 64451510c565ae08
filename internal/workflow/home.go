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
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
	"github.com/aws-reset-bot/aws-reset-bot/internal/store"
)

// The Home tab answers "what's my state?": each IAM user the person is
// listed for, when its password expires, their last reset, and a button
// that runs exactly the slash command's path; for approvers, the requests
// waiting for them. It is published when the person opens it and again
// when something changes for them, never by polling.

// The Home tab's block and action IDs. Block IDs must be unique within a
// view, so each carries a suffix (an index or a request ID) after the
// prefix.
const (
	blockHomeReset    = "aws_reset_home_reset_"
	actionHomeReset   = "aws_reset_home_reset"
	blockHomeDecision = "aws_reset_home_decision_"
)

// PasswordExpiry is what the Home tab asks of a Resetter that can tell
// when an IAM user's console password expires: the zero time when it
// never does. A Resetter without it shows no expiry.
type PasswordExpiry interface {
	PasswordExpiry(ctx context.Context, iamUser string) (time.Time, error)
}

func isHomeReset(c Click) bool {
	return c.View == "home" && strings.HasPrefix(c.BlockID, blockHomeReset) && c.ActionID == actionHomeReset
}

func isHomeDecision(c Click) bool {
	return c.View == "home" && strings.HasPrefix(c.BlockID, blockHomeDecision) &&
		(c.ActionID == actionApprove || c.ActionID == actionDeny)
}

// HandleHomeOpened publishes the person's Home tab.
func (w *Workflow) HandleHomeOpened(ctx context.Context, h HomeOpened) {
	if !w.cfg.Home.Enabled || h.Tab != "home" || !config.IsSlackUserID(h.UserID) ||
		h.TeamID != w.self.TeamID || h.EnterpriseID != w.self.EnterpriseID {
		return
	}
	w.homeMu.Lock()
	if w.homeSeen == nil {
		w.homeSeen = map[string]bool{}
	}
	w.homeSeen[h.UserID] = true
	w.homeMu.Unlock()
	w.publishHome(ctx, w.log.With(slog.String(keyUser, h.UserID)), h.UserID)
}

// refreshHome publishes userID's Home tab again, if they have opened it
// since this process started: anyone else gets theirs fresh when they open
// it (app_home_opened comes every time), so publishing it for them would
// only spend views.publish calls (Tier 4) in a burst of resets.
func (w *Workflow) refreshHome(ctx context.Context, log *slog.Logger, userID string) {
	w.homeMu.Lock()
	seen := w.homeSeen[userID]
	w.homeMu.Unlock()
	if seen {
		w.publishHome(ctx, log, userID)
	}
}

// homeChanged refreshes the Home tab of whoever an audited change is
// about: the owner, and the approver who decided.
func (w *Workflow) homeChanged(ctx context.Context, log *slog.Logger, e request.AuditEvent) {
	if !w.cfg.Home.Enabled {
		return
	}
	switch e.Action {
	case request.ActionRequested, request.ActionApproved, request.ActionDenied, request.ActionDelivered,
		request.ActionFailed, request.ActionExpired:
	default:
		return
	}
	if e.Target != "" && e.Action != request.ActionRequested { // a new request shows on approvers' tabs only
		w.refreshHome(ctx, log, e.Target)
	}
	if e.Action == request.ActionRequested && e.Outcome == string(request.Pending) {
		// A new request waits for the approvers named one by one (a user
		// group's members see it when they open the tab).
		for _, a := range w.approvalFor(e.Account).Approvers {
			if config.IsSlackUserID(a) && a != e.Target {
				w.refreshHome(ctx, log, a)
			}
		}
	}
	if (e.Action == request.ActionApproved || e.Action == request.ActionDenied) && e.Actor != "" && e.Actor != e.Target {
		w.refreshHome(ctx, log, e.Actor)
	}
}

// publishHome builds and publishes userID's Home tab. Someone the bot may
// not serve sees what it is for and who can add them, nothing about IAM.
func (w *Workflow) publishHome(ctx context.Context, log *slog.Logger, userID string) {
	// Under the caller's context: a Home tab is worth no wait at shutdown.
	blocks := []slacktext.Block{slacktext.Header("AWS password resets")}
	listed := w.listed[userID]
	allowed := w.checkPerson(ctx, w.self.TeamID, w.self.EnterpriseID, userID) == ""
	approver := false
	if allowed {
		var err error
		if approver, err = w.isApprover(ctx, userID); err != nil {
			log.Warn("could not tell whether the person is an approver", slog.Any(keyError, err))
		}
	}
	if !allowed || len(listed) == 0 && !approver {
		blocks = append(blocks, slacktext.Section(strangerHomeText(w.cfg.Slack.Command)))
		w.publish(ctx, log, userID, blocks)
		return
	}
	if len(listed) > 0 {
		blocks = append(blocks, slacktext.Section(fmt.Sprintf("Press the button, or type `%s`, to get a new temporary console password, shown to you alone in a direct message from me.",
			slacktext.Escape(w.cfg.Slack.Command))))
	}
	for i, u := range listed {
		blocks = append(blocks, slacktext.Divider(), slacktext.Section(w.iamUserLine(ctx, log, userID, u)),
			slacktext.Actions(fmt.Sprintf("%s%d", blockHomeReset, i),
				slacktext.Button{ActionID: actionHomeReset, Value: homeResetValue(u), Label: "Reset my password", Style: "primary"}))
	}
	if approver {
		blocks = append(blocks, w.waitingBlocks(ctx, log, userID)...)
	}
	w.publish(ctx, log, userID, blocks)
}

func (w *Workflow) publish(ctx context.Context, log *slog.Logger, userID string, blocks []slacktext.Block) {
	if len(blocks) > 50 { // well under Slack's 100 for a Home tab
		blocks = blocks[:50]
	}
	if err := w.slack.PublishView(ctx, userID, slacktext.View{CallbackID: "aws_reset_home", Blocks: blocks}); err != nil {
		log.Warn("could not publish the Home tab", slog.Any(keyError, err))
	}
}

// iamUserLine says what the Home tab knows of one IAM user of the person.
func (w *Workflow) iamUserLine(ctx context.Context, log *slog.Logger, userID string, u config.User) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*IAM user* %s", w.iamText(u.IAMUser, u.Account))
	if exp, ok := w.resetterFor(u.Account).(PasswordExpiry); ok {
		switch at, err := exp.PasswordExpiry(ctx, u.IAMUser); {
		case errors.Is(err, reset.ErrNoLoginProfile):
			b.WriteString("\nIt has no console password: ask your AWS administrators for console access.")
		case err != nil:
			log.Warn("could not learn when the password expires", slog.String(keyIAMUser, u.IAMUser), slog.Any(keyError, err))
			b.WriteString("\nPassword expiry: unknown.")
		case at.IsZero():
			b.WriteString("\nThe password does not expire.")
		case !at.After(w.now()):
			fmt.Fprintf(&b, "\n:warning: The password expired %s.", slacktext.Date(at))
		default:
			fmt.Fprintf(&b, "\nThe password expires %s.", slacktext.Date(at))
		}
	}
	last, err := w.store.LastReset(ctx, userID, u.Account, u.IAMUser)
	switch {
	case errors.Is(err, store.ErrNotFound):
		b.WriteString("\nNo reset by this bot yet.")
	case err != nil:
		log.Warn("could not read the last reset", slog.Any(keyError, err))
	default:
		fmt.Fprintf(&b, "\nLast reset %s (request %s).", slacktext.Date(last.UpdatedAt), last.ID)
	}
	return b.String()
}

// waitingBlocks lists the requests waiting for the approver, each with
// Approve and Deny; the clicks are held to the same rules as in the
// channel.
func (w *Workflow) waitingBlocks(ctx context.Context, log *slog.Logger, approver string) []slacktext.Block {
	pending, err := w.store.RequestsInState(ctx, request.Pending)
	if err != nil {
		log.Warn("could not list the waiting requests", slog.Any(keyError, err))
		return nil
	}
	blocks := []slacktext.Block{slacktext.Divider(), slacktext.Header("Waiting for your decision")}
	shown := 0
	for _, req := range pending {
		if req.SlackUser == approver || req.RequestedBy == approver || shown >= 10 {
			continue
		}
		if ok, _ := w.isApproverIn(ctx, approver, req.Account); !ok {
			continue // another account's approvers decide on it
		}
		approvers, _ := w.store.Approvals(ctx, req.ID)
		if containsID(approvers, approver) {
			continue
		}
		shown++
		text := fmt.Sprintf("Request %s: %s asks to reset the AWS console password of IAM user %s. Asked %s; expires %s.\n%s",
			req.ID, slacktext.Mention(req.SlackUser), w.iamText(req.IAMUser, req.Account), slacktext.Date(req.CreatedAt),
			slacktext.Date(req.ExpiresAt), reasonLine(req.Reason))
		if need := w.approvalFor(req.Account).Need(); need > 1 {
			text += "\n" + progressLine(approvers, need)
		}
		blocks = append(blocks, slacktext.Section(text), slacktext.Actions(blockHomeDecision+req.ID,
			slacktext.Button{ActionID: actionApprove, Value: req.Token, Label: "Approve", Style: "primary"},
			slacktext.Button{ActionID: actionDeny, Value: req.Token, Label: "Deny", Style: "danger"}))
	}
	if shown == 0 {
		blocks = append(blocks, slacktext.Section("Nothing is waiting for you."))
	}
	return blocks
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// handleHomeReset is "Reset my password" on the Home tab: exactly the
// slash command, for the clicker, and only for an IAM user the clicker is
// listed for.
func (w *Workflow) handleHomeReset(ctx context.Context, log *slog.Logger, cb Click) {
	if cb.TeamID != w.self.TeamID || (cb.UserTeamID != "" && cb.UserTeamID != w.self.TeamID) ||
		cb.EnterpriseID != w.self.EnterpriseID || !config.IsSlackUserID(cb.UserID) {
		log.Warn("ignored a Home tab click from another workspace or a malformed user")
		return
	}
	mine, account := false, ""
	for _, u := range w.listed[cb.UserID] {
		if v := homeResetValue(u); len(v) == len(cb.Value) && strings.EqualFold(v, cb.Value) {
			mine, account = true, u.Account
		}
	}
	requestID := request.NewID()
	if !mine {
		log.Warn("Home tab reset refused: not the clicker's IAM user")
		w.audit(ctx, log, request.AuditEvent{RequestID: requestID, Action: request.ActionRefused, Actor: cb.UserID,
			Target: cb.UserID, Outcome: string(OutcomeNotOwner)})
		w.tellEphemeral(ctx, log, cb.UserID, slacktext.Plain(outcomeWords[OutcomeNotOwner]))
		return
	}
	w.tellEphemeral(ctx, log, cb.UserID, WorkingMessage(requestID))
	w.HandleCommand(ctx, Command{Command: w.cfg.Slack.Command, UserID: cb.UserID, TeamID: cb.TeamID,
		EnterpriseID: cb.EnterpriseID, TriggerID: cb.TriggerID, parsed: &parsedCommand{kind: commandSelf, account: account}}, requestID)
}

// homeResetValue is what a Home tab button carries: the IAM user, and in
// one of aws.accounts its account before it ("prod:bob"; ':' is in no IAM
// user or account name), so the click resets that one.
func homeResetValue(u config.User) string {
	if u.Account == "" {
		return u.IAMUser
	}
	return u.Account + ":" + u.IAMUser
}

func strangerHomeText(command string) string {
	return fmt.Sprintf("This bot resets AWS console passwords for the people its administrators have listed: `%s` sends a new temporary password to you alone.\n\n"+
		"You are not listed. If you need it, ask your AWS administrators to add you.", slacktext.Escape(command))
}
