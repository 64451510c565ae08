package iampolicy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

const (
	prodRole = "arn:aws:iam::111111111111:role/aws-reset-bot"
	devRole  = "arn:aws:iam::222222222222:role/aws-reset-bot"
	botRole  = "arn:aws:iam::999999999999:role/aws-reset-bot-runner"
)

func withAccounts(own bool) config.Config {
	cfg := config.Default()
	cfg.AWS.Accounts = []config.Account{{Name: "prod", RoleARN: prodRole, ExternalID: "ext-1"}, {Name: "dev", RoleARN: devRole}}
	cfg.Users = []config.User{{SlackUser: "U0BBBBBBBB", IAMUser: "bob", Account: "prod"}, {SlackUser: "U0BBBBBBBB", IAMUser: "bob-dev", Account: "dev"},
		{SlackUser: "U0CCCCCCCC", IAMUser: "carol", Account: "prod"}}
	if own {
		cfg.Users = append(cfg.Users, config.User{SlackUser: "U0AAAAAAAA", IAMUser: "alice"})
	}
	return cfg
}

func statement(p parsed, sid string) (action, resource []string, ok bool) {
	for _, s := range p.Statement {
		if s.Sid == sid {
			return s.Action, s.Resource, true
		}
	}
	return nil, nil, false
}

func TestBuildOwnWithAccounts(t *testing.T) {
	for _, own := range []bool{true, false} {
		p := parse(t, BuildOwn(withAccounts(own), "999999999999", "aws"))
		act, res, ok := statement(p, AssumeSid)
		if !ok || !slices.Equal(act, []string{"sts:AssumeRole"}) || !slices.Equal(res, []string{prodRole, devRole}) {
			t.Errorf("own=%v: %s = %v on %v; want sts:AssumeRole on exactly the roles", own, AssumeSid, act, res)
		}
		_, users, ok := statement(p, ListedUsers.Sid())
		if own && (!ok || !slices.Equal(users, []string{"arn:aws:iam::999999999999:user/alice"})) {
			t.Errorf("own account users = %v; want alice alone (the others are the roles')", users)
		}
		if !own && len(p.Statement) != 1 {
			t.Errorf("with no users of its own, the bot's policy = %+v; want the AssumeRole statement alone", p.Statement)
		}
	}
	// Without accounts: exactly as before.
	plain := listed("alice")
	if a, b := parse(t, BuildOwn(plain, "", "")), parse(t, Build(plain, "", "")); len(a.Statement) != len(b.Statement) {
		t.Errorf("BuildOwn without accounts differs from Build")
	}
}

func TestBuildAccount(t *testing.T) {
	doc, ok := BuildAccount(withAccounts(true), "prod")
	if !ok {
		t.Fatal("BuildAccount(prod) not found")
	}
	p := parse(t, doc)
	act, users, _ := statement(p, ListedUsers.Sid())
	if want := []string{"arn:aws:iam::111111111111:user/bob", "arn:aws:iam::111111111111:user/carol"}; !slices.Equal(users, want) {
		t.Errorf("prod users = %v; want %v", users, want)
	}
	if !slices.Contains(act, "iam:UpdateLoginProfile") {
		t.Errorf("prod listed-user actions = %v; want UpdateLoginProfile", act)
	}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			if strings.Contains(a, "LoginProfile") && slices.Contains(s.Resource, "*") {
				t.Errorf("%s on a wildcard", a)
			}
		}
	}
	if _, ok := BuildAccount(withAccounts(true), "staging"); ok {
		t.Error("BuildAccount(staging) found an account that is not configured")
	}
}

func TestTrust(t *testing.T) {
	for _, tt := range []struct {
		name, ext string
	}{{"prod", "ext-1"}, {"dev", ""}} {
		doc, ok := Trust(withAccounts(false), tt.name, botRole)
		if !ok {
			t.Fatalf("Trust(%s) not found", tt.name)
		}
		b, err := doc.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Statement []struct {
				Principal struct{ AWS string }
				Action    string
				Condition map[string]map[string]string
			}
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("trust policy is not JSON: %v\n%s", err, b)
		}
		st := p.Statement[0]
		if st.Principal.AWS != botRole || st.Action != "sts:AssumeRole" || st.Condition["StringEquals"]["sts:ExternalId"] != tt.ext {
			t.Errorf("Trust(%s) = %s", tt.name, b)
		}
		if tt.ext == "" && strings.Contains(string(b), "Condition") {
			t.Errorf("Trust(%s) has a condition without an external ID: %s", tt.name, b)
		}
	}
}

func TestCloudFormation(t *testing.T) {
	out, err := CloudFormation(withAccounts(false), botRole)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := yaml.Unmarshal(out, &tmpl); err != nil {
		t.Fatalf("template is not YAML: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"Type: AWS::IAM::Role", "RoleName: aws-reset-bot", "Default: " + botRole, "sts:ExternalId",
		"arn:${AWS::Partition}:iam::${AWS::AccountId}:user/bob", "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/bob-dev",
		"- \"111111111111\"", "- \"222222222222\"",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("template lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, ":user/*") || strings.Contains(s, "user/${") {
		t.Errorf("template names users by wildcard:\n%s", s)
	}
	if _, err := CloudFormation(listed("alice"), botRole); err == nil {
		t.Error("CloudFormation without aws.accounts = nil error; want one")
	}
}

func TestBuildAccountPartition(t *testing.T) {
	cfg := withAccounts(false)
	cfg.AWS.Accounts[1].RoleARN = "arn:aws-us-gov:iam::222222222222:role/aws-reset-bot"
	doc, _ := BuildAccount(cfg, "dev")
	_, users, _ := statement(parse(t, doc), ListedUsers.Sid())
	if want := []string{"arn:aws-us-gov:iam::222222222222:user/bob-dev"}; !slices.Equal(users, want) {
		t.Errorf("dev users = %v; want %v (the role ARN's partition)", users, want)
	}
}
