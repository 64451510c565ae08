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

// The live check's world: two listed users, two channels, two protected
// names, and the fake account's bot user.
const (
	liveApprovals = "C0APPROVE1"
	liveAudit     = "G0AUDIT001" // private: invisible to the bot unless it is in it
	liveAdmin     = "U0ADMIN001"
	botARN        = "arn:aws:iam::" + fakeaws.AccountID + ":user/" + fakeaws.BotUserName
)

const liveUsers = `
reset:
  protected: [breakglass, /admin/]
users:
  - slack_user: U0ALICE001
    iam_user: alice
  - slack_user: U0BOB00001
    iam_user: bob
`

// policyRules are the fake's permissions for exactly the policy "bot
// policy" writes for cfg, plus iam:SimulatePrincipalPolicy on the bot's
// own ARN, which lets the check ask.
func policyRules(t *testing.T, cfg string) []fakeaws.Rule {
	t.Helper()
	c, err := config.Parse(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var rules []fakeaws.Rule
	for _, s := range iampolicy.Build(c, fakeaws.AccountID, "aws").Statement {
		for _, a := range s.Action {
			for _, r := range s.Resource {
				rules = append(rules, fakeaws.Rule{Action: a, Resource: r})
			}
		}
	}
	return append(rules, fakeaws.Rule{Action: "iam:SimulatePrincipalPolicy", Resource: botARN})
}

// without drops the rules for action on resource.
func without(rules []fakeaws.Rule, action, resource string) []fakeaws.Rule {
	var out []fakeaws.Rule
	for _, r := range rules {
		if r.Action != action || r.Resource != resource {
			out = append(out, r)
		}
	}
	return out
}

// TestCheckLive runs "bot check --live" over the wire against the fakes,
// wired only by the config file and the environment, as in production.
func TestCheckLive(t *testing.T) {
	userARN := func(name string) string { return "arn:aws:iam::" + fakeaws.AccountID + ":user/" + name }
	resetActions := []string{"iam:GetLoginProfile", "iam:GetUser", "iam:ListMFADevices", "iam:UpdateLoginProfile"}
	const badBot, badApp = "xoxb-9999-9999-notarealtoken", "xapp-1-A0NOTREAL-9999-notarealtoken"

	tests := []struct {
		name          string
		rules         func([]fakeaws.Rule) []fakeaws.Rule // nil: exactly "bot policy"
		policy        *fakeaws.PasswordPolicy
		approvalBotIn bool
		auditBotIn    bool
		env           map[string]string // over the right tokens; "" unsets
		wantErr       bool
		want          []string // regexps, each matching a line of the checklist
		wantNot       []string
	}{
		{
			name:          "all pass",
			policy:        &fakeaws.PasswordPolicy{MinimumPasswordLength: 24, RequireSymbols: true, RequireNumbers: true, MaxPasswordAge: 90},
			approvalBotIn: true, auditBotIn: true,
			want: []string{
				`^PASS +slack bot token +workspace "Fake Slack" \(T0TEAM0001\), bot user @aws-reset-bot \(U0BOT00001\)$`,
				`^PASS +slack app-level token +workspace "Fake Slack" \(T0TEAM0001\)$`,
				`^PASS +slack socket mode +apps\.connections\.open handed out a WebSocket URL`,
				`^PASS +approval\.channel C0APPROVE1 +the bot is in #aws-approvals$`,
				`^PASS +audit\.channel G0AUDIT001 +the bot is in #aws-audit$`,
				`^PASS +aws identity +IAM user aws-reset-bot in account 123456789012`,
				`^PASS +iam:GetAccountPasswordPolicy +allowed`,
				`^PASS +iam:ListAccountAliases +allowed`,
				`^PASS +iam:UpdateLoginProfile +allowed on the 2 listed users`,
				`^PASS +iam:GetUser +allowed on the 2 listed users`,
				`^PASS +iam least privilege +iam:UpdateLoginProfile is denied on a user not on the allowlist; its own IAM user; ` +
					`protected user breakglass; a user under the protected path /admin/`,
				`^PASS +password policy +the account's: at least 24 characters with digits, symbols; a generated password meets it$`,
				`^PASS +password length +the policy's minimum, 24, is above reset\.password_length, 20`,
				`^PASS +password expiry +passwords expire after 90 days .*reminders\.enabled`,
				`^summary: 16 PASS, 0 WARN, 0 FAIL, 0 SKIP: ready to deploy$`,
			},
		},
		{
			name:          "a missing permission",
			rules:         func(r []fakeaws.Rule) []fakeaws.Rule { return without(r, "iam:UpdateLoginProfile", userARN("bob")) },
			approvalBotIn: true, auditBotIn: true,
			wantErr: true,
			want: []string{
				`^FAIL +iam:UpdateLoginProfile +denied on bob \(implicitDeny\)\. Used to: set the new temporary password.*` +
					`Attach the policy from "bot policy --account 123456789012"$`,
				`^PASS +iam:GetUser +allowed on the 2 listed users`,
				`^PASS +password policy +the account sets none, so AWS's default applies`,
				`^summary: .* 1 FAIL, 0 SKIP: not ready`,
			},
		},
		{
			name: "an explicit deny",
			rules: func(r []fakeaws.Rule) []fakeaws.Rule {
				return append(r, fakeaws.Rule{Action: "iam:ListMFADevices", Resource: userARN("alice"), Deny: true})
			},
			approvalBotIn: true, auditBotIn: true,
			wantErr: true,
			want:    []string{`^FAIL +iam:ListMFADevices +denied on alice \(explicitDeny\)`},
		},
		{
			name: "over-broad permissions",
			rules: func(r []fakeaws.Rule) []fakeaws.Rule {
				for _, a := range resetActions {
					r = append(r, fakeaws.Rule{Action: a, Resource: userARN("*")})
				}
				return r
			},
			approvalBotIn: true, auditBotIn: true,
			want: []string{
				`^WARN +iam least privilege +iam:UpdateLoginProfile is allowed on a user not on the allowlist ` +
					`\(arn:aws:iam::123456789012:user/aws-reset-bot-check-unlisted-user\): it could reset .* not just listed users\. ` +
					`Replace the bot's policy with the one from "bot policy --account 123456789012"`,
				`^WARN +iam least privilege +iam:UpdateLoginProfile is allowed on its own IAM user \(` + regexp.QuoteMeta(botARN) + `\): ` +
					`it could give itself a console password`,
				`^WARN +iam least privilege +iam:UpdateLoginProfile is allowed on protected user breakglass .*break-glass and admin users`,
				`^WARN +iam least privilege +iam:UpdateLoginProfile is allowed on a user under the protected path /admin/ ` +
					`\(arn:aws:iam::123456789012:user/admin/aws-reset-bot-check-unlisted-user\)`,
				`^PASS +iam:UpdateLoginProfile +allowed on the 2 listed users`,
				`^summary: .* 4 WARN, 0 FAIL, 0 SKIP: ready to deploy; read the WARN and SKIP lines$`,
			},
		},
		{
			name:          "simulate denied",
			rules:         func(r []fakeaws.Rule) []fakeaws.Rule { return without(r, "iam:SimulatePrincipalPolicy", botARN) },
			approvalBotIn: true, auditBotIn: true,
			want: []string{
				`^SKIP +iam permissions +the bot's permissions, and whether they reach too far, were not checked: IAM refused iam:SimulatePrincipalPolicy\. ` +
					`To enable this check, allow the bot iam:SimulatePrincipalPolicy on its own ARN, ` + regexp.QuoteMeta(botARN),
				`^PASS +password policy `,
				`^summary: .* 0 FAIL, 1 SKIP: ready to deploy; read the WARN and SKIP lines$`,
			},
			wantNot: []string{`^\w+ +iam:UpdateLoginProfile`, `^\w+ +iam least privilege`},
		},
		{
			name:          "bot not in the approval channel",
			approvalBotIn: false, auditBotIn: true,
			wantErr: true,
			want: []string{
				`^FAIL +approval\.channel C0APPROVE1 +the bot is not in #aws-approvals, so it cannot post there: type /invite @aws-reset-bot in the channel$`,
				`^PASS +audit\.channel G0AUDIT001 `,
			},
		},
		{
			name:          "bot not in the private audit channel",
			approvalBotIn: true, auditBotIn: false,
			wantErr: true,
			want:    []string{`^FAIL +audit\.channel G0AUDIT001 +Slack shows the bot no such channel: .*if the channel is private, type /invite @aws-reset-bot`},
		},
		{
			name:          "a bad bot token",
			approvalBotIn: true, auditBotIn: true,
			env:     map[string]string{config.EnvBotToken: badBot},
			wantErr: true,
			want: []string{
				`^FAIL +slack bot token +auth\.test: Slack refused the token \(invalid_auth\): copy it again from the app's settings, Install App → Bot User OAuth Token`,
				`^PASS +slack socket mode `,
				`^SKIP +approval\.channel C0APPROVE1 +not checked: Slack refused the bot token$`,
				`^PASS +iam:UpdateLoginProfile `,
			},
		},
		{
			name:          "a bad app-level token",
			approvalBotIn: true, auditBotIn: true,
			env:     map[string]string{config.EnvAppToken: badApp},
			wantErr: true,
			want: []string{
				`^PASS +slack bot token `,
				`^FAIL +slack app-level token +auth\.test: Slack refused the token \(invalid_auth\)`,
				`^FAIL +slack socket mode +apps\.connections\.open: Slack refused the token \(invalid_auth\): .*App-Level Tokens \(xapp-…, with connections:write\)$`,
			},
		},
		{
			name:          "no tokens",
			approvalBotIn: true, auditBotIn: true,
			env:     map[string]string{config.EnvAppToken: "", config.EnvBotToken: ""},
			wantErr: true,
			want: []string{
				`^FAIL +slack tokens +SLACK_APP_TOKEN is not set`,
				`^FAIL +slack tokens +SLACK_BOT_TOKEN is not set`,
				`^SKIP +slack +not checked`,
				`^PASS +iam:UpdateLoginProfile `,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slack := fakeslack.New(fakeslack.Options{})
			defer slack.Close()
			iam := fakeaws.New(fakeaws.Options{EnforceAllowed: true})
			defer iam.Close()
			for k, v := range iam.Env() {
				t.Setenv(k, v)
			}
			approvalMembers, auditMembers := []string{liveAdmin}, []string{liveAdmin}
			if tt.approvalBotIn {
				approvalMembers = append(approvalMembers, fakeslack.BotUserID)
			}
			if tt.auditBotIn {
				auditMembers = append(auditMembers, fakeslack.BotUserID)
			}
			slack.AddNamedChannel(liveApprovals, "aws-approvals", approvalMembers...)
			slack.AddNamedChannel(liveAudit, "aws-audit", auditMembers...)
			for _, name := range []string{"alice", "bob"} {
				iam.AddUser(fakeaws.User{Name: name, LoginProfile: true, MFADevices: 1})
			}
			iam.SetPasswordPolicy(tt.policy)

			body := fmt.Sprintf("slack:\n  api_url: %s\napproval:\n  channel: %s\n  approvers: [%s]\naudit:\n  channel: %s\n%s",
				slack.APIURL(), liveApprovals, liveAdmin, liveAudit, liveUsers)
			rules := policyRules(t, body)
			if tt.rules != nil {
				rules = tt.rules(rules)
			}
			iam.SetAllowed(rules)

			env := map[string]string{config.EnvAppToken: fakeslack.AppToken, config.EnvBotToken: fakeslack.BotToken}
			for k, v := range tt.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"check", "--config", writeConfig(t, body), "--live"}, &stdout, &stderr,
				func(k string) string { return env[k] })
			out := stdout.String()
			if (err != nil) != tt.wantErr {
				t.Errorf("check --live = %v; want error %v\n%s%s", err, tt.wantErr, out, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, w := range tt.want {
				if !matchesLine(lines, regexp.MustCompile(w)) {
					t.Errorf("no line of the output matches %s:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if matchesLine(lines, regexp.MustCompile(w)) {
					t.Errorf("a line of the output matches %s:\n%s", w, out)
				}
			}
			for _, line := range lines[1:] {
				if !regexp.MustCompile(`^(PASS|WARN|FAIL|SKIP)  |^summary: `).MatchString(line) {
					t.Errorf("line %q is not a checklist line", line)
				}
			}
			all := out + stderr.String()
			secrets := append(fakeslack.Secrets(), badBot, badApp, fakeaws.SecretAccessKey, "ticket=")
			for _, leak := range leakcheck.Find(secrets, map[string][]byte{"the output": []byte(all)}) {
				t.Error(leak)
			}
		})
	}
}

func matchesLine(lines []string, re *regexp.Regexp) bool {
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}
