package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
	"github.com/aws-reset-bot/aws-reset-bot/internal/iampolicy"
	"github.com/aws-reset-bot/aws-reset-bot/internal/leakcheck"
)

// TestCheckLiveAccounts checks each account of aws.accounts through its
// role: prod's role is assumed, its permissions simulated and its
// password policy read; gone's role can't be assumed, which is a FAIL
// naming the account and the role.
func TestCheckLiveAccounts(t *testing.T) {
	slack := fakeslack.New(fakeslack.Options{})
	defer slack.Close()
	iam := fakeaws.New(fakeaws.Options{})
	defer iam.Close()
	for k, v := range iam.Env() {
		t.Setenv(k, v)
	}
	prod := iam.AddAccount("111111111111", fakeaws.AccountOptions{})
	prod.AddRole(fakeaws.Role{Name: "aws-reset-bot", ExternalID: "ext-1"})
	prod.AddUser(fakeaws.User{Name: "bob", LoginProfile: true, MFADevices: 1})
	prod.SetPasswordPolicy(&fakeaws.PasswordPolicy{MinimumPasswordLength: 30})

	body := fmt.Sprintf(`slack:
  api_url: %s
aws:
  accounts:
    - name: prod
      role_arn: %s
      external_id: ext-1
    - name: gone
      role_arn: arn:aws:iam::222222222222:role/aws-reset-bot
users:
  - slack_user: U0ALICE001
    iam_user: alice
  - slack_user: U0BOB00001
    iam_user: bob
    account: prod
`, slack.APIURL(), prod.RoleARN("aws-reset-bot"))
	cfg, err := config.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := iampolicy.BuildAccount(cfg, "prod")
	var rules []fakeaws.Rule
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			for _, r := range s.Resource {
				rules = append(rules, fakeaws.Rule{Action: a, Resource: r})
			}
		}
	}
	prod.SetAllowed(rules)
	iam.AddUser(fakeaws.User{Name: "alice", LoginProfile: true, MFADevices: 1})

	env := map[string]string{config.EnvAppToken: fakeslack.AppToken, config.EnvBotToken: fakeslack.BotToken}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"check", "--config", writeConfig(t, body), "--live"}, &stdout, &stderr,
		func(k string) string { return env[k] })
	if err == nil {
		t.Errorf("check --live = nil; want an error for the account whose role can't be assumed")
	}
	out := stdout.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, w := range []string{
		`^PASS +account prod: aws identity +role aws-reset-bot in account 111111111111`,
		`^PASS +account prod: iam:UpdateLoginProfile +allowed on the 1 listed users`,
		`^PASS +account prod: iam least privilege `,
		`^PASS +account prod: password policy +the account's: at least 30 characters`,
		`^FAIL +account gone: assume role +sts:AssumeRole on arn:aws:iam::222222222222:role/aws-reset-bot: AccessDenied`,
	} {
		if !matchesLine(lines, regexp.MustCompile(w)) {
			t.Errorf("no line of the output matches %s:\n%s", w, out)
		}
	}
	if calls := iam.Calls("AssumeRole"); len(calls) == 0 || calls[0].Params.Get("ExternalId") != "ext-1" {
		t.Errorf("AssumeRole calls = %+v; want prod's with its external ID", calls)
	}
	secrets := append(append(fakeslack.Secrets(), fakeaws.SecretAccessKey), iam.IssuedSecrets()...)
	for _, leak := range leakcheck.Find(secrets, map[string][]byte{"the output": []byte(out + stderr.String())}) {
		t.Error(leak)
	}
}
