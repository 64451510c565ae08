package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const twoAccounts = `
aws:
  accounts:
    - name: prod
      role_arn: arn:aws:iam::111111111111:role/aws-reset-bot
      external_id: "ext-123"
    - name: dev
      role_arn: arn:aws-us-gov:iam::222222222222:role/ops/aws-reset-bot
users:
  - slack_user: U0AAAAAAAA
    iam_user: alice
  - slack_user: U0BBBBBBBB
    iam_user: bob
    account: prod
  - slack_user: U0BBBBBBBB
    iam_user: bob-dev
    account: dev
  - slack_user: U0CCCCCCCC
    iam_user: bob
`

func TestAccountsValid(t *testing.T) {
	cfg := mustParse(t, twoAccounts)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	prod, ok := cfg.AWS.Account("prod")
	if !ok || prod.AccountID() != "111111111111" || prod.Partition() != "aws" || prod.ExternalID != "ext-123" {
		t.Errorf("Account(prod) = %+v, %v", prod, ok)
	}
	dev, _ := cfg.AWS.Account("dev")
	if r, ok := ParseRoleARN(dev.RoleARN); !ok || r.Partition != "aws-us-gov" || r.Path != "/ops/" || r.Name != "aws-reset-bot" {
		t.Errorf("ParseRoleARN(%q) = %+v, %v", dev.RoleARN, r, ok)
	}
	if _, ok := cfg.AWS.Account(""); ok {
		t.Error(`Account("") found an entry; want the bot's own account, which is none`)
	}
	if cfg.Users[1].Account != "prod" {
		t.Errorf("users[1].account = %q; want prod", cfg.Users[1].Account)
	}
}

func TestAccountsInvalid(t *testing.T) {
	cfg := mustParse(t, `
aws:
  accounts:
    - name: Prod
      role_arn: arn:aws:iam::11111111111:role/x
    - name: dev
      role_arn: arn:aws:iam::222222222222:role/r
    - name: dev
      role_arn: arn:aws:iam::222222222222:role/r
      external_id: "x"
users:
  - slack_user: U0AAAAAAAA
    iam_user: alice
    account: staging
  - slack_user: U0BBBBBBBB
    iam_user: bob
    account: dev
  - slack_user: U0BBBBBBBB
    iam_user: bob2
    account: dev
  - slack_user: U0CCCCCCCC
    iam_user: BOB
    account: dev
`)
	got := Problems(cfg.Validate())
	want := []string{
		"aws.accounts[0].name (line 4)",
		"aws.accounts[0].role_arn (line 5)",
		"aws.accounts[2].name (line 8)",
		"aws.accounts[2].role_arn (line 9)",
		"aws.accounts[2].external_id (line 10)",
		"users[0].account (line 14)",
		"users[2].slack_user (line 18)",
		"users[3].iam_user (line 22)",
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, w+":") }) {
			t.Errorf("Validate() problems = %q; want one at %s", got, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Validate() gave %d problems; want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

func TestNoAccountsSameDuplicates(t *testing.T) {
	cfg := mustParse(t, `
users:
  - slack_user: U0AAAAAAAA
    iam_user: alice
  - slack_user: U0AAAAAAAA
    iam_user: alice2
`)
	got := Problems(cfg.Validate())
	if len(got) != 1 || !strings.HasPrefix(got[0], "users[1].slack_user") {
		t.Errorf("Validate() = %q; want one problem at users[1].slack_user", got)
	}
}

func TestAccountApproval(t *testing.T) {
	cfg := mustParse(t, `
approval:
  channel: C0APPROVE1
  approvers: [U0ADMIN001]
  timeout: 30m
aws:
  accounts:
    - name: prod
      role_arn: arn:aws:iam::111111111111:role/r
      approval:
        channel: C0PRODAPP1
        approvers: [U0PRODADM1, U0PRODADM2]
        min_approvals: 2
    - name: dev
      role_arn: arn:aws:iam::222222222222:role/r
users:
  - slack_user: U0AAAAAAAA
    iam_user: alice
    account: prod
`)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	prod := cfg.ApprovalFor("prod")
	if prod.Channel != "C0PRODAPP1" || len(prod.Approvers) != 2 || prod.Need() != 2 || prod.Timeout.D() != 30*time.Minute {
		t.Errorf("ApprovalFor(prod) = %+v; want prod's channel, approvers and count, the top level's timeout", prod)
	}
	if dev := cfg.ApprovalFor("dev"); dev.Channel != "C0APPROVE1" || dev.Need() != 1 {
		t.Errorf("ApprovalFor(dev) = %+v; want the top level's", dev)
	}
	if got := len(cfg.Approvals()); got != 3 {
		t.Errorf("Approvals() has %d; want 3", got)
	}

	bad := mustParse(t, `
aws:
  accounts:
    - name: prod
      role_arn: arn:aws:iam::111111111111:role/r
      approval:
        channel: general
        min_approvals: 3
users:
  - slack_user: U0AAAAAAAA
    iam_user: alice
    account: prod
`)
	got := strings.Join(Problems(bad.Validate()), "\n")
	for _, want := range []string{"aws.accounts[0].approval.channel", "aws.accounts[0].approval.approvers (line 6): is required"} {
		if !strings.Contains(got, want) {
			t.Errorf("Validate() =\n%s\nwant a problem at %s", got, want)
		}
	}
}
