package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// MaxReason is the longest reason accepted, in characters: enough for a
// sentence or two, short enough to read at a glance in the approvers'
// channel.
const MaxReason = 300

// The reason modal's IDs. A submission that names others is not ours.
const (
	viewReason   = "aws_reset_reason"
	blockReason  = "aws_reset_reason"
	actionReason = "aws_reset_reason_text"
)

// reasonMetadata is what the modal carries to its submission: the request
// ID the person was told, and the account named. Everything else is
// decided again, from the submitter's own ID, when it comes back.
type reasonMetadata struct {
	RequestID string `json:"request_id"`
	Account   string `json:"account,omitempty"`
}

// reasonTooLong reports whether a reason is over the limit.
func reasonTooLong(reason string) bool { return utf8.RuneCountInString(reason) > MaxReason }

// approvalFor is the approval settings a request is held to.
func (w *Workflow) approvalFor(account string) config.Approval { return w.cfg.ApprovalFor(account) }

// needsReason reports whether a request of u's, in account, must say why
// before it goes to the approvers.
func (w *Workflow) needsReason(account string) bool {
	a := w.approvalFor(account)
	return a.Enabled() && a.RequireReason
}

// askReason opens the modal that asks for the reason; the request goes on
// when it is submitted, and closing it creates nothing. Where no modal
// can be opened (no trigger, or it ran out), the person is told how to
// give the reason on the command line.
func (w *Workflow) askReason(ctx context.Context, log *slog.Logger, cmd Command, requestID string, p parsedCommand) {
	md, _ := json.Marshal(reasonMetadata{RequestID: requestID, Account: p.account})
	err := errors.New("no trigger ID")
	if cmd.TriggerID != "" {
		err = w.slack.OpenView(ctx, cmd.TriggerID, reasonModal(string(md)))
	}
	if err != nil {
		log.Info("could not open the reason modal; asked for the reason on the command line", slog.Any(keyError, err))
		w.tellEphemeral(ctx, log, cmd.UserID, reasonOnCommandLineMessage(w.cfg.Slack.Command))
		return
	}
	log.Info("asked for a reason")
}

// CheckReason checks a submission before it is acked, with no call, and
// returns the problems to show in the modal by block ID (nil when there
// are none, and always nil for a view not ours).
func (w *Workflow) CheckReason(v ViewSubmission) map[string]string {
	if v.CallbackID != viewReason {
		return nil
	}
	switch reason := v.Values[blockReason][actionReason]; {
	case trimmed(reason) == "":
		return map[string]string{blockReason: "Please say why you need a new password."}
	case reasonTooLong(trimmed(reason)):
		return map[string]string{blockReason: fmt.Sprintf("Please keep it to %d characters.", MaxReason)}
	}
	return nil
}

// HandleViewSubmission continues a request whose reason the modal asked
// for: it runs exactly as the command would have, with that reason.
func (w *Workflow) HandleViewSubmission(ctx context.Context, v ViewSubmission) {
	log := w.log.With(slog.String(keyUser, truncate(v.UserID, 32)), slog.String(keyTeam, truncate(v.TeamID, 32)))
	if v.CallbackID != viewReason {
		log.Warn("ignored a view submission the bot did not open")
		return
	}
	var md reasonMetadata
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &md); err != nil || !request.ValidID(md.RequestID) {
		log.Warn("ignored a reason with unreadable metadata")
		return
	}
	reason := trimmed(v.Values[blockReason][actionReason])
	if reason == "" || reasonTooLong(reason) || (v.UserTeamID != "" && v.UserTeamID != v.TeamID) {
		log.Warn("ignored a reason that is empty, too long or from another workspace")
		return
	}
	p := parsedCommand{kind: commandSelf, account: md.Account, reason: reason}
	if md.Account != "" && !w.isAccount(md.Account) {
		p.account = ""
	}
	cmd := Command{EnvelopeID: "view:" + truncate(v.ViewID, 64), Command: w.cfg.Slack.Command, UserID: v.UserID,
		TeamID: v.TeamID, EnterpriseID: v.EnterpriseID, parsed: &p}
	w.HandleCommand(ctx, cmd, md.RequestID)
}

// reasonModal asks for the reason, at most MaxReason characters.
func reasonModal(metadata string) slacktext.View {
	return slacktext.View{
		CallbackID: viewReason, PrivateMetadata: metadata,
		Title: "Password reset", Submit: "Ask the approvers", Close: "Cancel",
		Blocks: []slacktext.Block{
			slacktext.Section("Your password reset needs an approver's OK. Tell them why you need it: they see exactly what you type."),
			slacktext.TextInput(blockReason, actionReason, "Why do you need a new password?", "e.g. locked out before the deploy", MaxReason),
		},
	}
}

func reasonOnCommandLineMessage(command string) slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Your request needs a reason for the approvers. Give it after the command: `%s locked out before the deploy`. Nothing was changed.",
		slacktext.Escape(command)))
}

func reasonTooLongMessage() slacktext.Message {
	return slacktext.Plain(fmt.Sprintf("Your reason is too long: please keep it to %d characters. Nothing was changed.", MaxReason))
}

// reasonLine shows a requester's reason to the approvers: exactly as
// typed, with nothing in it acting as a mention, link or formatting.
func reasonLine(reason string) string {
	if reason == "" {
		return "Reason: none given."
	}
	return "Reason: " + slacktext.Quote(reason)
}

func trimmed(s string) string { return strings.TrimSpace(s) }

// slackEntities undoes the escaping Slack applies to a command's text
// (only &, < and >), so the reason is kept as the person typed it and
// escaped once, where it is shown. A modal's input comes unescaped.
var slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// typedReason is the reason of a typed command as the person typed it.
func typedReason(s string) string { return slackEntities.Replace(s) }
