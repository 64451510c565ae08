package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestPolicyCommand(t *testing.T) {
	tests := []struct {
		name       string
		config     string
		flags      []string
		wantUsers  []string
		wantStderr string // a note stderr must carry
	}{
		{
			name:       "placeholder account",
			config:     fixtureUsers,
			wantUsers:  []string{"arn:aws:iam::ACCOUNT_ID:user/alee", "arn:aws:iam::ACCOUNT_ID:user/jsmith"},
			wantStderr: "ACCOUNT_ID in the ARNs is a placeholder",
		},
		{
			name:      "account given",
			config:    fixtureUsers,
			flags:     []string{"--account", "123456789012"},
			wantUsers: []string{"arn:aws:iam::123456789012:user/alee", "arn:aws:iam::123456789012:user/jsmith"},
		},
		{
			name:      "partition from the region",
			config:    "aws:\n  region: us-gov-west-1\n" + fixtureUsers,
			flags:     []string{"--account", "123456789012"},
			wantUsers: []string{"arn:aws-us-gov:iam::123456789012:user/alee", "arn:aws-us-gov:iam::123456789012:user/jsmith"},
		},
		{
			name:      "partition given",
			config:    "aws:\n  region: us-gov-west-1\n" + fixtureUsers,
			flags:     []string{"--account", "123456789012", "--partition", "aws"},
			wantUsers: []string{"arn:aws:iam::123456789012:user/alee", "arn:aws:iam::123456789012:user/jsmith"},
		},
		{
			name:      "partition of an ISO region",
			config:    "aws:\n  region: us-isob-east-1\n" + fixtureUsers,
			flags:     []string{"--account", "123456789012"},
			wantUsers: []string{"arn:aws-iso-b:iam::123456789012:user/alee", "arn:aws-iso-b:iam::123456789012:user/jsmith"},
		},
		{
			name:      "European Sovereign Cloud",
			config:    "aws:\n  region: eusc-de-east-1\n" + fixtureUsers,
			flags:     []string{"--account", "123456789012"},
			wantUsers: []string{"arn:aws-eusc:iam::123456789012:user/alee", "arn:aws-eusc:iam::123456789012:user/jsmith"},
		},
		{
			name:       "protected user left out",
			config:     "reset:\n  protected: [ALEE]\n" + fixtureUsers,
			flags:      []string{"--account", "123456789012"},
			wantUsers:  []string{"arn:aws:iam::123456789012:user/jsmith"},
			wantStderr: "left out, as reset.protected covers them: alee",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"policy", "--config", configFixture(t, tt.config)}, tt.flags...)
			if err := run(context.Background(), args, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("run(%q) = %v; stderr:\n%s", args, err, stderr.String())
			}
			var doc struct {
				Version   string
				Statement []struct {
					Sid      string
					Action   []string
					Resource []string
				}
			}
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not JSON (notes belong on stderr): %v\n%s", err, stdout.String())
			}
			if doc.Version != "2012-10-17" {
				t.Errorf("Version = %q; want 2012-10-17", doc.Version)
			}
			var users []string
			for _, s := range doc.Statement {
				if s.Sid == "ResetListedUsers" {
					users = s.Resource
				}
			}
			if !slices.Equal(users, tt.wantUsers) {
				t.Errorf("ResetListedUsers resources = %q; want %q", users, tt.wantUsers)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q; want it to say %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantStderr == "" && strings.Contains(stderr.String(), "placeholder") {
				t.Errorf("stderr = %q; want no placeholder note when --account is given", stderr.String())
			}
		})
	}
}

func TestPolicyCommandBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		flags   []string
		wantErr string
	}{
		{"short account", []string{"--account", "12345"}, `--account: "12345" is not a 12-digit AWS account ID`},
		{"account with letters", []string{"--account", "12345678901x"}, "--account"},
		{"bad partition", []string{"--partition", "AWS"}, `--partition: "AWS" is not an AWS partition`},
		{"partition AWS does not have", []string{"--partition", "aws-mars"}, `--partition: "aws-mars" is not an AWS partition (want one of aws, aws-cn,`},
		{"stray argument", []string{"123456789012"}, `unexpected argument "123456789012"`},
		{"trust without an account", []string{"--trust", "--principal", "arn:aws:iam::123456789012:role/bot"}, "--trust needs --account-name and --principal"},
		{"trust without a principal", []string{"--trust", "--account-name", "prod"}, "--trust needs --account-name and --principal"},
		{"bad principal", []string{"--trust", "--account-name", "prod", "--principal", "bot"}, `--principal: "bot" is not an IAM role or user ARN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"policy", "--config", configFixture(t, fixtureUsers)}, tt.flags...)
			if err := run(context.Background(), args, &stdout, &stderr, noEnv); err == nil {
				t.Fatalf("run(%q) = nil; want an error", args)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q; want no policy after bad flags", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q; want it to say %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

// TestPolicyCommandAccounts runs bot policy with aws.accounts: the bot's
// own, a role's permission and trust policies, and the template.
func TestPolicyCommandAccounts(t *testing.T) {
	cfg := configFixture(t, `aws:
  accounts:
    - name: prod
      role_arn: arn:aws:iam::111111111111:role/aws-reset-bot
      external_id: ext-1
users:
  - slack_user: U0BBBBBBBB
    iam_user: bob
    account: prod
`)
	const principal = "arn:aws:iam::999999999999:role/aws-reset-bot-runner"
	for _, tt := range []struct {
		name  string
		flags []string
		want  []string
	}{
		{"own", nil, []string{`"sts:AssumeRole"`, `"arn:aws:iam::111111111111:role/aws-reset-bot"`}},
		{"role", []string{"--account-name", "prod"}, []string{`"arn:aws:iam::111111111111:user/bob"`, `"iam:UpdateLoginProfile"`}},
		{"trust", []string{"--account-name", "prod", "--trust", "--principal", principal}, []string{`"AWS": "` + principal + `"`, `"sts:ExternalId": "ext-1"`}},
		{"cloudformation", []string{"--cloudformation", "--principal", principal}, []string{"AWS::IAM::Role", "Default: " + principal}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"policy", "--config", cfg}, tt.flags...)
			if err := run(context.Background(), args, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("run(%q) = %v: %s", args, err, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("bot policy %v lacks %s:\n%s", tt.flags, w, stdout.String())
				}
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"policy", "--config", cfg, "--account-name", "staging"}, &stdout, &stderr, noEnv); err == nil {
		t.Error("bot policy --account-name staging = nil; want an error for an account not configured")
	}
}
