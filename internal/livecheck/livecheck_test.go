package livecheck

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/slack-go/slack"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeaws"
	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
)

// errNotHere stands for the half of the check a test leaves out.
var errNotHere = errors.New("not part of this test")

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		arn                         string
		kind, name, account, policy string
		wantErr                     bool
	}{
		{arn: "arn:aws:iam::123456789012:user/aws-reset-bot", kind: KindUser, name: "aws-reset-bot", account: "123456789012",
			policy: "arn:aws:iam::123456789012:user/aws-reset-bot"},
		{arn: "arn:aws:iam::123456789012:user/bots/aws-reset-bot", kind: KindUser, name: "aws-reset-bot", account: "123456789012",
			policy: "arn:aws:iam::123456789012:user/bots/aws-reset-bot"},
		{arn: "arn:aws:sts::123456789012:assumed-role/aws-reset-bot/i-0abc", kind: KindRole, name: "aws-reset-bot", account: "123456789012",
			policy: "arn:aws:iam::123456789012:role/aws-reset-bot"},
		{arn: "arn:aws-us-gov:sts::210987654321:assumed-role/eks-reset/botocore-session-1", kind: KindRole, name: "eks-reset",
			account: "210987654321", policy: "arn:aws-us-gov:iam::210987654321:role/eks-reset"},
		{arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/jane@example.com", kind: KindRole,
			name: "AWSReservedSSO_Admin_0123", account: "123456789012", policy: "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123"},
		{arn: "arn:aws:iam::123456789012:root", kind: KindRoot, account: "123456789012"},
		{arn: "arn:aws:sts::123456789012:federated-user/jane", kind: KindFederated, name: "jane", account: "123456789012"},
		{arn: "arn:aws:sts::123456789012:assumed-role/no-session", wantErr: true},
		{arn: "arn:aws:iam::123456789012:group/admins", wantErr: true},
		{arn: "arn:aws:s3:::bucket", wantErr: true},
		{arn: "not an arn", wantErr: true},
		{arn: "", wantErr: true},
	}
	for _, tt := range tests {
		p, err := ParsePrincipal(tt.arn)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePrincipal(%q) error = %v; want error %v", tt.arn, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if p.Kind != tt.kind || p.Name != tt.name || p.Account != tt.account || p.PolicyARN != tt.policy || p.ARN != tt.arn {
			t.Errorf("ParsePrincipal(%q) = %+v; want kind %q, name %q, account %q, policy ARN %q",
				tt.arn, p, tt.kind, tt.name, tt.account, tt.policy)
		}
	}
}

// callerSTS answers GetCallerIdentity with a fixed ARN: the fake's caller
// is always its IAM user, and these tests need roles and the root user.
type callerSTS struct{ arn string }

func (c callerSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	account := strings.Split(c.arn, ":")[4]
	return &sts.GetCallerIdentityOutput{Arn: aws.String(c.arn), Account: aws.String(account)}, nil
}

func listedConfig() config.Config {
	cfg := config.Default()
	cfg.Users = []config.User{{SlackUser: "U0ALICE001", IAMUser: "alice"}}
	return cfg
}

// TestIdentities runs the AWS checks, over the wire to the fake IAM, as
// the kinds of principal the bot's credentials can be.
func TestIdentities(t *testing.T) {
	const roleARN = "arn:aws:iam::" + fakeaws.AccountID + ":role/aws-reset-bot"
	tests := []struct {
		name       string
		caller     string
		rules      []fakeaws.Rule
		wantSource string // PolicySourceArn simulated; "" = no simulation
		want       []string
		wantFail   bool
	}{
		{
			name:   "assumed role, simulate allowed on the role",
			caller: "arn:aws:sts::" + fakeaws.AccountID + ":assumed-role/aws-reset-bot/i-0abc",
			rules: []fakeaws.Rule{
				{Action: "iam:SimulatePrincipalPolicy", Resource: roleARN},
				{Action: "iam:*", Resource: "arn:aws:iam::" + fakeaws.AccountID + ":user/alice"},
				{Action: "iam:GetAccountPasswordPolicy"}, {Action: "iam:ListAccountAliases"},
			},
			wantSource: roleARN,
			want: []string{"PASS  aws identity  role aws-reset-bot in account 123456789012",
				"PASS  iam:UpdateLoginProfile  allowed on the 1 listed users", "PASS  iam least privilege"},
		},
		{
			name:       "assumed role, simulate denied",
			caller:     "arn:aws:sts::" + fakeaws.AccountID + ":assumed-role/aws-reset-bot/i-0abc",
			rules:      []fakeaws.Rule{{Action: "iam:GetAccountPasswordPolicy"}},
			wantSource: roleARN,
			want:       []string{"SKIP  iam permissions  ", "iam:SimulatePrincipalPolicy on its own ARN, " + roleARN},
		},
		{
			name:     "root user",
			caller:   "arn:aws:iam::" + fakeaws.AccountID + ":root",
			want:     []string{"FAIL  aws identity  the credentials are account 123456789012's root user"},
			wantFail: true,
		},
		{
			name:   "federated user",
			caller: "arn:aws:sts::" + fakeaws.AccountID + ":federated-user/jane",
			want:   []string{"SKIP  iam permissions  IAM cannot simulate the policies of a federated-user session"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeaws.New(fakeaws.Options{EnforceAllowed: true})
			defer fake.Close()
			fake.SetAllowed(tt.rules)
			c := Checker{
				Config:   listedConfig(),
				SlackErr: errNotHere,
				IAM:      iam.NewFromConfig(fake.Config(), func(o *iam.Options) { o.Retryer = aws.NopRetryer{} }),
				STS:      callerSTS{tt.caller},
			}
			report := c.Run(context.Background())
			var out bytes.Buffer
			if err := report.Print(&out); err != nil {
				t.Fatal(err)
			}
			text := squeeze(out.String())
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if got := report.Count(Fail) > 1; got != tt.wantFail { // one FAIL is the missing Slack tokens
				t.Errorf("more than the Slack FAIL = %v; want %v:\n%s", got, tt.wantFail, out.String())
			}
			for _, call := range fake.Calls("SimulatePrincipalPolicy") {
				if got := call.Params.Get("PolicySourceArn"); got != tt.wantSource {
					t.Errorf("SimulatePrincipalPolicy for %q; want %q", got, tt.wantSource)
				}
			}
			if n := len(fake.Calls("SimulatePrincipalPolicy")); (n > 0) != (tt.wantSource != "") {
				t.Errorf("%d simulations; want some: %v", n, tt.wantSource != "")
			}
		})
	}
}

// squeeze collapses the checklist's column padding to two spaces.
func squeeze(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		fields := strings.SplitN(strings.TrimRight(line, "\n"), "  ", 2)
		if len(fields) == 2 {
			rest := strings.TrimLeft(fields[1], " ")
			check, reason, _ := strings.Cut(rest, "  ")
			line = fields[0] + "  " + check + "  " + strings.TrimLeft(reason, " ") + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// TestBotScopes compares the scopes Slack names in X-OAuth-Scopes with the
// manifest's. The fake sends no such header, so a proxy in front of it
// adds one, as Slack does.
func TestBotScopes(t *testing.T) {
	approval := listedConfig()
	approval.Approval.Channel = "C0APPROVE1"
	approval.Approval.Approvers = []string{"U0ADMIN001"}

	tests := []struct {
		name   string
		cfg    config.Config
		scopes string
		want   []string
		not    []string
	}{
		{"exactly the manifest's", listedConfig(), "commands,chat:write,im:write,users:read",
			[]string{"PASS  slack bot scopes  the token has the manifest's scopes"}, []string{"bot scopes  the token also"}},
		{"one missing", approval, "commands,chat:write,im:write,users:read",
			[]string{"FAIL  slack bot scopes  the bot token lacks channels:read, groups:read: update the app"}, nil},
		{"one too many", listedConfig(), "commands, chat:write, im:write, users:read, chat:write.public, files:write",
			[]string{"PASS  slack bot scopes", "WARN  slack bot scopes  the token also has chat:write.public, files:write"}, nil},
		{"no header", listedConfig(), "", nil, []string{"slack bot scopes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeslack.New(fakeslack.Options{})
			defer fake.Close()
			fake.AddChannel("C0APPROVE1", fakeslack.BotUserID)
			target, _ := url.Parse(fake.URL())
			proxy := httputil.NewSingleHostReverseProxy(target)
			proxy.ModifyResponse = func(r *http.Response) error {
				if tt.scopes != "" {
					r.Header.Set("X-OAuth-Scopes", tt.scopes)
				}
				return nil
			}
			srv := httptest.NewServer(proxy)
			defer srv.Close()

			api := srv.URL + "/api/"
			c := Checker{
				Config:   tt.cfg,
				BotSlack: slack.New(fakeslack.BotToken, slack.OptionAPIURL(api)),
				AppSlack: slack.New(fakeslack.AppToken, slack.OptionAPIURL(api), slack.OptionAppLevelToken(fakeslack.AppToken)),
				AWSErr:   errNotHere,
			}
			var out bytes.Buffer
			if err := c.Run(context.Background()).Print(&out); err != nil {
				t.Fatal(err)
			}
			text := squeeze(out.String())
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(text, w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestPrint(t *testing.T) {
	tests := []struct {
		results []Result
		want    string
	}{
		{nil, "summary: 0 PASS, 0 WARN, 0 FAIL, 0 SKIP: ready to deploy\n"},
		{[]Result{{Pass, "a", "fine"}, {Skip, "bb", "not asked"}},
			"PASS  a   fine\nSKIP  bb  not asked\nsummary: 1 PASS, 0 WARN, 0 FAIL, 1 SKIP: ready to deploy; read the WARN and SKIP lines\n"},
		{[]Result{{Warn, "a", "broad"}, {Fail, "a", "two\n  lines"}},
			"WARN  a  broad\nFAIL  a  two lines\nsummary: 0 PASS, 1 WARN, 1 FAIL, 0 SKIP: not ready: fix the FAIL lines\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		r := Report{Results: tt.results}
		if err := r.Print(&out); err != nil || out.String() != tt.want {
			t.Errorf("Print(%v) = %q, %v; want %q", tt.results, out.String(), err, tt.want)
		}
		if got, want := r.Failed(), strings.Contains(tt.want, "not ready"); got != want {
			t.Errorf("Failed(%v) = %v; want %v", tt.results, got, want)
		}
	}
}
