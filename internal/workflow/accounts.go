package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// This file is the AWS accounts a person may be listed in (aws.accounts,
// users[i].account): which listing a request is for, the resetter and
// sign-in URL of each account, how the IAM user is named in messages, and
// the buttons a person listed in several accounts chooses one with.

// Account is one AWS account the workflow resets passwords in.
type Account struct {
	ID         string   // the 12-digit account ID; "" for the bot's own when unknown
	RoleARN    string   // the role assumed in it, for the log; "" for the bot's own
	Resetter   Resetter // this account's own, with its own password policy cache
	ConsoleURL string   // where its people sign in
}

// accountsOf checks that every configured account has a resetter and adds
// the bot's own as "".
func accountsOf(opts Options) (map[string]Account, error) {
	out := map[string]Account{"": {Resetter: opts.Resetter, ConsoleURL: opts.ConsoleURL}}
	for _, a := range opts.Config.AWS.Accounts {
		acct, ok := opts.Accounts[a.Name]
		if !ok || acct.Resetter == nil {
			return nil, fmt.Errorf("workflow: no resetter for AWS account %q", a.Name)
		}
		if acct.ID == "" {
			acct.ID = a.AccountID()
		}
		if acct.RoleARN == "" {
			acct.RoleARN = a.RoleARN
		}
		out[a.Name] = acct
	}
	return out, nil
}

// accountsListed returns the names of the accounts userID is listed in,
// in the order of the allowlist.
func (w *Workflow) accountsListed(userID string) []string {
	var names []string
	for _, u := range w.listed[userID] {
		names = append(names, u.Account)
	}
	return names
}

// listingOf is userID's entry for account, if the account is still
// configured and they are listed in it.
func (w *Workflow) listingOf(userID, account string) (config.User, bool) {
	if _, ok := w.accounts[account]; !ok {
		return config.User{}, false
	}
	for _, u := range w.listed[userID] {
		if u.Account == account {
			return u, true
		}
	}
	return config.User{}, false
}

// resetterFor is the resetter of a request's account. The gate has
// checked the account is configured (allowedNow); an account gone since
// gets the bot's own, which the gate then refuses (RefusedNotListed).
func (w *Workflow) resetterFor(account string) Resetter {
	if a, ok := w.accounts[account]; ok {
		return a.Resetter
	}
	return w.resetter
}

// consoleFor is the sign-in URL of a request's account.
func (w *Workflow) consoleFor(account string) string {
	if a, ok := w.accounts[account]; ok && a.ConsoleURL != "" {
		return a.ConsoleURL
	}
	return w.console
}

// iamText names an IAM user in a message: with its account's name and ID
// when it is in one of aws.accounts, alone in the bot's own account (as
// before accounts existed).
func (w *Workflow) iamText(iamUser, account string) string {
	if account == "" {
		return slacktext.Code(iamUser)
	}
	return fmt.Sprintf("%s in AWS account %s (%s)", slacktext.Code(iamUser), slacktext.Code(account),
		slacktext.Escape(w.accounts[account].ID))
}

// noteUnreachable logs, once per failed call, why an account's role could
// not be assumed: the role ARN and STS's error code, for the operators.
// The person only hears that the account can't be reached.
func (w *Workflow) noteUnreachable(log *slog.Logger, err error) {
	if are, ok := errors.AsType[*awsclient.AssumeRoleError](err); ok {
		log.Error("could not assume the account's role; nothing touched in it",
			slog.String("role_arn", are.RoleARN), slog.String("error_code", are.Code), slog.Any(keyError, err))
	}
}

// The account buttons. Each button's action ID names its account; its
// value is a choice signed with the workflow's key, so a click is honoured
// only for the person it was made for, within choiceTimeout, and only for
// an account the button was made with.
const (
	blockAccount        = "aws_reset_account"
	actionAccountPrefix = "aws_reset_account_"
	choiceTimeout       = 10 * time.Minute
	maxChoiceValue      = 2000 // Slack's limit on a button's value
)

var choiceValuePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$`)

// choice is what an account button carries.
type choice struct {
	RequestID string `json:"r"`
	Team      string `json:"t"`
	User      string `json:"u"`
	Account   string `json:"a"`
	Reason    string `json:"w,omitempty"`
	Expires   int64  `json:"e"` // Unix seconds
}

func choiceKey(k []byte) []byte {
	if len(k) > 0 {
		return k
	}
	k = make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand never fails on supported platforms
	return k
}

// sign encodes c with its MAC.
func (w *Workflow) sign(c choice) string {
	body, _ := json.Marshal(c) // a struct of strings and a number cannot fail
	enc := base64.RawURLEncoding.EncodeToString(body)
	m := hmac.New(sha256.New, w.choice)
	m.Write([]byte(enc))
	return enc + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signWithin signs c, shortening its reason until the value fits in a
// button: JSON escapes and base64 can make even a reason of MaxReason
// characters several times longer.
func (w *Workflow) signWithin(c choice) string {
	for {
		c.Reason = strings.ToValidUTF8(c.Reason, "") // a cut may split a character
		v := w.sign(c)
		if len(v) <= maxChoiceValue || c.Reason == "" {
			return v
		}
		c.Reason = c.Reason[:len(c.Reason)/2]
	}
}

// errBadChoice is any account button the bot did not make, or made for
// someone else's or an earlier moment.
var errBadChoice = errors.New("an account choice the bot did not sign")

// verify decodes a signed choice, checking its MAC first.
func (w *Workflow) verify(value string) (choice, error) {
	enc, mac, ok := strings.Cut(value, ".")
	if !ok || len(value) > maxChoiceValue {
		return choice{}, errBadChoice
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return choice{}, errBadChoice
	}
	m := hmac.New(sha256.New, w.choice)
	m.Write([]byte(enc))
	if !hmac.Equal(got, m.Sum(nil)) {
		return choice{}, errBadChoice
	}
	body, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return choice{}, errBadChoice
	}
	var c choice
	if err := json.Unmarshal(body, &c); err != nil {
		return choice{}, errBadChoice
	}
	return c, nil
}

// validChoiceClick is parseClick's check of an account button, before any
// look-up: our action ID naming a well-formed account name, and a value of
// the signed form.
func validChoiceClick(actionID, value string) bool {
	_, ok := accountOfAction(actionID)
	return ok && len(value) <= maxChoiceValue && choiceValuePattern.MatchString(value)
}

// ownAction is the action ID suffix of the bot's own account, which has
// no name: "_" is in no account name.
const (
	ownAction       = "_"
	ownAccountLabel = "default account"
)

// accountAction is the action ID of an account's button.
func accountAction(name string) string {
	if name == "" {
		return actionAccountPrefix + ownAction
	}
	return actionAccountPrefix + name
}

// accountOfAction reads accountAction back.
func accountOfAction(actionID string) (string, bool) {
	name, ok := strings.CutPrefix(actionID, actionAccountPrefix)
	switch {
	case !ok:
		return "", false
	case name == ownAction:
		return "", true
	}
	return name, accountNamePattern.MatchString(name)
}

// requestAudit is the audit row of a refused account button.
func requestAudit(ch choice, actor string, o Outcome) request.AuditEvent {
	return request.AuditEvent{RequestID: ch.RequestID, Account: ch.Account, Action: request.ActionRefused, Actor: actor,
		Target: ch.User, Outcome: string(o)}
}

var accountNamePattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// offerAccounts answers a bare command from someone listed in several
// accounts: one button per account, for them alone.
func (w *Workflow) offerAccounts(ctx context.Context, log *slog.Logger, cmd Command, requestID string, p parsedCommand, names []string) {
	expires := w.now().Add(choiceTimeout)
	var buttons []slacktext.Button
	for _, name := range names {
		label := name
		if name == "" {
			label = ownAccountLabel
		}
		c := choice{RequestID: requestID, Team: cmd.TeamID, User: cmd.UserID, Account: name, Reason: p.reason, Expires: expires.Unix()}
		buttons = append(buttons, slacktext.Button{ActionID: accountAction(name), Label: label, Value: w.signWithin(c)})
	}
	log.Info("asked which AWS account", slog.Int("accounts", len(buttons)))
	w.tellEphemeral(ctx, log, cmd.UserID, chooseAccountMessage(requestID, buttons, expires))
}

// handleAccountChoice is a click on an account button: the owner's own,
// in time, for an account they are still listed in, continues as if they
// had typed the account's name.
func (w *Workflow) handleAccountChoice(ctx context.Context, log *slog.Logger, cb Click, c click) {
	ch, err := w.verify(c.token)
	account, _ := accountOfAction(c.action)
	if err != nil || ch.Account != account || ch.Team != c.teamID {
		log.Warn("ignored an account button the bot did not make", slog.String("reason", "bad signature or mismatch"))
		w.replyToClick(ctx, log, cb, slacktext.Plain("This message is out of date. Run the command again. Nothing was changed."))
		return
	}
	log = log.With(slog.String(keyRequest, ch.RequestID), slog.String(keyAccount, account))
	if ch.User != c.userID {
		log.Warn("account button refused: not the owner")
		w.audit(ctx, log, requestAudit(ch, c.userID, OutcomeNotOwner))
		w.replyToClick(ctx, log, cb, slacktext.Plain(outcomeWords[OutcomeNotOwner]))
		return
	}
	if !w.now().Before(time.Unix(ch.Expires, 0)) {
		w.replyToClick(ctx, log, cb, slacktext.Plain("These buttons have expired. Run the command again. Nothing was changed."))
		return
	}
	if existing, err := w.store.Request(ctx, ch.RequestID); err == nil {
		// One request per command: the first button pressed made it.
		w.replyToClick(ctx, log, cb, slacktext.Plain(fmt.Sprintf("You already chose: request %s is for %s. Nothing else was changed.",
			existing.ID, accountName(existing.Account))))
		return
	}
	cmd := Command{Command: w.cfg.Slack.Command, UserID: c.userID, TeamID: c.teamID, EnterpriseID: c.enterpriseID,
		// One request per command, whichever buttons are pressed: a second
		// click finds the first's envelope and is ignored.
		EnvelopeID: "account-choice:" + ch.RequestID}
	w.startSelf(ctx, log, cmd, ch.RequestID, parsedCommand{kind: commandSelf, account: account, reason: ch.Reason})
}

// accountName is how a reply names an account chosen with a button.
func accountName(name string) string {
	if name == "" {
		return "the " + ownAccountLabel
	}
	return "AWS account " + slacktext.Code(name)
}
