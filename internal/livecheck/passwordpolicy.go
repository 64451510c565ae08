package livecheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/aws-reset-bot/aws-reset-bot/internal/password"
	"github.com/aws-reset-bot/aws-reset-bot/internal/reset"
)

// Names of the password policy checks.
const (
	checkPolicy = "password policy"
	checkLength = "password length"
	checkExpiry = "password expiry"
)

// checkPasswordPolicy reads the account's password policy and has the
// generator, at reset.password_length, make one password for it: the
// password is checked against the policy and then dropped, never shown.
func (c Checker) checkPasswordPolicy(ctx context.Context, r *Report) {
	out, err := c.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	policy, what := password.DefaultPolicy(), "the account sets none, so AWS's default applies: at least 8 characters, 3 kinds of character"
	var maxAge int32
	switch _, none := errors.AsType[*types.NoSuchEntityException](err); {
	case none:
	case err != nil:
		r.add(Fail, checkPolicy, "iam:GetAccountPasswordPolicy: %v: the bot reads the policy to make passwords IAM accepts", err)
		return
	default:
		policy = reset.PolicyFromIAM(out.PasswordPolicy)
		what = describe(policy)
		maxAge = aws.ToInt32(out.PasswordPolicy.MaxPasswordAge)
	}

	length := c.Config.Reset.PasswordLength
	gen, err := password.NewGenerator(length)
	if err != nil {
		r.add(Fail, checkPolicy, "reset.password_length: %v", err)
		return
	}
	pw, err := gen.Generate(policy)
	if err == nil {
		err = password.Check(pw.Reveal(), policy)
	}
	if err != nil {
		r.add(Fail, checkPolicy, "%s; the generator cannot meet it: %v", what, err)
		return
	}
	r.add(Pass, checkPolicy, "%s; a generated password meets it", what)
	if policy.MinLength > length {
		r.add(Pass, checkLength, "the policy's minimum, %d, is above reset.password_length, %d: passwords will be %d characters long,"+
			" which is fine", policy.MinLength, length, policy.MinLength)
	}
	if maxAge > 0 {
		note := "reminders are on: people hear before theirs expires"
		if !c.Config.Reminders.Enabled {
			note = "turning on reminders (reminders.enabled) would tell people before theirs expires"
		}
		r.add(Pass, checkExpiry, "passwords expire after %d days (MaxPasswordAge); %s", maxAge, note)
	}
}

// describe says what a policy demands.
func describe(p password.Policy) string {
	var kinds []string
	for _, k := range []struct {
		on   bool
		what string
	}{{p.RequireUpper, "upper case"}, {p.RequireLower, "lower case"}, {p.RequireNumbers, "digits"}, {p.RequireSymbols, "symbols"}} {
		if k.on {
			kinds = append(kinds, k.what)
		}
	}
	s := fmt.Sprintf("the account's: at least %d characters", p.MinLength)
	if len(kinds) > 0 {
		s += " with " + strings.Join(kinds, ", ")
	}
	return s
}
