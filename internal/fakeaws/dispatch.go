package fakeaws

import "fmt"

// operation is one action the fake serves.
type operation struct {
	// serve answers the request; s.mu is held. A nil result means the
	// answer has no Result element (e.g. UpdateLoginProfile).
	serve func(s *Server, req *request) (any, *apiError)
	// resource is the ARN the action acts on, for Options.EnforceAllowed;
	// nil means "*" (account-level actions).
	resource func(s *Server, req *request) string
}

// operations are keyed by Version, then Action.
var operations = map[string]map[string]operation{
	iamVersion: {
		"GetAccountPasswordPolicy": {serve: (*Server).getAccountPasswordPolicy},
		"GetUser":                  {serve: (*Server).getUser, resource: userResource},
		"ListUsers":                {serve: (*Server).listUsers},
		"GetLoginProfile":          {serve: (*Server).getLoginProfile, resource: userResource},
		"CreateLoginProfile":       {serve: (*Server).createLoginProfile, resource: userResource},
		"UpdateLoginProfile":       {serve: (*Server).updateLoginProfile, resource: userResource},
		"ListMFADevices":           {serve: (*Server).listMFADevices, resource: userResource},
		"ListAccountAliases":       {serve: (*Server).listAccountAliases},
		"GenerateCredentialReport": {serve: (*Server).generateCredentialReport},
		"GetCredentialReport":      {serve: (*Server).getCredentialReport},
		"SimulatePrincipalPolicy":  {serve: (*Server).simulatePrincipalPolicy, resource: policySourceResource},
	},
	stsVersion: {
		"GetCallerIdentity": {serve: (*Server).getCallerIdentity},
		"AssumeRole":        {serve: (*Server).assumeRole},
	},
}

// userResource is the ARN of the user a request names (the caller when it
// names none), whether or not the user exists: IAM checks permissions before
// it looks the user up. s.mu must be held.
func userResource(s *Server, req *request) string {
	name := req.params.Get("UserName")
	if name == "" {
		name = BotUserName
	}
	if u, ok := s.users[name]; ok {
		return u.arn()
	}
	return s.userARN("/", name)
}

func policySourceResource(_ *Server, req *request) string {
	if arn := req.params.Get("PolicySourceArn"); arn != "" {
		return arn
	}
	return "*"
}

// dispatch routes a request to its operation.
func (s *Server) dispatch(req *request) (any, *apiError) {
	if req.action == "" {
		return nil, apiErr("MissingAction", "Missing Action")
	}
	op, ok := operations[req.version][req.action]
	if !ok {
		return nil, apiErr("InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", req.action, req.version))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enforce && req.version == iamVersion {
		resource := "*"
		if op.resource != nil {
			resource = op.resource(s, req)
		}
		action := "iam:" + req.action
		switch s.decide(action, resource) {
		case decisionExplicitDeny:
			return nil, apiErr("AccessDenied", fmt.Sprintf(
				"User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy",
				req.caller(), action, resource))
		case decisionImplicitDeny:
			return nil, apiErr("AccessDenied", fmt.Sprintf(
				"User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
				req.caller(), action, resource, action))
		}
	}
	return op.serve(s, req)
}
