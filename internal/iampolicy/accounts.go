package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// With aws.accounts, the bot's own identity needs sts:AssumeRole on each
// account's role, and IAM permissions only for the users of its own
// account; each role needs IAM permissions for its account's users and a
// trust policy naming the bot. These build the three, and a CloudFormation
// template that makes the role in every account of a StackSet.

// AssumeSid is the statement that lets the bot assume the accounts' roles.
const AssumeSid = "AssumeAccountRoles"

// BuildOwn is the bot's own policy: [Build] for the users without an
// account (none: no IAM statement at all) and, with aws.accounts,
// sts:AssumeRole on exactly the configured role ARNs.
func BuildOwn(cfg config.Config, account, part string) Document {
	doc := Build(cfg, account, part)
	own := slices.ContainsFunc(cfg.Users, func(u config.User) bool { return u.Account == "" })
	if len(cfg.AWS.Accounts) == 0 {
		return doc
	}
	if !own {
		doc.Statement = nil
	}
	var roles []string
	for _, a := range cfg.AWS.Accounts {
		roles = append(roles, a.RoleARN)
	}
	slices.Sort(roles)
	doc.Statement = append(doc.Statement, Statement{Sid: AssumeSid, Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: slices.Compact(roles)})
	slices.SortFunc(doc.Statement, func(a, b Statement) int { return strings.Compare(a.Sid, b.Sid) })
	return doc
}

// BuildAccount is the permission policy of the role in the account called
// name: [Build] for the users listed in it, in its ID and partition (from
// the role ARN). It reports false for a name aws.accounts lacks.
func BuildAccount(cfg config.Config, name string) (Document, bool) {
	acct, ok := cfg.AWS.Account(name)
	if !ok {
		return Document{}, false
	}
	return Build(cfg.ForAccount(name), acct.AccountID(), acct.Partition()), true
}

var principalARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:(role|user)/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)

// IsPrincipalARN reports whether s is an IAM role or user ARN, which a
// trust policy can name.
func IsPrincipalARN(s string) bool { return principalARN.MatchString(s) }

// TrustDocument is a role's trust policy.
type TrustDocument struct {
	Version   string           `json:"Version"`
	Statement []TrustStatement `json:"Statement"`
}

// TrustStatement is one statement of a [TrustDocument].
type TrustStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal"`
	Action    string                       `json:"Action"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// Trust is the trust policy of the role in the account called name: the
// bot's identity (principal, an IAM role or user ARN) may assume it, with
// the account's external ID when one is set. It reports false for a name
// aws.accounts lacks.
func Trust(cfg config.Config, name, principal string) (TrustDocument, bool) {
	acct, ok := cfg.AWS.Account(name)
	if !ok {
		return TrustDocument{}, false
	}
	st := TrustStatement{Sid: "AllowAwsResetBot", Effect: "Allow", Principal: map[string]string{"AWS": principal}, Action: "sts:AssumeRole"}
	if acct.ExternalID != "" {
		st.Condition = map[string]map[string]string{"StringEquals": {"sts:ExternalId": acct.ExternalID}}
	}
	return TrustDocument{Version: "2012-10-17", Statement: []TrustStatement{st}}, true
}

// JSON renders the trust policy as indented JSON with a final newline.
func (d TrustDocument) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode trust policy: %w", err)
	}
	return buf.Bytes(), nil
}

// CloudFormation returns a template, in YAML, that creates the role in
// whichever account of aws.accounts it is deployed to (a StackSet across
// the Organization): the role name of the first account's ARN, trusting
// principal (the BotPrincipalArn parameter's default), with the
// ExternalId parameter's condition when it is set, and an inline policy
// naming, by a condition on the account ID, only the users listed for
// that account. Users of an account not in aws.accounts get nothing.
func CloudFormation(cfg config.Config, principal string) ([]byte, error) {
	if len(cfg.AWS.Accounts) == 0 {
		return nil, fmt.Errorf("aws.accounts is empty: there is no role to make")
	}
	first, _ := config.ParseRoleARN(cfg.AWS.Accounts[0].RoleARN)
	conditions := map[string]any{"HasExternalId": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "ExternalId"}, ""}}}}}
	byKind := map[ResourceKind][]string{}
	for _, a := range actions {
		if a.NeededFor(cfg) {
			byKind[a.Resource] = append(byKind[a.Resource], a.Name)
		}
	}
	var users []any
	for i, a := range cfg.AWS.Accounts {
		cond := fmt.Sprintf("InAccount%d", i)
		conditions[cond] = map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "AWS::AccountId"}, a.AccountID()}}
		doc, _ := BuildAccount(cfg, a.Name)
		for _, st := range doc.Statement {
			if st.Sid != ListedUsers.Sid() {
				continue
			}
			for _, arn := range st.Resource {
				name := arn[strings.LastIndex(arn, ":user/")+len(":user/"):]
				users = append(users, map[string]any{"Fn::If": []any{cond,
					map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/" + name},
					map[string]any{"Ref": "AWS::NoValue"}}})
			}
		}
	}
	accountWide := slices.Sorted(slices.Values(byKind[AccountWide]))
	listedActs := slices.Sorted(slices.Values(byKind[ListedUsers]))
	statements := []any{map[string]any{"Sid": AccountWide.Sid(), "Effect": "Allow", "Action": accountWide, "Resource": "*"}}
	if len(users) > 0 {
		statements = append(statements, map[string]any{"Sid": ListedUsers.Sid(), "Effect": "Allow", "Action": listedActs, "Resource": users})
	}
	trust := map[string]any{"Sid": "AllowAwsResetBot", "Effect": "Allow",
		"Principal": map[string]any{"AWS": map[string]any{"Ref": "BotPrincipalArn"}}, "Action": "sts:AssumeRole",
		"Condition": map[string]any{"Fn::If": []any{"HasExternalId",
			map[string]any{"StringEquals": map[string]any{"sts:ExternalId": map[string]any{"Ref": "ExternalId"}}},
			map[string]any{"Ref": "AWS::NoValue"}}}}
	tmpl := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "The role aws-reset-bot assumes to reset IAM users' console passwords in this account.",
		"Parameters": map[string]any{
			"BotPrincipalArn": map[string]any{"Type": "String", "Default": principal,
				"Description": "ARN of the bot's own identity (its role or user), which may assume this role."},
			"ExternalId": map[string]any{"Type": "String", "Default": "", "NoEcho": false,
				"Description": "sts:ExternalId the bot must pass (aws.accounts[].external_id); empty for none. Override it per account in the StackSet if the IDs differ."},
		},
		"Conditions": conditions,
		"Resources": map[string]any{
			"AwsResetBotRole": map[string]any{
				"Type": "AWS::IAM::Role",
				"Properties": map[string]any{
					"RoleName":                 first.Name,
					"Path":                     first.Path,
					"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{trust}},
					"Policies": []any{map[string]any{"PolicyName": "aws-reset-bot",
						"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements}}},
				},
			},
		},
		"Outputs": map[string]any{"RoleArn": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"AwsResetBotRole", "Arn"}}}},
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(tmpl); err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	return buf.Bytes(), nil
}
