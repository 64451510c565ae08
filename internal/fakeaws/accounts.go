package fakeaws

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Several accounts in one fake: AddAccount makes another account, with its
// own users, password policy, alias, credential report, rules and faults,
// reached only through a role in it. STS AssumeRole, served by the Server
// New returns, checks the role and its external ID and issues temporary
// keys; a request signed with them is served by the role's account. The
// account's *Server is the same type as the one New returns, so tests set
// it up with the same methods (AddUser, SetPasswordPolicy, FailNext, …).

// Role is a role the bot may be allowed to assume in an account.
type Role struct {
	// Name is the role's name; its ARN is arn:aws:iam::ACCOUNT:role/Name.
	Name string
	// ExternalID, if set, is the sts:ExternalId its trust policy requires.
	ExternalID string
	// Untrusted makes the trust policy not name the bot: AssumeRole is
	// refused with AccessDenied, as for a role that does not exist.
	Untrusted bool
}

// AccountOptions configures an account AddAccount makes.
type AccountOptions struct {
	AccountAlias   string // see Options.AccountAlias
	EnforceAllowed bool   // see Options.EnforceAllowed
}

// DefaultCredentialLifetime is how long AssumeRole's keys last unless
// DurationSeconds or SetCredentialLifetime say otherwise: STS's default.
const DefaultCredentialLifetime = time.Hour

// accountsState is what the issuing Server keeps about other accounts and
// the keys it issued; and, in every account, its roles. Guarded by mu.
type accountsState struct {
	others   map[string]*Server    // account ID → account (issuing Server only)
	issued   map[string]*issuedKey // access key ID → key (issuing Server only)
	roles    map[string]Role       // role name → role, in this account
	lifetime time.Duration         // 0 = DefaultCredentialLifetime or DurationSeconds
}

// issuedKey is one set of temporary credentials.
type issuedKey struct {
	id, secret, token string
	account           *Server
	role, roleID      string
	session           string
	expires           time.Time
	expired           bool // ExpireCredentials
}

func (k *issuedKey) assumedARN() string {
	return "arn:aws:sts::" + k.account.accountID + ":assumed-role/" + k.role + "/" + k.session
}

// caller is the ARN the request was made as.
func (r *request) caller() string {
	if r.key != nil {
		return r.key.assumedARN()
	}
	return callerARN
}

// AddAccount adds the account with the 12-digit id (replacing any of that
// ID) and returns it. The account has no users, no password policy and
// no roles: add a Role for the bot to reach it.
func (s *Server) AddAccount(id string, opts AccountOptions) *Server {
	a := &Server{
		now: s.now, enforce: opts.EnforceAllowed, closed: s.closed, alias: opts.AccountAlias, started: s.now(),
		users: make(map[string]*user), faults: make(map[string][]string), holds: make(map[*hold]struct{}),
		changed: make(chan struct{}), reportDelay: 1, accountID: id, parent: s,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts.others == nil {
		s.accounts.others = map[string]*Server{}
	}
	s.accounts.others[id] = a
	return a
}

// AccountID is the 12-digit ID of s's account.
func (s *Server) AccountID() string { return s.accountID }

// AddRole adds (or replaces) a role in s's account.
func (s *Server) AddRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts.roles == nil {
		s.accounts.roles = map[string]Role{}
	}
	s.accounts.roles[r.Name] = r
}

// RoleARN is the ARN of the role called name in s's account.
func (s *Server) RoleARN(name string) string {
	return "arn:aws:iam::" + s.accountID + ":role/" + name
}

// SetCredentialLifetime makes the keys AssumeRole issues from now on last
// d (on the fake's clock), whatever DurationSeconds asks; 0 restores STS's
// rule. Call it on the Server New returned.
func (s *Server) SetCredentialLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts.lifetime = d
}

// ExpireCredentials makes every key issued so far answer ExpiredToken, as
// STS does once a session ends, whatever its client thinks of the time.
func (s *Server) ExpireCredentials() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.accounts.issued {
		k.expired = true
	}
}

// issuedKey finds the temporary credentials of keyID, checking the
// session token and the expiry as STS does. An expired key comes back
// with its error.
func (s *Server) issuedKey(keyID, token string) (*issuedKey, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.accounts.issued[keyID]
	switch {
	case !ok || token == "" || token != k.token:
		return nil, apiErr("InvalidClientTokenId", knownErrors["InvalidClientTokenId"].message)
	case k.expired || !s.now().Before(k.expires):
		// The key is returned too, so the refusal is recorded in its account.
		return k, apiErr("ExpiredToken", knownErrors["ExpiredToken"].message)
	}
	return k, nil
}

// recordFor records a call on s and, for a request made with an assumed
// role's keys, on that role's account too, so its Calls and WaitCall see it.
func (s *Server) recordFor(req *request, c Call) {
	c.Account = s.accountID
	if req.key != nil {
		c.Account = req.key.account.accountID
	}
	s.record(c)
	if req.key != nil && req.key.account != s {
		req.key.account.record(c)
	}
}

var (
	sessionName   = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	roleARNFormat = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
)

// assumeRole is STS AssumeRole. s.mu is held.
func (s *Server) assumeRole(req *request) (any, *apiError) {
	arn, session := req.params.Get("RoleArn"), req.params.Get("RoleSessionName")
	if arn == "" || session == "" {
		return nil, apiErr("ValidationError", "1 validation error detected: RoleArn and RoleSessionName are required")
	}
	if !sessionName.MatchString(session) {
		return nil, apiErr("ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: "+
			"Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2..64", session))
	}
	lifetime := DefaultCredentialLifetime
	if d := req.params.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return nil, apiErr("ValidationError", "1 validation error detected: Value '"+d+"' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		lifetime = time.Duration(n) * time.Second
	}
	if s.accounts.lifetime > 0 {
		lifetime = s.accounts.lifetime
	}
	m := roleARNFormat.FindStringSubmatch(arn)
	if m == nil {
		return nil, apiErr("ValidationError", "1 validation error detected: Value '"+arn+"' at 'roleArn' failed to satisfy constraint: Member must be a role ARN")
	}
	denied := apiErr("AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", req.caller(), arn))
	account := s.accounts.others[m[1]]
	if m[1] == s.accountID {
		account = s
	}
	if account == nil {
		return nil, denied
	}
	var role Role
	var ok bool
	if account == s {
		role, ok = s.accounts.roles[m[2]]
	} else {
		account.mu.Lock()
		role, ok = account.accounts.roles[m[2]]
		account.mu.Unlock()
	}
	if !ok || role.Untrusted || role.ExternalID != req.params.Get("ExternalId") {
		return nil, denied
	}
	k := &issuedKey{
		id: "ASIA" + strings.ToUpper(randomHex(8)), secret: randomHex(20), token: "FwoFAKE" + randomHex(32),
		account: account, role: role.Name, roleID: "AROA" + strings.ToUpper(randomHex(8)), session: session,
		expires: s.now().Add(lifetime),
	}
	if s.accounts.issued == nil {
		s.accounts.issued = map[string]*issuedKey{}
	}
	s.accounts.issued[k.id] = k
	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type assumed struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	}
	return struct {
		Credentials     credentials `xml:"Credentials"`
		AssumedRoleUser assumed     `xml:"AssumedRoleUser"`
	}{
		credentials{k.id, k.secret, k.token, k.expires.UTC().Format(time.RFC3339)},
		assumed{k.assumedARN(), k.roleID + ":" + session},
	}, nil
}

// IssuedSecrets lists the secret keys and session tokens AssumeRole has
// issued, for leak checks.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range s.accounts.issued {
		out = append(out, k.secret, k.token)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
