// Package iampolicy writes the least-privilege IAM policy for the bot's own
// identity (its role or user): the IAM actions the code calls, each on the
// narrowest resource IAM lets a policy name.
//
// The actions live in one table, [Actions]; each has a [ResourceKind] that
// decides its statement. Adding an action the code starts to call is one
// line in that table.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws-reset-bot/aws-reset-bot/internal/config"
)

// ResourceKind says what an action's permission can be scoped to.
type ResourceKind int

const (
	// AccountWide actions support no resource-level permissions (the
	// service authorization reference lists no resource type for them),
	// so their statement's Resource must be "*".
	AccountWide ResourceKind = iota
	// ListedUsers actions take an IAM user resource; the policy names the
	// ARN of each allowlisted user and no other.
	ListedUsers
)

// Sid returns the statement ID of the kind's statement.
func (k ResourceKind) Sid() string {
	switch k {
	case AccountWide:
		return "ReadAccount"
	case ListedUsers:
		return "ResetListedUsers"
	}
	return fmt.Sprintf("ResourceKind%d", int(k))
}

// Action is one IAM action the bot calls.
type Action struct {
	Name     string // as a policy writes it, e.g. "iam:UpdateLoginProfile"
	Resource ResourceKind
	Why      string // what the bot calls it for
}

// actions is the table: every IAM action the code calls.
// sts:GetCallerIdentity is called too (for the sign-in URL when the account
// has no alias) but needs no permission: IAM policies cannot deny it.
var actions = []Action{
	{"iam:UpdateLoginProfile", ListedUsers, "set the new temporary password; overwrite an unused one"},
	{"iam:GetLoginProfile", ListedUsers, "dry run: check the user has a console password; reminders and the Home tab: when it was set, for its expiry"},
	{"iam:GetUser", ListedUsers, "read the user's path (protected paths) and last sign-in"},
	{"iam:ListMFADevices", ListedUsers, "the MFA gate: does the user have an MFA device?"},
	{"iam:GetAccountPasswordPolicy", AccountWide, "generate passwords the account's policy accepts"},
	{"iam:ListAccountAliases", AccountWide, "build the sign-in URL when aws.console_url is empty"},
	{"iam:GenerateCredentialReport", AccountWide, "reminders: have IAM generate the credential report"},
	{"iam:GetCredentialReport", AccountWide, "reminders: read when each password expires (password_next_rotation)"},
}

// onlyWhen holds the actions of the table that only some configurations
// call, with the test; the others are always needed.
var onlyWhen = map[string]func(config.Config) bool{
	"iam:GenerateCredentialReport": remindersOn,
	"iam:GetCredentialReport":      remindersOn,
}

func remindersOn(cfg config.Config) bool { return cfg.Reminders.Enabled }

// NeededFor reports whether a bot running with cfg calls the action.
func (a Action) NeededFor(cfg config.Config) bool {
	when := onlyWhen[a.Name]
	return when == nil || when(cfg)
}

// Actions returns the IAM actions the bot calls, sorted by name.
func Actions() []Action {
	out := slices.Clone(actions)
	slices.SortFunc(out, func(a, b Action) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AccountPlaceholder stands in the ARNs for the account ID when none is
// given: the configuration does not hold it.
const AccountPlaceholder = "ACCOUNT_ID"

var accountID = regexp.MustCompile(`^\d{12}$`)

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool { return accountID.MatchString(s) }

// Partitions are the AWS partitions, as in the SDK's partitions.json: an
// ARN in any other names nothing, and a policy with it grants nothing.
var Partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// IsPartition reports whether s is one of [Partitions].
func IsPartition(s string) bool { return slices.Contains(Partitions, s) }

// regionPrefixes map region name prefixes to partitions (from the SDK's
// partitions.json), longest first: us-isob- before us-iso-.
var regionPrefixes = []struct{ prefix, partition string }{
	{"us-gov-", "aws-us-gov"},
	{"us-isob-", "aws-iso-b"},
	{"us-isof-", "aws-iso-f"},
	{"us-iso-", "aws-iso"},
	{"eu-isoe-", "aws-iso-e"},
	{"eusc-", "aws-eusc"},
	{"cn-", "aws-cn"},
}

// PartitionOf returns the partition of an AWS region, "aws" when the
// region is empty or commercial.
func PartitionOf(region string) string {
	for _, p := range regionPrefixes {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a [Document].
type Statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// Build returns the policy for cfg in the given account ("" for
// [AccountPlaceholder]) and partition ("" for "aws"). Users listed in
// cfg.Users are named by exact ARN, user/NAME, which matches users at the
// default path "/" only: a user under a path has the ARN user/PATH/NAME,
// and needs that ARN added by hand. Listed users that reset.protected names
// are left out, since the bot never touches them. A statement left with
// no resource is dropped. Actions only some configurations call (see
// [Action.NeededFor]) are in only when cfg calls them. Statements, actions
// and resources are sorted, so the same config always gives the same policy.
func Build(cfg config.Config, account, part string) Document {
	if account == "" {
		account = AccountPlaceholder
	}
	if part == "" {
		part = "aws"
	}
	resources := map[ResourceKind][]string{
		AccountWide: {"*"},
		ListedUsers: userARNs(cfg, account, part),
	}
	byKind := map[ResourceKind][]string{}
	for _, a := range actions {
		if a.NeededFor(cfg) {
			byKind[a.Resource] = append(byKind[a.Resource], a.Name)
		}
	}
	doc := Document{Version: "2012-10-17"}
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		res := resources[kind]
		if len(res) == 0 {
			continue
		}
		acts := slices.Clone(byKind[kind])
		slices.Sort(acts)
		doc.Statement = append(doc.Statement, Statement{
			Sid:      kind.Sid(),
			Effect:   "Allow",
			Action:   slices.Compact(acts),
			Resource: res,
		})
	}
	slices.SortFunc(doc.Statement, func(a, b Statement) int { return strings.Compare(a.Sid, b.Sid) })
	return doc
}

// userARNs returns the ARNs of the listed users the bot may reset, sorted.
func userARNs(cfg config.Config, account, part string) []string {
	left := map[string]bool{}
	for _, name := range LeftOut(cfg) {
		left[name] = true
	}
	set := map[string]bool{}
	for _, u := range cfg.Users {
		// Users of aws.accounts are reset through their account's role,
		// whose own policy names them (see ForAccount).
		if u.IAMUser == "" || left[u.IAMUser] || u.Account != "" {
			continue
		}
		set[fmt.Sprintf("arn:%s:iam::%s:user/%s", part, account, u.IAMUser)] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// LeftOut returns, sorted, the listed IAM users that [Build] leaves out of
// the policy because reset.protected covers them: by name (compared
// case-insensitively, as IAM compares names), or all of them when the root
// path "/" is protected, since user/NAME ARNs name only root-path users.
func LeftOut(cfg config.Config) []string {
	rootProtected := false
	protected := map[string]bool{}
	for _, p := range cfg.Reset.Protected {
		switch {
		case p == "/":
			rootProtected = true
		case !strings.HasPrefix(p, "/"):
			protected[strings.ToLower(p)] = true
		}
	}
	var out []string
	for _, u := range cfg.Users {
		if u.IAMUser != "" && (rootProtected || protected[strings.ToLower(u.IAMUser)]) {
			out = append(out, u.IAMUser)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// JSON renders the document as indented JSON with a final newline.
func (d Document) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return buf.Bytes(), nil
}

// IAM's size quotas for policy documents, in characters not counting
// white space.
const (
	MaxManagedPolicySize    = 6144
	MaxInlineRolePolicySize = 10240
)

// Size returns the document's size as IAM counts it against its quotas:
// the JSON without white space.
func (d Document) Size() int {
	b, err := json.Marshal(d)
	if err != nil {
		return 0
	}
	return len(b)
}
