package slackbot_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/serve"
	"github.com/aws-reset-bot/aws-reset-bot/internal/slackbot"
)

// dana is listed in two accounts: dana in prod, dana-dev in dev.
const (
	dana       = "U0DANA0001"
	prodID     = "111111111111"
	devID      = "222222222222"
	accountBtn = "aws_reset_account"
)

// accountsHarness adds prod (a role with an external ID, a 32-character
// password policy) and dev (a role without, a policy of its own) to the
// fake AWS, lists dana in both, and gives the bot the accounts' clients,
// made as bot run makes them. prodExternalID is what the configuration
// says, to test a mismatch.
type accountsHarness struct {
	*harness
	prod, dev *fakeaws.Server
}

func newAccountsHarness(t *testing.T, prodExternalID string, opts ...harnessOption) *accountsHarness {
	t.Helper()
	ah := &accountsHarness{}
	opts = append(opts, func(h *harness) {
		h.slack.AddUser(fakeslack.User{ID: dana, Name: "dana"})
		ah.prod = h.iam.AddAccount(prodID, fakeaws.AccountOptions{})
		ah.prod.AddRole(fakeaws.Role{Name: "aws-reset-bot", ExternalID: "ext-prod"})
		ah.prod.AddUser(fakeaws.User{Name: "dana", LoginProfile: true, MFADevices: 1})
		ah.prod.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 32, RequireSymbols: true})
		ah.dev = h.iam.AddAccount(devID, fakeaws.AccountOptions{})
		ah.dev.AddRole(fakeaws.Role{Name: "aws-reset-bot"})
		ah.dev.AddUser(fakeaws.User{Name: "dana-dev", LoginProfile: true, MFADevices: 1})
		ah.dev.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 24, RequireNumbers: true})
		h.cfg.AWS.Accounts = []config.Account{
			{Name: "prod", RoleARN: ah.prod.RoleARN("aws-reset-bot"), ExternalID: prodExternalID},
			{Name: "dev", RoleARN: ah.dev.RoleARN("aws-reset-bot")},
		}
		h.cfg.Users = append(h.cfg.Users, config.User{SlackUser: dana, IAMUser: "dana", Account: "prod"},
			config.User{SlackUser: dana, IAMUser: "dana-dev", Account: "dev"})
		edit := h.edit
		h.edit = func(o *slackbot.Options) {
			if edit != nil {
				edit(o)
			}
			gen, err := password.NewGenerator(h.cfg.Reset.PasswordLength)
			if err != nil {
				t.Fatal(err)
			}
			ao := awsclient.Options{Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}
			own := awsclient.New(h.iam.Config(), ao)
			o.Accounts, _ = serve.Accounts(h.cfg, h.iam.Config(), own, ao, gen)
		}
	})
	ah.harness = newHarness(t, opts...)
	t.Cleanup(func() { ah.scanIssued() })
	return ah
}

// scanIssued holds the temporary keys to the same leak check as the rest.
func (ah *accountsHarness) scanIssued() {
	for _, s := range ah.iam.IssuedSecrets() {
		if strings.Contains(ah.logs.String(), s) {
			ah.t.Error("an assumed role's secret key or session token is in the logs")
		}
	}
}

// waitPassword waits for dana's password message naming the account.
func (ah *accountsHarness) waitPassword(account, id string) string {
	ah.t.Helper()
	m := ah.waitEphemeral(dana, "in AWS account `"+account+"` ("+id+")")
	if !strings.Contains(string(m.Blocks), "https://"+id+".signin.aws.amazon.com/console") {
		ah.t.Errorf("password message lacks %s's sign-in URL: %s", account, m.Blocks)
	}
	return passwordOf(ah.t, m)
}

func lastPassword(t *testing.T, s *fakeaws.Server, user string) string {
	t.Helper()
	calls := s.Calls("UpdateLoginProfile")
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Params.Get("UserName") == user && calls[i].Status == 200 {
			return calls[i].Params.Get("Password")
		}
	}
	t.Fatalf("no UpdateLoginProfile for %s", user)
	return ""
}

// TestAccountsByArgumentAndButton: dana names prod, then asks bare and
// chooses dev with a button; alice pressing dana's button does nothing.
// Each account's own password policy shapes its password.
func TestAccountsByArgumentAndButton(t *testing.T) {
	ah := newAccountsHarness(t, "ext-prod")
	ah.start()

	ah.command(dana, "prod")
	pw := ah.waitPassword("prod", prodID)
	if pw != lastPassword(t, ah.prod, "dana") || len(pw) < 32 {
		t.Errorf("prod password (%d chars) is not the one prod's IAM took, or breaks prod's policy", len(pw))
	}
	if n := len(ah.iam.Calls("UpdateLoginProfile")); n != 1 {
		t.Errorf("UpdateLoginProfile calls = %d; want 1, in prod", n)
	}
	if n := len(ah.dev.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("dev UpdateLoginProfile calls = %d; want 0", n)
	}
	ar := ah.iam.Calls("AssumeRole")
	host, _ := os.Hostname()
	if len(ar) != 1 || ar[0].Params.Get("ExternalId") != "ext-prod" || ar[0].Params.Get("RoleSessionName") != awsclient.BotSessionName(host) {
		t.Errorf("AssumeRole calls = %+v; want one for prod, with its external ID", ar)
	}

	ah.command(dana, "")
	offer := ah.waitEphemeral(dana, "Which one")
	for _, want := range []string{accountBtn + "_prod", accountBtn + "_dev"} {
		if !strings.Contains(string(offer.Blocks), want) {
			t.Fatalf("account choice lacks the %s button: %s", want, offer.Blocks)
		}
	}
	press := func(user, account string) {
		ah.clickAction(fakeslack.BlockAction{UserID: user, ChannelID: offer.Channel, BlockID: accountBtn,
			ActionID: accountBtn + "_" + account, Value: buttonValue(t, offer, accountBtn+"_"+account)})
	}
	press(alice, "dev")
	ah.waitEphemeral(alice, "This button is for someone else")
	if n := len(ah.dev.Calls("UpdateLoginProfile")); n != 0 {
		t.Fatalf("someone else's click reset dana-dev (%d calls)", n)
	}
	press(dana, "dev")
	pw = ah.waitPassword("dev", devID)
	if pw != lastPassword(t, ah.dev, "dana-dev") || len(pw) < 24 || !strings.ContainsAny(pw, "0123456789") {
		t.Errorf("dev password is not the one dev's IAM took, or breaks dev's policy")
	}
	ah.waitDM(dana, "`dana-dev` in AWS account `dev` ("+devID+") was reset")
}

// TestAccountsExternalIDMismatch: the configured external ID is not the
// role's; dana is told prod can't be reached, nothing is touched there,
// the log names the role and the code, and dev still works.
func TestAccountsExternalIDMismatch(t *testing.T) {
	ah := newAccountsHarness(t, "wrong-id")
	ah.start()
	ah.command(dana, "prod")
	ah.waitEphemeral(dana, "can't reach that AWS account right now")
	if n := len(ah.prod.Calls("")); n != 0 {
		t.Errorf("prod saw %d calls; want none", n)
	}
	logs := ah.logs.String()
	for _, want := range []string{"role_arn=" + ah.prod.RoleARN("aws-reset-bot"), "error_code=AccessDenied", "outcome=account_unreachable"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	ah.command(dana, "dev")
	ah.waitPassword("dev", devID)
	ah.command(alice, "")
	ah.waitEphemeral(alice, "Your new temporary AWS console password")
}

// TestAccountsRoleCannotBeAssumed: prod's role does not trust the bot.
func TestAccountsRoleCannotBeAssumed(t *testing.T) {
	ah := newAccountsHarness(t, "ext-prod")
	ah.prod.AddRole(fakeaws.Role{Name: "aws-reset-bot", Untrusted: true})
	ah.start()
	ah.command(dana, "prod")
	ah.waitEphemeral(dana, "can't reach that AWS account right now")
	if n := len(ah.prod.Calls("")); n != 0 {
		t.Errorf("prod saw %d calls; want none", n)
	}
	if !ah.bot.Ready() {
		t.Error("the bot is not ready: an unreachable account must not fail /readyz")
	}
}

// TestAccountsCredentialsExpireMidRun: STS ends the role's session after
// the first reset; the next one assumes the role again and succeeds.
func TestAccountsCredentialsExpireMidRun(t *testing.T) {
	ah := newAccountsHarness(t, "ext-prod")
	ah.start()
	ah.command(dana, "prod")
	first := ah.waitPassword("prod", prodID)
	ah.iam.ExpireCredentials()
	seen := ah.seen()
	ah.command(dana, "prod")
	m := ah.waitNew(seen, func(m fakeslack.Message) bool {
		return m.Ephemeral && m.User == dana && strings.Contains(m.Text, "Your new temporary AWS console password")
	})
	if second := passwordOf(t, m); second == first || second != lastPassword(t, ah.prod, "dana") {
		t.Error("the second reset's password is not new, or not the one IAM took")
	}
	if n := len(ah.iam.Calls("AssumeRole")); n != 2 {
		t.Errorf("AssumeRole calls = %d; want 2 (the first, and again once the session ended)", n)
	}
	expired := 0
	for _, c := range ah.prod.Calls("") {
		if c.Code == "ExpiredToken" {
			expired++
		}
	}
	if expired == 0 {
		t.Error("no call was refused ExpiredToken: the test did not expire anything")
	}
}

// TestAccountsApprovalInSecondAccount: an approval for dana's dev user
// names the account; the approved reset lands in dev.
func TestAccountsApprovalInSecondAccount(t *testing.T) {
	ah := newAccountsHarness(t, "ext-prod", withApproval())
	ah.start()
	ah.command(dana, "dev")
	m := ah.waitApprovalMessage("dana-dev")
	if !strings.Contains(m.Text, "in AWS account `dev` ("+devID+")") {
		t.Errorf("approval message %q does not name the account", m.Text)
	}
	ah.click(admin, m, approveID)
	ah.reveal(dana)
	ah.waitPassword("dev", devID)
	if n := len(ah.prod.Calls("UpdateLoginProfile")); n != 0 {
		t.Errorf("prod UpdateLoginProfile calls = %d; want 0", n)
	}

	// An approver resetting dana's prod user by name.
	ah.command(admin, "<@"+dana+"> prod")
	ah.waitEphemeral(admin, "`dana` in AWS account `prod` ("+prodID+")")
}
