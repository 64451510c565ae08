package fakeaws

import (
	"fmt"
	"sort"
	"strings"
)

// Rule is one permission of the caller, like a statement of an IAM policy.
type Rule struct {
	// Action is an IAM action such as "iam:UpdateLoginProfile"; '*' and
	// '?' are wildcards, and matching ignores case, as in IAM policies.
	// "" means "*".
	Action string
	// Resource is an ARN such as "arn:aws:iam::123456789012:user/*"; '*'
	// and '?' are wildcards, matching is case-sensitive. "" means "*".
	Resource string
	// Deny makes the rule an explicit deny, which beats any allow.
	Deny bool
}

// Evaluation decisions, as SimulatePrincipalPolicy reports them.
const (
	decisionAllowed      = "allowed"
	decisionImplicitDeny = "implicitDeny"
	decisionExplicitDeny = "explicitDeny"
)

// SetAllowed sets the caller's permissions, which SimulatePrincipalPolicy
// evaluates (and, with Options.EnforceAllowed, every IAM request): a
// request for an action on a resource is allowed when an allow rule matches
// both and no deny rule does. nil (the default) allows everything; an empty,
// non-nil slice allows nothing.
func (s *Server) SetAllowed(rules []Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rules == nil {
		s.rules = nil
		return
	}
	s.rules = append(make([]Rule, 0, len(rules)), rules...)
}

// decide evaluates action on resource against the rules. s.mu must be held.
func (s *Server) decide(action, resource string) string {
	if s.rules == nil {
		return decisionAllowed
	}
	decision := decisionImplicitDeny
	for _, r := range s.rules {
		if !globMatch(orStar(r.Action), action, true) || !globMatch(orStar(r.Resource), resource, false) {
			continue
		}
		if r.Deny {
			return decisionExplicitDeny
		}
		decision = decisionAllowed
	}
	return decision
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// globMatch matches name against pattern, where '*' is any run of characters
// and '?' any one character.
func globMatch(pattern, name string, foldCase bool) bool {
	if foldCase {
		pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	}
	// Iterative wildcard matching with backtracking to the last '*'.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// listParam reads a Query list parameter: Name.member.1, Name.member.2, ...
func listParam(req *request, name string) []string {
	type item struct {
		i int
		v string
	}
	var items []item
	prefix := name + ".member."
	for k, vs := range req.params {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || len(vs) == 0 {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(rest, "%d", &i); err != nil {
			continue
		}
		items = append(items, item{i, vs[0]})
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// simulatePrincipalPolicy answers one EvaluationResult per action and
// resource (the resource "*" when ResourceArns is absent), in the order
// given, with the decision the rules give. The rules are the caller's
// whatever PolicySourceArn names; a user ARN in this account must name an
// existing user (else NoSuchEntity), any other must at least be an IAM ARN
// (else InvalidInput).
func (s *Server) simulatePrincipalPolicy(req *request) (any, *apiError) {
	source := req.params.Get("PolicySourceArn")
	if source == "" {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'policySourceArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(source, "arn:aws:iam::") {
		return nil, apiErr("InvalidInput", "Invalid ARN "+source+".")
	}
	if rest, ok := strings.CutPrefix(source, "arn:aws:iam::"+s.accountID+":user/"); ok {
		name := rest[strings.LastIndex(rest, "/")+1:]
		if u, ok := s.users[name]; !ok || u.arn() != source {
			return nil, apiErr("NoSuchEntity", "The user with name "+name+" cannot be found.")
		}
	}
	actions := listParam(req, "ActionNames")
	if len(actions) == 0 {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := listParam(req, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var out struct {
		EvaluationResults members[evaluationResultXML] `xml:"EvaluationResults"`
		IsTruncated       bool                         `xml:"IsTruncated"`
	}
	for _, a := range actions {
		for _, r := range resources {
			out.EvaluationResults.Member = append(out.EvaluationResults.Member, evaluationResultXML{
				EvalActionName:   a,
				EvalResourceName: r,
				EvalDecision:     s.decide(a, r),
			})
		}
	}
	return out, nil
}
