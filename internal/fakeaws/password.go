package fakeaws

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// PasswordPolicy is the account's password policy, as GetAccountPasswordPolicy
// reports it and as Create/UpdateLoginProfile enforce it.
type PasswordPolicy struct {
	// MinimumPasswordLength is the minimum length; IAM's range is 6 to 128
	// and values below 6 are taken as 6 (IAM's default).
	MinimumPasswordLength int
	// RequireSymbols requires one of IAM's symbols:
	// ! @ # $ % ^ & * ( ) _ + - = [ ] { } | '
	RequireSymbols bool
	// RequireNumbers requires a digit 0-9.
	RequireNumbers bool
	// RequireUppercaseCharacters requires a letter A-Z.
	RequireUppercaseCharacters bool
	// RequireLowercaseCharacters requires a letter a-z.
	RequireLowercaseCharacters bool
	// AllowUsersToChangePassword is reported as is.
	AllowUsersToChangePassword bool
	// ExpirePasswords is reported as true when it is set or MaxPasswordAge
	// is above 0 (IAM derives it from MaxPasswordAge).
	ExpirePasswords bool
	// HardExpiry is reported as is.
	HardExpiry bool
	// MaxPasswordAge is the password lifetime in days (0 = never expires);
	// it drives the credential report's password_next_rotation.
	MaxPasswordAge int
	// PasswordReusePrevention is how many previous passwords (set through
	// the API, up to 24) a new one may not repeat; 0 = no check.
	PasswordReusePrevention int
}

// IAM's limits and defaults.
const (
	// minPolicyLength is UpdateAccountPasswordPolicy's default and floor.
	minPolicyLength = 6
	// defaultPolicyLength is the length AWS's default policy (no account
	// policy) requires.
	defaultPolicyLength = 8
	maxPasswordLength   = 128
	maxReusePrevention  = 24
	// iamSymbols are the characters that count as symbols for
	// RequireSymbols and for the default policy.
	iamSymbols = "!@#$%^&*()_+-=[]{}|'"
)

// SetPasswordPolicy sets the account's password policy; nil removes it, and
// then GetAccountPasswordPolicy answers NoSuchEntity (404) and passwords are
// checked against AWS's default policy (see checkPassword).
func (s *Server) SetPasswordPolicy(p *PasswordPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == nil {
		s.policy = nil
		return
	}
	cp := *p
	cp.MinimumPasswordLength = max(cp.MinimumPasswordLength, minPolicyLength)
	cp.ExpirePasswords = cp.ExpirePasswords || cp.MaxPasswordAge > 0
	cp.PasswordReusePrevention = min(cp.PasswordReusePrevention, maxReusePrevention)
	s.policy = &cp
}

func (s *Server) getAccountPasswordPolicy(*request) (any, *apiError) {
	if s.policy == nil {
		return nil, apiErr("NoSuchEntity", "The Password Policy with domain name "+s.accountID+" cannot be found.")
	}
	p := *s.policy // the document is marshalled after s.mu is released
	x := passwordPolicyXML{
		MinimumPasswordLength:      p.MinimumPasswordLength,
		RequireSymbols:             p.RequireSymbols,
		RequireNumbers:             p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		ExpirePasswords:            p.ExpirePasswords,
		HardExpiry:                 &p.HardExpiry,
	}
	if p.MaxPasswordAge > 0 {
		x.MaxPasswordAge = &p.MaxPasswordAge
	}
	if p.PasswordReusePrevention > 0 {
		x.PasswordReusePrevention = &p.PasswordReusePrevention
	}
	return struct {
		PasswordPolicy passwordPolicyXML `xml:"PasswordPolicy"`
	}{x}, nil
}

// checkPassword validates a new console password for u. s.mu must be held.
//
// First the API's own constraint, which holds whatever the policy: 1 to 128
// characters from [\t\n\r\x20-\xFF] (any printable ASCII, Latin-1, tab, LF,
// CR); anything else is a ValidationError (400), as IAM's model validation
// answers. Then the account policy, answered with PasswordPolicyViolation
// (400): the minimum length and each required character class, where only
// IAM's own symbols count as symbols. Other printable characters (space, '.',
// '~', '"', ...) are allowed but count for no class. Without an account
// policy AWS's default policy applies: at least 8 characters and at least
// three of the four classes.
func (s *Server) checkPassword(u *user, pw string) *apiError {
	n := utf8.RuneCountInString(pw)
	if n < 1 || n > maxPasswordLength {
		return apiErr("ValidationError", fmt.Sprintf("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length between 1 and %d", maxPasswordLength))
	}
	for _, r := range pw {
		if r == utf8.RuneError || !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xFF)) {
			return apiErr("ValidationError", `1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	var problems []string
	upper, lower, digit, symbol := classes(pw)
	if p := s.policy; p != nil {
		if n < p.MinimumPasswordLength {
			problems = append(problems, fmt.Sprintf("Password should have a minimum length of %d", p.MinimumPasswordLength))
		}
		if p.RequireUppercaseCharacters && !upper {
			problems = append(problems, "Password should have at least one uppercase letter")
		}
		if p.RequireLowercaseCharacters && !lower {
			problems = append(problems, "Password should have at least one lowercase letter")
		}
		if p.RequireNumbers && !digit {
			problems = append(problems, "Password should have at least one number")
		}
		if p.RequireSymbols && !symbol {
			problems = append(problems, "Password should have at least one symbol")
		}
		if k := p.PasswordReusePrevention; k > 0 && len(problems) == 0 {
			recent := u.history[max(0, len(u.history)-k):]
			if slices.Contains(recent, pw) {
				problems = append(problems, "Policy Error: PasswordReusePrevention")
			}
		}
	} else {
		if n < defaultPolicyLength {
			problems = append(problems, fmt.Sprintf("Password should have a minimum length of %d", defaultPolicyLength))
		}
		count := 0
		for _, ok := range []bool{upper, lower, digit, symbol} {
			if ok {
				count++
			}
		}
		if count < 3 {
			problems = append(problems, "Password should have at least three of: uppercase letters, lowercase letters, numbers, symbols")
		}
	}
	if len(problems) > 0 {
		return apiErr("PasswordPolicyViolation", strings.Join(problems, "; "))
	}
	return nil
}

// classes reports which of IAM's character classes pw contains.
func classes(pw string) (upper, lower, digit, symbol bool) {
	for _, r := range pw {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(iamSymbols, r):
			symbol = true
		}
	}
	return upper, lower, digit, symbol
}
