package livecheck

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/aws-reset-bot/aws-reset-bot/internal/iampolicy"
)

// IAM is what the checks ask IAM.
type IAM interface {
	SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, opts ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, opts ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
}

// STS is what the checks ask STS: who the credentials are. No policy can
// deny it.
type STS interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// CanaryUser is the IAM user name the checks ask about to see whether the
// bot may reset users it was not given: no one should ever be called this.
const CanaryUser = "aws-reset-bot-check-unlisted-user"

// Names of the AWS checks.
const (
	checkIdentity   = "aws identity"
	checkSimulate   = "iam permissions"
	checkLeastPriv  = "iam least privilege"
	actionResetPass = "iam:UpdateLoginProfile"
)

func (c Checker) checkAWS(ctx context.Context, r *Report) {
	if c.AWSErr != nil || c.IAM == nil || c.STS == nil {
		setupFailed(r, "aws credentials", c.AWSErr)
		r.add(Skip, "aws", "not checked: no AWS configuration")
		return
	}
	p, ok := c.checkIdentity(ctx, r)
	if !ok {
		r.add(Skip, "aws", "nothing else checked: no working AWS credentials")
		return
	}
	c.checkPermissions(ctx, r, p)
	c.checkPasswordPolicy(ctx, r)
}

// checkIdentity asks STS who the credentials are. It reports false when
// there is no identity to go on.
func (c Checker) checkIdentity(ctx context.Context, r *Report) (Principal, bool) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		r.add(Fail, checkIdentity, "sts:GetCallerIdentity: %v: the SDK's default chain (environment, shared config and profiles,"+
			" web identity, instance role) gave no working credentials", err)
		return Principal{}, false
	}
	p, err := ParsePrincipal(aws.ToString(out.Arn))
	if err != nil {
		r.add(Fail, checkIdentity, "sts:GetCallerIdentity: %v", err)
		return Principal{}, false
	}
	switch p.Kind {
	case KindRoot:
		r.add(Fail, checkIdentity, "the credentials are account %s's root user, which can do anything: give the bot a role"+
			" (or a user) of its own with the policy from %s", p.Account, policyCommand(p))
	case KindRole:
		r.add(Pass, checkIdentity, "role %s in account %s (%s)", p.Name, p.Account, p.ARN)
	case KindUser:
		r.add(Pass, checkIdentity, "IAM user %s in account %s (%s)", p.Name, p.Account, p.ARN)
	default:
		r.add(Pass, checkIdentity, "%s %s in account %s (%s)", p.Kind, p.Name, p.Account, p.ARN)
	}
	return p, true
}

// checkPermissions asks IAM's policy simulator whether the bot may make
// each call it makes on each resource it makes it on: the statements of
// the policy "bot policy" writes for the configuration, which are
// iampolicy's table of the calls in the code. Then it asks whether the bot
// may reset users it was not given.
func (c Checker) checkPermissions(ctx context.Context, r *Report, p Principal) {
	switch {
	case p.Kind == KindRoot:
		return // already a FAIL: the bot must not run as root at all
	case p.PolicyARN == "":
		r.add(Skip, checkSimulate, "IAM cannot simulate the policies of a %s session: run the check as the bot's role or user", p.Kind)
		return
	}
	why := map[string]string{}
	for _, a := range iampolicy.Actions() {
		why[a.Name] = a.Why
	}
	doc := iampolicy.Build(c.Config, p.Account, p.Partition)
	resources := map[string][]string{}                                      // action → the resources it needs
	decisions := map[string]map[string]types.PolicyEvaluationDecisionType{} // resource → action → decision
	listedUsers := false
	for _, s := range doc.Statement {
		listedUsers = listedUsers || s.Sid == iampolicy.ListedUsers.Sid()
		for _, a := range s.Action {
			resources[a] = append(resources[a], s.Resource...)
		}
		for _, res := range s.Resource {
			d, err := c.simulate(ctx, p.PolicyARN, s.Action, res)
			if err != nil {
				c.simulateFailed(r, p, err)
				return
			}
			if decisions[res] == nil {
				decisions[res] = map[string]types.PolicyEvaluationDecisionType{}
			}
			maps.Copy(decisions[res], d)
		}
	}

	for _, action := range slices.Sorted(maps.Keys(resources)) {
		var denied []string
		for _, res := range resources[action] {
			if d := decisions[res][action]; d != types.PolicyEvaluationDecisionTypeAllowed {
				denied = append(denied, fmt.Sprintf("%s (%s)", res[strings.LastIndex(res, "/")+1:], orImplicit(d)))
			}
		}
		switch {
		case len(denied) > 0:
			r.add(Fail, action, "denied on %s. Used to: %s. Attach the policy from %s", strings.Join(denied, ", "), why[action], policyCommand(p))
		case slices.Equal(resources[action], []string{"*"}):
			r.add(Pass, action, "allowed: %s", why[action])
		default:
			r.add(Pass, action, "allowed on the %d listed users: %s", len(resources[action]), why[action])
		}
	}
	if !listedUsers && len(c.Config.Users) > 0 {
		r.add(Skip, "listed users", "no rights to check: reset.protected covers every listed user, so the bot may reset no one")
	}
	c.checkReach(ctx, r, p)
}

// canary is a user the bot must not be able to reset.
type canary struct {
	what string // who it stands for
	risk string // what the bot could do if it could reset them
	arn  string
}

// checkReach asks whether the bot may reset users beyond its allowlist:
// one who cannot exist, itself, and those reset.protected names. The bot
// itself refuses them; the point is that its IAM rights should too, so a
// bug or a stolen credential cannot.
func (c Checker) checkReach(ctx context.Context, r *Report, p Principal) {
	canaries := []canary{{
		what: "a user not on the allowlist",
		risk: "it could reset the console password of anyone in the account, not just listed users",
		arn:  p.userARN("/", CanaryUser),
	}}
	if p.Kind == KindUser {
		canaries = append(canaries, canary{
			what: "its own IAM user",
			risk: "it could give itself a console password and sign in with its own rights",
			arn:  p.ARN,
		})
	}
	for _, name := range c.Config.Reset.Protected {
		arn, what := p.userARN("/", name), "protected user "+name
		if strings.HasPrefix(name, "/") {
			arn, what = p.userARN(name, CanaryUser), "a user under the protected path "+name
		}
		if slices.ContainsFunc(canaries, func(o canary) bool { return o.arn == arn }) {
			continue
		}
		canaries = append(canaries, canary{
			what: what,
			risk: "it could reset accounts reset.protected keeps out of its reach: break-glass and admin users",
			arn:  arn,
		})
	}

	var allowed int
	for _, k := range canaries {
		d, err := c.simulate(ctx, p.PolicyARN, []string{actionResetPass}, k.arn)
		if err != nil {
			c.simulateFailed(r, p, err)
			return
		}
		if d[actionResetPass] == types.PolicyEvaluationDecisionTypeAllowed {
			allowed++
			r.add(Warn, checkLeastPriv, "%s is allowed on %s (%s): %s. Replace the bot's policy with the one from %s,"+
				" which names each listed user's ARN and nothing else", actionResetPass, k.what, k.arn, k.risk, policyCommand(p))
		}
	}
	if allowed == 0 {
		whats := make([]string, len(canaries))
		for i, k := range canaries {
			whats[i] = k.what
		}
		r.add(Pass, checkLeastPriv, "%s is denied on %s: the bot can reset listed users only", actionResetPass, strings.Join(whats, "; "))
	}
}

// simulate asks IAM's policy simulator for source's decision on each
// action on one resource ("*" for none), keyed by action.
func (c Checker) simulate(ctx context.Context, source string, actions []string, resource string) (map[string]types.PolicyEvaluationDecisionType, error) {
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source), ActionNames: actions}
	if resource != "*" {
		in.ResourceArns = []string{resource}
	}
	out := map[string]types.PolicyEvaluationDecisionType{}
	pages := iam.NewSimulatePrincipalPolicyPaginator(c.IAM, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range page.EvaluationResults {
			// Actions match case-insensitively in IAM; answer in the case asked.
			name := aws.ToString(e.EvalActionName)
			if i := slices.IndexFunc(actions, func(a string) bool { return strings.EqualFold(a, name) }); i >= 0 {
				name = actions[i]
			}
			if prev, seen := out[name]; !seen || prev == types.PolicyEvaluationDecisionTypeAllowed {
				out[name] = e.EvalDecision // any denial of an action wins
			}
		}
	}
	return out, nil
}

// simulateFailed reports why IAM would not simulate. A refusal to
// simulate says nothing about the bot's own rights: it is a SKIP with how
// to allow the check, not a failure.
func (c Checker) simulateFailed(r *Report, p Principal, err error) {
	apiErr, isAPI := errors.AsType[smithy.APIError](err)
	_, noEntity := errors.AsType[*types.NoSuchEntityException](err)
	switch {
	case isAPI && (apiErr.ErrorCode() == "AccessDenied" || apiErr.ErrorCode() == "AccessDeniedException"):
		r.add(Skip, checkSimulate, "the bot's permissions, and whether they reach too far, were not checked: IAM refused iam:SimulatePrincipalPolicy."+
			" To enable this check, allow the bot iam:SimulatePrincipalPolicy on its own ARN, %s"+
			" (it reveals only what the bot itself may do)", p.PolicyARN)
	case noEntity && p.Kind == KindRole:
		r.add(Skip, checkSimulate, "IAM has no role %s to simulate: a role under a path (such as /service-role/) has the ARN"+
			" role/PATH/NAME, which the session ARN does not show; check its permissions in the IAM console", p.PolicyARN)
	default:
		r.add(Fail, checkSimulate, "iam:SimulatePrincipalPolicy: %v", err)
	}
}

func orImplicit(d types.PolicyEvaluationDecisionType) types.PolicyEvaluationDecisionType {
	if d == "" {
		return types.PolicyEvaluationDecisionTypeImplicitDeny
	}
	return d
}

// policyCommand is the command that writes the bot's policy for p's account.
func policyCommand(p Principal) string {
	cmd := "bot policy --account " + p.Account
	if p.Partition != "" && p.Partition != "aws" {
		cmd += " --partition " + p.Partition
	}
	return `"` + cmd + `"`
}
