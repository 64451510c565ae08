package livecheck

import (
	"context"
	"errors"

	"github.com/aws-reset-bot/aws-reset-bot/internal/awsclient"
)

// Account is one aws.accounts entry's clients, on its assumed role
// (awsclient.ForAccount), for the checks of that account.
type Account struct {
	Name, RoleARN string
	IAM           IAM
	STS           STS
}

// checkAccounts checks each account as the bot's own is checked, through
// its role: the role can be assumed (GetCallerIdentity on its
// credentials), the simulator's answer for the role's own policies on the
// users listed for the account, and its password policy. Each line names
// the account.
func (c Checker) checkAccounts(ctx context.Context, r *Report) {
	for _, a := range c.Accounts {
		var sub Report
		acc := c
		acc.Config = c.Config.ForAccount(a.Name)
		acc.IAM, acc.STS, acc.Accounts = a.IAM, a.STS, nil
		if p, ok := acc.checkRole(ctx, &sub, a); ok {
			acc.checkPermissions(ctx, &sub, p)
			acc.checkPasswordPolicy(ctx, &sub)
		}
		for _, res := range sub.Results {
			res.Check = "account " + a.Name + ": " + res.Check
			r.Results = append(r.Results, res)
		}
	}
}

// checkRole assumes the account's role, by asking STS who its
// credentials are.
func (c Checker) checkRole(ctx context.Context, r *Report, a Account) (Principal, bool) {
	if _, err := c.STS.GetCallerIdentity(ctx, nil); err != nil {
		if are, ok := errors.AsType[*awsclient.AssumeRoleError](err); ok {
			r.add(Fail, "assume role", "sts:AssumeRole on %s: %s (%v). The role must exist, its trust policy name the bot's identity"+
				" and the external ID match: see \"bot policy --account-name %s --trust --principal ARN\"", are.RoleARN, orCode(are.Code), err, a.Name)
			return Principal{}, false
		}
		r.add(Fail, "assume role", "%v", err)
		return Principal{}, false
	}
	p, ok := c.checkIdentity(ctx, r)
	if ok && p.Kind == KindRole {
		// The simulator reads the role's own policies under its full ARN,
		// which the session ARN lacks the path of.
		p.PolicyARN = a.RoleARN
	}
	return p, ok
}

func orCode(code string) string {
	if code == "" {
		return "no answer from STS"
	}
	return code
}
