package livecheck

import (
	"fmt"
	"strings"
)

// Kinds of principal an STS caller ARN names.
const (
	KindUser      = "user"           // an IAM user: long-term access keys
	KindRole      = "role"           // an assumed role: IRSA, instance and task roles, SSO
	KindRoot      = "root"           // the account's root user
	KindFederated = "federated-user" // sts:GetFederationToken
)

// Principal is the identity the bot's credentials act as, as IAM's policy
// simulator needs it.
type Principal struct {
	ARN       string // as GetCallerIdentity gave it
	Kind      string // KindUser, KindRole, KindRoot or KindFederated
	Partition string // aws, aws-cn, aws-us-gov, …
	Account   string
	Name      string // the user's or the role's name; "" for root
	// PolicyARN is the ARN SimulatePrincipalPolicy takes: the user's, or
	// the role's for an assumed-role session; "" when there is none.
	PolicyARN string
}

// ParsePrincipal reads the ARN GetCallerIdentity returns. An assumed-role
// session, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, becomes the role
// arn:aws:iam::ACCOUNT:role/ROLE. The session ARN does not carry the role's
// path, so a role under a path (/service-role/, say) comes out without it;
// IAM then does not find it, and the simulation says so.
func ParsePrincipal(arn string) (Principal, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[4] == "" {
		return Principal{}, fmt.Errorf("%q is not an ARN", arn)
	}
	p := Principal{ARN: arn, Partition: parts[1], Account: parts[4]}
	service, resource := parts[2], parts[5]
	kind, rest, _ := strings.Cut(resource, "/")
	switch {
	case service == "iam" && resource == "root":
		p.Kind = KindRoot
	case service == "iam" && kind == "user" && rest != "":
		p.Kind, p.PolicyARN = KindUser, arn
		p.Name = rest[strings.LastIndex(rest, "/")+1:]
	case service == "iam" && kind == "role" && rest != "":
		p.Kind, p.PolicyARN = KindRole, arn
		p.Name = rest[strings.LastIndex(rest, "/")+1:]
	case service == "sts" && kind == "assumed-role":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" {
			return Principal{}, fmt.Errorf("%q is not an assumed-role ARN (want assumed-role/ROLE/SESSION)", arn)
		}
		p.Kind, p.Name = KindRole, role
		p.PolicyARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", p.Partition, p.Account, role)
	case service == "sts" && kind == "federated-user" && rest != "":
		p.Kind, p.Name = KindFederated, rest
	default:
		return Principal{}, fmt.Errorf("%q names no IAM user or role", arn)
	}
	return p, nil
}

// userARN returns the ARN of the user name under path ("/" or "/a/b/").
func (p Principal) userARN(path, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:user%s%s", p.Partition, p.Account, path, name)
}
