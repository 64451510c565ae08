package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/request"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

const bob = "U0BOB00001"

func (ft *flowTest) accountOptions() map[string]Account {
	out := map[string]Account{}
	for name, r := range ft.accts {
		out[name] = Account{Resetter: r, ConsoleURL: "https://" + name + ".signin.aws.amazon.com/console"}
	}
	return out
}

func (ft *flowTest) logger() *slog.Logger {
	if ft.log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(ft.log, nil))
}

// unreachable is the resetter of an account whose role can't be assumed.
type unreachable struct{}

var errUnreachable = &awsclient.AssumeRoleError{RoleARN: "arn:aws:iam::111111111111:role/aws-reset-bot", Code: "AccessDenied",
	Err: errors.New("api error AccessDenied: not authorized to perform sts:AssumeRole")}

func (unreachable) Reset(context.Context, string) (password.Secret, error) {
	return password.Secret{}, errUnreachable
}
func (unreachable) Check(context.Context, string) error { return errUnreachable }
func (unreachable) Inspect(context.Context, string) (reset.Account, error) {
	return reset.Account{}, errUnreachable
}
func (unreachable) Scramble(context.Context, string) error { return errUnreachable }

// accountsFlow is a flowTest with prod and dev configured and bob listed
// in both (bob in prod, bob-dev in dev); alice stays in the bot's own.
func accountsFlow(t *testing.T, edit func(*config.Config), prod Resetter) (*flowTest, *memIAM) {
	t.Helper()
	dev := &memIAM{accounts: map[string]reset.Account{"bob-dev": {Path: "/", MFADevices: 1}}}
	if prod == nil {
		prod = &memIAM{accounts: map[string]reset.Account{"bob": {Path: "/", MFADevices: 1}}}
	}
	ft := newFlowTest(t, nil)
	ft.slack.add(Person{ID: bob})
	ft.accts = map[string]Resetter{"prod": prod, "dev": dev, "staging": &memIAM{}}
	ft.restart(func(c *config.Config) {
		c.AWS.Accounts = []config.Account{
			{Name: "prod", RoleARN: "arn:aws:iam::111111111111:role/aws-reset-bot"},
			{Name: "dev", RoleARN: "arn:aws:iam::222222222222:role/aws-reset-bot"},
			{Name: "staging", RoleARN: "arn:aws:iam::333333333333:role/aws-reset-bot"},
		}
		c.Users = append(c.Users, config.User{SlackUser: bob, IAMUser: "bob", Account: "prod"},
			config.User{SlackUser: bob, IAMUser: "bob-dev", Account: "dev"})
		if edit != nil {
			edit(c)
		}
	})
	return ft, dev
}

func (ft *flowTest) prod() *memIAM { return ft.accts["prod"].(*memIAM) }

func TestAccountByArgument(t *testing.T) {
	ft, dev := accountsFlow(t, nil, nil)
	id := ft.command(bob, "prod locked out")
	if got := ft.prod().resets; len(got) != 1 || got[0] != "bob" || dev.resetCount() != 0 || ft.iam.resetCount() != 0 {
		t.Fatalf("resets: prod %v, dev %d, own %d; want bob in prod alone", got, dev.resetCount(), ft.iam.resetCount())
	}
	msg := ft.one("ephemeral", dmOf(bob), "Your new temporary AWS console password")
	for _, want := range []string{"`bob` in AWS account `prod` (111111111111)", "https://prod.signin.aws.amazon.com/console"} {
		if !strings.Contains(msg.body(), want) {
			t.Errorf("password message %q lacks %q", msg.body(), want)
		}
	}
	ft.one("post", dmOf(bob), "`bob` in AWS account `prod` (111111111111) was reset")
	r := ft.request(id)
	if r.Account != "prod" || r.Reason != "locked out" || r.State != request.Delivered {
		t.Errorf("request = %+v; want delivered, in prod, with the reason", r)
	}
	events, err := ft.store.Audit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Account != "prod" {
			t.Errorf("audit row %+v; want account prod", e)
		}
	}
}

func TestAccountByButton(t *testing.T) {
	tests := []struct {
		name      string
		clicker   string
		button    string
		advance   time.Duration
		wantDev   int
		wantProd  int
		wantWords string
	}{
		{"owner picks dev", bob, actionAccountPrefix + "dev", 0, 1, 0, "Your new temporary AWS console password"},
		{"owner picks prod", bob, actionAccountPrefix + "prod", 0, 0, 1, "Your new temporary AWS console password"},
		{"someone else presses it", alice, actionAccountPrefix + "dev", 0, 0, 0, "This button is for someone else"},
		{"too late", bob, actionAccountPrefix + "dev", 11 * time.Minute, 0, 0, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft, dev := accountsFlow(t, nil, nil)
			ft.command(bob, "")
			if ft.prod().resetCount()+dev.resetCount() != 0 {
				t.Fatal("a bare command reset something before the choice")
			}
			offer := ft.one("ephemeral", "", "Which one")
			ft.now = ft.now.Add(tt.advance)
			ft.click(tt.clicker, offer, tt.button)
			if dev.resetCount() != tt.wantDev || ft.prod().resetCount() != tt.wantProd {
				t.Errorf("resets: dev %d, prod %d; want %d, %d", dev.resetCount(), ft.prod().resetCount(), tt.wantDev, tt.wantProd)
			}
			if len(ft.slack.find("", "", tt.wantWords)) == 0 && len(ft.slack.find("ephemeral", "", tt.wantWords)) == 0 {
				t.Errorf("no message with %q:\n%s", tt.wantWords, ft.slack.dump())
			}
			// A second press of either button makes no second request.
			if tt.wantDev+tt.wantProd == 1 {
				ft.click(bob, offer, actionAccountPrefix+"dev")
				ft.click(bob, offer, actionAccountPrefix+"prod")
				if n := dev.resetCount() + ft.prod().resetCount(); n != 1 {
					t.Errorf("resets after pressing again = %d; want 1", n)
				}
				if got := ft.slack.find("ephemeral", "", "You already chose"); len(got) != 2 {
					t.Errorf("%d answers to the second presses; want 2:\n%s", len(got), ft.slack.dump())
				}
			}
		})
	}
}

func TestAccountButtonForged(t *testing.T) {
	ft, dev := accountsFlow(t, nil, nil)
	ft.command(bob, "")
	offer := ft.one("ephemeral", "", "Which one")
	var value string
	for _, b := range offer.Msg.Blocks {
		if s := strings.LastIndex(string(mustJSON(b)), `"value":"`); s >= 0 { // the last button: dev
			value = strings.SplitN(string(mustJSON(b))[s+9:], `"`, 2)[0]
		}
	}
	for _, c := range []Click{
		// The dev button's signature under the prod action ID.
		{BlockID: blockAccount, ActionID: actionAccountPrefix + "prod", Value: value},
		// A choice re-signed with another key.
		{BlockID: blockAccount, ActionID: actionAccountPrefix + "dev", Value: (&Workflow{choice: []byte("other")}).sign(choice{RequestID: "R1", Team: team, User: bob, Account: "dev", Expires: ft.now.Add(time.Hour).Unix()})},
	} {
		c.UserID, c.UserTeamID, c.TeamID, c.ChannelID = bob, team, team, dmOf(bob)
		ft.flow.HandleClick(context.Background(), c)
	}
	if dev.resetCount()+ft.prod().resetCount() != 0 {
		t.Errorf("a forged account button reset something")
	}
}

func TestAccountRefusals(t *testing.T) {
	tests := []struct{ name, user, text string }{
		{"listed elsewhere, not in staging", bob, "staging"},
		{"own account only, names prod", alice, "prod"},
		{"not listed at all", stranger, "prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft, dev := accountsFlow(t, nil, nil)
			ft.command(tt.user, tt.text)
			if n := dev.resetCount() + ft.prod().resetCount() + ft.iam.resetCount(); n != 0 {
				t.Errorf("%d resets; want none", n)
			}
			ft.one("ephemeral", "", refusedWords)
		})
	}
}

func TestAccountUnreachable(t *testing.T) {
	var logs bytes.Buffer
	ft, dev := accountsFlow(t, nil, unreachable{})
	ft.log = &logs
	ft.restart(nil)
	id := ft.command(bob, "prod")
	ft.one("ephemeral", "", "can't reach that AWS account right now")
	for _, want := range []string{"role_arn=arn:aws:iam::111111111111:role/aws-reset-bot", "error_code=AccessDenied", "request_id=" + id} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// The other accounts keep working.
	ft.command(bob, "dev")
	if dev.resetCount() != 1 {
		t.Errorf("dev resets = %d; want 1 while prod is unreachable", dev.resetCount())
	}
	ft.command(alice, "")
	if ft.iam.resetCount() != 1 {
		t.Errorf("own account resets = %d; want 1", ft.iam.resetCount())
	}
}

func TestAccountCooldownAndActive(t *testing.T) {
	ft, dev := accountsFlow(t, func(c *config.Config) { c.Reset.Cooldown = config.Duration(10 * time.Minute) }, nil)
	ft.command(bob, "prod")
	ft.command(bob, "dev")
	if dev.resetCount() != 1 || ft.prod().resetCount() != 1 {
		t.Fatalf("resets: dev %d, prod %d; want one each (cooldowns are per account)", dev.resetCount(), ft.prod().resetCount())
	}
	ft.command(bob, "prod")
	if ft.prod().resetCount() != 1 {
		t.Errorf("prod resets = %d; want 1 (cooldown)", ft.prod().resetCount())
	}
	ft.one("ephemeral", "", "reset a short while ago")
}

func TestAccountApprovals(t *testing.T) {
	ft, dev := accountsFlow(t, withApprovals, nil)
	ft.command(bob, "dev")
	approval := ft.one("post", channel, "asks to reset")
	if !strings.Contains(approval.body(), "`bob-dev` in AWS account `dev` (222222222222)") {
		t.Errorf("approval message %q does not name the account", approval.body())
	}
	ft.click(admin, approval, actionApprove)
	offer := ft.one("post", dmOf(bob), "approved resetting")
	ft.click(bob, offer, actionReveal)
	if dev.resetCount() != 1 || ft.prod().resetCount() != 0 {
		t.Errorf("resets: dev %d, prod %d; want bob-dev in dev", dev.resetCount(), ft.prod().resetCount())
	}

	// An approver for someone else, naming the account, or asked to.
	ft.command(admin, "<@"+bob+"> prod")
	ft.one("ephemeral", "", "`bob` in AWS account `prod` (111111111111)")
	ft.command(admin, "<@"+bob+">")
	ft.one("ephemeral", "", "is listed in several AWS accounts")
}

func TestAccountRemovedEndsWaiting(t *testing.T) {
	ft, _ := accountsFlow(t, withApprovals, nil)
	id := ft.command(bob, "prod")
	if ft.request(id).State != request.Pending {
		t.Fatalf("state = %s; want pending", ft.request(id).State)
	}
	ft.restart(func(c *config.Config) {
		var users []config.User
		for _, u := range c.Users {
			if u.Account != "prod" {
				users = append(users, u)
			}
		}
		c.Users = users
	})
	if r := ft.request(id); r.State != request.Failed || r.Outcome != string(RefusedNotListed) {
		t.Errorf("request after bob left prod = %s/%s; want failed/%s", r.State, r.Outcome, RefusedNotListed)
	}
}

func TestOneAccountProceedsAsToday(t *testing.T) {
	ft, _ := accountsFlow(t, nil, nil)
	ft.restart(func(c *config.Config) {
		c.Users = append(c.Users[:3], config.User{SlackUser: bob, IAMUser: "bob", Account: "prod"})
	})
	ft.command(bob, "")
	if ft.prod().resetCount() != 1 {
		t.Errorf("prod resets = %d; want 1: bob is listed in prod alone", ft.prod().resetCount())
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestAccountButtonLongReason: a reason that would overflow a button's
// value is shortened, and the choice still works.
func TestAccountButtonLongReason(t *testing.T) {
	ft, dev := accountsFlow(t, nil, nil)
	ft.command(bob, strings.Repeat("<&>", MaxReason/3))
	offer := ft.one("ephemeral", "", "Which one")
	for _, b := range offer.Msg.Blocks {
		var ab struct {
			Elements []struct{ Value string } `json:"elements"`
		}
		_ = json.Unmarshal(mustJSON(b), &ab)
		for _, e := range ab.Elements {
			if len(e.Value) > maxChoiceValue {
				t.Errorf("a button's value is %d bytes; Slack takes at most %d", len(e.Value), maxChoiceValue)
			}
		}
	}
	ft.click(bob, offer, actionAccountPrefix+"dev")
	if dev.resetCount() != 1 {
		t.Fatalf("dev resets = %d; want 1", dev.resetCount())
	}
}

func TestAccountsHelp(t *testing.T) {
	ft, _ := accountsFlow(t, nil, nil)
	_, m := ft.flow.Preflight(Command{Command: "/aws-reset", Text: "help", UserID: bob, TeamID: team})
	if !strings.Contains(m.Text, "/aws-reset ACCOUNT") || strings.Contains(m.Text, "prod") {
		t.Errorf("help with accounts = %q; want the ACCOUNT form, naming no account", m.Text)
	}
	plain := newFlowTest(t, nil)
	if _, m := plain.flow.Preflight(Command{Command: "/aws-reset", Text: "help", UserID: alice, TeamID: team}); strings.Contains(m.Text, "ACCOUNT") {
		t.Errorf("help without accounts = %q; want today's", m.Text)
	}
}

// TestAccountsHomeTab: the Home tab shows each of bob's IAM users with its
// account, and each button resets that one, in its account.
func TestAccountsHomeTab(t *testing.T) {
	ft, dev := accountsFlow(t, func(c *config.Config) { c.Home.Enabled = true }, nil)
	ft.flow.HandleHomeOpened(context.Background(), HomeOpened{UserID: bob, TeamID: team, Tab: "home"})
	home := ft.slack.home(bob)
	for _, want := range []string{"`bob` in AWS account `prod` (111111111111)", "`bob-dev` in AWS account `dev` (222222222222)", "prod:bob", "dev:bob-dev"} {
		if !strings.Contains(home, want) && !strings.Contains(home, jsonText(want)) {
			t.Errorf("bob's Home lacks %q: %s", want, home)
		}
	}
	ft.homeClick(bob, bob, actionHomeReset, "dev:bob-dev")
	if dev.resetCount() != 1 || ft.prod().resetCount() != 0 {
		t.Errorf("resets after dev's Home button: dev %d, prod %d; want 1, 0", dev.resetCount(), ft.prod().resetCount())
	}
	ft.homeClick(alice, bob, actionHomeReset, "prod:bob") // not alice's
	if ft.prod().resetCount() != 0 {
		t.Error("alice's click on bob's prod button reset it")
	}
}

// TestAccountApprovalOverride: prod has approvers and a channel of its
// own (aws.accounts[i].approval); dev keeps the top level's.
func TestAccountApprovalOverride(t *testing.T) {
	const prodChannel = "C0PRODAPP1"
	ft, dev := accountsFlow(t, func(c *config.Config) {
		withApprovals(c)
		ch := prodChannel
		c.AWS.Accounts[0].Approval = &config.ApprovalOverride{Channel: &ch, Approvers: []string{admin2}}
	}, nil)
	ft.command(bob, "prod")
	m := ft.one("post", prodChannel, "asks to reset")
	if n := len(ft.slack.find("post", channel, "asks to reset")); n != 0 {
		t.Errorf("%d approval messages in the top level's channel; want prod's alone", n)
	}
	ft.click(admin, m, actionApprove) // the top level's approver: not prod's
	if n := len(ft.slack.find("post", dmOf(bob), "approved resetting")); n != 0 {
		t.Fatal("an approver of the top level approved a request in prod")
	}
	ft.click(admin2, m, actionApprove)
	ft.click(bob, ft.one("post", dmOf(bob), "approved resetting"), actionReveal)
	if ft.prod().resetCount() != 1 {
		t.Errorf("prod resets = %d; want 1", ft.prod().resetCount())
	}

	ft.command(bob, "dev")
	ft.click(admin, ft.one("post", channel, "`bob-dev`"), actionApprove)
	offers := ft.slack.find("post", dmOf(bob), "approved resetting")
	ft.click(bob, offers[len(offers)-1], actionReveal)
	if dev.resetCount() != 1 {
		t.Errorf("dev resets = %d; want 1 (the top level's approver)", dev.resetCount())
	}

	// admin is no approver for prod: "/aws-reset @bob prod" is refused.
	ft.command(admin, "<@"+bob+"> prod")
	ft.one("ephemeral", "", outcomeWords[RefusedNotApprover])
}
