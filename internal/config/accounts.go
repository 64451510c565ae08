package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Account is one AWS account the bot reaches through a role it assumes
// with its own credentials (aws.accounts[]).
type Account struct {
	// Name is what people type after the command: [a-z0-9-], 1..32.
	Name string `yaml:"name"`
	// RoleARN is the role the bot assumes in the account.
	RoleARN string `yaml:"role_arn"`
	// ExternalID is passed as sts:ExternalId when set, for a role whose
	// trust policy asks for one (a third party running the bot).
	ExternalID string `yaml:"external_id"`
	// ConsoleURL is where people of this account sign in; "" = derived
	// from the account ID and the role's partition.
	ConsoleURL string `yaml:"console_url"`
	// Approval, if set, overrides the top-level approval settings for
	// requests in this account, key by key (see Config.ApprovalFor).
	Approval *ApprovalOverride `yaml:"approval"`
}

var (
	accountName = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	// roleARN is arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME, as IAM
	// spells role names (1..64 of [\w+=,.@-]) and paths.
	roleARN    = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):role/((?:[\x21-\x7e]*/)?)([\w+=,.@-]{1,64})$`)
	externalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // STS's own characters; 2..1224 of them
)

// RoleARN is a parsed role ARN.
type RoleARN struct {
	Partition, AccountID, Path, Name string
}

// ParseRoleARN reads arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME. It
// reports false for anything else.
func ParseRoleARN(s string) (RoleARN, bool) {
	m := roleARN.FindStringSubmatch(s)
	if m == nil {
		return RoleARN{}, false
	}
	return RoleARN{Partition: m[1], AccountID: m[2], Path: "/" + m[3], Name: m[4]}, true
}

// Account returns the aws.accounts entry called name. The bot's own
// account ("") is no entry.
func (a AWS) Account(name string) (Account, bool) {
	if name == "" {
		return Account{}, false
	}
	for _, acct := range a.Accounts {
		if acct.Name == name {
			return acct, true
		}
	}
	return Account{}, false
}

// AccountID is the 12-digit ID from the role ARN; "" for a malformed one.
func (a Account) AccountID() string {
	r, _ := ParseRoleARN(a.RoleARN)
	return r.AccountID
}

// Partition is the role ARN's partition (aws, aws-us-gov, aws-cn).
func (a Account) Partition() string {
	r, _ := ParseRoleARN(a.RoleARN)
	return r.Partition
}

// validateAccounts checks aws.accounts and every users[i].account.
func (c *Config) validateAccounts(v *validator) {
	names, roles := map[string]int{}, map[string]int{}
	for i, a := range c.AWS.Accounts {
		path := fmt.Sprintf("aws.accounts[%d]", i)
		switch j, dup := names[a.Name]; {
		case a.Name == "":
			v.add(path+".name", "is required")
		case !accountName.MatchString(a.Name):
			v.add(path+".name", "%q is not an account name (1-32 of a-z, 0-9 and -)", a.Name)
		case dup:
			v.add(path+".name", "%q is already the name of aws.accounts[%d]", a.Name, j)
		default:
			names[a.Name] = i
		}
		switch j, dup := roles[a.RoleARN]; {
		case a.RoleARN == "":
			v.add(path+".role_arn", "is required")
		case !roleARN.MatchString(a.RoleARN):
			v.add(path+".role_arn", "%q is not a role ARN (want arn:aws:iam::123456789012:role/NAME)", a.RoleARN)
		case dup:
			v.add(path+".role_arn", "%q is already the role of aws.accounts[%d]", a.RoleARN, j)
		default:
			roles[a.RoleARN] = i
		}
		if a.ExternalID != "" {
			v.check(externalID.MatchString(a.ExternalID) && len(a.ExternalID) >= 2 && len(a.ExternalID) <= 1224, path+".external_id",
				"is not an external ID (2-1224 of letters, digits and +=,.@:/-)")
		}
		if a.ConsoleURL != "" {
			u, err := url.Parse(a.ConsoleURL)
			v.check(err == nil && u.Scheme == "https" && u.Host != "", path+".console_url",
				fmt.Sprintf("%q is not an https URL", a.ConsoleURL))
		}
		if a.Approval != nil {
			// The settings as they hold in the account, reported at its path.
			validateApproval(v, path+".approval", c.Approval.With(a.Approval))
		}
	}
	type key struct{ a, b string }
	seenSlack, seenIAM := map[key]int{}, map[key]int{}
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		if u.Account != "" {
			if _, ok := names[u.Account]; !ok {
				v.add(path+".account", "%q is not the name of any aws.accounts entry", u.Account)
				continue
			}
		}
		if IsSlackUserID(u.SlackUser) {
			k := key{u.SlackUser, u.Account}
			if j, dup := seenSlack[k]; dup {
				v.add(path+".slack_user", "%q is already listed for %s at users[%d]: one IAM user per person and account",
					u.SlackUser, accountWords(u.Account), j)
			} else {
				seenSlack[k] = i
			}
		}
		if IsIAMUserName(u.IAMUser) {
			// IAM user names are unique case-insensitively.
			k := key{u.Account, strings.ToLower(u.IAMUser)}
			if j, dup := seenIAM[k]; dup {
				v.add(path+".iam_user", "%q is already listed for %s at users[%d]: one IAM user, one owner",
					u.IAMUser, accountWords(u.Account), j)
			} else {
				seenIAM[k] = i
			}
		}
	}
}

func accountWords(name string) string {
	if name == "" {
		return "the bot's own account"
	}
	return fmt.Sprintf("account %q", name)
}

// ForAccount is c as the role in the account called name sees it: only
// that account's users, as if they were in the bot's own account, and no
// accounts. What that role's policy must allow, and what a live check of
// it must find, are read from it.
func (c Config) ForAccount(name string) Config {
	out := c
	out.AWS.Accounts = nil
	out.Users = nil
	for _, u := range c.Users {
		if u.Account == name {
			u.Account = ""
			out.Users = append(out.Users, u)
		}
	}
	return out
}
