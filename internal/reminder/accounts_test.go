package reminder_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reminder"
)

// TestAccountReminders: a Reminder for prod reads prod's credential report
// through prod's role, reminds only prod's users, and names the account;
// the bot's own account's user with the same expiry is not its business.
func TestAccountReminders(t *testing.T) {
	h := newHarness(t, date(1, 0, 0, "UTC"), "UTC", "UTC")
	prod := h.iam.AddAccount("111111111111", fakeaws.AccountOptions{})
	prod.AddRole(fakeaws.Role{Name: "aws-reset-bot"})
	prod.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 12, MaxPasswordAge: maxAge})
	expires := date(20, 10, 0, "UTC")
	prod.AddUser(fakeaws.User{Name: "bob", LoginProfile: true, PasswordCreated: expires.AddDate(0, 0, -maxAge)})
	h.setExpiry("alice", expires)
	h.cfg.AWS.Accounts = []config.Account{{Name: "prod", RoleARN: prod.RoleARN("aws-reset-bot")}}
	h.cfg.Users = []config.User{{SlackUser: alice, IAMUser: "alice"}, {SlackUser: bob, IAMUser: "bob", Account: "prod"}}
	h.options = func(o *reminder.Options) {
		ro := awsclient.Options{Retry: awsclient.RetryOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}
		own := awsclient.New(h.iam.Config(), ro)
		o.IAM = awsclient.ForAccount(h.iam.Config(), own, h.cfg.AWS.Accounts[0], ro).IAM
		o.Account, o.AccountID, o.ConsoleURL = "prod", "111111111111", "https://111111111111.signin.aws.amazon.com/console"
	}
	h.start()
	rep := h.runAt(date(17, 9, 0, "UTC"), false)
	if len(rep.Reminders) != 1 || rep.Reminders[0].SlackUser != bob || rep.Reminders[0].Outcome != reminder.Sent {
		t.Fatalf("Reminders = %+v; want one, sent to bob", rep.Reminders)
	}
	if !strings.Contains(rep.Reminders[0].Key, "prod:bob") {
		t.Errorf("reminder key %q does not name the account", rep.Reminders[0].Key)
	}
	dms := h.dms(bob)
	if len(dms) != 1 || !strings.Contains(string(dms[0].Blocks), "`bob` in AWS account `prod` (111111111111)") ||
		!strings.Contains(string(dms[0].Blocks), "111111111111.signin.aws.amazon.com") {
		t.Errorf("bob's DMs = %+v; want one naming prod and its sign-in URL", dms)
	}
	if len(h.dms(alice)) != 0 {
		t.Error("prod's reminders reached alice, who is in the bot's own account")
	}
	if n := len(prod.Calls("GetCredentialReport")); n == 0 {
		t.Error("prod's credential report was not read through prod's role")
	}
	if got := h.metric("awsreset_users_expiring_within_7d", map[string]string{"account": "prod"}); got != 1 {
		t.Errorf("awsreset_users_expiring_within_7d{account=prod} = %v; want 1 (bob)", got)
	}
}
